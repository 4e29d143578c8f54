"""``--columns``: which column of a generic CSV holds each trade field.

``symbol=COL,trade_id=COL,ts=COL,price=COL,size=COL[,side=COL]``, where ``COL`` is a
header name (``price=px``) or a 1-based column number (``price=3``, for files without a
header). ``symbol`` may be left out for a single-symbol file (then ``--symbol`` names
it), and ``trade_id`` for a tape without ids (then ``--assign-ids`` numbers it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sources.exceptions import SourceOptionError

FIELDS = ("symbol", "trade_id", "ts", "price", "size", "side")
REQUIRED = ("ts", "price", "size")
OPTION = "--columns"


@dataclass(frozen=True)
class ColumnMap:
    """The column (header name or 1-based number, as text) of each field; ``None``: absent."""

    ts: str
    price: str
    size: str
    symbol: str | None = None
    trade_id: str | None = None
    side: str | None = None

    @property
    def by_number(self) -> bool:
        """True when every column is given by number (the file may lack a header)."""
        return all(column.isdigit() for column in self.given().values())

    def given(self) -> dict[str, str]:
        """``field -> column`` for the fields that are mapped."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def indices(self, header: list[str] | None) -> dict[str, int]:
        """``field -> 0-based index`` in rows of a file with ``header`` (``None``: no
        header, every column must be a number)."""
        found: dict[str, int] = {}
        for name, column in self.given().items():
            if column.isdigit():
                found[name] = int(column) - 1
            elif header is None or column not in header:
                shown = "no header row" if header is None else f"header {header}"
                raise SourceOptionError(OPTION, f"{name}={column}: no such column ({shown})")
            else:
                found[name] = header.index(column)
        return found


def parse_columns(text: str) -> ColumnMap:
    """``"symbol=product,ts=time,..."`` -> a :class:`ColumnMap` (clear errors otherwise)."""
    mapping: dict[str, str] = {}
    for part in (item.strip() for item in text.split(",")):
        name, equals, column = (piece.strip() for piece in part.partition("="))
        if not equals or not column:
            raise SourceOptionError(OPTION, f"{part!r} is not FIELD=COLUMN")
        if name not in FIELDS:
            raise SourceOptionError(OPTION, f"unknown field {name!r}; fields: {', '.join(FIELDS)}")
        if name in mapping:
            raise SourceOptionError(OPTION, f"{name} is given twice")
        if column.isdigit() and int(column) < 1:
            raise SourceOptionError(OPTION, f"{name}={column}: column numbers start at 1")
        mapping[name] = column
    missing = [name for name in REQUIRED if name not in mapping]
    if missing:
        raise SourceOptionError(OPTION, f"missing {', '.join(missing)} (needed: "
                                f"{', '.join(REQUIRED)}; symbol, trade_id and side optional)")
    return ColumnMap(**mapping)
