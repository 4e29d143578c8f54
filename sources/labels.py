"""Ground truth: what the simulator meant each record to be, and what the pipeline must say.

Every simulated record carries a :class:`Label` and, for records the pipeline must reject,
the :class:`~candle_core.reasons.Reason` it must give. ``late`` records are valid trades
(they go to ``trades.late`` for 1 s windows, not to the DLQ), so they have no reason;
exact ``duplicate`` records are dropped by dedup, so they have none either.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from candle_core.reasons import Reason


class Label(IntEnum):
    """Why a record exists. Integer values: stored compactly in columnar batches."""

    CLEAN = 0
    MALFORMED = 1
    DUPLICATE = 2
    CONFLICT = 3
    OUT_OF_ORDER = 4
    LATE = 5
    FUTURE = 6
    NOISE = 7  # an order or quote message (``--noise-ratio``): skipped, not a trade

    @property
    def slug(self) -> str:
        """The label as written in the sidecar and summaries (``out_of_order``)."""
        return self.name.lower()


class Truth(NamedTuple):
    """The label of one record and the reason a validator must give (``None``: valid)."""

    label: Label
    reason: Reason | None


# Reason the pipeline must give for each non-malformed label (malformed: its own kind).
LABEL_REASONS: dict[Label, Reason | None] = {
    Label.CLEAN: None,
    Label.DUPLICATE: None,
    Label.CONFLICT: Reason.CONFLICTING_DUPLICATE,
    Label.OUT_OF_ORDER: None,
    Label.LATE: None,
    Label.FUTURE: Reason.FUTURE_TIMESTAMP,
    Label.NOISE: None,
}

# Labels whose records TradeParser accepts as valid trades (dedup/lateness judge them later).
PARSER_VALID = frozenset(
    {Label.CLEAN, Label.DUPLICATE, Label.CONFLICT, Label.OUT_OF_ORDER, Label.LATE}
)
