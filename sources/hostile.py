"""A corpus of hostile records: values built to break parsers, each with the reason code
the contract must give it (docs/contract.md, "Validation").

Where :mod:`sources.malformed` injects one ordinary fault into a trade, this corpus
attacks the decoder itself: nesting 100,000 levels deep, values up to the broker's
message size, bytes that are not UTF-8, NUL bytes, megabyte strings, numbers of 10,000
digits, repeated keys, escaped spellings, exponents that overflow or underflow a decimal
context. Every kind is deterministic for a given trade and seed, and none is a valid
trade. Tests send the corpus through the real broker to the speed layer and the archive;
both must stay up and set every record aside, byte for byte, with its reason.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import orjson

from candle_core.parsing import MAX_JSON_DEPTH, MAX_RECORD_BYTES, MAX_VENUE_LEN
from candle_core.reasons import Reason
from candle_core.trade import Trade

BROKER_MAX_VALUE_BYTES = 1_000_000  # under Kafka's default message.max.bytes (1,048,588)
Builder = Callable[[Trade, random.Random], bytes]


@dataclass(frozen=True)
class HostileKind:
    """One way to attack a parser, and the reason the contract gives the result."""

    name: str
    reason: Reason
    build: Builder
    large: bool = False  # over 64 KiB: a corpus holds only a few of these


def _wire(trade: Trade) -> dict[str, object]:
    return trade.to_wire()


def _with(trade: Trade, **fields: object) -> bytes:
    return orjson.dumps({**_wire(trade), **fields})


def _raw_field(trade: Trade, name: str, raw: bytes) -> bytes:
    """The trade with field ``name`` (new or replacing) spelled as ``raw`` bytes."""
    wire = _wire(trade)
    wire.pop(name, None)
    body = orjson.dumps(wire)
    return body[:-1] + b',"' + name.encode() + b'":' + raw + b"}"


def _nested(open_: bytes, close: bytes, depth: int) -> bytes:
    return open_ * depth + close * depth


KINDS: tuple[HostileKind, ...] = (
    # ---- nesting
    HostileKind("brackets_100k", Reason.TOO_LARGE, lambda t, r: b"[" * 100_000, large=True),
    HostileKind("objects_50k", Reason.TOO_LARGE, lambda t, r: b'{"a":' * 50_000, large=True),
    HostileKind("brackets_60k_unclosed", Reason.TOO_DEEP, lambda t, r: b"[" * 60_000),
    HostileKind("objects_10k", Reason.TOO_DEEP, lambda t, r: b'{"a":' * 10_000 + b"1"
                + b"}" * 10_000),
    HostileKind("deep_in_ignored_field", Reason.TOO_DEEP,
                lambda t, r: _raw_field(t, "meta", _nested(b"[", b"]", 5_000))),
    HostileKind("deep_objects_in_ignored_field", Reason.TOO_DEEP,
                lambda t, r: _raw_field(t, "meta", b'{"a":' * 2_000 + b"null" + b"}" * 2_000)),
    HostileKind("one_level_too_deep", Reason.TOO_DEEP,
                lambda t, r: _raw_field(t, "meta", _nested(b"[", b"]", MAX_JSON_DEPTH))),
    HostileKind("deep_trade_field", Reason.TOO_DEEP,
                lambda t, r: _raw_field(t, "price", _nested(b"[", b"]", 1_000))),
    # ---- size
    HostileKind("broker_max_value", Reason.TOO_LARGE,
                lambda t, r: _with(t, note="x" * (BROKER_MAX_VALUE_BYTES - 200)), large=True),
    HostileKind("string_1mb_venue", Reason.TOO_LARGE,
                lambda t, r: _with(t, venue="v" * 1_000_000), large=True),
    HostileKind("whitespace_70k", Reason.TOO_LARGE,
                lambda t, r: b" " * (MAX_RECORD_BYTES + 10) + orjson.dumps(_wire(t)),
                large=True),
    HostileKind("many_keys_80k", Reason.TOO_LARGE,
                lambda t, r: orjson.dumps({**_wire(t), **{f"k{i}": i for i in range(9_000)}}),
                large=True),
    # ---- bytes that are not UTF-8 text
    HostileKind("invalid_utf8_symbol", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "symbol", b'"\xff\xfeA"')),
    HostileKind("invalid_utf8_ignored_field", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "note", b'"caf\xe9"')),
    HostileKind("overlong_utf8", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "note", b'"\xc0\xaf"')),
    HostileKind("utf8_surrogate_bytes", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "venue", b'"\xed\xa0\x80"')),
    HostileKind("utf16_text", Reason.MALFORMED_JSON,
                lambda t, r: orjson.dumps(_wire(t)).decode().encode("utf-16")),
    HostileKind("utf8_bom", Reason.MALFORMED_JSON,
                lambda t, r: b"\xef\xbb\xbf" + orjson.dumps(_wire(t))),
    HostileKind("binary_garbage", Reason.MALFORMED_JSON,
                lambda t, r: b"\xff" + r.randbytes(r.randint(1, 300))),
    # ---- NUL and control characters
    HostileKind("nul_bytes", Reason.MALFORMED_JSON, lambda t, r: b"\x00" * r.randint(1, 500)),
    HostileKind("nul_inside_string", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "venue", b'"a\x00b"')),
    HostileKind("nul_after_object", Reason.MALFORMED_JSON,
                lambda t, r: orjson.dumps(_wire(t)) + b"\x00"),
    HostileKind("escaped_nul_venue", Reason.BAD_VENUE, lambda t, r: _with(t, venue="a\x00b")),
    HostileKind("escaped_bell_venue", Reason.BAD_VENUE, lambda t, r: _with(t, venue="\x07")),
    HostileKind("lone_surrogate_venue", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "venue", b'"\\ud800"')),
    HostileKind("long_venue", Reason.BAD_VENUE,
                lambda t, r: _with(t, venue="v" * (MAX_VENUE_LEN + 1))),
    HostileKind("escaped_nul_symbol", Reason.BAD_SYMBOL,
                lambda t, r: _raw_field(t, "symbol", b'"A\\u0000B"')),
    HostileKind("escaped_nul_side", Reason.BAD_SIDE,
                lambda t, r: _raw_field(t, "side", b'"b\\u0000uy"')),
    # ---- numbers
    HostileKind("trade_id_10k_digits", Reason.BAD_TRADE_ID,
                lambda t, r: _raw_field(t, "trade_id", b"9" * 10_000)),
    HostileKind("trade_id_2_to_64", Reason.BAD_TRADE_ID,
                lambda t, r: _raw_field(t, "trade_id", str(2**64).encode())),
    HostileKind("trade_id_2_to_63", Reason.BAD_TRADE_ID,
                lambda t, r: _raw_field(t, "trade_id", str(2**63).encode())),
    HostileKind("ts_10k_digits", Reason.BAD_TIMESTAMP,
                lambda t, r: _raw_field(t, "ts", b"1" * 10_000)),
    HostileKind("negative_ts_10k_digits", Reason.BAD_TIMESTAMP,
                lambda t, r: _raw_field(t, "ts", b"-" + b"1" * 10_000)),
    HostileKind("price_10k_digits", Reason.OUT_OF_RANGE,
                lambda t, r: _raw_field(t, "price", b"9" * 10_000)),
    HostileKind("size_10k_decimals", Reason.BAD_PRECISION,
                lambda t, r: _raw_field(t, "size", b'"0.' + b"0" * 10_000 + b'1"')),
    HostileKind("price_10k_digit_string", Reason.OUT_OF_RANGE,
                lambda t, r: _raw_field(t, "price", b'"' + b"7" * 10_000 + b'"')),
    HostileKind("price_one_followed_by_zeros", Reason.BAD_PRECISION,
                lambda t, r: _raw_field(t, "price", b'"1.' + b"0" * 300 + b'1"')),
    HostileKind("exponent_overflow", Reason.OUT_OF_RANGE,
                lambda t, r: _raw_field(t, "price", b'"1e999999999"')),
    HostileKind("exponent_underflow", Reason.BAD_PRECISION,
                lambda t, r: _raw_field(t, "price", b"1e-999999999")),
    HostileKind("exponent_beyond_decimal", Reason.BAD_TYPE,
                lambda t, r: _raw_field(t, "size", b'"1e9999999999999999999"')),
    HostileKind("nan_string", Reason.BAD_TYPE, lambda t, r: _with(t, price="NaN")),
    HostileKind("infinity_string", Reason.BAD_TYPE, lambda t, r: _with(t, size="Infinity")),
    HostileKind("nan_token", Reason.MALFORMED_JSON,
                lambda t, r: _raw_field(t, "price", b"NaN")),
    HostileKind("negative_zero_price", Reason.NON_POSITIVE_PRICE,
                lambda t, r: _raw_field(t, "price", b"-0")),
    HostileKind("ignored_10k_digits_and_no_size", Reason.MISSING_FIELD,
                lambda t, r: _raw_field(t._replace(), "note", b"1" * 10_000)
                .replace(b'"size":', b'"sise":')),
    # ---- repeated and escaped keys
    HostileKind("repeated_symbol", Reason.DUPLICATE_KEY,
                lambda t, r: orjson.dumps(_wire(t))[:-1] + b',"symbol":"OTHER"}'),
    HostileKind("repeated_price", Reason.DUPLICATE_KEY,
                lambda t, r: orjson.dumps(_wire(t))[:-1] + b',"price":"1"}'),
    HostileKind("repeated_ts_spaced", Reason.DUPLICATE_KEY,
                lambda t, r: orjson.dumps(_wire(t))[:-1] + b' , "ts" : 1 }'),
    HostileKind("repeated_key_escaped", Reason.DUPLICATE_KEY,
                lambda t, r: orjson.dumps(_wire(t))[:-1] + b',"\\u0073ize":"2"}'),
    HostileKind("repeated_side_null", Reason.DUPLICATE_KEY,
                lambda t, r: orjson.dumps(_wire(t))[:-1] + b',"side":null}'),
    # ---- shapes
    HostileKind("empty", Reason.MALFORMED_JSON, lambda t, r: b""),
    HostileKind("whitespace_only", Reason.MALFORMED_JSON, lambda t, r: b" \t\r\n "),
    HostileKind("two_objects", Reason.MALFORMED_JSON,
                lambda t, r: orjson.dumps(_wire(t)) * 2),
    HostileKind("truncated_in_string", Reason.MALFORMED_JSON,
                lambda t, r: orjson.dumps(_wire(t))[:12]),
    HostileKind("trade_type_prefix_broken", Reason.MALFORMED_JSON,
                lambda t, r: b'{"type":"trade",' + b'"symbol":'),
    HostileKind("array_of_trades", Reason.NOT_AN_OBJECT,
                lambda t, r: orjson.dumps([_wire(t), _wire(t)])),
    HostileKind("json_null", Reason.NOT_AN_OBJECT, lambda t, r: b"null"),
    HostileKind("json_string_of_json", Reason.NOT_AN_OBJECT,
                lambda t, r: orjson.dumps(orjson.dumps(_wire(t)).decode())),
    HostileKind("spaced_order", Reason.MISSING_FIELD,
                lambda t, r: b'{ "type":"order","symbol":"' + t.symbol.encode() + b'"}'),
    HostileKind("symbol_33_chars", Reason.BAD_SYMBOL, lambda t, r: _with(t, symbol="A" * 33)),
    HostileKind("symbol_non_ascii", Reason.BAD_SYMBOL, lambda t, r: _with(t, symbol="ÄPPL")),
    HostileKind("price_object", Reason.BAD_TYPE, lambda t, r: _with(t, price={"v": 1})),
    HostileKind("size_array", Reason.BAD_TYPE, lambda t, r: _with(t, size=[1, 2])),
    HostileKind("trade_id_float", Reason.BAD_TYPE, lambda t, r: _with(t, trade_id=1.0)),
    HostileKind("ts_year_2200", Reason.BAD_TIMESTAMP,
                lambda t, r: _with(t, ts=7_258_118_400_000_000)),
    HostileKind("price_nine_decimals", Reason.BAD_PRECISION,
                lambda t, r: _with(t, price="1.000000001")),
)


def hostile_values(trades: list[Trade], count: int, seed: int = 0,
                   max_large_each: int = 3) -> Iterator[tuple[HostileKind, bytes]]:
    """``count`` hostile values, cycling through every kind (kinds over 64 KiB at most
    ``max_large_each`` times each), each built from the next of ``trades``."""
    rnd = random.Random(seed)
    small = [kind for kind in KINDS if not kind.large]
    large = [kind for kind in KINDS if kind.large]
    made = 0
    for round_ in range(count):
        if made >= count:
            return
        for kind in (large if round_ < max_large_each else []) + small:
            if made >= count:
                return
            yield kind, kind.build(trades[made % len(trades)], rnd)
            made += 1
