"""Type stub for the native module built from ``_hotpath.c`` (see that file's header)."""

from typing import Any

# (symbol, window_start_us, open, high, low, close, volume, notional, trade_count,
#  first_ts_us, last_ts_us, first_trade_id, last_trade_id)
WindowFold = tuple[str, int, int, int, int, int, int, int, int, int, int, int, int]
ParsedTrade = tuple[str, int, int, int, int, str | None, str | None]

APPLIED: int
DUPLICATE: int
CONFLICT: int
LATE: int
CLOSE_DUE: int
END: int
SLOW: int
CLOSE: int

class WindowTable:
    max_ts_us: int
    watermark_us: int
    next_rollup_close_us: int
    replay_until: int
    last_seen: float
    processed: int | None
    @property
    def next_close_us(self) -> int: ...
    @property
    def allowed_lateness_us(self) -> int: ...
    def __init__(self, allowed_lateness_us: int) -> None: ...
    def __len__(self) -> int: ...
    def add(self, symbol: str, trade_id: int, ts_us: int, price: int, size: int,
            venue: str | None, side: str | None, offset: int) -> int: ...
    def close(self, watermark_us: int) -> list[WindowFold]: ...
    def folds(self) -> list[WindowFold]: ...
    def first_offset(self) -> int | None: ...
    def seen_count(self) -> int: ...

class Scanner:
    def __init__(self, message_type: type, max_future_skew_us: int) -> None: ...
    def scan(self, messages: list[Any], start: int, tables: dict[int, WindowTable],
             now: float) -> tuple[int, int, int]: ...
    def drain(self) -> tuple[int, int, dict[str, int]]: ...
    def parse(self, value: bytes, kafka_ts_us: int) -> ParsedTrade | None: ...
