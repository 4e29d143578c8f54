"""Where to resume: the cursor, its checkpoint file, and what the topics already hold.

The cursor says "every record up to here is in Kafka": the stream's global ``seq``, or
per symbol the last REST ``id``. It is saved (atomically: temp file, fsync, rename) only
after the producer's flush confirmed delivery, with each partition's next offset at that
moment. On start, the partitions of ``trades`` and the DLQ are read from those offsets
(from the start without a checkpoint), and every record of this feed found there (header
``candles.feed.seq``) is skipped instead of produced again: a crash after delivery but
before the checkpoint costs no duplicate.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from candle_core.side_outputs import Headers, header
from kafka_ops.clients import consumer_config
from kafka_ops.exceptions import KafkaOpsError
from kafka_ops.settings import KafkaSettings
from sources.ingest.exceptions import CheckpointMismatchError

HEADER_FEED = "candles.feed.id"
HEADER_SEQ = "candles.feed.seq"
SCAN_TIMEOUT_S = 120.0

Offsets = dict[str, dict[int, int]]  # topic -> partition -> next offset


@dataclass
class Cursor:
    """The resume point (see module doc) and the records already found in the topics."""

    seq: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    skip: set[int] = field(default_factory=set)


@dataclass
class Checkpoint:
    """The checkpoint file's content."""

    feed_id: str
    mode: str
    seq: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    offsets: Offsets = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"feed_id": self.feed_id, "mode": self.mode, "seq": self.seq, "ids": self.ids,
                "offsets": {t: {str(p): o for p, o in parts.items()}
                            for t, parts in self.offsets.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        offsets = {t: {int(p): int(o) for p, o in parts.items()}
                   for t, parts in data.get("offsets", {}).items()}
        return cls(str(data["feed_id"]), str(data["mode"]), int(data.get("seq", 0)),
                   {str(s): int(i) for s, i in data.get("ids", {}).items()}, offsets)


def load_checkpoint(path: Path | None, feed_id: str, mode: str) -> Checkpoint:
    """The saved checkpoint, or an empty one; refuses another feed's or mode's."""
    if path is None or not path.exists():
        return Checkpoint(feed_id, mode)
    try:
        saved = Checkpoint.from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointMismatchError(path, f"not a checkpoint file ({exc})") from None
    if saved.feed_id != feed_id:
        raise CheckpointMismatchError(path, f"written for feed {saved.feed_id}, "
                                            f"this feed is {feed_id}")
    if saved.mode != mode:
        raise CheckpointMismatchError(path, f"written in {saved.mode} mode, not {mode}")
    return saved


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Replace ``path`` atomically (a reader sees the old or the new file, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with temp.open("w") as file:
        json.dump(checkpoint.to_json(), file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, path)


def produced_seqs(settings: KafkaSettings, topics: Iterable[str], offsets: Offsets,
                  feed_id: str, timeout_s: float = SCAN_TIMEOUT_S) -> set[int]:
    """Sequence numbers of this feed's records in ``topics`` at or after ``offsets``."""
    conf = consumer_config(settings, f"candles-ingest-scan-{uuid.uuid4().hex[:8]}", None,
                           **{"enable.partition.eof": True})
    consumer, found = Consumer(conf), set()
    try:
        assignment = []
        for topic in topics:
            metadata = consumer.list_topics(topic, timeout=10).topics[topic]
            if metadata.error is not None:
                raise KafkaOpsError(f"{topic}: {metadata.error}")
            start = offsets.get(topic, {})
            assignment += [TopicPartition(topic, p, start.get(p, 0)) for p in metadata.partitions]
        consumer.assign(assignment)
        pending = {(tp.topic, tp.partition) for tp in assignment}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(10_000, timeout=0.5):
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    pending.discard((message.topic(), message.partition()))
                elif error is not None:
                    raise KafkaOpsError(f"scanning {message.topic()}: {error}")
                else:
                    seq = _feed_seq(message.headers(), feed_id)
                    if seq is not None:
                        found.add(seq)
        if pending:
            raise KafkaOpsError(f"partitions {sorted(pending)} did not reach their end in "
                                f"{timeout_s:.0f} s while looking for the resume point")
    finally:
        consumer.close()
    return found


def _feed_seq(headers: Headers, feed_id: str) -> int | None:
    if header(headers, HEADER_FEED) != feed_id:
        return None
    seq = header(headers, HEADER_SEQ)
    return int(seq) if seq is not None else None
