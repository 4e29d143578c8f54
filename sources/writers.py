"""Writing simulated batches to files: project NDJSON, project Parquet, label sidecars.

Project NDJSON: one message value per line (UTF-8, ``\\n``-terminated); the Kafka key and
timestamp are recovered from the value on replay (``formats.ndjson``).

Project Parquet (the project's message format): columns ``key`` (string), ``value``
(binary) and ``timestamp_us`` (int64, arrival time in µs since the Unix epoch, UTC), one
row per message in arrival order: replaying it reproduces the messages exactly.

Label sidecar (``--labels``): ``offset`` (int64, 0-based position of the record in the
output: line number - 1 for NDJSON), ``label`` and ``expected_reason`` (null when the
record is valid for the parser); NDJSON or Parquet by the file's extension.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from sources.batch import RecordBatch
from sources.exceptions import SourceOptionError
from sources.labels import Label

MESSAGE_SCHEMA = pa.schema(
    [("key", pa.string()), ("value", pa.binary()), ("timestamp_us", pa.int64())]
)
NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")


class BatchWriter(Protocol):
    """Something that takes batches in order and is closed at the end."""

    def write(self, batch: RecordBatch) -> None: ...

    def close(self) -> None: ...


class _Closing:
    """Context-manager support: ``with open_writer(path) as writer:`` closes the file."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class NdjsonWriter(_Closing):
    """Message values, one per line."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = path.open("wb")

    def write(self, batch: RecordBatch) -> None:
        if len(batch):
            batch.frame.select("value").write_csv(
                self._file, include_header=False, quote_style="never"
            )

    def close(self) -> None:
        self._file.close()


class ParquetWriter(_Closing):
    """Project Parquet: key, value, timestamp_us; one row group per batch."""

    def __init__(self, path: Path) -> None:
        self._writer = pq.ParquetWriter(path, MESSAGE_SCHEMA, compression="zstd")

    def write(self, batch: RecordBatch) -> None:
        frame = batch.frame.select("key", pl.col("value").cast(pl.Binary), "timestamp_us")
        self._writer.write_table(frame.to_arrow().cast(MESSAGE_SCHEMA))

    def close(self) -> None:
        self._writer.close()


class LabelsWriter(_Closing):
    """The ground-truth sidecar, with each record's offset in the output."""

    def __init__(self, path: Path) -> None:
        parquet = is_parquet(path)
        try:
            self._inner: _LabelsNdjson | _LabelsParquet = (
                _LabelsParquet(path) if parquet else _LabelsNdjson(path)
            )
        except OSError as exc:
            raise SourceOptionError(str(path), f"cannot write: {exc.strerror or exc}") from None
        self._offset = 0

    def write(self, batch: RecordBatch) -> None:
        names = {int(label): label.slug for label in Label}
        frame = batch.frame.select(
            (pl.int_range(pl.len(), dtype=pl.Int64) + self._offset).alias("offset"),
            pl.col("label").replace_strict(names, return_dtype=pl.Utf8),
            pl.col("reason").alias("expected_reason"),
        )
        self._offset += len(batch)
        self._inner.write(frame)

    def close(self) -> None:
        self._inner.close()


class _LabelsNdjson:
    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = path.open("wb")

    def write(self, frame: pl.DataFrame) -> None:
        frame.write_ndjson(self._file)

    def close(self) -> None:
        self._file.close()


class _LabelsParquet:
    def __init__(self, path: Path) -> None:
        schema = pa.schema([("offset", pa.int64()), ("label", pa.string()),
                            ("expected_reason", pa.string())])
        self._schema = schema
        self._writer = pq.ParquetWriter(path, schema)

    def write(self, frame: pl.DataFrame) -> None:
        self._writer.write_table(frame.to_arrow().cast(self._schema))

    def close(self) -> None:
        self._writer.close()


def is_parquet(path: Path) -> bool:
    """True for .parquet/.pq, False for .ndjson/.jsonl/.json; any other suffix is an error."""
    suffix = path.suffix.lower()
    if suffix in NDJSON_SUFFIXES + PARQUET_SUFFIXES:
        return suffix in PARQUET_SUFFIXES
    allowed = ", ".join(NDJSON_SUFFIXES + PARQUET_SUFFIXES)
    raise SourceOptionError(str(path), f"unknown file type {suffix!r}; use one of {allowed}")


def open_writer(path: Path) -> NdjsonWriter | ParquetWriter:
    """The writer for ``path``'s extension (.ndjson/.jsonl/.json or .parquet/.pq)."""
    parquet = is_parquet(path)
    try:
        return ParquetWriter(path) if parquet else NdjsonWriter(path)
    except OSError as exc:
        raise SourceOptionError(str(path), f"cannot write: {exc.strerror or exc}") from None
