"""Bytes -> :class:`Trade` or :class:`Rejection`: the one trade parser every layer uses.

Two paths, one verdict. The fast path decodes into a typed msgspec struct in C; price and
size stay raw JSON text (``msgspec.Raw``) so they are read exactly, never through a float.
Only when the typed decode fails does :func:`_diagnose` decode generically to name the
reason. Validation is deterministic: it never looks at the wall clock, only at the record
and its Kafka message timestamp, so the speed and batch layers reach the same verdict.

No value can stop a consumer: a value longer than :data:`MAX_RECORD_BYTES` or nested
deeper than :data:`MAX_JSON_DEPTH` is refused before any decoder sees it (a decoder
recursing 100,000 levels raises ``RecursionError``), bytes that are not UTF-8 are refused
even inside fields the trade ignores, and integers too long for any field are named, not
decoded (docs/contract.md, "Validation").
"""

from __future__ import annotations

import json
import re
import string
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

SYMBOL_FIRST_CHARS = string.ascii_uppercase + string.digits
SYMBOL_REST_CHARS = SYMBOL_FIRST_CHARS + "._-"
MAX_SYMBOL_LEN = 32
SYMBOL_PATTERN = re.compile(
    f"[{re.escape(SYMBOL_FIRST_CHARS)}][{re.escape(SYMBOL_REST_CHARS)}]{{0,{MAX_SYMBOL_LEN - 1}}}")
DECIMAL_STRING_PATTERN = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_TRADE_ID = 2**63 - 1
MAX_TS_US = 4_102_444_800_000_000  # 2100-01-01T00:00:00Z: beyond this, not microseconds
MAX_VENUE_LEN = 64
MAX_RECORD_BYTES = 65_536  # a trade is ~150 bytes; anything this large is not one
MAX_JSON_DEPTH = 64  # a trade is one flat object; ignored fields may nest, not this deep
SIDES = frozenset({"buy", "sell"})
SYMBOL_CACHE_SIZE = 100_000
_GOOD_SYMBOLS: set[str] = set()  # symbols already checked against SYMBOL_PATTERN
assert PRICE_DECIMALS == SIZE_DECIMALS, "the fast path below assumes one scale"
QUOTE = ord('"')
MAX_WHOLE_DIGITS = len(str(max(int(MAX_PRICE), int(MAX_SIZE))))  # 10^10 has 11 digits
_PAD = {digits: b"0" * (PRICE_DECIMALS - digits) for digits in range(PRICE_DECIMALS + 1)}
REQUIRED_FIELDS = ("symbol", "trade_id", "ts", "price", "size")
TRADE_FIELDS = (*REQUIRED_FIELDS, "venue", "side")
_QUOTED_FIELDS = tuple(f'"{name}"'.encode() for name in TRADE_FIELDS)
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_MAX_INT_DIGITS = 20  # longer integers are named by field, never turned into ints
FUTURE_DETAIL = "ts is {ahead_ms} ms after the Kafka timestamp"


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
        if len(raw) > MAX_RECORD_BYTES:
            return Rejection(Reason.TOO_LARGE, f"{len(raw):,} bytes; a trade record is at most "
                             f"{MAX_RECORD_BYTES:,}")
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and \
                json_depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            return Rejection(Reason.TOO_DEEP, f"nested more than {MAX_JSON_DEPTH} levels "
                             "deep")
        if not raw.isascii():
            try:
                raw.decode()
            except UnicodeDecodeError as exc:
                return Rejection(Reason.MALFORMED_JSON, f"not UTF-8: {exc.reason} at byte "
                                 f"{exc.start}")
        try:
            wire = _DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            return _diagnose(raw, exc)
        if (b"\\" in raw or any(raw.count(name) > 1 for name in _QUOTED_FIELDS)) and \
                (repeated := _repeated_field(raw)) is not None:
            return Rejection(Reason.DUPLICATE_KEY, f"field {repeated!r} appears more than once")
        return self._validate(wire, kafka_ts_us)

    def _validate(self, wire: _WireTrade, kafka_ts_us: int | None) -> Trade | Rejection:
        if wire.symbol not in _GOOD_SYMBOLS:
            if SYMBOL_PATTERN.fullmatch(wire.symbol) is None:
                return Rejection(Reason.BAD_SYMBOL,
                                 f"symbol {wire.symbol[:40]!r} is not well-formed")
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
            return Rejection(Reason.BAD_SIDE, f"side {wire.side[:40]!r} is not 'buy' or 'sell'")
        if wire.venue is not None and (len(wire.venue) > MAX_VENUE_LEN
                                       or not wire.venue.isprintable()):
            return Rejection(Reason.BAD_VENUE, f"venue {wire.venue[:40]!r} is longer than "
                             f"{MAX_VENUE_LEN} or not printable")
        if kafka_ts_us is not None and wire.ts > kafka_ts_us + self.max_future_skew_us:
            ahead_ms = (wire.ts - kafka_ts_us) // 1000
            return Rejection(Reason.FUTURE_TIMESTAMP, FUTURE_DETAIL.format(ahead_ms=ahead_ms))
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


