"""Bytes -> :class:`Trade` or :class:`Rejection`: the one trade parser every layer uses.

Two paths, one verdict. The fast path decodes into a typed msgspec struct in C; price and
size stay raw JSON text (``msgspec.Raw``) so they are read exactly, never through a float.
Only when the typed decode fails does :func:`_diagnose` decode generically to name the
reason. Validation is deterministic: it never looks at the wall clock, only at the record
and its Kafka message timestamp, so the speed and batch layers reach the same verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from candle_core.fixed_point import (
    MAX_PRICE,
    MAX_PRICE_INT,
    MAX_SIZE,
    MAX_SIZE_INT,
    PRICE_DECIMALS,
    SIZE_DECIMALS,
    FixedPointError,
    decimal_to_fixed,
    parse_decimal,
)
from candle_core.reasons import Reason
from candle_core.trade import Rejection, Trade

SYMBOL_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")
DECIMAL_STRING_PATTERN = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_TRADE_ID = 2**63 - 1
MAX_TS_US = 4_102_444_800_000_000  # 2100-01-01T00:00:00Z: beyond this, not microseconds
SIDES = frozenset({"buy", "sell"})
SYMBOL_CACHE_SIZE = 100_000
_GOOD_SYMBOLS: set[str] = set()  # symbols already checked against SYMBOL_PATTERN
assert PRICE_DECIMALS == SIZE_DECIMALS, "the fast path below assumes one scale"
QUOTE = ord('"')
MAX_WHOLE_DIGITS = 11  # 10^10, the size bound, has 11 digits
_PAD = {digits: b"0" * (PRICE_DECIMALS - digits) for digits in range(PRICE_DECIMALS + 1)}
REQUIRED_FIELDS = ("symbol", "trade_id", "ts", "price", "size")


class _WireTrade(msgspec.Struct):
    symbol: str
    trade_id: int
    ts: int
    price: msgspec.Raw
    size: msgspec.Raw
    venue: str | None = None
    side: str | None = None


_DECODER = msgspec.json.Decoder(_WireTrade)
# NamedTuple's generated __new__ is Python code; building the tuple directly is 3x cheaper
# on the hot path and gives the identical object.
_new_tuple = tuple.__new__

_FIXED_POINT_REASONS = {
    "not_finite": Reason.BAD_PRECISION,
    "out_of_range": Reason.OUT_OF_RANGE,
    "bad_precision": Reason.BAD_PRECISION,
    "bad_number": Reason.BAD_TYPE,
}


@dataclass(frozen=True, slots=True)
class TradeParser:
    """Parses and validates trade messages.

    ``max_future_skew_us``: how far event time may run ahead of the Kafka message
    timestamp before the record is rejected as ``future_timestamp``.
    """

    max_future_skew_us: int

    def parse(self, raw: bytes, kafka_ts_us: int | None = None) -> Trade | Rejection:
        """Parse one message value; ``kafka_ts_us`` is its Kafka timestamp, if it has one."""
        try:
            wire = _DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            return _diagnose(raw, exc)
        return self._validate(wire, kafka_ts_us)

    def _validate(self, wire: _WireTrade, kafka_ts_us: int | None) -> Trade | Rejection:
        if wire.symbol not in _GOOD_SYMBOLS:
            if SYMBOL_PATTERN.fullmatch(wire.symbol) is None:
                return Rejection(Reason.BAD_SYMBOL, f"symbol {wire.symbol!r} is not well-formed")
            if len(_GOOD_SYMBOLS) < SYMBOL_CACHE_SIZE:
                _GOOD_SYMBOLS.add(wire.symbol)
        if not 0 <= wire.trade_id <= MAX_TRADE_ID:
            return Rejection(Reason.BAD_TRADE_ID, f"trade_id {wire.trade_id} not in [0, 2^63)")
        if not 0 <= wire.ts < MAX_TS_US:
            return Rejection(Reason.BAD_TIMESTAMP, f"ts {wire.ts} is not epoch microseconds")
        price: int | Rejection | None = _plain_fixed(bytes(wire.price), MAX_PRICE_INT)
        if price is None:
            price = _fixed(wire.price, "price", PRICE_DECIMALS, MAX_PRICE,
                           Reason.NON_POSITIVE_PRICE)
        if isinstance(price, Rejection):
            return price
        size: int | Rejection | None = _plain_fixed(bytes(wire.size), MAX_SIZE_INT)
        if size is None:
            size = _fixed(wire.size, "size", SIZE_DECIMALS, MAX_SIZE, Reason.NON_POSITIVE_SIZE)
        if isinstance(size, Rejection):
            return size
        if wire.side is not None and wire.side not in SIDES:
            return Rejection(Reason.BAD_SIDE, f"side {wire.side!r} is not 'buy' or 'sell'")
        if kafka_ts_us is not None and wire.ts > kafka_ts_us + self.max_future_skew_us:
            ahead_ms = (wire.ts - kafka_ts_us) // 1000
            return Rejection(
                Reason.FUTURE_TIMESTAMP, f"ts is {ahead_ms} ms after the Kafka timestamp"
            )
        return _new_tuple(Trade, (wire.symbol, wire.trade_id, wire.ts, price, size, wire.venue,
                                  wire.side))


def _plain_fixed(text: bytes, maximum: int) -> int | None:
    """The fast path for the common shape (``123.45`` or ``"123.45"``, at most 8 decimals,
    positive, within bounds); None sends anything else to :func:`_fixed`, which agrees on
    every input this accepts (property-tested) and names the reason for the rest."""
    if text[0] == QUOTE:
        text = text[1:-1]
    whole, dot, frac = text.partition(b".")
    if len(frac) > PRICE_DECIMALS or len(whole) > MAX_WHOLE_DIGITS or not whole.isdigit() \
            or (dot and not frac.isdigit()):
        return None
    value = int(whole + frac + _PAD[len(frac)])
    return value if 0 < value <= maximum else None


def _fixed(
    raw: msgspec.Raw, name: str, decimals: int, maximum: Decimal, non_positive: Reason
) -> int | Rejection:
    """Read a raw JSON number or decimal string as a fixed-point integer."""
    text = bytes(raw).decode()
    if text.startswith('"'):
        text = text[1:-1]
        if DECIMAL_STRING_PATTERN.fullmatch(text) is None:
            return Rejection(Reason.BAD_TYPE, f"{name} {text!r} is not a decimal string")
    elif text == "null":
        return Rejection(Reason.MISSING_FIELD, f"{name} is null")
    elif not (text[0].isdigit() or text[0] == "-"):
        return Rejection(Reason.BAD_TYPE, f"{name} must be a number or decimal string")
    try:
        return decimal_to_fixed(parse_decimal(text), decimals, maximum)
    except FixedPointError as exc:
        reason = non_positive if exc.reason == "non_positive" else _FIXED_POINT_REASONS[exc.reason]
        return Rejection(reason, f"{name}: {exc}")


def _diagnose(raw: bytes, error: msgspec.DecodeError) -> Rejection:
    """Name the reason a record failed the typed decode (the slow path, bad records only)."""
    try:
        obj: Any = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        return Rejection(Reason.MALFORMED_JSON, str(exc))
    if not isinstance(obj, dict):
        return Rejection(Reason.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    for name in REQUIRED_FIELDS:
        if obj.get(name) is None:
            return Rejection(Reason.MISSING_FIELD, f"required field {name!r} is missing")
    return Rejection(Reason.BAD_TYPE, str(error))
