"""Kibot tick files: ``MM/DD/YYYY,HH:MM:SS,price,bid,ask,size`` (or ``...,price,size``).

Kibot stamps ticks in US Eastern time, to the second. Each line's local time is converted
with ``zoneinfo`` ``America/New_York`` to UTC (an ambiguous fall-back hour is read as its
first occurrence, fold=0; a spring-forward gap time as standard time). There is no trade
id, so a trade's id is its line number; several trades in one second get ``ts`` = that
second + 0, 1, 2... µs in line order, so ``(ts, trade_id)`` keeps the file's order.
``side`` is inferred when bid/ask are given: price >= ask: buy, price <= bid: sell.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from candle_core.trade import Trade
from sources.exceptions import SourceFormatError
from sources.formats.common import fixed_amount
from sources.records import Record, trade_record

EASTERN = ZoneInfo("America/New_York")
US_PER_S = 1_000_000


@lru_cache(maxsize=4096)
def _hour_start_us(date: str, hour: int) -> int:
    """Epoch µs (UTC) of local ``MM/DD/YYYY hour:00:00`` US Eastern."""
    month, day, year = (int(part) for part in date.split("/"))
    local = datetime(year, month, day, hour, tzinfo=EASTERN)
    return int(local.timestamp()) * US_PER_S


def eastern_to_utc_us(date: str, clock: str) -> int:
    """``"09/28/2009", "09:30:00"`` (US Eastern) -> epoch µs UTC."""
    hour, minute, second = (int(part) for part in clock.split(":"))
    if not (0 <= minute < 60 and 0 <= second < 60):
        raise ValueError(f"bad time {clock!r}")
    return _hour_start_us(date, hour) + (minute * 60 + second) * US_PER_S


def _side(price: str, bid: str, ask: str) -> str | None:
    try:
        traded, best_bid, best_ask = Decimal(price), Decimal(bid), Decimal(ask)
    except InvalidOperation:
        return None
    if best_ask > 0 and traded >= best_ask:
        return "buy"
    if best_bid > 0 and traded <= best_bid:
        return "sell"
    return None


def parse_kibot_line(text: str, symbol: str, path: Path, line: int) -> tuple[int, Trade]:
    """One line -> ``(second_us, trade)``; the caller adds the in-second offset to ts."""
    fields = text.strip().split(",")
    if len(fields) not in (4, 6):
        raise SourceFormatError(path, line, f"expected 4 or 6 comma-separated fields, "
                                f"got {len(fields)}: {text.strip()!r}")
    try:
        second_us = eastern_to_utc_us(fields[0], fields[1])
    except (ValueError, IndexError):
        raise SourceFormatError(path, line, f"bad date/time {fields[0]!r} {fields[1]!r}, "
                                "expected MM/DD/YYYY,HH:MM:SS") from None
    price = fixed_amount(fields[2], "price", path, line)
    size = fixed_amount(fields[-1], "size", path, line)
    side = _side(fields[2], fields[3], fields[4]) if len(fields) == 6 else None
    return second_us, Trade(symbol, line, second_us, price, size, None, side)


def read_kibot(path: Path, symbol: str) -> Iterator[Record]:
    """The trades of a Kibot tick file as records (Kafka timestamp = event time)."""
    previous_second_us, offset_us = -1, 0
    with path.open(encoding="ascii", errors="replace") as lines:
        for line, text in enumerate(lines, 1):
            if not text.strip():
                continue
            second_us, trade = parse_kibot_line(text, symbol, path, line)
            offset_us = offset_us + 1 if second_us == previous_second_us else 0
            previous_second_us = second_us
            yield trade_record(trade._replace(ts_us=second_us + offset_us))
