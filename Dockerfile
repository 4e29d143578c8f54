# lambda-candles: one image for every `candles` command (speed, archive, batch, ...).
# Build stage: wheels only (a C compiler and librdkafka's header for the speed layer's
# native hot path, which calls the librdkafka confluent-kafka bundles).
# Runtime stage: slim Python, non-root, no build tools, no secrets.
FROM python:3.11-slim AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev librdkafka-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY candle_core ./candle_core
COPY speed_layer ./speed_layer
COPY batch_layer ./batch_layer
COPY reconciliation ./reconciliation
COPY storage ./storage
COPY kafka_ops ./kafka_ops
COPY sources ./sources
COPY lambda_candles ./lambda_candles
COPY serving ./serving
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group candles
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/lambda_candles-*.whl \
    && rm -rf /wheels
USER 10001:10001
WORKDIR /home/candles
ENV PYTHONUNBUFFERED=1 CANDLES_LOG_FORMAT=json CANDLES_METRICS_PORT=9108
EXPOSE 9108
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4)"]
ENTRYPOINT ["candles"]
CMD ["speed"]
