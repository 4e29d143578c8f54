"""Hypothesis strategies for trades: realistic, extreme, and always contract-valid."""

from __future__ import annotations

from hypothesis import strategies as st

from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT
from candle_core.trade import Trade

BASE_TS_US = 1_700_000_000_000_000
SYMBOLS = ("BTCUSDT", "AAPL", "SHIBUSDT")

prices = st.one_of(
    st.integers(min_value=1, max_value=10_000),  # sub-cent crypto: 1e-8 .. 1e-4
    st.integers(min_value=1, max_value=MAX_PRICE_INT),  # anything up to the bound
    st.just(MAX_PRICE_INT),
    st.just(10**5 * 10**8),  # a 10^5 price
)
sizes = st.one_of(
    st.integers(min_value=1, max_value=10**8),
    st.integers(min_value=1, max_value=MAX_SIZE_INT),
    st.just(MAX_SIZE_INT),
    st.just(10**6 * 10**8),  # a 10^6-share block
)


@st.composite
def trade_lists(
    draw: st.DrawFn,
    max_size: int = 40,
    min_size: int = 1,
    symbols: tuple[str, ...] = SYMBOLS,
    span_us: int = 180_000_000,
) -> list[Trade]:
    """Trades with unique ``(symbol, trade_id)``, timestamps over ``span_us`` (ties allowed)."""
    count = draw(st.integers(min_value=min_size, max_value=max_size))
    ids = draw(st.lists(st.integers(0, 10**6), min_size=count, max_size=count, unique=True))
    trades = []
    for trade_id in ids:
        trades.append(
            Trade(
                symbol=draw(st.sampled_from(symbols)),
                trade_id=trade_id,
                ts_us=BASE_TS_US + draw(st.integers(0, span_us)),
                price=draw(prices),
                size=draw(sizes),
            )
        )
    return trades
