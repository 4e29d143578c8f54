"""The served file in memory: sequence numbers, per-symbol ids and the release schedule.

Pure data and maths, no HTTP. A record is *released* once the feed's clock passes its due
time (``Pace.due_s``, made non-decreasing so releases happen in file order); the stream
and the REST endpoint only ever show released records, so both shapes describe the same
live feed, and a reconnecting client sees the same records again in the same order.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from sources.feed.wire import encode_envelope
from sources.pacing import Pace
from sources.records import Record

MAX_PAGE = 1_000


@dataclass
class Catalog:
    """Every record's envelope in file order, indexed by symbol, with due times."""

    envelopes: list[bytes] = field(default_factory=list)
    due_s: list[float] = field(default_factory=list)
    by_symbol: dict[str, list[int]] = field(default_factory=dict)  # symbol -> seq - 1 list
    feed_id: str = ""

    @classmethod
    def build(cls, records: Iterable[Record], pace: Pace) -> Catalog:
        """Number the records (seq from 1, id from 1 per symbol) and schedule them."""
        catalog, digest = cls(), hashlib.sha256()
        first_us: int | None = None
        latest = 0.0
        for index, record in enumerate(records):
            symbol = record.key.decode("utf-8", "replace")
            positions = catalog.by_symbol.setdefault(symbol, [])
            positions.append(index)
            envelope = encode_envelope(index + 1, len(positions), record)
            catalog.envelopes.append(envelope)
            digest.update(envelope)
            first_us = record.timestamp_us if first_us is None else first_us
            latest = max(latest, pace.due_s(index, record.timestamp_us, first_us))
            catalog.due_s.append(latest)
        catalog.feed_id = digest.hexdigest()[:16]
        return catalog

    def released(self, elapsed_s: float) -> int:
        """How many records (a prefix, in seq order) are due ``elapsed_s`` after start."""
        return bisect.bisect_right(self.due_s, elapsed_s)

    def wait_s(self, seq: int, elapsed_s: float) -> float:
        """Seconds until record ``seq`` (1-based) is released (0 if it already is)."""
        return max(0.0, self.due_s[seq - 1] - elapsed_s)

    def page(self, symbol: str, from_id: int, limit: int, released: int) -> list[bytes]:
        """Released envelopes of ``symbol`` with id >= ``from_id``, at most ``limit``."""
        positions = self.by_symbol.get(symbol, [])
        start = max(from_id, 1) - 1
        end = bisect.bisect_left(positions, released, lo=start)
        chosen = positions[start:min(end, start + min(limit, MAX_PAGE))]
        return [self.envelopes[position] for position in chosen]

    def symbols(self, released: int) -> list[str]:
        """Symbols with at least one released record, sorted."""
        return sorted(s for s, positions in self.by_symbol.items() if positions[0] < released)
