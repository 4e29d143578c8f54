"""Input file formats for ``candles replay``: detection and one reader per format.

Detection, when ``--format`` is not given: by extension first (``.ndjson``/``.jsonl``/
``.json``: NDJSON, ``.parquet``/``.pq``: Parquet), then by the first bytes: ``PAR1``
(Parquet), ``{`` (NDJSON), ``MM/DD/YYYY,`` (Kibot), a leading integer id or an ``id,``
header (Binance).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats.binance import read_binance
from sources.formats.common import checked_symbol, symbol_from_filename
from sources.formats.kibot import read_kibot
from sources.formats.ndjson import read_ndjson
from sources.formats.parquet import read_parquet
from sources.records import Record

_KIBOT_LINE = re.compile(rb"\s*\d{2}/\d{2}/\d{4},\d{1,2}:\d{2}:\d{2},")
_BINANCE_LINE = re.compile(rb"\s*(id,|\d+,)")


class FileFormat(StrEnum):
    """The input formats ``candles replay`` reads."""

    NDJSON = "ndjson"
    PARQUET = "parquet"
    KIBOT = "kibot"
    BINANCE = "binance"


_SUFFIXES = {".ndjson": FileFormat.NDJSON, ".jsonl": FileFormat.NDJSON,
             ".json": FileFormat.NDJSON, ".parquet": FileFormat.PARQUET,
             ".pq": FileFormat.PARQUET}


def detect_format(path: Path) -> FileFormat:
    """The format of ``path`` by extension, else by its first bytes."""
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as exc:
        raise SourceFormatError(path, 0, f"cannot read: {exc.strerror}") from None
    first = head.lstrip().split(b"\n", 1)[0]
    if head.startswith(b"PAR1"):
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
                 symbol: str | None = None) -> Iterator[Record]:
    """The records of ``path``; ``symbol`` names the symbol of Kibot/Binance files."""
    if not path.is_file():
        raise SourceFormatError(path, 0, "no such file")
    chosen = file_format or detect_format(path)
    if chosen is FileFormat.NDJSON:
        return read_ndjson(path)
    if chosen is FileFormat.PARQUET:
        return read_parquet(path)
    if chosen is FileFormat.KIBOT:
        name = checked_symbol(symbol, "--symbol") if symbol else symbol_from_filename(path)
        return read_kibot(path, name)
    if symbol is None:
        raise SourceOptionError("--symbol", "Binance trade files carry no symbol; "
                                "pass --symbol (e.g. --symbol BTCUSDT)")
    return read_binance(path, checked_symbol(symbol, "--symbol"))