def json_depth(raw: bytes, stop_above: int | None = None) -> int:
    """How deep the brackets of ``raw`` nest, strings skipped, without decoding it (so a
    hostile value cannot make a decoder recurse); counting stops once the depth passes
    ``stop_above``. Unbalanced input still gets a number."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


class _LongInteger(str):
    """An integer literal too long for any field, kept as its text."""


def _integer(text: str) -> int | _LongInteger:
    return int(text) if len(text) <= _MAX_INT_DIGITS else _LongInteger(text)


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _generic(raw: bytes) -> Any:
    """Decode any JSON value; integers too long for any field stay text (msgspec cannot
    hold them, and ``int()`` of 5,000 digits raises), so the caller can name the field."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        if "Integer value out of range" not in str(exc):
            raise
    try:
        return json.loads(raw, parse_int=_integer, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise msgspec.DecodeError(str(exc)) from None


def _repeated_field(raw: bytes) -> str | None:
    """The first trade field the top-level object holds twice (decoded keys, so an escaped
    spelling counts), or None. Only called when a quick byte count says it may happen."""
    objects: list[list[tuple[str, Any]]] = []

    def keep(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append(pairs)
        return {}

    try:
        json.loads(raw, object_pairs_hook=keep, parse_int=_LongInteger,
                   parse_float=_LongInteger, parse_constant=_LongInteger)
    except ValueError:
        return None  # msgspec accepted it; what json cannot read is no repeated field
    if not objects:
        return None
    seen: set[str] = set()
    for key, _ in objects[-1]:  # the outermost object is completed last
        if key in TRADE_FIELDS and key in seen:
            return key
        seen.add(key)
    return None


def _diagnose(raw: bytes, error: msgspec.DecodeError) -> Rejection:
    """Name the reason a record failed the typed decode (the slow path, bad records only)."""
    try:
        obj: Any = _generic(raw)
    except msgspec.DecodeError as exc:
        return Rejection(Reason.MALFORMED_JSON, str(exc))
    if not isinstance(obj, dict):
        return Rejection(Reason.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    for name in REQUIRED_FIELDS:
        if obj.get(name) is None:
            return Rejection(Reason.MISSING_FIELD, f"required field {name!r} is missing")
    for name, reason in (("trade_id", Reason.BAD_TRADE_ID), ("ts", Reason.BAD_TIMESTAMP)):
        value = obj[name]
        if isinstance(value, _LongInteger):
            return Rejection(reason, f"{name} has {len(value.lstrip('-')):,} digits: not in range")
    return Rejection(Reason.BAD_TYPE, str(error))


def native_dead_letters() -> dict[str, object]:
    """What the native scanner needs to dead-letter a future-stamped trade itself, exactly
    as the Python path would: the DLQ header names, the reason, and the detail's text
    around the number of milliseconds (speed_layer/native/scanner.c)."""
    from candle_core.side_outputs import DLQ_HEADER_NAMES

    prefix, suffix = FUTURE_DETAIL.split("{ahead_ms}")
    return {"header_names": DLQ_HEADER_NAMES, "future_reason": Reason.FUTURE_TIMESTAMP.value,
            "future_detail": (prefix, suffix)}


def native_limits(max_future_skew_us: int) -> dict[str, object]:
    """Every contract constant the speed layer's native parser enforces, by name: it is
    built from these when constructed (speed_layer/native/parser.c refuses a dict with a
    name it does not know or without one it needs), so no bound is written twice."""
    from candle_core.message_kind import MAX_KIND_BYTES, TRADE_PREFIX, TYPE_PREFIX

    return {
        "max_trade_id": MAX_TRADE_ID, "max_ts_us": MAX_TS_US,
        "max_price_int": MAX_PRICE_INT, "max_size_int": MAX_SIZE_INT,
        "max_future_skew_us": max_future_skew_us, "decimals": PRICE_DECIMALS,
        "max_whole_digits": MAX_WHOLE_DIGITS, "max_venue_len": MAX_VENUE_LEN,
        "max_symbol_len": MAX_SYMBOL_LEN, "max_record_bytes": MAX_RECORD_BYTES,
        "max_kind_bytes": MAX_KIND_BYTES, "symbol_first": SYMBOL_FIRST_CHARS,
        "symbol_rest": SYMBOL_REST_CHARS, "type_prefix": TYPE_PREFIX,
        "trade_prefix": TRADE_PREFIX,
    }
