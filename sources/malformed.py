"""Malformed records: a valid trade with exactly ONE fault whose reason is known.

Each builder takes the trade's wire object (field order: symbol, trade_id, ts, price,
size, venue, side, recv_ts) and returns the faulty message bytes. The fault is the only
thing wrong, so :class:`~candle_core.parsing.TradeParser` must name exactly its reason
(``tests/sources`` checks every kind and variant). No fault contains a newline, so an
NDJSON file stays one record per line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import msgspec
import numpy as np

from candle_core.reasons import Reason
from sources.records import encode_wire

T = TypeVar("T")
Wire = dict[str, object]
TOO_LATE_TS_US = 5_000_000_000_000_000  # year 2128: past the contract's year-2100 bound


class Picker:
    """Chooses one variant of a fault, deterministically from the simulator's generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, options: Sequence[T]) -> T:
        return options[int(self.rng.integers(len(options)))]


def _replace(wire: Wire, field: str, value: object) -> bytes:
    faulty = dict(wire)
    faulty[field] = value
    return encode_wire(faulty)


def _truncated(wire: Wire, pick: Picker) -> bytes:
    text = encode_wire(wire)
    return text[: pick([len(text) // 3, len(text) // 2, len(text) - 1])]


def _not_an_object(wire: Wire, pick: Picker) -> bytes:
    shape = pick(["array", "number", "string"])
    if shape == "array":
        return msgspec.json.encode(list(wire.values()))
    return b"42" if shape == "number" else b'"' + str(wire["symbol"]).encode() + b'"'


def _missing_field(wire: Wire, pick: Picker) -> bytes:
    field = pick(["symbol", "trade_id", "ts", "price", "size"])
    if pick([True, False]):
        return _replace(wire, field, None)
    return encode_wire({name: value for name, value in wire.items() if name != field})


def _bad_type(wire: Wire, pick: Picker) -> bytes:
    variants: list[tuple[str, object]] = [
        ("trade_id", str(wire["trade_id"])), ("price", True), ("size", "1.5e"),
        ("ts", 1.5), ("symbol", 123), ("price", [1]),
    ]
    field, value = pick(variants)
    return _replace(wire, field, value)


def _bad_symbol(wire: Wire, pick: Picker) -> bytes:
    symbol = str(wire["symbol"])
    return _replace(wire, "symbol", pick([symbol.lower(), f"{symbol} X", "", "-" + symbol]))


def _bad_trade_id(wire: Wire, pick: Picker) -> bytes:
    return _replace(wire, "trade_id", pick([-1, -int(str(wire["trade_id"]))]))


def _bad_timestamp(wire: Wire, pick: Picker) -> bytes:
    return _replace(wire, "ts", pick([-1, TOO_LATE_TS_US]))


def _non_positive_price(wire: Wire, pick: Picker) -> bytes:
    return _replace(wire, "price", pick(["0", "-1.5", 0]))


def _non_positive_size(wire: Wire, pick: Picker) -> bytes:
    return _replace(wire, "size", pick(["0", "-2", 0.0]))


def _bad_precision(wire: Wire, pick: Picker) -> bytes:
    return _replace(wire, pick(["price", "size"]), "1.123456789")


def _out_of_range(wire: Wire, pick: Picker) -> bytes:
    field, value = pick([("price", "20000000"), ("size", "20000000000")])
    return _replace(wire, field, value)


def _bad_side(wire: Wire, pick: Picker) -> bytes:
    return _replace(wire, "side", pick(["BUY", "hold", ""]))


FAULTS: dict[Reason, Callable[[Wire, Picker], bytes]] = {
    Reason.MALFORMED_JSON: _truncated,
    Reason.NOT_AN_OBJECT: _not_an_object,
    Reason.MISSING_FIELD: _missing_field,
    Reason.BAD_TYPE: _bad_type,
    Reason.BAD_SYMBOL: _bad_symbol,
    Reason.BAD_TRADE_ID: _bad_trade_id,
    Reason.BAD_TIMESTAMP: _bad_timestamp,
    Reason.NON_POSITIVE_PRICE: _non_positive_price,
    Reason.NON_POSITIVE_SIZE: _non_positive_size,
    Reason.BAD_PRECISION: _bad_precision,
    Reason.OUT_OF_RANGE: _out_of_range,
    Reason.BAD_SIDE: _bad_side,
}
MALFORMED_KINDS: tuple[Reason, ...] = tuple(FAULTS)


def corrupt(wire: Wire, kind: Reason, rng: np.random.Generator) -> bytes:
    """The faulty bytes for ``kind``; ``rng`` picks among the kind's variants."""
    return FAULTS[kind](wire, Picker(rng))
