"""The trade record and its wire format (one JSON object per Kafka message).

Wire format (key = symbol)::

    {"symbol": "BTCUSDT", "trade_id": 42, "ts": 1700000000123456,
     "price": 37012.5, "size": "0.0125", "venue": "binance", "side": "buy"}

``ts`` is event time in integer microseconds since the Unix epoch (UTC). ``price`` and
``size`` are JSON numbers or decimal strings; both are read from their exact text, never
through a float. Unknown fields are ignored.
"""

from __future__ import annotations

from typing import NamedTuple

from candle_core.fixed_point import format_price, format_size


class Trade(NamedTuple):
    """One valid trade, with price and size as fixed-point integers (see ``fixed_point``).

    A NamedTuple: cheap to build on the hot path, hashable, and ordered by its fields.
    """

    symbol: str
    trade_id: int
    ts_us: int
    price: int
    size: int
    venue: str | None = None
    side: str | None = None

    def content(self) -> tuple[int, int, int, str | None, str | None]:
        """What must be equal for two trades with the same id to be exact duplicates:
        ``(ts_us, price, size, venue, side)``, i.e. every field after the id (the speed
        layer's hot path takes the same slice directly)."""
        return self[2:]

    def to_wire(self) -> dict[str, object]:
        """The JSON object for this trade, with price and size as exact decimal strings."""
        wire: dict[str, object] = {
            "symbol": self.symbol,
            "trade_id": self.trade_id,
            "ts": self.ts_us,
            "price": format_price(self.price),
            "size": format_size(self.size),
        }
        if self.venue is not None:
            wire["venue"] = self.venue
        if self.side is not None:
            wire["side"] = self.side
        return wire


class Rejection(NamedTuple):
    """Why a record is not a valid trade: a reason code and a human-readable detail."""

    reason: str
    detail: str
