"""Type stub for the native module built from ``speed_layer/native/`` (see hotpath.h)."""

from typing import Any, NamedTuple

ParsedTrade = tuple[str, int, int, int, int, str | None, str | None]

class WindowFold(NamedTuple):
    """A window's fold: what ``candle_core.candle.folded_candle`` takes (a structseq)."""

    symbol: str
    window_start_us: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    notional: int
    trade_count: int
    first_ts_us: int
    last_ts_us: int
    first_trade_id: int
    last_trade_id: int

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
    @property
    def next_close_us(self) -> int: ...
    @property
    def allowed_lateness_us(self) -> int: ...
    @property
    def dedup_horizon_us(self) -> int: ...
    @property
    def base_interval_us(self) -> int: ...
    def __init__(self, base_interval_us: int, allowed_lateness_us: int,
                 dedup_horizon_us: int = 0) -> None: ...
    def __len__(self) -> int: ...
    def add(self, symbol: str, trade_id: int, ts_us: int, price: int, size: int,
            venue: str | None, side: str | None, offset: int) -> int: ...
    def replay(self, symbol: str, trade_id: int, ts_us: int, price: int, size: int,
               venue: str | None, side: str | None, offset: int) -> int: ...
    def close(self, watermark_us: int) -> list[WindowFold]: ...
    def folds(self) -> list[WindowFold]: ...
    def first_offset(self) -> int | None: ...
    def seen_count(self) -> int: ...
    def kept(self) -> tuple[int, int]: ...
    def memory_bytes(self) -> int: ...

class Cursor:
    position: int | None
    replay_until: int | None
    last_seen: float
    def __init__(self, table: WindowTable, position: int = -1,
                 replay_until: int = -1) -> None: ...
    @property
    def table(self) -> WindowTable: ...
    @property
    def processed(self) -> int | None: ...
    @property
    def replaying(self) -> bool: ...
    def commit_offset(self) -> int | None: ...

DeadLetter = tuple[bytes, bytes | None, list[tuple[str, str | bytes | None]]]

class Scanner:
    def __init__(self, message_type: type, limits: dict[str, object],
                 dead_letters: dict[str, object]) -> None: ...
    def scan(self, messages: list[Any], start: int, cursors: dict[int, Cursor],
             now: float) -> tuple[int, int, int]: ...
    def drain(self) -> tuple[int, int, dict[str, int], dict[str, int]]: ...
    def take_rejects(self) -> list[DeadLetter] | None: ...
    def parse(self, value: bytes, kafka_ts_us: int) -> ParsedTrade | None: ...
