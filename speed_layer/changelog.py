"""The speed layer's state changelog: a compacted topic written in the same transaction as
the candles and the consumer offsets, so state and output can never disagree.

What is stored per input partition ``p`` (changelog partition ``p``):

* ``p|pos`` -> ``{"processed": next offset, "watermark_us", "max_ts_us", "low_water"}``,
  where ``low_water`` is the consumer offset committed in the same transaction (where a
  restart starts re-reading);
* ``p|rs|<n>`` -> a rollup state record (binary, written by speed_layer/native/rollup.c):
  the larger-interval partials (rolled up from closed 1 s candles) that changed or were
  emitted during one commit, or, now and then, all of them, after which every earlier
  record is tombstoned. State is written per commit, not per candle: a commit writes one
  record (or a few, at most ``STATE_RECORD_BYTES`` each) however many candles it closed.
  Restore applies the live records in order of ``n``;
* ``p|r|<interval_us>|<symbol>|<window_start_us>``: the previous format (one JSON candle
  per partial), still read, and tombstoned by the first commit after a restore.

1 s windows (open ones, and closed ones kept for the dedup horizon) are *not* stored: the
consumer offset committed is the oldest record of any such window, and recovery re-reads
from there (see ``docs/speed-layer.md``). That keeps the per-trade hot path free of state
writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import msgspec
from confluent_kafka import Consumer, KafkaError, TopicPartition

from candle_core.candle import Candle
from candle_core.codec import decode_candle
from speed_layer.exceptions import StateRestoreError

TRANSACTION_TIMEOUT_MS = 60_000  # the speed layer's transactional producer (clients.py)
# A dead instance's open transaction is aborted by the broker once it is this old; a restore
# waiting for it must outlast that, and the broker's check for it (every 10 s by default).
RESTORE_TIMEOUT_S = TRANSACTION_TIMEOUT_MS / 1000 + 30
STATE_RECORD_BYTES = 512 * 1024  # under Kafka's default 1 MB message size


class Position(msgspec.Struct, frozen=True):
    """Where a partition's processing stood at the last commit."""

    processed: int
    watermark_us: int
    max_ts_us: int
    low_water: int | None = None  # None: written before it was recorded


@dataclass
class PartitionState:
    """Everything restored for one partition."""

    position: Position | None = None
    records: dict[int, bytes] = field(default_factory=dict)  # live rollup state records
    last_record: int = 0  # the highest record number ever written (live or tombstoned)
    legacy: dict[bytes, Candle] = field(default_factory=dict)  # the previous format


@dataclass
class StateLog:
    """What a partition's owner must remember of its rollup state records to write the
    next ones: their numbers, the live ones, and how many bytes those hold."""

    last_record: int = 0
    live: list[int] = field(default_factory=list)
    live_bytes: int = 0
    legacy_keys: list[bytes] = field(default_factory=list)
    rewrite: bool = False  # the live records are of an older build or other intervals

    @classmethod
    def restored(cls, state: PartitionState, rewrite: bool = False) -> StateLog:
        return cls(state.last_record, sorted(state.records),
                   sum(len(r) for r in state.records.values()), list(state.legacy), rewrite)


def position_key(partition: int) -> bytes:
    return f"{partition}|pos".encode()


def state_record_key(partition: int, number: int) -> bytes:
    return f"{partition}|rs|{number}".encode()


def encode_position(position: Position) -> bytes:
    return msgspec.json.encode(position)


def restore(consumer_conf: dict[str, object], topic: str,
            partitions: list[int]) -> dict[int, PartitionState]:
    """Read the changelog partitions from start to end (read_committed), in one pass.

    The end is the high watermark, not the first end of partition: a read_committed reader
    stops at the last stable offset, which passes a committed transaction only once its
    markers are written, a moment after its producer's commit returned. On a rebalance the
    previous owner commits as it gives a partition up, so its last commit's state may not
    be readable yet when the next owner restores; starting from the commit before would
    emit that commit's candles again."""
    states = {number: PartitionState() for number in partitions}
    if not partitions:
        return states
    consumer = Consumer({**consumer_conf, "enable.partition.eof": True})
    try:
        consumer.assign([TopicPartition(topic, number, 0) for number in sorted(partitions)])
        _read_until_eof(consumer, topic, set(partitions), states)
    finally:
        consumer.close()
    return states


def _read_until_eof(consumer: Consumer, topic: str, pending: set[int],
                    states: dict[int, PartitionState]) -> None:
    deadline = time.monotonic() + RESTORE_TIMEOUT_S
    at_end: set[int] = set()  # reported the end of the partition once
    while pending and time.monotonic() < deadline:
        for message in consumer.consume(10_000, timeout=0.2):
            error = message.error()
            number = message.partition()
            assert number is not None
            if error is None:
                _apply(message.key() or b"", message.value(), states[number])
            elif error.code() == KafkaError._PARTITION_EOF:
                at_end.add(number)
            else:
                raise StateRestoreError(topic, number, str(error))
        for number in sorted(pending & at_end):
            if _read_to_high_watermark(consumer, topic, number):
                pending.discard(number)
    if pending:
        number = min(pending)
        detail = (f"a transaction on it has not ended in {RESTORE_TIMEOUT_S:.0f} s"
                  if number in at_end else f"no end in {RESTORE_TIMEOUT_S:.0f} s")
        raise StateRestoreError(topic, number, detail)


def _read_to_high_watermark(consumer: Consumer, topic: str, number: int) -> bool:
    """Has the reader passed the partition's high watermark (as of its last fetch)? Short
    of it, a transaction is open or its markers are not written yet."""
    partition = TopicPartition(topic, number)
    low, high = consumer.get_watermark_offsets(partition, cached=True)
    (position,) = consumer.position([partition])
    read_to = position.offset if position.offset >= 0 else max(low, 0)  # nothing delivered
    return high >= 0 and read_to >= high


def _apply(key: bytes, value: bytes | None, state: PartitionState) -> None:
    parts = key.split(b"|", 2)
    kind = parts[1] if len(parts) > 1 else b""
    if kind == b"pos":
        if value is not None:
            state.position = msgspec.json.decode(value, type=Position)
    elif kind == b"rs":
        number = int(parts[2])
        state.last_record = max(state.last_record, number)
        if value is None:
            state.records.pop(number, None)
        else:
            state.records[number] = value
    elif value is None:
        state.legacy.pop(key, None)
    else:
        state.legacy[key] = decode_candle(value)
