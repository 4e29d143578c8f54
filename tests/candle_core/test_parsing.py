"""The trade parser: one reason code per failure, exact decimals, round trips."""

from __future__ import annotations

import msgspec
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from candle_core.fixed_point import (
    MAX_PRICE,
    MAX_PRICE_INT,
    PRICE_DECIMALS,
    format_fixed,
    format_price,
    round_half_up_div,
)
from candle_core.parsing import TradeParser
from candle_core.reasons import Reason
from candle_core.trade import Rejection, Trade
from tests.candle_core.strategies import trade_lists

PARSER = TradeParser(max_future_skew_us=5_000_000)
KAFKA_TS_US = 1_700_000_000_000_000
GOOD = {"symbol": "BTCUSDT", "trade_id": 7, "ts": KAFKA_TS_US, "price": "37012.5", "size": 2}


def parse(**changes: object) -> Trade | Rejection:
    record = {key: value for key, value in {**GOOD, **changes}.items() if value is not DROP}
    return PARSER.parse(orjson.dumps(record), KAFKA_TS_US)


DROP = object()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"price": DROP}, Reason.MISSING_FIELD),  # absent
        ({"size": None}, Reason.MISSING_FIELD),  # null counts as missing
        ({"trade_id": "7"}, Reason.BAD_TYPE),  # ids are JSON integers, not strings
        ({"trade_id": 7.0}, Reason.BAD_TYPE),  # ... nor floats
        ({"ts": True}, Reason.BAD_TYPE),  # booleans are not numbers
        ({"price": True}, Reason.BAD_TYPE),
        ({"price": "12,5"}, Reason.BAD_TYPE),  # not a decimal literal
        ({"price": "NaN"}, Reason.BAD_TYPE),
        ({"price": " 1.5"}, Reason.BAD_TYPE),  # no padding: Decimal() would accept it
        ({"price": "1_000"}, Reason.BAD_TYPE),  # ... and this
        ({"symbol": 5}, Reason.BAD_TYPE),
        ({"symbol": "btcusdt"}, Reason.BAD_SYMBOL),  # upper case only
        ({"symbol": "BTC/USDT"}, Reason.BAD_SYMBOL),  # '/' would break Hive paths
        ({"symbol": ""}, Reason.BAD_SYMBOL),
        ({"trade_id": -1}, Reason.BAD_TRADE_ID),
        ({"trade_id": 2**63}, Reason.BAD_TRADE_ID),  # one past int64
        ({"ts": -5}, Reason.BAD_TIMESTAMP),
        ({"ts": KAFKA_TS_US * 1000}, Reason.BAD_TIMESTAMP),  # nanoseconds, not micro
        ({"price": 0}, Reason.NON_POSITIVE_PRICE),
        ({"price": "-1.5"}, Reason.NON_POSITIVE_PRICE),
        ({"size": 0}, Reason.NON_POSITIVE_SIZE),
        ({"price": "1.000000001"}, Reason.BAD_PRECISION),  # 9 decimals would be rounded
        ({"size": 1e-9}, Reason.BAD_PRECISION),
        ({"price": "10000000.00000001"}, Reason.OUT_OF_RANGE),  # just above MAX_PRICE
        ({"size": "1e11"}, Reason.OUT_OF_RANGE),
        ({"side": "long"}, Reason.BAD_SIDE),
        ({"venue": 3}, Reason.BAD_TYPE),
        ({"ts": KAFKA_TS_US + 5_000_001}, Reason.FUTURE_TIMESTAMP),  # 1 us past the skew
    ],
)
def test_each_failure_has_its_reason(changes: dict[str, object], reason: Reason) -> None:
    result = parse(**changes)
    assert isinstance(result, Rejection), result
    assert result.reason == reason, result.detail


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", Reason.MALFORMED_JSON),
        (b'{"symbol": "A", "trade_id": 1', Reason.MALFORMED_JSON),  # truncated
        (b"\xff\xfe", Reason.MALFORMED_JSON),
        (b"[1, 2]", Reason.NOT_AN_OBJECT),
        (b"42", Reason.NOT_AN_OBJECT),
    ],
)
def test_structural_failures(raw: bytes, reason: Reason) -> None:
    result = PARSER.parse(raw, KAFKA_TS_US)
    assert isinstance(result, Rejection) and result.reason == reason


