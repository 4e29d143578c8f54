"""Which topics the archive consumes, and the row buffer each one fills."""

from __future__ import annotations

from collections.abc import Callable

from candle_core.parsing import TradeParser
from storage.candle_rows import CandleRows
from storage.chunks import ChunkRows
from storage.settings import ArchiveSettings
from storage.side_rows import DeadLetterRows, LateRows
from storage.trade_rows import TradeRows


def archive_sinks(settings: ArchiveSettings, candles: bool = True
                  ) -> dict[str, Callable[[], ChunkRows]]:
    """``trades`` (validated with the contract's parser) and, unless ``candles`` is False,
    the speed layer's outputs: ``candles`` for reconciliation, ``trades.late`` and
    ``trades.dlq`` for drift attribution."""
    parser = TradeParser(settings.max_future_skew_us)
    sinks: dict[str, Callable[[], ChunkRows]] = {
        settings.topic_trades: lambda: TradeRows(parser)}
    if candles:
        sinks[settings.topic_candles] = CandleRows
        sinks[settings.topic_late] = lambda: LateRows(parser)
        sinks[settings.topic_dlq] = DeadLetterRows
    return sinks
