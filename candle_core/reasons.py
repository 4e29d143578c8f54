"""Why a record was rejected: one code per failure, shared by every layer and the DLQ."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Reason codes written to ``trades.dlq`` and used as the ``reason`` metric label.

    The set is closed, so metric label cardinality stays bounded.
    """

    TOO_LARGE = "too_large"
    """The value is longer than ``MAX_RECORD_BYTES``: no trade is that big."""
    TOO_DEEP = "too_deep"
    """JSON nested deeper than ``MAX_JSON_DEPTH`` (refused before decoding: no recursion)."""
    MALFORMED_JSON = "malformed_json"
    """The bytes are not valid JSON (truncated, binary garbage, empty, not UTF-8)."""
    NOT_AN_OBJECT = "not_an_object"
    """Valid JSON, but not an object (an array, a number, ...)."""
    MISSING_FIELD = "missing_field"
    """A required field (symbol, trade_id, ts, price, size) is absent or null."""
    DUPLICATE_KEY = "duplicate_key"
    """A trade field (symbol, trade_id, ts, price, size, venue, side) appears twice in
    the object: which one was meant is ambiguous."""
    BAD_TYPE = "bad_type"
    """A field has the wrong JSON type, or a decimal string that is not a number."""
    BAD_SYMBOL = "bad_symbol"
    """The symbol does not match ``[A-Z0-9][A-Z0-9._-]{0,31}``."""
    BAD_TRADE_ID = "bad_trade_id"
    """The trade id is negative or does not fit a signed 64-bit integer."""
    BAD_TIMESTAMP = "bad_timestamp"
    """The event time is negative or past the year 2100 (not microseconds?)."""
    NON_POSITIVE_PRICE = "non_positive_price"
    """The price is zero or negative."""
    NON_POSITIVE_SIZE = "non_positive_size"
    """The size is zero or negative."""
    BAD_PRECISION = "bad_precision"
    """A price or size has more decimals than the fixed-point scale, or is not finite."""
    OUT_OF_RANGE = "out_of_range"
    """A price or size is above the contract's maximum (see ``fixed_point``)."""
    BAD_SIDE = "bad_side"
    """``side`` is present but not ``buy`` or ``sell``."""
    BAD_VENUE = "bad_venue"
    """``venue`` is longer than ``MAX_VENUE_LEN`` or holds a character that is not
    printable (control characters, lone surrogates)."""
    FUTURE_TIMESTAMP = "future_timestamp"
    """Event time is more than ``max_future_skew`` after the Kafka message timestamp."""
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    """Same (symbol, trade_id) as an earlier record, with different content."""
    INTERNAL_ERROR = "internal_error"
    """Handling this record raised an unexpected exception (a bug): the record is set
    aside with the exception in its detail, and the process goes on."""
