"""What a data.binance.vision file name says: symbol, kind and period.

``BTCUSDT-aggTrades-2024-08-09.zip``, ``ETHUSDT-trades-2024-08.zip`` (a month),
``BTCUSDT-1m-2024-08-09.zip`` (klines of one interval), each also as the ``.csv`` inside.
The files themselves carry no symbol, so the name is where it comes from; a name in any
other shape says nothing, and the reader then needs ``--symbol``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TRADES = "trades"
AGG_TRADES = "aggTrades"
_NAME = re.compile(r"(?P<symbol>[A-Z0-9]{2,32})-(?P<kind>trades|aggTrades|\d+[smhdwM])-"
                   r"(?P<period>\d{4}-\d{2}(?:-\d{2})?)\.(?:csv|zip)")


@dataclass(frozen=True)
class BinanceName:
    """The parts of a published file name; ``kind`` is trades, aggTrades or a kline
    interval (``1m``); ``period`` is ``YYYY-MM-DD`` (a day) or ``YYYY-MM`` (a month)."""

    symbol: str
    kind: str
    period: str

    @property
    def is_klines(self) -> bool:
        """True when ``kind`` is a kline interval, not a trade kind."""
        return self.kind not in (TRADES, AGG_TRADES)


def parse_binance_name(path: Path) -> BinanceName | None:
    """The parts of ``path``'s name, or ``None`` when it is not a published name."""
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None
    return BinanceName(match["symbol"], match["kind"], match["period"])
