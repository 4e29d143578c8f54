"""The serving process: FastAPI app (API + the chart page) and the Kafka feed, wired once."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from candle_core.candle import Candle
from serving.api import router
from serving.hub import Hub
from serving.live import LiveFeed
from serving.metrics import ServeMetrics
from serving.ring import Ring
from serving.services import ServeOptions, Services
from serving.settings import ServeSettings
from serving.status import Status
from serving.store_reader import ArchiveReader
from storage.store import Store
from storage.stores import open_store

STATIC = Path(__file__).parent / "static"
US_PER_HOUR = 3_600_000_000


def build_services(settings: ServeSettings, options: ServeOptions,
                   store: Store | None = None) -> Services:
    metrics = ServeMetrics(CollectorRegistry())
    reader = ArchiveReader(store or open_store(settings), settings)
    ring = Ring(int(options.ring_hours * US_PER_HOUR), options.ring_max_bars)
    return Services(reader, ring, Hub(ring, metrics), metrics,
                    Status(metrics, reader, options.speed_metrics_url), options)


def create_app(settings: ServeSettings, options: ServeOptions,
               store: Store | None = None) -> FastAPI:
    """The app; with ``options.kafka`` its lifespan runs the consumers of both topics."""
    svc = build_services(settings, options, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if options.kafka:
            svc.feed = LiveFeed(settings, svc.ring, threadsafe(svc.hub.publish), svc.metrics,
                                options.ring_hours)
            svc.feed.start()
        yield
        if svc.feed is not None:
            svc.feed.stop()

    app = FastAPI(title="lambda-candles", lifespan=lifespan,
                  description="Batch-verified candles with the speed layer's tail.")
    app.state.services = svc
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[..., object]) -> Response:
        response: Response = await call_next(request)  # type: ignore[misc]
        route = request.scope.get("route")
        endpoint = getattr(route, "path", "other")
        svc.metrics.requests.labels(endpoint, str(response.status_code)).inc()
        return response

    return app


def threadsafe(publish: Callable[[str, list[Candle]], None]
               ) -> Callable[[str, list[Candle]], None]:
    """``publish`` called on the running loop from any thread."""
    loop = asyncio.get_running_loop()

    def call(kind: str, candles: list[Candle]) -> None:
        loop.call_soon_threadsafe(publish, kind, candles)
    return call


def serve_in_foreground(settings: ServeSettings, options: ServeOptions,
                        echo: Callable[[str], None] = print) -> None:
    """Serve until SIGINT/SIGTERM, after printing the page's URL (``candles serve``/demo).

    ``options.port`` 0 picks a free port; the printed URL has the real one.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in options.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((options.host, options.port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, options), log_level="warning",
                            timeout_graceful_shutdown=3)
    echo(f"serving the chart at http://{options.host}:{port}/ "
         f"(API: /docs; Ctrl-C to stop)")
    uvicorn.Server(config).run(sockets=[sock])
