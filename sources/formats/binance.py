"""Binance trade CSVs (data.binance.vision): ``id,price,qty,quote_qty,time,is_buyer_maker
[,is_best_match]``, with or without a header row.

``time`` is epoch milliseconds in older files and microseconds in newer spot files; each
value is read by its magnitude (below 10^14 it is ms: 10^14 ms is the year 5138).
``side`` is the taker's: ``sell`` if the buyer was the maker, else ``buy``. The files
carry no symbol, so ``--symbol`` is required. ``quote_qty`` is not used (it is
price x qty, and the contract recomputes notional exactly).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from candle_core.trade import Trade
from sources.exceptions import SourceFormatError
from sources.formats.common import fixed_amount
from sources.records import Record, trade_record

MS_BELOW = 10**14
VENUE = "binance"
_TRUE = {"true": True, "false": False, "1": True, "0": False}


def is_header(text: str) -> bool:
    """A header row starts with a non-numeric field (``id``)."""
    return not text.split(",", 1)[0].strip().isdigit()


def time_to_us(value: int) -> int:
    """A Binance ``time`` in ms or µs -> µs, by magnitude."""
    return value * 1_000 if value < MS_BELOW else value


def parse_binance_line(text: str, symbol: str, path: Path, line: int) -> Trade:
    """One data row -> a trade."""
    fields = [field.strip() for field in text.strip().split(",")]
    if len(fields) not in (6, 7):
        raise SourceFormatError(path, line, f"expected 6 or 7 comma-separated fields "
                                f"(id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match])"
                                f", got {len(fields)}")
    if not (fields[0].isdigit() and fields[4].isdigit()):
        raise SourceFormatError(path, line, f"id {fields[0]!r} and time {fields[4]!r} must be "
                                "non-negative integers")
    maker = _TRUE.get(fields[5].lower())
    if maker is None:
        raise SourceFormatError(path, line, f"is_buyer_maker {fields[5]!r} is not true/false")
    price = fixed_amount(fields[1], "price", path, line)
    size = fixed_amount(fields[2], "size", path, line)
    ts_us = time_to_us(int(fields[4]))
    return Trade(symbol, int(fields[0]), ts_us, price, size, VENUE, "sell" if maker else "buy")


def read_binance(path: Path, symbol: str) -> Iterator[Record]:
    """The trades of a Binance trades CSV as records (Kafka timestamp = event time)."""
    with path.open(encoding="utf-8") as lines:
        for line, text in enumerate(lines, 1):
            if not text.strip() or (line == 1 and is_header(text)):
                continue
            yield trade_record(parse_binance_line(text, symbol, path, line))
