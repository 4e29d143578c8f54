"""Benchmark: the memory the speed layer's revision horizon costs.

Feeds one partition's native window table (the speed layer's own ``PartitionEngine``, the
dedup horizon at its default) a market of ``--symbols`` symbols trading ``--rate`` times a
second each, for the dedup horizon and a minute more, once with revisions on (the default
10-minute horizon) and once off (0), each in a child process of its own, alternating; then
the same with ``--late-ratio`` of the trades fed ``--late-delay-s`` seconds of event time
late (so they revise their candles, or are late with revisions off). Reports the table's
own bytes per symbol-second it holds and the process's peak RSS (``VmHWM``)::

    revisions on   [ closed 1 s windows: dedup horizon ][ rollup partials: revision horizon ]
    revisions off  [ closed 1 s windows: dedup horizon ]

    .venv/bin/python bench/revision_horizon.py --symbols 1000 --rate 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ must not shadow the packages
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.dedup_horizon import MIB, S, run_child  # after the sys.path fix above


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--symbols", type=int, default=1000, help="symbols (default 1000)")
    add("--rate", type=float, default=5.0, help="trades per symbol-second (default 5)")
    add("--revision-horizon-ms", type=int, default=None,
        help="revision horizon when on (default: the setting's, 10 min)")
    add("--late-ratio", type=float, default=0.01,
        help="share of trades fed late in the second pair of runs (default 0.01; 0 skips it)")
    add("--late-delay-s", type=int, default=30, help="how late, in event time (default 30)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from lambda_candles.settings import load_settings

    settings = load_settings()
    revision_us = settings.revision_horizon_us if args.revision_horizon_ms is None \
        else args.revision_horizon_ms * 1000
    dedup_us = settings.dedup_horizon_us
    seconds = dedup_us // S + 60
    print(f"{args.symbols:,} symbols x {args.rate:g} trades/s for {seconds} s of event time "
          f"(dedup horizon {dedup_us / S:.0f} s, revision horizon {revision_us / S:.0f} s)",
          flush=True)
    ratios = [0.0] + ([args.late_ratio] if args.late_ratio else [])
    for late_ratio in ratios:
        runs = {}
        for name, horizon in (("on", revision_us), ("off", 0)):
            print(f"  {late_ratio:.0%} late, revisions {name} ...", flush=True)
            runs[name] = run_child(args.symbols, args.rate, dedup_us, seconds,
                                   revision_horizon_us=horizon, late_ratio=late_ratio,
                                   late_delay_s=args.late_delay_s)
        show(args, late_ratio, runs["on"], runs["off"], revision_us, dedup_us)


def show(args: argparse.Namespace, late_ratio: float, on: dict[str, Any],
         off: dict[str, Any], revision_us: int, dedup_us: int) -> None:
    """One pair's table: each run's figures, then what revisions add."""
    print(f"\n{late_ratio:.0%} of trades {args.late_delay_s} s late "
          f"({on['trades']:,} trades fed)")
    print(f"{'':16}{'table':>11}{'per sym-s':>11}{'peak RSS':>10}{'state':>10}"
          f"{'candles':>11}  outcomes")
    symbol_seconds_dedup = args.symbols * dedup_us / S
    for name, run in (("revisions on", on), ("revisions off", off)):
        print(f"{name:16}{run['table_bytes'] / MIB:>7.1f} MiB"
              f"{run['table_bytes'] / symbol_seconds_dedup:>9.0f} B"
              f"{run['peak_rss_bytes'] / MIB:>6.0f} MiB{run['state_count']:>10,}"
              f"{run['candles']:>11,}  {run['outcomes']}")
    grown = on["table_bytes"] - off["table_bytes"]
    held = args.symbols * revision_us / S
    extra_state = on["state_count"] - off["state_count"]
    rss = on["peak_rss_bytes"] - off["peak_rss_bytes"]
    print(f"revisions add {grown / MIB:.1f} MiB to the table = {grown / held:.1f} bytes per "
          f"symbol-second of the revision horizon ({args.symbols:,} symbols x "
          f"{revision_us / S:.0f} s), {extra_state:,} more state entries "
          f"({grown / max(1, extra_state):.0f} bytes each); peak RSS {rss / MIB:+.0f} MiB "
          f"({on['peak_rss_bytes'] / MIB:.0f} against {off['peak_rss_bytes'] / MIB:.0f} MiB)")


if __name__ == "__main__":
    main()
