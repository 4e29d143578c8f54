"""The merge rule, pure: batch for reconciled days, speed elsewhere, one bar per window."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from candle_core.candle import Candle, rollup
from candle_core.reference import candles_from_trades
from serving.merge import BATCH, SPEED, in_progress, merge_series, page, supersedes
from tests.serving.archive import DAY1, DAY1_US, DAY2_US, trades

ONE_S = 1_000_000


def one_second(start_us: int, seconds: int) -> list[Candle]:
    return candles_from_trades(trades(start_us, seconds), ["1s"])


def shifted(candle: Candle, by: int) -> Candle:
    """A speed candle that differs from its batch twin (close moved)."""
    return dataclasses.replace(candle, close=candle.close + by)


def revised(candle: Candle, revision: int) -> Candle:
    """The speed layer's re-emission of ``candle`` after a late trade (high moved)."""
    return dataclasses.replace(candle, high=candle.high + revision, revision=revision)


@pytest.mark.parametrize(("verdict", "verified"), [
    ("ok", True),         # a clean day: batch bars are verified
    ("breach", True),     # drift explained by late trades: batch is still the truth
    ("critical", False),  # unexplained difference: batch bars shown, not verified
])
def test_a_reconciled_day_is_served_from_batch_only(verdict: str, verified: bool) -> None:
    batch = one_second(DAY1_US, 5)
    speed = [shifted(c, 1) for c in batch]
    bars = merge_series(batch, speed, {DAY1: verdict})
    assert [b.candle for b in bars] == batch  # the speed bar never shows
    assert {(b.source, b.verified) for b in bars} == {(BATCH, verified)}


def test_a_range_spanning_both_gives_batch_then_speed_without_gap_or_overlap() -> None:
    batch = one_second(DAY1_US + 86_400_000_000 - 3 * ONE_S, 3)  # the last 3 s of day 1
    speed_day1 = [shifted(c, 5) for c in batch]
    speed_day2 = one_second(DAY2_US, 3)
    bars = merge_series(batch, [*speed_day1, *speed_day2, *speed_day2], {DAY1: "ok"})
    starts = [b.candle.window_start_us for b in bars]
    assert [b.source for b in bars] == [BATCH] * 3 + [SPEED] * 3
    assert starts == sorted(set(starts))  # no overlap, ascending
    assert all(b - a == ONE_S for a, b in itertools.pairwise(starts))  # no gap


def test_an_unreconciled_day_ignores_stray_batch_candles() -> None:
    speed = one_second(DAY2_US, 2)
    bars = merge_series([shifted(c, 1) for c in speed], speed, {})
    assert [b.candle for b in bars] == speed
    assert {b.source for b in bars} == {SPEED}


def test_paging_returns_a_cursor_to_the_next_bar() -> None:
    bars = merge_series([], one_second(DAY2_US, 5), {})
    first, cursor = page(bars, 2)
    assert [b.candle.window_start_us for b in first] == [DAY2_US, DAY2_US + ONE_S]
    assert cursor == DAY2_US + 2 * ONE_S
    assert page(bars, 5) == (bars, None)


def test_in_progress_rolls_up_finals_and_the_live_partial_exactly() -> None:
    seconds = one_second(DAY2_US, 4)  # the 4th second is "live"
    finals, live = seconds[:3], seconds[3]
    expected = rollup(seconds, 10 * ONE_S)[0]
    assert in_progress(finals, live, 10 * ONE_S) == expected
    assert in_progress(finals, live, ONE_S) == live
    # finals of an earlier window are not part of the in-progress candle
    assert in_progress(one_second(DAY2_US - 20 * ONE_S, 3), live, 10 * ONE_S) == \
        rollup([live], 10 * ONE_S)[0]


@pytest.mark.parametrize(("candidate", "held", "replaces"), [
    (0, None, True),   # the window's first copy is always held
    (1, 0, True),      # a revision replaces the first emission
    (3, 1, True),      # revisions may skip (the ones between were never seen)
    (0, 1, False),     # out of order: an older copy arriving late never goes back
    (1, 1, False),     # redelivery of the held revision: nothing new
    (0, 0, False),     # redelivery of a first emission (a consumer re-reading the tail)
])
def test_only_a_higher_revision_supersedes_the_held_candle(
        candidate: int, held: int | None, replaces: bool) -> None:
    candle = one_second(DAY2_US, 1)[0]
    held_candle = None if held is None else revised(candle, held)
    assert supersedes(revised(candle, candidate), held_candle) is replaces


@pytest.mark.parametrize("arrivals", [
    [0, 1, 2],     # in order
    [0, 2, 1],     # revision 1 delivered after 2
    [2, 0, 1, 2],  # the newest first (the tail), then the archive's older copies
])
def test_a_speed_window_is_served_as_its_highest_revision(arrivals: list[int]) -> None:
    first, neighbour = one_second(DAY2_US, 2)
    speed = [revised(first, revision) for revision in arrivals] + [neighbour]
    bars = merge_series([], speed, {})
    assert [b.candle for b in bars] == [revised(first, 2), neighbour]


def test_a_revised_speed_bar_never_shows_on_a_reconciled_day() -> None:
    batch = one_second(DAY1_US, 2)
    bars = merge_series(batch, [revised(c, 3) for c in batch], {DAY1: "ok"})
    assert [b.candle for b in bars] == batch and {b.candle.revision for b in bars} == {0}
