"""Project NDJSON: each line is one message value, passed to Kafka byte for byte.

Key = the value's ``symbol`` when it is a string, else ``b""``. Kafka timestamp = the
value's ``recv_ts`` if it is a plausible epoch-µs integer, else its ``ts``, else the
previous record's (records before the first stamped one take that one's). So an exact
duplicate, byte for byte its original, carries its original's ``recv_ts`` (use project
Parquet to keep each message's own timestamp). Only the line
ending (``\\n`` or ``\\r\\n``) is removed; blank lines are skipped. With ``assign_ids``,
each object without a ``trade_id`` gets one from its line (``sources.trade_ids``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sources.exceptions import SourceFormatError
from sources.records import Record, probe
from sources.trade_ids import with_assigned_id


def read_ndjson(path: Path, assign_ids: bool = False) -> Iterator[Record]:
    """The records of a project NDJSON file, in file order."""
    previous_us: int | None = None
    waiting: list[tuple[bytes, bytes]] = []  # unstamped records before the first stamp
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            value = line.rstrip(b"\n").removesuffix(b"\r")
            if not value.strip():
                continue
            if assign_ids:
                value = with_assigned_id(value, number, path)
            key, stamp_us = probe(value)
            if stamp_us is None and previous_us is None:
                waiting.append((key, value))
                continue
            previous_us = stamp_us if stamp_us is not None else previous_us
            assert previous_us is not None
            for early_key, early_value in waiting:
                yield Record(early_key, early_value, previous_us)
            waiting.clear()
            yield Record(key, value, previous_us)
    if waiting:
        raise SourceFormatError(path, 0, "no record has a recv_ts or ts to stamp it with")