@pytest.mark.parametrize(
    ("changes", "price", "size"),
    [
        ({}, 37012_50000000, 2_00000000),
        ({"price": 0.1, "size": "0.10"}, 10000000, 10000000),  # a float literal read exactly
        ({"price": "1e-8"}, 1, 2_00000000),  # smallest price, exponent form
        ({"price": "1.500000000000"}, 1_50000000, 2_00000000),  # trailing zeros are exact
        ({"price": "10000000", "size": "10000000000"}, MAX_PRICE_INT, 10**18),  # the bounds
        ({"ts": KAFKA_TS_US + 5_000_000}, 37012_50000000, 2_00000000),  # exactly at the skew
    ],
)
def test_valid_values_are_exact(changes: dict[str, object], price: int, size: int) -> None:
    result = parse(**changes)
    assert isinstance(result, Trade), result
    assert (result.price, result.size) == (price, size)


def test_float_text_beyond_double_precision_is_exact() -> None:
    raw = b'{"symbol":"X","trade_id":1,"ts":1,"price":1234567.12345678,"size":9999999999.99999999}'
    result = PARSER.parse(raw)
    assert isinstance(result, Trade)
    assert (result.price, result.size) == (123456712345678, 999999999999999999)


def test_no_kafka_timestamp_skips_the_future_check() -> None:
    assert isinstance(PARSER.parse(orjson.dumps({**GOOD, "ts": 4 * 10**15})), Trade)


@given(trade_lists(max_size=10), st.booleans())
def test_wire_round_trip(trades: list[Trade], as_numbers: bool) -> None:
    """Trade -> JSON (strings or numbers) -> Trade is the identity."""
    for trade in trades:
        wire = trade.to_wire()
        text = orjson.dumps(wire)
        if as_numbers:
            text = text.replace(f'"{wire["price"]}"'.encode(), str(wire["price"]).encode())
        assert PARSER.parse(text) == trade


@given(st.integers(min_value=1, max_value=MAX_PRICE_INT))
def test_format_then_parse_is_identity(value: int) -> None:
    text = format_price(value)
    result = parse(price=text)
    assert isinstance(result, Trade) and result.price == value
    assert "." not in text or not text.endswith("0")  # the shortest exact form


@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "0.00000001"), (150000000, "1.5"), (100000000, "1"), (-250, "-0.0000025")],
)
def test_format_fixed(value: int, text: str) -> None:
    assert format_fixed(value, PRICE_DECIMALS) == text


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [(5, 2, 3), (7, 2, 4), (4, 3, 1), (5, 3, 2), (0, 9, 0), (10**40 + 1, 2, 5 * 10**39 + 1)],
)
def test_round_half_up(numerator: int, denominator: int, rounded: int) -> None:
    assert round_half_up_div(numerator, denominator) == rounded


decimal_texts = st.one_of(
    st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{1,10})?", fullmatch=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.sampled_from(["0", "0.0", "00000001", "10000000", "10000000.00000001", "1e3", "1.",
                     ".5", "01.10", "9999999999.99999999", "10000000000", "10000000001"]),
)


@given(decimal_texts, st.booleans())
def test_fast_and_exact_paths_agree(text: str, quoted: bool) -> None:
    """The fast path for plain decimals and the Decimal path give the same verdict."""
    from candle_core import parsing

    literal = f'"{text}"' if quoted else text
    raw = f'{{"symbol":"X","trade_id":1,"ts":1,"price":{literal},"size":1}}'.encode()
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return  # not a JSON number: not for this test
    fast = parsing._plain_fixed(literal.encode(), MAX_PRICE_INT)
    exact = parsing._fixed(msgspec.Raw(literal.encode()), "price", PRICE_DECIMALS, MAX_PRICE,
                           Reason.NON_POSITIVE_PRICE)
    if fast is not None:
        assert exact == fast
    elif isinstance(exact, int):  # the fast path declines only odd shapes (1e3, 1.500000000)
        whole, _, frac = text.lower().partition(".")
        assert "e" in text.lower() or len(frac) > 8 or len(whole) > 11
