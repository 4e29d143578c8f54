"""The two trade layouts data.binance.vision publishes, and how a file's layout is found.

=========  =====================================================================  ======
layout     columns                                                                count
=========  =====================================================================  ======
trades     ``id,price,qty,quote_qty,time,is_buyer_maker,is_best_match``           7 (6)
aggTrades  ``agg_trade_id,price,quantity,first_trade_id,last_trade_id,``          8 (7)
           ``transact_time,is_buyer_maker,is_best_match``
=========  =====================================================================  ======

Spot files have the full count; USD-M futures files drop ``is_best_match`` (the counts in
brackets), so a 7-column row is spot trades *or* futures aggTrades. A file's layout is
therefore taken from, in order: its header row's names when they are Binance's, the kind its
published name states (``-trades-`` / ``-aggTrades-``), and only then the column count of
its first row (8: aggTrades, 6 or 7: trades), which settles every spot file.
"""

from __future__ import annotations

from dataclasses import dataclass

from sources.formats.binance_names import AGG_TRADES, TRADES


@dataclass(frozen=True)
class BinanceLayout:
    """Where a layout keeps each field (0-based) and how many columns a row may have."""

    kind: str
    columns: tuple[str, ...]
    widths: tuple[int, ...]
    price: int
    size: int
    time: int
    maker: int
    integers: tuple[int, ...]  # id, time (and the first/last trade ids of an aggregate)

    def describe(self) -> str:
        """``"7 or 8 comma-separated fields (agg_trade_id,...)"`` for error messages."""
        counts = " or ".join(str(width) for width in self.widths)
        return f"{counts} comma-separated fields ({','.join(self.columns)})"


TRADES_LAYOUT = BinanceLayout(
    TRADES, ("id", "price", "qty", "quote_qty", "time", "is_buyer_maker", "is_best_match"),
    (6, 7), price=1, size=2, time=4, maker=5, integers=(0, 4))
AGG_TRADES_LAYOUT = BinanceLayout(
    AGG_TRADES, ("agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id",
                 "transact_time", "is_buyer_maker", "is_best_match"),
    (7, 8), price=1, size=2, time=5, maker=6, integers=(0, 3, 4, 5))
_BY_KIND = {TRADES: TRADES_LAYOUT, AGG_TRADES: AGG_TRADES_LAYOUT}
_AGG_HEADER_NAMES = {"agg_trade_id", "first_trade_id", "last_trade_id", "transact_time"}
_TRADES_HEADER_NAMES = {"id", "qty", "quote_qty", "time"}


def is_header(fields: list[str]) -> bool:
    """A header row starts with a non-numeric field (``id``, ``agg_trade_id``)."""
    return not fields[0].isdigit()


def layout_of(first_row: list[str], named_kind: str | None) -> BinanceLayout | None:
    """The layout of a file from its first non-blank row (split, stripped) and the kind
    its name states; ``None`` when nothing tells (the caller reports the row)."""
    names = {name.lower() for name in first_row} if is_header(first_row) else set()
    if names & _AGG_HEADER_NAMES:
        return AGG_TRADES_LAYOUT
    if names & _TRADES_HEADER_NAMES:
        return TRADES_LAYOUT
    if named_kind in _BY_KIND:
        return _BY_KIND[named_kind]
    if len(first_row) == len(AGG_TRADES_LAYOUT.columns):
        return AGG_TRADES_LAYOUT
    if len(first_row) in TRADES_LAYOUT.widths:
        return TRADES_LAYOUT
    return None
