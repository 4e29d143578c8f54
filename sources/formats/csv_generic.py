"""Any venue's trades CSV, mapped by ``--columns`` (``--format csv``).

Coinbase, Kraken, Bitstamp or Polygon-style dumps go in without code: ``--columns`` names
the column of each field (``csv_columns``), ``--ts-unit`` says how times are written
(``csv_times``), ``--symbol`` names the symbol of a single-symbol file, and
``--assign-ids`` numbers a tape without ids (``sources.trade_ids``). Quoted fields are
read as CSV quotes them. With columns given by header name the first row is the header;
with column numbers, a first row whose price is not a number is taken as a header.

``side`` (optional) is the taker's: ``buy``/``b`` or ``sell``/``s`` in any case; empty is
no side. A bad row stops the replay naming the file, the line and the field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from candle_core.parsing import SYMBOL_PATTERN
from candle_core.trade import Trade
from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats.common import fixed_amount
from sources.formats.csv_columns import ColumnMap
from sources.formats.csv_times import TsUnit, to_epoch_us
from sources.formats.text_lines import open_text
from sources.records import Record, trade_record
from sources.trade_ids import assigned_id

_SIDES = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell", "": None}


@dataclass(frozen=True)
class CsvLayout:
    """Everything that says how to read a generic CSV: columns, time unit, symbol, ids."""

    columns: ColumnMap
    ts_unit: TsUnit
    symbol: str | None = None
    assign_ids: bool = False

    def check(self) -> None:
        """Refuse flag combinations that cannot work, before reading a line."""
        if (self.columns.symbol is None) == (self.symbol is None):
            raise SourceOptionError("--symbol", "give the symbol either as a column "
                                    "(--columns symbol=COL) or with --symbol, exactly one")
        if self.columns.trade_id is not None and self.assign_ids:
            raise SourceOptionError("--assign-ids", f"trade_id is column "
                                    f"{self.columns.trade_id!r}; drop the flag or the column")
        if self.columns.trade_id is None and not self.assign_ids:
            raise SourceOptionError("--columns", "no trade_id column: map trade_id=COL, or "
                                    "pass --assign-ids to number the trades by line")


def read_csv(path: Path, layout: CsvLayout) -> Iterator[Record]:
    """The trades of a generic CSV (plain or zipped) as records, in file order; the flags
    are checked at once, the rows as they are read."""
    layout.check()
    return _records(path, layout)


def _records(path: Path, layout: CsvLayout) -> Iterator[Record]:
    with open_text(path, encoding="utf-8-sig") as text:
        rows = csv.reader(row for _, row in text.lines)
        index: dict[str, int] | None = None
        for fields in rows:
            if not any(field.strip() for field in fields):
                continue
            if index is None:
                index = _index(layout.columns, fields)
                if _is_header(layout.columns, fields, index):
                    continue
            yield trade_record(_trade(fields, index, layout, text.shown_as, rows.line_num))


def _index(columns: ColumnMap, first: list[str]) -> dict[str, int]:
    header = None if columns.by_number else [field.strip() for field in first]
    return columns.indices(header)


def _is_header(columns: ColumnMap, first: list[str], index: dict[str, int]) -> bool:
    if not columns.by_number:
        return True
    try:
        Decimal(first[index["price"]].strip())
    except (InvalidOperation, IndexError):
        return True
    return False


@dataclass(frozen=True)
class _Row:
    """One data row with what is needed to read a field and to report a bad one."""

    fields: list[str]
    index: dict[str, int]
    columns: ColumnMap
    path: Path
    line: int

    def value(self, name: str) -> str:
        if self.index[name] >= len(self.fields):
            raise SourceFormatError(self.path, self.line, f"{name}: column "
                                    f"{self.index[name] + 1} is past the row's "
                                    f"{len(self.fields)} fields")
        return self.fields[self.index[name]].strip()

    def bad(self, name: str, problem: str) -> SourceFormatError:
        column = getattr(self.columns, name)
        return SourceFormatError(self.path, self.line, f"{name} (column {column!r}) "
                                 f"{self.value(name)!r} {problem}")


def _trade(fields: list[str], index: dict[str, int], layout: CsvLayout, path: Path,
           line: int) -> Trade:
    row = _Row(fields, index, layout.columns, path, line)
    for name in index:  # a short row is reported as such, before any of its values
        row.value(name)
    symbol = layout.symbol or row.value("symbol")
    if SYMBOL_PATTERN.fullmatch(symbol) is None:
        raise row.bad("symbol", "is not a well-formed symbol ([A-Z0-9][A-Z0-9._-]{0,31}); for "
                      "a single-symbol file, leave the column out and pass --symbol")
    try:
        ts_us = to_epoch_us(row.value("ts"), layout.ts_unit)
    except ValueError as exc:
        raise row.bad("ts", str(exc)) from None
    side_text = row.value("side").lower() if "side" in index else ""
    if side_text not in _SIDES:
        raise row.bad("side", "is not buy/b or sell/s")
    trade_id = assigned_id(ts_us, line, path) if layout.assign_ids else _trade_id(row)
    return Trade(symbol, trade_id, ts_us, fixed_amount(row.value("price"), "price", path, line),
                 fixed_amount(row.value("size"), "size", path, line), None, _SIDES[side_text])


def _trade_id(row: _Row) -> int:
    text = row.value("trade_id")
    if not text:
        raise row.bad("trade_id", "is missing (missing_field): pass --assign-ids instead of a "
                      "trade_id column to number the trades by line")
    if not text.isdigit():
        raise row.bad("trade_id", "must be a non-negative integer (or use --assign-ids)")
    return int(text)
