"""Input file formats for ``candles replay``: detection and one reader per format.

Detection, when ``--format`` is not given: ``--columns`` means a generic CSV; otherwise by
extension first (``.ndjson``/``.jsonl``/``.json``: NDJSON, ``.parquet``/``.pq``:
Parquet), then by the first bytes (of the file inside a ``.zip``): ``PAR1`` (Parquet),
``{`` (NDJSON), ``MM/DD/YYYY,`` (Kibot), a leading integer id or an ``id,`` /
``agg_trade_id,`` header (Binance).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats.binance import read_binance
from sources.formats.binance_names import parse_binance_name
from sources.formats.common import checked_symbol, symbol_from_filename
from sources.formats.csv_generic import CsvLayout, read_csv
from sources.formats.kibot import read_kibot
from sources.formats.ndjson import read_ndjson
from sources.formats.parquet import read_parquet
from sources.formats.read_options import ReadOptions
from sources.formats.text_lines import first_line
from sources.records import Record

_KIBOT_LINE = re.compile(rb"\s*\d{2}/\d{2}/\d{4},\d{1,2}:\d{2}:\d{2},")
_BINANCE_LINE = re.compile(rb"\s*(id,|agg_trade_id,|\d+,)")


class FileFormat(StrEnum):
    """The input formats ``candles replay`` reads."""

    NDJSON = "ndjson"
    PARQUET = "parquet"
    KIBOT = "kibot"
    BINANCE = "binance"
    CSV = "csv"


_SUFFIXES = {".ndjson": FileFormat.NDJSON, ".jsonl": FileFormat.NDJSON,
             ".json": FileFormat.NDJSON, ".parquet": FileFormat.PARQUET,
             ".pq": FileFormat.PARQUET}
_ASSIGN_IDS_FORMATS = (FileFormat.NDJSON, FileFormat.PARQUET, FileFormat.CSV)


def detect_format(path: Path) -> FileFormat:
    """The format of ``path`` by extension, else by its first bytes."""
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    first = first_line(path)
    if first.startswith(b"PAR1"):
        return FileFormat.PARQUET
    if first.startswith(b"{"):
        return FileFormat.NDJSON
    if _KIBOT_LINE.match(first):
        return FileFormat.KIBOT
    if _BINANCE_LINE.match(first):
        return FileFormat.BINANCE
    raise SourceFormatError(path, 1, "unknown format; pass --format "
                            f"({', '.join(f.value for f in FileFormat)})")


def open_records(path: Path, file_format: FileFormat | None = None,
                 symbol: str | None = None, options: ReadOptions | None = None
                 ) -> Iterator[Record]:
    """The records of ``path``; ``symbol`` names the symbol of a file that has none."""
    if not path.is_file():
        raise SourceFormatError(path, 0, "no such file")
    given = options or ReadOptions()
    chosen = file_format or (FileFormat.CSV if given.columns else detect_format(path))
    _check_options(chosen, given)
    if chosen is FileFormat.NDJSON:
        return read_ndjson(path, given.assign_ids)
    if chosen is FileFormat.PARQUET:
        return read_parquet(path, given.assign_ids)
    if chosen is FileFormat.CSV:
        assert given.columns is not None and given.ts_unit is not None
        name = checked_symbol(symbol, "--symbol") if symbol else None
        return read_csv(path, CsvLayout(given.columns, given.ts_unit, name, given.assign_ids))
    if chosen is FileFormat.KIBOT:
        name = checked_symbol(symbol, "--symbol") if symbol else symbol_from_filename(path)
        return read_kibot(path, name)
    return _binance(path, symbol)


def _check_options(chosen: FileFormat, options: ReadOptions) -> None:
    if options.assign_ids and chosen not in _ASSIGN_IDS_FORMATS:
        raise SourceOptionError("--assign-ids", f"{chosen.value} files have trade ids already"
                                " (Kibot: the line); the flag is for NDJSON, Parquet or CSV")
    if chosen is FileFormat.CSV:
        if options.columns is None:
            raise SourceOptionError("--columns", "--format csv needs --columns "
                                    "symbol=COL,trade_id=COL,ts=COL,price=COL,size=COL")
        if options.ts_unit is None:
            raise SourceOptionError("--ts-unit", "--format csv needs --ts-unit: s, ms, us, "
                                    "ns or iso")
    elif options.columns is not None or options.ts_unit is not None:
        raise SourceOptionError("--columns/--ts-unit", f"only for --format csv, not "
                                f"{chosen.value}")


def _binance(path: Path, symbol: str | None) -> Iterator[Record]:
    name = parse_binance_name(path)
    if symbol is not None:
        return read_binance(path, checked_symbol(symbol, "--symbol"),
                            name.kind if name else None)
    if name is None or name.is_klines:
        raise SourceOptionError("--symbol", f"Binance trade files carry no symbol and the "
                                f"name {path.name!r} does not give one (as in "
                                "BTCUSDT-aggTrades-2024-08-09.zip); pass --symbol (e.g. "
                                "--symbol BTCUSDT)")
    return read_binance(path, name.symbol, name.kind)
