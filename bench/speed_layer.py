"""Benchmark: ``candles speed`` against a bare ``consume()`` loop and Quix Streams.

In one run, on one broker (``KAFKA_BOOTSTRAP_SERVERS``, or a local Apache Kafka started
in a temporary directory and stopped at the end):

1. preloads N clean simulated trades (8 symbols, a few hundred per 1 s window) into a fresh
   ``trades`` topic, and the first ``--quix-trades`` of them into a second topic for Quix;
2. measures, each ``--repeats`` times in its own child process (fresh consumer group,
   fresh output topics), reporting the median, every run and the peak RSS:
   (a) a bare ``consume(num_messages=10000)`` loop with the speed layer's librdkafka
       settings; (b) ``candles speed`` end to end, transactions on, checked against the
       contract's reference candles after every run; (c) Quix Streams, a tumbling 1 s
       window folding the same OHLCV with ``reduce``;
3. paces trades at ``--paced-rate`` with event time = wall clock while ``candles speed``
   runs, and reports when each 1 s candle becomes visible to a ``read_committed`` reader,
   beyond ``window_end + allowed_lateness``, plus the layer's own close-to-commit histogram.

Rates count from the moment the first batch is in hand to the moment the last one is
processed (group join, state restore and the idle wait before exit are left out); the
first batch's messages are not counted. Quix Streams runs from its own virtualenv
(``--quix-python`` or ``BENCH_QUIX_PYTHON``): it pins confluent-kafka < 2.13.

    .venv/bin/python bench/speed_layer.py --trades 200000 --repeats 1 --json /tmp/speed.json
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: bench/ must not shadow the speed_layer package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.speed import cli  # after the sys.path fix above


def main(argv: list[str] | None = None) -> None:
    """The benchmark, or one of its children (they re-run this file; see bench/speed/)."""
    cli.main(argv, description=__doc__.split("\n\n")[0])


if __name__ == "__main__":
    main()
