"""What ``candles klines check`` prints: the counts, the first differences, the verdict.

Plain lines (no table), so the output reads the same in a terminal, a CI log or a test.
Times are window starts in UTC ISO 8601; prices and volumes exact decimals.
"""

from __future__ import annotations

import datetime as dt

from candle_core.fixed_point import format_price, format_size
from reconciliation.klines.check import KlinesCheck
from reconciliation.klines.compare import PRICE_FIELDS, KlinesComparison

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FIRST_SHOWN = 10
_AGGREGATE_HINT = ("only trade counts differ, and ours are lower: were the trades "
                   "aggTrades? An aggregate trade counts once in our candles but as all its "
                   "trades in the exchange's klines; rerun with --no-trade-count")


def utc(ts_us: int) -> str:
    """``2024-08-09T00:07:00Z``."""
    moment = EPOCH + dt.timedelta(microseconds=ts_us)
    return moment.isoformat().replace("+00:00", "Z")


def value_text(name: str, value: int) -> str:
    """A compared field's value as a person reads it (exact decimals for amounts)."""
    if name in PRICE_FIELDS:
        return format_price(value)
    return format_size(value) if name == "volume" else str(value)


def render_check(check: KlinesCheck, shown: int = FIRST_SHOWN) -> list[str]:
    """The report's lines, from the title to the verdict."""
    result, file = check.comparison, check.file
    lines = [f"klines check: {file.symbol} {check.interval}, {result.klines:,} klines in "
             f"{file.path.name}",
             f"  against batch candles under {check.root} ({', '.join(check.dates) or '-'})",
             f"  compared: {' '.join(result.compared_fields)}",
             f"  matched                  {result.matched:>7,}",
             f"  zero volume, no candle   {result.empty:>7,}   (nobody traded: not a difference)",
             f"  differing                {len(result.differing):>7,}",
             f"  missing ours             {len(result.missing_ours):>7,}   (kline with trades, "
             "no batch candle)",
             f"  missing theirs           {len(result.missing_theirs):>7,}   (batch candle, no "
             "kline)"]
    lines += _first_differences(result, shown)
    if result.ok:
        lines.append("OK: every kline with trades equals our candle")
        return lines
    if _only_lower_counts(result):
        lines.append(f"hint: {_AGGREGATE_HINT}")
    wrong = len(result.differing) + len(result.missing_ours) + len(result.missing_theirs)
    lines.append(f"FAIL: {wrong:,} window(s) differ between the klines and our candles")
    return lines


def _first_differences(result: KlinesComparison, shown: int) -> list[str]:
    if result.ok:
        return []
    lines = [f"first differences (up to {shown} windows of each kind; line of the file, "
             "window start):"]
    for window in result.differing[:shown]:
            for name, ours, theirs in window.fields:
                lines.append(f"  line {window.line:<6} {utc(window.window_start_us)}  "
                             f"{name:<11} ours {value_text(name, ours):>16}  theirs "
                             f"{value_text(name, theirs):>16}")
    for kline in result.missing_ours[:shown]:
        lines.append(f"  line {kline.line:<6} {utc(kline.open_time_us)}  missing ours: volume "
                     f"{format_size(kline.volume)}, {kline.trade_count} trades on the exchange")
    for candle in result.missing_theirs[:shown]:
        lines.append(f"  {'':11} {utc(candle.window_start_us)}  missing theirs: our candle "
                     f"has {candle.trade_count} trades, volume {format_size(candle.volume)}")
    return lines


def _only_lower_counts(result: KlinesComparison) -> bool:
    return bool(result.differing) and not (result.missing_ours or result.missing_theirs) and all(
        name == "trade_count" and ours < theirs
        for window in result.differing for name, ours, theirs in window.fields)
