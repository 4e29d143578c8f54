"""Exact fixed-point numbers: every price and size is an integer count of 10^-8 units.

Why integers: two layers (a hand-rolled Python speed layer and a Polars batch layer) must
produce bit-identical candles. Floats make the answer depend on summation order; integers
at a declared scale do not.

Bounds, and why overflow is impossible for realistic markets:

* a price is at most ``MAX_PRICE`` (10^7 currency units, ten times BRK.A's all-time high),
  so its integer is at most 10^15 < 2^63;
* a size is at most ``MAX_SIZE`` (10^10 units, e.g. ten billion meme-coin tokens), so its
  integer is at most 10^18 < 2^63;
* one trade's notional integer is therefore below 10^33; a candle's notional sum fits a
  signed 128-bit integer (< 1.7 * 10^38) for over 170,000 trades that are *each* at both
  bounds at once, and for 10^11 trades of 10^6 shares at 10^5 (the issue's extreme).
  Volume (sum of sizes) fits 128 bits for 10^20 trades.

Python ints never overflow; the bounds above are what the columnar layers (Arrow
decimal128, DuckDB HUGEINT) rely on, and ``tests/candle_core`` proves them on extremes.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

PRICE_DECIMALS = 8
SIZE_DECIMALS = 8
PRICE_SCALE = 10**PRICE_DECIMALS
SIZE_SCALE = 10**SIZE_DECIMALS
NOTIONAL_DECIMALS = PRICE_DECIMALS + SIZE_DECIMALS

MAX_PRICE = Decimal(10**7)
MAX_SIZE = Decimal(10**10)
MAX_PRICE_INT = int(MAX_PRICE) * PRICE_SCALE
MAX_SIZE_INT = int(MAX_SIZE) * SIZE_SCALE
INT128_MAX = 2**127 - 1
INT64_MAX = 2**63 - 1
# Enough digits for any 128-bit value at any scale: Decimal's default 28 would round.
EXACT = Context(prec=100)


def to_fixed(value: Decimal, decimals: int) -> int:
    """An exact decimal (already known to fit the scale) as a fixed-point integer."""
    return int(value.scaleb(decimals, context=EXACT))


def from_fixed(value: int, decimals: int) -> Decimal:
    """A fixed-point integer as an exact :class:`Decimal`."""
    return Decimal(value).scaleb(-decimals, context=EXACT)


class FixedPointError(ValueError):
    """A decimal that cannot become a fixed-point integer; ``reason`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


def decimal_to_fixed(value: Decimal, decimals: int, maximum: Decimal) -> int:
    """Convert a positive decimal to an integer count of ``10**-decimals`` units, exactly.

    Raises :class:`FixedPointError` with reason ``not_finite``, ``non_positive``,
    ``out_of_range`` or ``bad_precision`` (more significant decimals than the scale holds:
    rounding would silently lose a digit, so it is refused instead).
    """
    if not value.is_finite():
        raise FixedPointError("not_finite", f"{_short(value)} is not a finite number")
    if value <= 0:
        raise FixedPointError("non_positive", f"{_short(value)} is not > 0")
    if value > maximum:
        raise FixedPointError("out_of_range", f"{_short(value)} exceeds the maximum {maximum}")
    # Exact integer arithmetic on the digits: a Decimal context would round a value with
    # more digits than its precision, and flush one below its Emin to zero.
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite decimals have an int exponent
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
        exponent += 1
    if exponent < -decimals:
        raise FixedPointError(
            "bad_precision", f"{_short(value)} has more than {decimals} decimal places"
        )
    # value <= maximum, so these digits are few: int() never meets a huge literal
    whole = int("".join(map(str, digits[:significant])))
    return whole * 10 ** (exponent + decimals)


def _short(value: Decimal) -> str:
    """A decimal for an error message: at most 60 characters of it."""
    text = str(value)
    return text if len(text) <= 60 else f"{text[:28]}...{text[-28:]} ({len(text):,} chars)"


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal literal; raise :class:`FixedPointError` (``bad_number``) if it is not one."""
    try:
        return Decimal(text)
    except InvalidOperation:
        shown = text if len(text) <= 60 else f"{text[:57]}..."
        raise FixedPointError("bad_number", f"{shown!r} is not a decimal number") from None


def format_fixed(value: int, decimals: int) -> str:
    """Format a fixed-point integer as the shortest exact decimal string (``12.5``, ``3``)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    if frac == 0:
        return f"{sign}{whole}"
    digits = f"{frac:0{decimals}d}".rstrip("0")
    return f"{sign}{whole}.{digits}"


def format_price(value: int) -> str:
    """A fixed-point price as its exact decimal string."""
    return format_fixed(value, PRICE_DECIMALS)


def format_size(value: int) -> str:
    """A fixed-point size as its exact decimal string."""
    return format_fixed(value, SIZE_DECIMALS)


def round_half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, ties away from zero.

    The one rounding rule of the contract (used for VWAP). Both operands are positive in
    every use, so this is ``floor(n/d + 1/2)``, which any engine with 128-bit integer
    division can compute identically: ``q, r = divmod(n, d); q + (2*r >= d)``.
    """
    if denominator <= 0 or numerator < 0:
        raise ValueError("round_half_up_div needs numerator >= 0 and denominator > 0")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)
