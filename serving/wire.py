"""The JSON shapes of the API (pydantic, so they appear in the OpenAPI schema).

Prices, volume and VWAP are exact decimal strings (the contract's fixed point); ``plot``
holds the same values as floats, for drawing only. ``time`` is the window start in epoch
seconds (what the chart's time scale uses).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from candle_core.codec import DECIMALS
from candle_core.fixed_point import format_fixed
from candle_core.windows import interval_label
from serving.merge import Bar

VALUE_FIELDS = ("open", "high", "low", "close", "volume", "vwap")


class Drift(BaseModel):
    """A candle whose speed and batch values differed, from the day's drifted.parquet."""

    drift: float = Field(description="Largest relative difference over OHLC, volume, VWAP.")
    breach: bool = Field(description="True when the drift exceeds the day's threshold.")
    match: str = Field(description="drifted, missing_speed or missing_batch.")
    explained: bool
    causes: dict[str, int] = Field(description="Evidence counts per cause (late, dlq, ...).")


class BarOut(BaseModel):
    symbol: str
    interval: str
    time: int = Field(description="Window start, epoch seconds (UTC).")
    window_start_us: int
    window_end_us: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    vwap: str
    trade_count: int
    revision: int = Field(description=(
        "How many times the speed layer re-emitted this candle for late trades inside its "
        "revision horizon: 0 is its first emission (and every batch bar)."))
    plot: dict[str, float] = Field(description="open..vwap as floats, for drawing only.")
    source: str = Field(description="batch (reconciled day) or speed.")
    verified: bool = Field(description="A batch bar of a day whose verdict is not critical.")
    drift: Drift | None = None


class CandlesPage(BaseModel):
    symbol: str
    interval: str
    from_us: int
    to_us: int
    bars: list[BarOut]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next page; null on the last page.")


def bar_wire(bar: Bar, drift: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bar as the JSON object of :class:`BarOut`."""
    candle = bar.candle
    values = {name: format_fixed(getattr(candle, name), DECIMALS[name]) for name in VALUE_FIELDS}
    return {
        "symbol": candle.symbol, "interval": interval_label(candle.interval_us),
        "time": candle.window_start_us // 1_000_000,
        "window_start_us": candle.window_start_us, "window_end_us": candle.window_end_us,
        **values, "trade_count": candle.trade_count, "revision": candle.revision,
        "plot": {name: float(text) for name, text in values.items()},
        "source": bar.source, "verified": bar.verified, "drift": drift,
    }
