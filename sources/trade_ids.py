"""Trade ids for tapes that have none (``candles replay --assign-ids``).

The contract needs a ``trade_id`` on every trade (dedup is by ``(symbol, trade_id)``, and
open/close ties in ``ts`` are broken by it). A tape without ids gets one per trade from
its position in the file::

    trade_id = YYYYMMDD * 10^10 + line        e.g. 2013-10-01, line 42 -> 201310010000000042

* ``YYYYMMDD``: the UTC date of the trade's own event time; ``line``: its 1-based line in
  the file (for Parquet, its 1-based row). A record whose time cannot be read gets date 0,
  so the validator reports what is really wrong with it instead of ``missing_field``.
* Stable: the same file gives the same ids on every run, so a replay of it again is a
  replay of exact duplicates, which both layers drop: the replay is idempotent.
* Ordered: within a date, ids grow with the line, so trades with equal ``ts`` keep the
  file's order as open/close tie-breaks.
* Unique: within a file (one line, one id), and across files of different dates (the
  date is part of the id); 10^10 lines per file, far above a month of the busiest
  Binance symbol. Two *different* files of the same symbol and date would collide: give
  such files their own ids instead.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec

from candle_core.parsing import MAX_TS_US
from sources.exceptions import SourceFormatError

LINE_SPAN = 10**10
US_PER_DAY = 86_400_000_000
EPOCH_DATE = dt.date(1970, 1, 1)
_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ENCODER = msgspec.json.Encoder()
NULL = msgspec.Raw(b"null")


def assigned_id(ts_us: int | None, line: int, path: Path) -> int:
    """The id of the trade at ``line`` with event time ``ts_us`` (``None``: unreadable)."""
    if not 0 < line < LINE_SPAN:
        raise SourceFormatError(path, line, f"--assign-ids numbers at most {LINE_SPAN - 1:,} "
                                "lines per file: split the file")
    if ts_us is None or not 0 <= ts_us < MAX_TS_US:
        return line
    day = EPOCH_DATE + dt.timedelta(days=ts_us // US_PER_DAY)
    return (day.year * 10_000 + day.month * 100 + day.day) * LINE_SPAN + line


def _ts_us(raw: msgspec.Raw | None) -> int | None:
    if raw is None:
        return None
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def with_assigned_id(value: bytes, line: int, path: Path) -> bytes:
    """A message value with its assigned ``trade_id`` (see the module rules).

    An absent id is written just before the object's closing brace, so every byte of the
    value is kept as it was (prices are never re-encoded, a leading ``"type"`` stays
    first, a repeated key stays repeated for the validator to refuse). A ``null`` id is
    replaced by re-encoding the object, unless a key repeats (then the value is left for
    the validator). A value that is not a JSON object is returned as it is (it is rejected
    downstream for what it is).
    """
    try:
        fields = _FIELDS.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return value
    if "trade_id" in fields and fields["trade_id"] != NULL:
        raise SourceFormatError(path, line, "this record has a trade_id already; "
                                "--assign-ids is for tapes without ids: drop the flag")
    trade_id = str(assigned_id(_ts_us(fields.get("ts")), line, path)).encode()
    if "trade_id" not in fields:
        end = value.rstrip().rfind(b"}")
        separator = b"," if fields else b""
        return value[:end] + separator + b'"trade_id":' + trade_id + value[end:]
    if _repeats_a_key(value):
        return value
    fields["trade_id"] = msgspec.Raw(trade_id)
    return _ENCODER.encode(fields)


def _repeats_a_key(value: bytes) -> bool:
    repeated = False

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        nonlocal repeated
        repeated = repeated or len({key for key, _ in items}) < len(items)
        return dict(items)

    json.loads(value, object_pairs_hook=pairs, parse_float=str, parse_int=str)
    return repeated
