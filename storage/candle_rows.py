"""A chunk of the speed layer's ``candles`` topic, for reconciliation.

Each value is decoded with the contract's :func:`~candle_core.codec.decode_candle`; files
go to ``candles/source=speed/interval=<label>/date=<window date>/``, cut per window-start
hour, sorted by ``(symbol, window_start_us, offset)``. Every revision of a candle is a row
of its own, with its ``revision`` (all revisions of a candle share its Kafka key, so they
sit in one partition in revision order); readers pick the latest with
:mod:`storage.speed_candles`. Undecodable values are archived with reason ``bad_candle``.
"""

from __future__ import annotations

import pyarrow as pa

from candle_core.candle import Candle
from candle_core.codec import CANDLE_SCHEMA, candles_to_table, decode_candle
from candle_core.windows import interval_label
from storage.layout import SPEED_SOURCE, US_PER_HOUR, candles_dir, date_of, hour_of
from storage.rows import FilePart, InvalidRow, Message, invalid_parts, lineage
from storage.schemas import REVISION, SPEED_CANDLE_SCHEMA
from storage.tables import runs, with_group

BAD_CANDLE = "bad_candle"
SORT_KEYS = ("interval_us", "_group", "symbol", "window_start_us", "kafka_offset")


class CandleRows:
    """The candles of one chunk of one partition of the ``candles`` topic."""

    kind = "candles"

    def __init__(self) -> None:
        self.valid: list[tuple[Candle, Message]] = []
        self.invalid: list[InvalidRow] = []

    def __len__(self) -> int:
        return len(self.valid) + len(self.invalid)

    def add(self, message: Message) -> None:
        try:
            candle = decode_candle(message.value or b"")
        except Exception as exc:  # any decode failure is a bad record, never a crash
            self.invalid.append((message, BAD_CANDLE, f"{type(exc).__name__}: {exc}"))
            return
        self.valid.append((candle, message))

    def counts(self) -> dict[str, int]:
        return {"candle": len(self.valid), "invalid": len(self.invalid)}

    def parts(self, topic: str, partition: int) -> list[FilePart]:
        return [*self._valid_parts(topic, partition),
                *invalid_parts(self.invalid, topic, partition)]

    def _valid_parts(self, topic: str, partition: int) -> list[FilePart]:
        if not self.valid:
            return []
        table = candle_table(self.valid, topic, partition)
        starts = table["window_start_us"].to_numpy()
        parts = []
        for run in runs(with_group(table, starts // US_PER_HOUR), SORT_KEYS,
                        ["interval_us", "_group"]):
            start = run["window_start_us"][0].as_py()
            label = interval_label(run["interval_us"][0].as_py())
            parts.append(FilePart(candles_dir(SPEED_SOURCE, label, date_of(start)),
                                  hour_of(start), run))
        return parts


def candle_table(rows: list[tuple[Candle, Message]], topic: str, partition: int) -> pa.Table:
    """Candles with their revisions and lineage as a table with :data:`SPEED_CANDLE_SCHEMA`."""
    table = candles_to_table(row[0] for row in rows)
    table = table.add_column(len(CANDLE_SCHEMA), REVISION,
                             pa.array([row[0].revision for row in rows], REVISION.type))
    messages = [row[1] for row in rows]
    extra = lineage(topic, partition, [m.offset for m in messages],
                    [m.timestamp_ms for m in messages])
    for name, column in extra.items():
        table = table.append_column(name, column)
    return table.cast(SPEED_CANDLE_SCHEMA)


