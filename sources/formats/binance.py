"""Binance trade files as published on data.binance.vision: trades and aggTrades.

Either layout (``binance_layouts``), with or without a header row, as ``.csv`` or the
published ``.zip`` (read straight from the zip, ``text_lines``).

* ``time`` / ``transact_time`` is epoch milliseconds in older files and microseconds in
  spot files from 2025 on; each value is read by its magnitude (below 10^14 it is ms:
  10^14 ms is the year 5138, and 10^14 µs is 1973, before any exchange data).
* ``side`` is the taker's: ``sell`` if the buyer was the maker, else ``buy``.
* trades: the trade id is Binance's trade ``id``. ``quote_qty`` is not used (it is
  price x qty; the contract recomputes notional exactly).
* aggTrades: an *aggregate trade* is the trades that filled at the same time, from the
  same taker order, at the same price, reported as one row: that price, their summed
  quantity and the range of their trade ids (``first_trade_id..last_trade_id``). The id
  is the ``agg_trade_id``, so a candle from aggTrades has the exchange's prices and
  volume, while its ``trade_count`` counts aggregates, not the exchange's trades.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from candle_core.trade import Trade
from sources.exceptions import SourceFormatError
from sources.formats.binance_layouts import BinanceLayout, is_header, layout_of
from sources.formats.common import fixed_amount
from sources.formats.text_lines import open_text
from sources.records import Record, trade_record

MS_BELOW = 10**14
KLINES_WIDTH = 12
VENUE = "binance"
_TRUE = {"true": True, "false": False, "1": True, "0": False}


def time_to_us(value: int) -> int:
    """A Binance time in ms or µs -> µs, by magnitude."""
    return value * 1_000 if value < MS_BELOW else value


def parse_binance_row(fields: list[str], layout: BinanceLayout, symbol: str, path: Path,
                      line: int) -> Trade:
    """One data row (split and stripped) -> a trade."""
    if len(fields) not in layout.widths:
        raise SourceFormatError(path, line, f"expected {layout.describe()}, got {len(fields)}")
    for index in layout.integers:
        if not fields[index].isdigit():
            raise SourceFormatError(path, line, f"{layout.columns[index]} {fields[index]!r} "
                                    f"must be a non-negative integer ({layout.kind} layout)")
    maker = _TRUE.get(fields[layout.maker].lower())
    if maker is None:
        raise SourceFormatError(path, line, f"is_buyer_maker {fields[layout.maker]!r} is not "
                                "true/false")
    price = fixed_amount(fields[layout.price], "price", path, line)
    size = fixed_amount(fields[layout.size], "size", path, line)
    ts_us = time_to_us(int(fields[layout.time]))
    return Trade(symbol, int(fields[0]), ts_us, price, size, VENUE, "sell" if maker else "buy")


def read_binance(path: Path, symbol: str, named_kind: str | None = None) -> Iterator[Record]:
    """The trades of a Binance trades or aggTrades file (csv or zip) as records (Kafka
    timestamp = event time); ``named_kind`` is the kind the file name states, if any."""
    with open_text(path) as text:
        layout: BinanceLayout | None = None
        for line, row in text.lines:
            if not row.strip():
                continue
            fields = [field.strip() for field in row.strip().split(",")]
            if layout is None:
                layout = layout_of(fields, named_kind)
                if layout is None:
                    raise SourceFormatError(text.shown_as, line, _not_trades(len(fields)))
                if is_header(fields):
                    continue
            yield trade_record(parse_binance_row(fields, layout, symbol, text.shown_as, line))


def _not_trades(width: int) -> str:
    hint = "; 12 fields is a klines file: check it with `candles klines check`" if (
        width == KLINES_WIDTH) else ""
    return f"not a Binance trades (6-7 fields) or aggTrades (8) row: {width} fields{hint}"
