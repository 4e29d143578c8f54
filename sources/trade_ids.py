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
from pathlib import Path

import msgspec

from candle_core.parsing import MAX_TS_US
from sources.exceptions import SourceFormatError

LINE_SPAN = 10**10
US_PER_DAY = 86_400_000_000
EPOCH_DATE = dt.date(1970, 1, 1)
_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ENCODER = msgspec.json.Encoder()


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

    Every other field keeps its exact bytes (prices are never re-encoded); an absent id
    is added last, so a leading ``"type"`` stays first, and a ``null`` one is replaced
    in place. A value that is not a JSON object is returned as it is (it is rejected
    downstream for what it is).
    """
    try:
        fields = _FIELDS.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return value
    if fields.get("trade_id", msgspec.Raw(b"null")) != msgspec.Raw(b"null"):
        raise SourceFormatError(path, line, "this record has a trade_id already; "
                                "--assign-ids is for tapes without ids: drop the flag")
    fields["trade_id"] = msgspec.Raw(str(assigned_id(_ts_us(fields.get("ts")), line,
                                                     path)).encode())
    return _ENCODER.encode(fields)
