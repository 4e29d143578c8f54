"""The speed layer's allocator settings (speed_layer/native/module.c, arena_cache.c): freed
memory is kept and reused, so a batch allocated again costs no fresh pages.

These run in the test process itself: the arena cache stays installed after them, bounded
by the last call (CPython's own allocator does the rest, as before).
"""

from __future__ import annotations

import resource

import pytest

from speed_layer._hotpath import arenas_held, tune_allocator

ARENA_BYTES = 1 << 20  # CPython 3.10+ on 64 bits (obmalloc's ARENA_BITS 20)
BOUND = 16 * ARENA_BYTES
BATCH_OBJECTS = 120_000  # ~200 bytes each: about 28 MiB of small objects, like a batch's


def a_batch(tag: int) -> list[bytes]:
    """Small objects, each its own pymalloc block (bytes of 180 fit the 192-byte class)."""
    return [tag.to_bytes(4, "little") * 45 for _ in range(BATCH_OBJECTS)]


def page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_emptied_arenas_are_kept_up_to_the_bound_and_reused() -> None:
    assert tune_allocator(BOUND) is True  # glibc here: it took every setting
    batch = a_batch(1)
    del batch
    assert arenas_held() == BOUND // ARENA_BYTES, "the emptied arenas beyond the bound are " \
        "given back, the rest held"
    batch = a_batch(2)
    assert arenas_held() == 0, "a new batch takes the held arenas before mapping any"
    del batch


def test_a_batch_allocated_again_touches_no_fresh_pages() -> None:
    tune_allocator(64 * ARENA_BYTES)
    del_first = a_batch(3)
    del del_first  # the arenas it emptied are held
    before = page_faults()
    again = a_batch(4)
    faults = page_faults() - before
    del again
    # Without the cache each of the ~28 arenas is mapped afresh: 256 faults apiece.
    assert faults < 1_000, f"{faults} page faults allocating a batch the size of the last"


def test_keeping_nothing_leaves_the_arenas_to_cpython() -> None:
    tune_allocator(BOUND)
    batch = a_batch(5)
    del batch
    assert arenas_held() == BOUND // ARENA_BYTES
    assert tune_allocator(0) is True
    batch = a_batch(6)  # takes every held arena
    del batch  # and now none is kept
    assert arenas_held() == 0, "with nothing to keep, an emptied arena goes back to CPython"


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_bytes must be >= 0"):
        tune_allocator(-1)
