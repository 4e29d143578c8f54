"""An in-memory Kafka for driving the real :class:`SpeedLayer` through crashes, fast.

What the speed layer needs of Kafka, and nothing more: partitioned logs of real
``confluent_kafka.Message`` objects (so the native scanner takes its fast path), a
consumer group's committed offsets, and a transactional producer whose records and
offsets become visible together at commit and vanish at abort. A **crash** is an
exception raised at the N-th client call (consume, produce, send_offsets, commit): like a
SIGKILL, it leaves the open transaction unfinished, and the next instance's
``init_transactions`` aborts it. The real-broker tests (test_speed_torture.py) check the
same guarantees against Apache Kafka; this one explores thousands of crash points.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TIMESTAMP_CREATE_TIME, Message, TopicPartition

from speed_layer.changelog import PartitionState, _apply
from speed_layer.clients import SpeedClients


class Crash(BaseException):
    """The process died here (a BaseException: nothing in the speed layer catches it)."""


@dataclass
class Record:
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: list[tuple[str, bytes]] | None = None


@dataclass
class MemoryKafka:
    """Topics, committed group offsets and a crash schedule shared by every client."""

    partitions: int
    logs: dict[str, dict[int, list[Record]]] = field(default_factory=dict)
    committed: dict[int, int] = field(default_factory=dict)  # trades partition -> offset
    calls: int = 0
    crash_at: set[int] = field(default_factory=set)

    def log(self, topic: str, partition: int) -> list[Record]:
        return self.logs.setdefault(topic, {}).setdefault(partition, [])

    def append(self, topic: str, partition: int, record: Record) -> None:
        self.log(topic, partition).append(record)

    def tick(self) -> None:
        """One client call; raise :class:`Crash` when the schedule says so."""
        self.calls += 1
        if self.calls in self.crash_at:
            raise Crash(self.calls)

    def values(self, topic: str) -> list[Record]:
        return [r for part in sorted(self.logs.get(topic, {}))
                for r in self.logs[topic][part]]


class MemoryConsumer:
    """A consumer of one topic, assigned every partition; batches of random size."""

    def __init__(self, kafka: MemoryKafka, rnd: random.Random, max_batch: int) -> None:
        self.kafka, self.rnd, self.max_batch = kafka, rnd, max_batch
        self.topic = ""
        self.positions: dict[int, int] = {}
        self._on_assign: Callable[..., None] | None = None

    def subscribe(self, topics: list[str], on_assign: Callable[..., None],
                  on_revoke: Callable[..., None], on_lost: Callable[..., None]) -> None:
        self.topic = topics[0]
        self._on_assign = on_assign

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        self.kafka.tick()
        if self._on_assign is not None:
            assign, self._on_assign = self._on_assign, None
            numbers = list(range(self.kafka.partitions))
            self.positions = {n: self.kafka.committed.get(n, 0) for n in numbers}
            assign(self, [TopicPartition(self.topic, n) for n in numbers])
        out: list[Message] = []
        limit = min(num_messages, self.rnd.randint(1, self.max_batch))
        order = list(self.positions)
        self.rnd.shuffle(order)
        for number in order:  # whole stretches of some partitions, none of others
            log = self.kafka.log(self.topic, number)
            take = self.rnd.randint(0, limit - len(out))
            start = self.positions[number]
            for offset in range(start, min(len(log), start + take)):
                record = log[offset]
                out.append(Message(topic=self.topic, partition=number, offset=offset,
                                   key=record.key, value=record.value,
                                   timestamp=(TIMESTAMP_CREATE_TIME, record.timestamp_ms)))
            self.positions[number] = min(len(log), start + take)
        return out

    def get_watermark_offsets(self, partition: TopicPartition, cached: bool = False,
                              timeout: float | None = None) -> tuple[int, int]:
        return 0, len(self.kafka.log(self.topic, partition.partition))

    def committed(self, partitions: list[TopicPartition], timeout: float | None = None
                  ) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.kafka.committed.get(tp.partition, -1))
                for tp in partitions]

    def consumer_group_metadata(self) -> object:
        return object()

    def close(self) -> None:
        pass


class MemoryProducer:
    """A transactional producer: records and offsets land together at commit. Producing
    outside an open transaction (before begin_transaction, or once a commit started) fails,
    as librdkafka refuses it: a message must never miss, or slip into, its transaction."""

    def __init__(self, kafka: MemoryKafka) -> None:
        self.kafka = kafka
        self.pending: list[tuple[str, int, Record]] = []
        self.offsets: dict[int, int] = {}
        self.open = False  # between begin_transaction and commit_transaction

    def init_transactions(self, timeout: float) -> None:
        self.pending, self.offsets = [], {}  # the predecessor's open transaction: aborted

    def begin_transaction(self) -> None:
        self.pending, self.offsets, self.open = [], {}, True

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                partition: int | None = None, headers: Any = None) -> None:
        if not self.open:  # librdkafka refuses it too (_STATE)
            raise AssertionError(f"produced to {topic} outside an open transaction")
        self.kafka.tick()
        number = partition if partition is not None else (hash(key) % 7 if key else 0)
        self.pending.append((topic, number, Record(key, value, 0, headers)))

    def poll(self, timeout: float = 0) -> int:
        return 0

    def send_offsets_to_transaction(self, offsets: list[TopicPartition], metadata: object,
                                    timeout: float) -> None:
        self.kafka.tick()
        self.offsets.update({tp.partition: tp.offset for tp in offsets})

    def commit_transaction(self, timeout: float) -> None:
        self.open = False
        self.kafka.tick()
        for topic, number, record in self.pending:
            self.kafka.append(topic, number, record)
        self.kafka.committed.update(self.offsets)
        self.pending, self.offsets = [], {}


def memory_clients(kafka: MemoryKafka, state_topic: str, rnd: random.Random,
                   max_batch: int) -> SpeedClients:
    """Clients of one speed-layer instance on ``kafka``."""

    def restore(partitions: list[int]) -> dict[int, PartitionState]:
        states = {number: PartitionState() for number in partitions}
        for number in partitions:
            for record in kafka.log(state_topic, number):
                _apply(record.key or b"", record.value, states[number])
        return states

    return SpeedClients(MemoryConsumer(kafka, rnd, max_batch), MemoryProducer(kafka), restore)


@dataclass
class FakeClock:
    """Monotonic time that moves only when the consumer is asked for input."""

    now: float = 1000.0
    step: float = 0.03

    def __call__(self) -> float:
        self.now += self.step / 10
        return self.now
