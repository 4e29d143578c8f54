"""The summary: the table printed at the end, and everything as one JSON-able dict."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bench.common import MIB, median, percentile, rate_text
from bench.speed.context import Bench
from bench.speed.paced import Paced
from bench.speed.shared import Measured

TARGET_VS_QUIX, TARGET_P99_MS = 20.0, 250.0
TARGET_CLOSE_US = 3.0  # issue 14: close + rollups + state + produce, per closed 1 s candle
TARGET_NOISE_VS_CONSUME = 0.8  # issue 8: skipping 98% noise must cost almost nothing
TARGET_FLOOD_VS_CONSUME = 0.3  # issue 13: 80% invalid records, every one to the DLQ
TARGET_REVISIONS_COST = 1.10  # issue 15: revisions on at most 10% slower than off


def target_vs_consume(symbols: int) -> float:
    """Issue 14's targets by market shape: a few busy symbols, a market of 1,000 symbols
    trading a few times a second, and its tail of 10,000 that trade less than once."""
    return 0.3 if symbols >= 10_000 else 0.5 if symbols >= 1_000 else 0.7


def report(bench: Bench, results: dict[str, Measured], paced: Paced | None) -> dict[str, Any]:
    """Print the summary table; return everything as one JSON-able dict."""
    a, b, c = (results.get(k) for k in ("consume", "speed", "quix"))
    ratio_a = b.median_rate / a.median_rate if a and b and a.median_rate else None
    ratio_c = b.median_rate / c.median_rate if c and b and c.median_rate else None
    info = bench.info
    print(f"\nspeed-layer benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {info['kafka']}, "
          f"librdkafka {info['librdkafka']}, quixstreams {info.get('quix_version', '-')}")
    print(f"{info.get('messages', len(bench.trades)):,} messages, "
          f"{len(bench.trades):,} trades, {bench.args.symbols:,} symbols on "
          f"{info['partitions_with_data']} of "
          f"{bench.args.partitions} partitions, {info['event_seconds']:.0f} s of event time, "
          f"{info['trades_per_1s_candle']:.0f} trades per 1 s candle; "
          f"reference candles {info['reference_candles']}")
    if info.get("warmup_runs"):
        print(f"after {info['warmup_runs']} uncounted warm-up run(s) of (a) and (b) on the "
              "same broker")
    print(f"\n{'':28}{'median':>10}  {'peak RSS':>9}  runs")
    for item in (a, results.get("floor"), results.get("candle_floor"), b,
                 results.get("speed_off"), c):
        if item:
            runs = ", ".join(rate_text(r) for r in item.rates)
            rss = max(item.peak_rss_bytes) / MIB
            print(f"{item.name:28}{rate_text(item.median_rate):>10}  {rss:>6.0f} MiB  {runs}")
            for note in item.notes:
                print(f"{'':42}{note}")
    noise = info.get("noise_ratio", 0.0)
    if noise and b:
        share = len(bench.trades) / info["messages"]
        print(f"\nwith {noise:.0%} noise ({info['messages']:,} messages): (b) "
              f"{rate_text(b.median_rate)} messages/s = {rate_text(b.median_rate * share)} "
              "trades/s")
    invalid = info.get("invalid", 0)
    floor = results.get("floor")
    if invalid and b:
        print(f"\nwith {invalid / info['messages']:.0%} invalid records ({invalid:,} of "
              f"{info['messages']:,}, {bench.args.invalid_kind}): (b) "
              f"{rate_text(b.median_rate)} records/s, every invalid one in the DLQ")
        if floor and floor.median_rate:
            print(f"(b)/(a') = {b.median_rate / floor.median_rate:.2f}x: against a loop that "
                  "only consumes and writes the same share back with headers")
    candle_floor = results.get("candle_floor")
    if candle_floor and candle_floor.median_rate and a and a.median_rate and b:
        print(f"\n(a'')/(a) = {candle_floor.median_rate / a.median_rate:.2f}x: the bare loop "
              "that also produces a candle-sized message per reference candle; (b)/(a'') = "
              f"{b.median_rate / candle_floor.median_rate:.2f}x")
    target_a = TARGET_FLOOD_VS_CONSUME if invalid else \
        TARGET_NOISE_VS_CONSUME if noise else target_vs_consume(bench.args.symbols)
    close_us = median(b.close_us_per_candle) if b and b.close_us_per_candle else None
    if b and b.median_rate and close_us is not None:
        print(f"\nper closed 1 s candle (close + rollups + state + produce): median "
              f"{close_us:.2f} us; per trade the whole layer costs "
              f"{1e6 / b.median_rate:.2f} us")
    by_repeat_a = [rb / ra for ra, rb in zip(a.rates, b.rates, strict=False) if ra] \
        if a and b else []
    verdicts = {
        "speed_vs_consume": _verdict("(b)/(a)", ratio_a, target_a, "x", by_repeat_a),
        "speed_vs_quix": _verdict("(b)/(c)", ratio_c, TARGET_VS_QUIX, "x"),
        "close_per_candle": _at_most("close per 1 s candle", close_us, TARGET_CLOSE_US,
                                     " us"),
    }
    off = results.get("speed_off")
    revisions_cost = print_revisions(bench, b, off) if b and off else None
    if revisions_cost is not None:
        verdicts["revisions_cost"] = _at_most("time per trade, revisions on / off",
                                              revisions_cost, TARGET_REVISIONS_COST, "x")
    if paced:
        verdicts["p99_latency"] = print_paced(paced)
    print("\nloads (1-min average) by phase: "
          + ", ".join(f"{k} {v:.1f}" for k, v in bench.loads.items()))
    return {"date": datetime.now(UTC).isoformat(), "cores": os.cpu_count(), "info": info,
            "args": vars(bench.args), "results": {k: asdict(v) | {"median": v.median_rate}
                                                  for k, v in results.items()},
            "ratios": {"speed_vs_consume": ratio_a, "speed_vs_consume_by_repeat": by_repeat_a,
                       "speed_vs_quix": ratio_c,
                       "revisions_on_vs_off_time": revisions_cost},
            "targets_met": verdicts, "paced": asdict(paced) if paced else None,
            "loads": bench.loads}


def print_revisions(bench: Bench, on: Measured, off: Measured) -> float | None:
    """Revisions on against off, same run: the ratio of the medians' time per trade (off's
    rate / on's), and each repeat's own ratio; returns the first."""
    if not on.median_rate or not off.median_rate:
        return None
    cost = off.median_rate / on.median_rate
    pairs = ", ".join(f"{o / r:.3f}x" for r, o in zip(on.rates, off.rates, strict=False) if r)
    delayed = len(bench.delayed)
    print(f"\nrevisions: {delayed:,} trades ({delayed / max(1, len(bench.trades)):.2%}) "
          f"produced {bench.args.late_delay_s:g} s late; (b) revisions on "
          f"{rate_text(on.median_rate)}, off {rate_text(off.median_rate)} (medians): time "
          f"per trade on / off = {cost:.3f}x; by repeat {pairs}")
    cpu_on, cpu_off = median(on.cpu_us_per_record), median(off.cpu_us_per_record)
    if cpu_off:
        pairs = ", ".join(f"{a / b:.3f}x" for a, b in zip(on.cpu_us_per_record,
                                                          off.cpu_us_per_record, strict=False)
                          if b)
        print(f"  CPU per trade (the process's, all threads, over the timed stretch): on "
              f"{cpu_on:.2f} us, off {cpu_off:.2f} us (medians) = {cpu_on / cpu_off:.3f}x; "
              f"by repeat {pairs}")
    return cost


def _verdict(label: str, value: float | None, target: float, unit: str,
             by_repeat: list[float] | None = None) -> bool | None:
    """Print ``value`` (a ratio of medians) against ``target``, with each repeat's own
    ratio when given (the two sides of a repeat ran one after the other: on a noisy
    machine their spread says how far to trust the medians' ratio)."""
    if value is None:
        print(f"{label}: not measured")
        return None
    met = value >= target
    repeats = f"; by repeat {', '.join(f'{r:.2f}{unit}' for r in by_repeat)}" \
        if by_repeat else ""
    print(f"{label} = {value:.2f}{unit}  (target >= {target}{unit}: "
          f"{'met' if met else 'NOT met'}){repeats}")
    return met


def _at_most(label: str, value: float | None, target: float, unit: str) -> bool | None:
    if value is None:
        print(f"{label}: not measured")
        return None
    met = value <= target
    print(f"{label} = {value:.2f}{unit}  (target <= {target}{unit}: "
          f"{'met' if met else 'NOT met'})")
    return met


def print_paced(paced: Paced) -> bool:
    lat = paced.latencies_ms
    p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
    print(f"\npaced: {paced.sent:,} trades at {paced.achieved_rate:,.0f}/s (target "
          f"{paced.target_rate:,.0f}/s), speed layer peak RSS "
          f"{paced.peak_rss_bytes / MIB:.0f} MiB")
    print(f"  1 s candles visible to read_committed, beyond window end + allowed lateness: "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(lat, default=float('nan')):.0f} ms "
          f"over {len(lat)} candles ({paced.missing_candles} expected ones not seen)")
    emit = paced.emit_delays_ms
    print(f"  of which due -> candle produced by the layer (its CreateTime): p50 "
          f"{percentile(emit, 0.5):.0f} ms, p99 {percentile(emit, 0.99):.0f} ms")
    for what, hist in (("window close -> commit", paced.histogram),
                       ("transaction commit", paced.commit_histogram)):
        if hist.get("count"):
            print(f"  speed layer's {what} histogram: {hist['count']:.0f} observations, "
                  f"mean {hist['mean_ms']:.0f} ms, ~p50 {hist['p50_ms']:.0f} ms, "
                  f"~p99 {hist['p99_ms']:.0f} ms (interpolated in buckets)")
    print(f"  the layer consumed {paced.consumed:,} of the {paced.sent:,} trades sent, and "
          f"committed {paced.commits_while_producing} times while they were sent (every "
          f"{1000 * paced.sent / paced.target_rate / max(1, paced.commits_while_producing):.0f}"
          " ms)")
    met = p99 <= TARGET_P99_MS and paced.missing_candles == 0
    print(f"  p99 target <= {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return met
