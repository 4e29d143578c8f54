"""Helpers every file format shares: exact amounts and symbols, with file:line errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from candle_core.fixed_point import (
    MAX_PRICE,
    MAX_SIZE,
    PRICE_DECIMALS,
    SIZE_DECIMALS,
    FixedPointError,
    decimal_to_fixed,
    parse_decimal,
)
from candle_core.parsing import SYMBOL_PATTERN
from sources.exceptions import SourceFormatError, SourceOptionError


def fixed_amount(text: str, name: str, path: Path, line: int) -> int:
    """A price or size from its exact decimal text, as a fixed-point integer."""
    decimals, maximum = (PRICE_DECIMALS, MAX_PRICE) if name == "price" else (
        SIZE_DECIMALS, MAX_SIZE)
    try:
        return decimal_to_fixed(parse_decimal(text.strip()), decimals, maximum)
    except FixedPointError as exc:
        raise SourceFormatError(path, line, f"{name} {text.strip()!r}: {exc}") from None


def exact_decimal_text(value: object) -> str:
    """Decimal text of a typed column value: str and Decimal as they are, int exactly,
    float by its shortest round-trip repr (``0.1`` -> ``"0.1"``)."""
    if isinstance(value, Decimal | int | float | str) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{value!r} is not a number or decimal string")


def checked_symbol(symbol: str, origin: str) -> str:
    """``symbol`` if well-formed per the contract, else a clear error naming its origin."""
    if SYMBOL_PATTERN.fullmatch(symbol) is None:
        raise SourceOptionError(
            origin, f"symbol {symbol!r} is not well-formed ([A-Z0-9][A-Z0-9._-]{{0,31}})"
        )
    return symbol


def symbol_from_filename(path: Path) -> str:
    """``WDC_tickbidask.txt`` -> ``WDC``: the file name up to the first ``_``, uppercased."""
    return checked_symbol(path.name.split("_", 1)[0].split(".", 1)[0].upper(), "--symbol")
