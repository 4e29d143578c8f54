"""Binance klines as published on data.binance.vision: 12 columns, csv or zip.

``open_time,open,high,low,close,volume,close_time,quote_volume,count,
taker_buy_volume,taker_buy_quote_volume,ignore``, with or without that header row.

* Times are ms in older files and µs in spot files from 2025 on, read by magnitude as
  for trades (``sources.formats.binance.time_to_us``). ``close_time`` is the last
  instant of the window (``open + interval - 1`` in the file's unit), which is how the
  interval is checked: a 1h file read as ``--interval 1m`` is refused, naming the right
  one, instead of comparing the wrong windows.
* A minute without trades is still published, with volume 0, count 0 and the previous
  close as its four prices.
* Symbol and interval come from the published name (``BTCUSDT-1m-2024-08-09.zip``)
  unless ``--symbol`` / ``--interval`` give them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from candle_core.exceptions import ContractError
from candle_core.fixed_point import (
    MAX_PRICE,
    MAX_SIZE,
    PRICE_DECIMALS,
    SIZE_DECIMALS,
    FixedPointError,
    decimal_to_fixed,
    parse_decimal,
)
from candle_core.windows import interval_label, parse_interval
from reconciliation.klines.exceptions import KlinesFileError
from sources.exceptions import SourceFormatError
from sources.formats.binance import time_to_us
from sources.formats.binance_names import parse_binance_name
from sources.formats.text_lines import open_text

WIDTH = 12
DEFAULT_INTERVAL = "1m"
_PRICES = ("open", "high", "low", "close")


class Kline(NamedTuple):
    """One published kline: window start (µs), exact prices and volume, trade count."""

    open_time_us: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    trade_count: int | None  # None when the file leaves the count empty
    line: int


@dataclass(frozen=True)
class KlineFile:
    """The klines of one file, in window order, with the symbol and interval they are of."""

    path: Path
    symbol: str
    interval_us: int
    klines: list[Kline]


def read_klines(path: Path, symbol: str | None = None, interval: str | None = None
                ) -> KlineFile:
    """Every kline of ``path`` (csv or zip), checked against its interval."""
    name = parse_binance_name(path)
    named = name if name is not None and name.is_klines else None
    chosen_symbol = symbol or (named.symbol if named else None)
    if chosen_symbol is None:
        raise KlinesFileError(path, 0, "the file name does not give the symbol (as in "
                              "BTCUSDT-1m-2024-08-09.zip): pass --symbol")
    interval_us = _interval_us(path, interval, named.kind if named else None)
    try:
        with open_text(path) as text:
            klines = _rows(text.lines, text.shown_as, interval_us)
    except SourceFormatError as exc:  # not a zip, or not one file inside
        raise KlinesFileError(path, exc.line, exc.problem) from None
    if not klines:
        raise KlinesFileError(path, 0, "holds no klines")
    return KlineFile(path, chosen_symbol, interval_us, klines)


def _interval_us(path: Path, given: str | None, named: str | None) -> int:
    if given is not None and named is not None and given != named:
        raise KlinesFileError(path, 0, f"the file name says {named} klines, --interval says "
                              f"{given}: drop --interval or pass the right file")
    label = given or named or DEFAULT_INTERVAL
    try:
        return parse_interval(label)
    except ContractError as exc:
        raise KlinesFileError(path, 0, f"{exc} (our candles are whole seconds to days)"
                              ) from None


def _rows(lines: Iterator[tuple[int, str]], shown_as: Path, interval_us: int) -> list[Kline]:
    klines: list[Kline] = []
    seen: dict[int, int] = {}  # window start -> line
    for line, row in lines:
        if not row.strip():
            continue
        fields = [field.strip() for field in row.strip().split(",")]
        if not seen and not fields[0].isdigit():
            continue  # the header row
        kline = parse_kline(fields, interval_us, shown_as, line)
        if kline.open_time_us in seen:
            raise KlinesFileError(shown_as, line, f"a second kline for the window of line "
                                  f"{seen[kline.open_time_us]}")
        seen[kline.open_time_us] = line
        klines.append(kline)
    return sorted(klines)


def parse_kline(fields: list[str], interval_us: int, path: Path, line: int) -> Kline:
    """One data row (split and stripped) -> a :class:`Kline`."""
    if len(fields) != WIDTH:
        raise KlinesFileError(path, line, f"expected Binance's {WIDTH} kline columns "
                              f"(open_time,open,high,low,close,volume,close_time,...), got "
                              f"{len(fields)}")
    for index, name in ((0, "open_time"), (6, "close_time")):
        if not fields[index].isdigit():
            raise KlinesFileError(path, line, f"{name} {fields[index]!r} is not an integer")
    open_us = time_to_us(int(fields[0]))
    _check_window(open_us, int(fields[6]), interval_us, path, line)
    prices = [_amount(fields[1 + n], name, path, line) for n, name in enumerate(_PRICES)]
    count = fields[8]
    if count and not count.isdigit():
        raise KlinesFileError(path, line, f"count {count!r} is not an integer")
    open_, high, low, close = prices
    return Kline(open_us, open_, high, low, close, _amount(fields[5], "volume", path, line),
                 int(count) if count else None, line)


def _check_window(open_us: int, close_raw: int, interval_us: int, path: Path,
                  line: int) -> None:
    unit_us = 1 if close_raw >= 10**14 else 1_000  # the file's own unit, as time_to_us
    file_interval_us = time_to_us(close_raw) + unit_us - open_us
    if file_interval_us != interval_us:
        shown = interval_label(file_interval_us) if file_interval_us > 0 else "negative"
        raise KlinesFileError(path, line, f"close_time - open_time is a {shown} window, "
                              f"not {interval_label(interval_us)}: pass --interval {shown}")
    if open_us % interval_us:
        raise KlinesFileError(path, line, f"open_time {open_us} µs is not on a "
                              f"{interval_label(interval_us)} boundary (epoch-aligned, UTC)")


def _amount(text: str, name: str, path: Path, line: int) -> int:
    decimals, maximum = (SIZE_DECIMALS, MAX_SIZE) if name == "volume" else (
        PRICE_DECIMALS, MAX_PRICE)
    try:
        value = parse_decimal(text)
        return 0 if name == "volume" and value == Decimal(0) else decimal_to_fixed(
            value, decimals, maximum)
    except FixedPointError as exc:
        raise KlinesFileError(path, line, f"{name} {text!r}: {exc}") from None
