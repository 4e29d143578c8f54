"""Vectorised trade JSON: millions of message values built as Polars string columns.

The bytes equal, field for field, ``Trade.to_wire()`` plus ``"recv_ts"`` encoded as
compact JSON (``records.encode_wire``), except that symbols with ``numeric_wire`` send
price and size as JSON numbers instead of decimal strings. Decimals are the shortest
exact form (``fixed_point.format_fixed``): ``97000.01``, ``3``, ``0.00001234``.
Symbols, venues and sides need no JSON escaping (``[A-Z0-9._-]`` and lowercase words).
"""

from __future__ import annotations

import polars as pl

from candle_core.fixed_point import PRICE_DECIMALS

SCALE = 10**PRICE_DECIMALS  # price and size share the 8-decimal scale


def decimal_text(column: str) -> pl.Expr:
    """A fixed-point int64 column as its shortest exact decimal string (no trailing zeros,
    no trailing point): the whole part, then the 8-digit fraction with zeros stripped."""
    whole = (pl.col(column) // SCALE).cast(pl.Utf8)
    padded = (pl.col(column) % SCALE + SCALE).cast(pl.Utf8).str.slice(1)  # "1" + 8 digits
    frac = padded.str.strip_chars_end("0")
    return pl.concat_str(whole, pl.lit("."), frac).str.strip_chars_end(".")


def _number_or_string(column: str) -> pl.Expr:
    quote = pl.when(pl.col("numeric")).then(pl.lit("")).otherwise(pl.lit('"'))
    return pl.concat_str(quote, decimal_text(column), quote)


def trade_json() -> pl.Expr:
    """The JSON value of each row of a frame with columns symbol, trade_id, ts, price,
    size (fixed point), venue, side (strings), recv_ts (µs) and numeric (bool)."""
    return pl.concat_str(
        pl.lit('{"symbol":"'), pl.col("symbol"),
        pl.lit('","trade_id":'), pl.col("trade_id").cast(pl.Utf8),
        pl.lit(',"ts":'), pl.col("ts").cast(pl.Utf8),
        pl.lit(',"price":'), _number_or_string("price"),
        pl.lit(',"size":'), _number_or_string("size"),
        pl.lit(',"venue":"'), pl.col("venue"),
        pl.lit('","side":"'), pl.col("side"),
        pl.lit('","recv_ts":'), pl.col("recv_ts").cast(pl.Utf8),
        pl.lit("}"),
    ).alias("value")
