"""The shared contract: trades, fixed-point arithmetic, windows, candles, dedup, validation.

Every layer imports this package; it imports none of them.
"""

from candle_core.candle import Candle, CandleBuilder, merge, rollup
from candle_core.parsing import TradeParser
from candle_core.reasons import Reason
from candle_core.reference import candles_from_trades
from candle_core.trade import Rejection, Trade
from candle_core.windows import DEFAULT_INTERVALS, interval_label, parse_interval, window_start

__all__ = [
    "DEFAULT_INTERVALS",
    "Candle",
    "CandleBuilder",
    "Reason",
    "Rejection",
    "Trade",
    "TradeParser",
    "candles_from_trades",
    "interval_label",
    "merge",
    "parse_interval",
    "rollup",
    "window_start",
]
