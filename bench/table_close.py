"""Benchmark: one partition's window table, closing and rolling up, without Kafka.

Feeds the speed layer's own ``PartitionEngine`` a market of ``--symbols`` symbols trading
``--rate`` times a second each, in event-time order, and takes the candles and the rollups'
state records every ``--commit-every`` trades, as the layer's commit does. Reports the
time inside the engine's close (1 s windows, rollups, candle JSON), the whole feed's time
(the Python ``add`` path included), and the state bytes written, as medians of
``--repeats`` runs. No broker and no other process: the figures move with the native code,
not with the machine's load, so two builds compare by running this once for each
(``PYTHONPATH`` pointing at the other build's worktree), alternately.

    .venv/bin/python bench/table_close.py --symbols 10000 --rate 0.5
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ must not shadow the packages
    sys.path[0] = str(Path(__file__).resolve().parents[1])

S = 1_000_000
T0 = 1_767_225_600_000_000


def market(symbols: int, rate: float, seconds: int, seed: int = 1) -> list[Any]:
    """Trades of a uniform market, in event-time order."""
    from candle_core.trade import Trade

    rnd = random.Random(seed)
    names = [f"SYM{i:05d}" for i in range(symbols)]
    trades, trade_id = [], 0
    for second in range(seconds):
        base = T0 + second * S
        for ts in sorted(base + rnd.randrange(S) for _ in range(max(1, round(symbols * rate)))):
            trade_id += 1
            trades.append(Trade(names[rnd.randrange(symbols)], trade_id, ts,
                                rnd.randint(1, 10**9), rnd.randint(1, 10**6)))
    return trades


def run(trades: list[Any], commit_every: int) -> dict[str, float]:
    """One feed of a fresh engine with the layer's default settings."""
    from lambda_candles.settings import load_settings
    from speed_layer.changelog import STATE_RECORD_BYTES
    from speed_layer.engine import PartitionEngine

    settings = load_settings()
    engine = PartitionEngine(settings.intervals_us, settings.allowed_lateness_us,
                             settings.dedup_horizon_us, settings.revision_horizon_us)
    close = engine.close_due
    spent = [0.0]

    def timed_close() -> None:
        began = time.perf_counter()
        close()
        spent[0] += time.perf_counter() - began

    engine.close_due = timed_close  # type: ignore[method-assign]
    state_bytes, candles = 0, 0
    began = time.perf_counter()
    for offset, trade in enumerate(trades):
        engine.add(trade, offset)
        if offset % commit_every == commit_every - 1:
            candles += len(engine.take_candles()[0])
            state_bytes += sum(map(len, engine.table.take_rollup_delta(STATE_RECORD_BYTES)))
    candles += len(engine.take_candles()[0])
    total = time.perf_counter() - began
    return {"close_s": spent[0], "total_s": total, "state_mb": state_bytes / 1e6,
            "candles": candles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=0.5,
                        help="trades per symbol and second of event time (default 0.5)")
    parser.add_argument("--seconds", type=int, default=200,
                        help="seconds of event time (default 200)")
    parser.add_argument("--commit-every", type=int, default=20_000,
                        help="trades between two commits (default 20,000)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    trades = market(args.symbols, args.rate, args.seconds)
    results = []
    for _ in range(args.repeats):
        results.append(run(trades, args.commit_every))
        print(f"  close {results[-1]['close_s']:.3f} s, feed {results[-1]['total_s']:.3f} s",
              flush=True)
    close = statistics.median(r["close_s"] for r in results)
    total = statistics.median(r["total_s"] for r in results)
    first = results[0]
    print(f"{len(trades):,} trades, {args.symbols:,} symbols x {args.rate}/s, "
          f"{first['candles']:,} candles: close {close:.3f} s "
          f"({close / first['candles'] * 1e6:.2f} us a candle), feed {total:.3f} s "
          f"({total / len(trades) * 1e6:.2f} us a trade), state records "
          f"{first['state_mb']:.1f} MB; medians of {args.repeats}")


if __name__ == "__main__":
    main()
