"""One chunk of simulated records (base trades, their faults and re-sends), unsorted.

The simulator calls :func:`build_chunk` for each run of base trades and merges the result
into arrival order; see ``chaos`` for the timing rules and ``malformed`` for the faults.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import numpy as np
import polars as pl

from candle_core.fixed_point import format_fixed
from sources import chaos
from sources.arrivals import ArrivalState, event_times
from sources.batch import SCHEMA
from sources.labels import LABEL_REASONS, Label
from sources.malformed import MALFORMED_KINDS, corrupt
from sources.market import Market
from sources.records import probe
from sources.wire import trade_json

SEQ_STRIDE = 3  # seq = base index * 3 (+1 duplicate, +2 conflict): a total arrival tie-break
MAX_CONFLICT_TICKS = 5


@dataclass(frozen=True)
class ChunkContext:
    """What every chunk needs: the market, chaos rates and the contract's time bounds."""

    market: Market
    rates: chaos.ChaosRates
    rate_per_s: float
    lateness_us: int
    skew_us: int


def build_chunk(ctx: ChunkContext, first_seq: int, count: int, arrivals: ArrivalState,
                rng: np.random.Generator) -> pl.DataFrame:
    """``count`` base trades and their extra records: columns of ``batch.SCHEMA`` + seq."""
    base = _base_trades(ctx, first_seq, count, arrivals, rng)
    clean = base.filter(pl.col("label") == Label.CLEAN)
    duplicates = _resent(clean, ctx.rates.duplicate, Label.DUPLICATE, ctx, rng, keep_recv=True)
    conflicts = _resent(clean, ctx.rates.conflict, Label.CONFLICT, ctx, rng, keep_recv=False)
    if len(conflicts):
        bump = rng.integers(1, MAX_CONFLICT_TICKS + 1, len(conflicts)) * conflicts["tick"]
        conflicts = conflicts.with_columns(pl.col("price") + pl.Series(bump))
    rows = pl.concat([base, duplicates, conflicts])
    return pl.concat([_encode_valid(rows), _encode_malformed(rows, rng)])


def _base_trades(ctx: ChunkContext, first_seq: int, count: int, arrivals: ArrivalState,
                 rng: np.random.Generator) -> pl.DataFrame:
    ts_us = event_times(count, ctx.rate_per_s, arrivals, rng)
    trades = ctx.market.trades(count, rng)
    labels = chaos.assign_labels(count, ctx.rates, rng)
    arrival_us = chaos.arrivals(ts_us, labels, ctx.lateness_us, rng)
    future = labels == Label.FUTURE
    ts_us[future] = chaos.future_ts(arrival_us[future], ctx.skew_us, rng)
    universe = ctx.market.universe
    idx = pl.Series(trades.symbol_idx)
    return pl.DataFrame({
        "symbol": idx.replace_strict(range(len(universe)), [s.symbol for s in universe]),
        "venue": idx.replace_strict(range(len(universe)), [s.venue for s in universe]),
        "numeric": idx.replace_strict(range(len(universe)), [s.numeric_wire for s in universe]),
        "tick": idx.replace_strict(range(len(universe)), [s.tick for s in universe]),
        "trade_id": trades.trade_id, "ts": ts_us, "price": trades.price, "size": trades.size,
        "side": pl.Series(trades.sell).replace_strict([False, True], ["buy", "sell"]),
        "recv_ts": arrival_us,
        "timestamp_us": arrival_us, "label": labels,
        "seq": first_seq + np.arange(count, dtype=np.int64) * SEQ_STRIDE,
    })


def _resent(clean: pl.DataFrame, rate: float, label: Label, ctx: ChunkContext,
            rng: np.random.Generator, keep_recv: bool) -> pl.DataFrame:
    """Re-sends of a ``rate`` share of clean trades, a little after their original."""
    chosen = clean.filter(pl.Series(rng.random(len(clean)) < rate))
    later = chaos.resend_arrivals(chosen["timestamp_us"].to_numpy(), ctx.lateness_us, rng)
    offset = 1 if label is Label.DUPLICATE else 2
    return chosen.with_columns(
        timestamp_us=pl.Series(later, dtype=pl.Int64),
        recv_ts=pl.col("recv_ts") if keep_recv else pl.Series(later, dtype=pl.Int64),
        label=pl.lit(label, dtype=pl.UInt8),
        seq=pl.col("seq") + offset,
    )


def _encode_valid(rows: pl.DataFrame) -> pl.DataFrame:
    valid = rows.filter(pl.col("label") != Label.MALFORMED)
    reasons = {int(label): (None if r is None else str(r)) for label, r in LABEL_REASONS.items()}
    return valid.select(
        pl.col("symbol").alias("key"), trade_json(), "timestamp_us", "label",
        pl.col("label").replace_strict(reasons, return_dtype=pl.Utf8).alias("reason"), "seq",
    ).cast(SCHEMA)  # type: ignore[arg-type]


def _encode_malformed(rows: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    bad = rows.filter(pl.col("label") == Label.MALFORMED)
    kinds = [MALFORMED_KINDS[i] for i in rng.integers(len(MALFORMED_KINDS), size=len(bad))]
    values = [corrupt(_wire(row), kind, rng) for row, kind in zip(bad.iter_rows(named=True),
                                                                    kinds, strict=True)]
    return pl.DataFrame({
        "key": [probe(value)[0].decode() for value in values],
        "value": [value.decode() for value in values],
        "timestamp_us": bad["timestamp_us"], "label": bad["label"],
        "reason": [str(kind) for kind in kinds], "seq": bad["seq"],
    }, schema={**SCHEMA, "seq": pl.Int64})


def _wire(row: dict[str, object]) -> dict[str, object]:
    """The wire object of one row, price/size as JSON numbers or strings like ``wire``."""
    def amount(value: object) -> object:
        text = format_fixed(int(str(value)), 8)
        return msgspec.Raw(text.encode()) if row["numeric"] else text

    return {"symbol": row["symbol"], "trade_id": row["trade_id"], "ts": row["ts"],
            "price": amount(row["price"]), "size": amount(row["size"]),
            "venue": row["venue"], "side": row["side"], "recv_ts": row["recv_ts"]}
