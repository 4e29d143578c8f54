"""The Kafka side of ``ingest``: valid trades to ``trades``, invalid records to the DLQ.

One idempotent producer (``producer_config``) for both topics, so librdkafka retries never
duplicate or reorder a partition. Every message carries the feed id and its ``seq`` as
headers (the resume scan reads them back); a dead letter also carries the speed layer's
DLQ headers, with the feed URL as source "topic", partition -1 and the seq as offset.
Delivery reports record each partition's next offset for the checkpoint.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from candle_core.side_outputs import dlq_headers
from candle_core.trade import Rejection
from sources.feed.wire import Envelope
from sources.ingest.checkpoint import HEADER_FEED, HEADER_SEQ, Offsets
from sources.producer import produce_waiting


class IngestSink:
    """Produces envelopes; :meth:`flush` reports whether everything so far was delivered."""

    def __init__(self, config: dict[str, Any], trades_topic: str, dlq_topic: str,
                 feed_id: str, source: str) -> None:
        self.trades_topic, self.dlq_topic = trades_topic, dlq_topic
        self.feed_id, self.source = feed_id.encode(), source
        self.offsets: Offsets = {}
        self.delivered = self.failed = self.queued = 0
        self.first_error = ""
        self._producer = Producer(config)

    def send(self, envelope: Envelope, value: bytes, timestamp_ms: int,
             rejection: Rejection | None) -> None:
        """Queue one record: to the DLQ with its reason if ``rejection``, else to trades."""
        headers: list[tuple[str, str | bytes | None]] = [
            (HEADER_FEED, self.feed_id), (HEADER_SEQ, str(envelope.seq).encode())]
        topic = self.trades_topic
        if rejection is not None:
            topic = self.dlq_topic
            headers = [*dlq_headers(rejection.reason, rejection.detail, self.source, -1,
                                    envelope.seq, timestamp_ms), *headers]
        key = envelope.symbol.encode()  # b"" when unreadable, as `replay` does
        self.queued += 1
        produce_waiting(self._producer, self.queued, topic, value, key,
                        timestamp=timestamp_ms, headers=headers, on_delivery=self._delivered)

    def flush(self, timeout_s: float = 60.0) -> bool:
        """Wait for every queued message; True if all were acknowledged."""
        left = int(self._producer.flush(timeout_s))
        if left and not self.first_error:
            self.first_error = f"{left} message(s) not acknowledged in {timeout_s:.0f} s"
        return left == 0 and self.failed == 0

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.failed += 1
            self.first_error = self.first_error or str(error)
            return
        self.delivered += 1
        parts = self.offsets.setdefault(message.topic() or "", {})
        offset = message.offset() or 0
        parts[message.partition() or 0] = max(parts.get(message.partition() or 0, 0), offset + 1)
