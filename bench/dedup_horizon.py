"""Benchmark: the memory the speed layer's dedup horizon costs.

Feeds one partition's native window table (the speed layer's own ``PartitionEngine``) a
market of ``--symbols`` symbols trading ``--rate`` times a second each, for the horizon and
a minute more, so the table holds a full horizon of closed windows and their trade ids.
Reports the table's own bytes per remembered id and per symbol-second, and the process's
peak RSS, each against the same feed with the horizon off (0), in the same run and in a
child process of its own (so each peak is its own).

    .venv/bin/python bench/dedup_horizon.py --symbols 1000 --rate 5
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ must not shadow the packages
    sys.path[0] = str(Path(__file__).resolve().parents[1])

S = 1_000_000
T0 = 1_767_225_600_000_000
MIB = 1024 * 1024


def feed(symbols: int, rate: float, horizon_us: int, seconds: int,
         revision_horizon_us: int = 0, late_ratio: float = 0.0,
         late_delay_s: int = 30) -> dict[str, Any]:
    """Fill one engine; return its sizes and this process's peak RSS (``VmHWM``).

    ``late_ratio`` of the trades are held back and fed ``late_delay_s`` seconds of event
    time after their own second (its trades first, so they arrive after their window
    closed); those still held when the feed ends are never fed. Once per second of event
    time the rollups' state delta is taken, as the layer's commit does (it frees the
    partials closed and dropped since the last one)."""
    from bench.common import vm_hwm_bytes
    from candle_core.trade import Trade
    from lambda_candles.settings import load_settings
    from speed_layer.changelog import STATE_RECORD_BYTES
    from speed_layer.engine import PartitionEngine

    settings = load_settings()
    engine = PartitionEngine(settings.intervals_us, settings.allowed_lateness_us, horizon_us,
                             revision_horizon_us)
    rnd, late_rnd = random.Random(1), random.Random(2)
    names = [f"SYM{i:05d}" for i in range(symbols)]
    per_second = max(1, round(symbols * rate))
    trade_id, offset = 0, 0
    held: dict[int, list[Trade]] = {}
    outcomes: Counter[str] = Counter()
    candles = 0
    for second in range(seconds):
        base = T0 + second * S
        for ts in sorted(base + rnd.randrange(S) for _ in range(per_second)):
            trade_id += 1
            trade = Trade(rnd.choice(names), trade_id, ts, 10**10, 10**8, "XNAS", "buy")
            if late_ratio and late_rnd.random() < late_ratio:
                held.setdefault(second + late_delay_s, []).append(trade)
                continue
            outcomes[engine.add(trade, offset).value] += 1
            offset += 1
        for trade in held.pop(second, ()):
            outcomes[engine.add(trade, offset).value] += 1
            offset += 1
        candles += len(engine.take_candles()[0])
        engine.table.take_rollup_delta(STATE_RECORD_BYTES)  # a commit: frees closed partials
    windows, ids = engine.table.kept()
    return {"trades": offset, "kept_windows": windows, "kept_ids": ids,
            "table_bytes": engine.table.memory_bytes(),
            "state_count": engine.table.state_count(),
            "rollup_count": engine.table.rollup_count(), "candles": candles,
            "outcomes": dict(outcomes), "peak_rss_bytes": vm_hwm_bytes() or 0}


def child(argv: list[str]) -> None:
    """The child: ``feed(**json.loads(argv[0]))``, printed as one JSON line."""
    print(json.dumps(feed(**json.loads(argv[0]))))


def run_child(symbols: int, rate: float, horizon_us: int, seconds: int,
              **options: float) -> dict[str, Any]:
    """:func:`feed` in a child process of its own (so its peak RSS is its own)."""
    kwargs = {"symbols": symbols, "rate": rate, "horizon_us": horizon_us, "seconds": seconds,
              **options}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_child",
                          json.dumps(kwargs)], capture_output=True, text=True, check=True)
    loaded: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="trades per symbol-second")
    parser.add_argument("--horizon-ms", type=int, default=None,
                        help="dedup horizon (default: the setting's, lateness + 10 min)")
    args = parser.parse_args()
    from lambda_candles.settings import load_settings

    settings = load_settings()
    horizon_us = settings.dedup_horizon_us if args.horizon_ms is None else args.horizon_ms * 1000
    seconds = horizon_us // S + 60
    print(f"{args.symbols:,} symbols x {args.rate:g} trades/s for {seconds} s of event time "
          f"(horizon {horizon_us / S:.0f} s) ...", flush=True)
    on = run_child(args.symbols, args.rate, horizon_us, seconds)
    off = run_child(args.symbols, args.rate, 0, seconds)
    ids = max(1, on["kept_ids"])
    symbol_seconds = max(1, on["kept_windows"])
    extra_rss = on["peak_rss_bytes"] - off["peak_rss_bytes"]
    print(f"{on['trades']:,} trades fed; the horizon holds {on['kept_windows']:,} closed "
          f"1 s windows and {on['kept_ids']:,} trade ids")
    print(f"table: {on['table_bytes'] / MIB:,.1f} MiB with the horizon, "
          f"{off['table_bytes'] / MIB:,.1f} MiB without = "
          f"{(on['table_bytes'] - off['table_bytes']) / ids:.0f} bytes per remembered id, "
          f"{(on['table_bytes'] - off['table_bytes']) / symbol_seconds:.0f} bytes per "
          "symbol-second kept")
    print(f"peak RSS: {on['peak_rss_bytes'] / MIB:,.0f} MiB with the horizon, "
          f"{off['peak_rss_bytes'] / MIB:,.0f} MiB without (+{extra_rss / MIB:,.0f} MiB, "
          f"{extra_rss / ids:.0f} bytes per id)")


if __name__ == "__main__":
    main()
