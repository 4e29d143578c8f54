"""Endless replay without repeats: pass *k* of a file is shifted in time, ids and price.

Rules for pass k (pass 0 is the file as it is):

* time: ``ts``, ``recv_ts`` and the Kafka timestamp move forward by ``k * shift_us``,
  ``shift_us`` = the file's span (earliest to latest of all timestamps and event times,
  plus 1 µs) rounded up to a whole minute, so passes never overlap and keep their
  alignment to 1 s .. 1 m windows;
* ids: ``trade_id += k * id_span`` (``id_span`` = max - min + 1 over the file's valid
  trades): id ranges of different passes are disjoint, so ids stay unique per symbol and
  increasing;
* price: ``price * (10000 + d_k) / 10000``, rounded half up (``fixed_point``) at the
  8-decimal scale (not re-rounded to a tick: the file does not say what the tick is).
  ``d_k`` is a triangle wave in basis points, 0 at k=0 up to ``DRIFT_MAX_BP`` and back, so
  prices stay bounded however long the loop runs; as ``d_k >= 0`` the map is one-to-one,
  so a conflicting duplicate stays a conflict. A price that would pass the contract's
  maximum keeps its value;
* records that are not valid trades (malformed) pass through unchanged, only their Kafka
  timestamp moves. Wire forms are kept: a price sent as a JSON number stays a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from candle_core.fixed_point import MAX_PRICE_INT, format_fixed, round_half_up_div
from candle_core.parsing import MAX_TRADE_ID, TradeParser
from candle_core.trade import Trade
from sources.exceptions import SourceOptionError
from sources.records import Record, encode_wire

US_PER_MINUTE = 60_000_000
DRIFT_MAX_BP = 100
BP = 10_000
_PARSER = TradeParser(max_future_skew_us=0)  # never given a Kafka timestamp here


@dataclass(frozen=True)
class LoopPlan:
    """How far each pass moves: time (µs) and trade ids."""

    shift_us: int
    id_span: int


def plan_loop(records: Iterable[Record]) -> LoopPlan:
    """Scan a file once for its time span and id range."""
    low_us = high_us = None
    low_id = high_id = None
    for record in records:
        times = [record.timestamp_us]
        trade = _PARSER.parse(record.value)
        if isinstance(trade, Trade):
            times.append(trade.ts_us)
            low_id = trade.trade_id if low_id is None else min(low_id, trade.trade_id)
            high_id = trade.trade_id if high_id is None else max(high_id, trade.trade_id)
        low_us = min(times) if low_us is None else min(low_us, *times)
        high_us = max(times) if high_us is None else max(high_us, *times)
    span_us = 0 if low_us is None or high_us is None else high_us - low_us
    shift_us = -(-(span_us + 1) // US_PER_MINUTE) * US_PER_MINUTE
    id_span = 0 if low_id is None or high_id is None else high_id - low_id + 1
    return LoopPlan(shift_us, id_span)


def drift_bp(pass_no: int) -> int:
    """The price drift of pass ``pass_no`` in basis points: 0, 1, .., 100, 99, .., 0, 1.."""
    phase = pass_no % (2 * DRIFT_MAX_BP)
    return phase if phase <= DRIFT_MAX_BP else 2 * DRIFT_MAX_BP - phase


def drifted_price(price: int, pass_no: int) -> int:
    """The price of pass ``pass_no``, exact: rounded half up at the 8-decimal scale."""
    moved = round_half_up_div(price * (BP + drift_bp(pass_no)), BP)
    return price if moved > MAX_PRICE_INT else moved


def shift_record(record: Record, pass_no: int, plan: LoopPlan) -> Record:
    """``record`` as it is sent in pass ``pass_no`` (see the module rules)."""
    if pass_no == 0:
        return record
    shift_us = pass_no * plan.shift_us
    trade = _PARSER.parse(record.value)
    if not isinstance(trade, Trade):
        return record._replace(timestamp_us=record.timestamp_us + shift_us)
    trade_id = trade.trade_id + pass_no * plan.id_span
    if trade_id > MAX_TRADE_ID:
        raise SourceOptionError("--loop", f"pass {pass_no}: trade ids pass 2^63 - 1; "
                                "use --passes to stop earlier")
    wire = msgspec.json.decode(record.value)
    wire.update(trade_id=trade_id, ts=trade.ts_us + shift_us)
    wire["price"] = _amount(drifted_price(trade.price, pass_no), wire["price"])
    wire["size"] = _amount(trade.size, wire["size"])
    if isinstance(wire.get("recv_ts"), int):
        wire["recv_ts"] += shift_us
    return Record(record.key, encode_wire(wire), record.timestamp_us + shift_us)


def _amount(value: int, original: object) -> object:
    """Exact decimal text, as a JSON string or number like the original field."""
    text = format_fixed(value, 8)
    return text if isinstance(original, str) else msgspec.Raw(text.encode())
