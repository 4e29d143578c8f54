"""The non-trade rule: decided on bytes, before decoding, and failing safe."""

from __future__ import annotations

import pytest

from candle_core.message_kind import non_trade_kind
from candle_core.parsing import TradeParser
from candle_core.reasons import Reason
from candle_core.trade import Rejection


@pytest.mark.parametrize(("value", "kind"), [
    (b'{"type":"order","symbol":"AAPL","order_id":1}', "order"),
    (b'{"type":"quote","symbol":"AAPL","bid":"1.0"}', "quote"),
    (b'{"type":"trade","symbol":"AAPL","trade_id":1}', None),
    (b'{"symbol":"AAPL","trade_id":1,"ts":1}', None),
    (b'{"type":"' + b"x" * 40, "other"),
    (b'{"type":""}', "other"),
    (b"", None),
])
def test_the_rule(value: bytes, kind: str | None) -> None:
    assert non_trade_kind(value) == kind


def test_a_trade_with_a_type_field_is_still_a_valid_trade() -> None:
    value = b'{"type":"trade","symbol":"AAPL","trade_id":1,"ts":1767225600000000,' \
            b'"price":"1.5","size":"2"}'
    assert not isinstance(TradeParser(5_000_000).parse(value, 1767225600000000), Rejection)


def test_a_non_trade_outside_the_rule_is_rejected_not_lost() -> None:
    value = b'{ "type": "order", "symbol": "AAPL", "order_id": 1 }'
    assert non_trade_kind(value) is None
    result = TradeParser(5_000_000).parse(value, 1767225600000000)
    assert isinstance(result, Rejection) and result.reason == Reason.MISSING_FIELD
