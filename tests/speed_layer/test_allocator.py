"""The speed layer's allocator settings (speed_layer/native/module.c, arena_cache.c): freed
memory is kept and reused, so a batch allocated again costs no fresh pages.

Each test runs in a fresh interpreter: which arenas a batch empties depends on what the
process already holds (in a long test session, earlier tests' objects share the arenas),
and the arena cache, once installed, stays for the life of the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

ARENA_BYTES = 1 << 20  # CPython 3.10+ on 64 bits (obmalloc's ARENA_BITS 20)
BOUND = 16 * ARENA_BYTES

PRELUDE = """
import json, resource
from speed_layer._hotpath import arenas_held, tune_allocator

def a_batch(tag):
    # ~120,000 small objects of 180 bytes (the 192-byte class): about 28 MiB, like a batch's
    return [tag.to_bytes(4, "little") * 45 for _ in range(120_000)]

def page_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
"""


def in_fresh_interpreter(body: str) -> dict[str, Any]:
    """Run PRELUDE + body in a new Python; body prints one JSON object, returned here."""
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_emptied_arenas_are_kept_up_to_the_bound_and_reused() -> None:
    seen = in_fresh_interpreter(f"""
        took = tune_allocator({BOUND})
        batch = a_batch(1)
        del batch
        held_after_drop = arenas_held()
        batch = a_batch(2)
        print(json.dumps({{"took": took, "held_after_drop": held_after_drop,
                           "held_after_new_batch": arenas_held()}}))
    """)
    assert seen["took"] is True  # glibc here: it took every setting
    assert seen["held_after_drop"] == BOUND // ARENA_BYTES, \
        "the emptied arenas beyond the bound are given back, the rest held"
    assert seen["held_after_new_batch"] == 0, "a new batch takes the held arenas first"


def test_a_batch_allocated_again_touches_no_fresh_pages() -> None:
    body = """
        {install}
        first = a_batch(3)
        del first
        before = page_faults()
        again = a_batch(4)
        print(json.dumps({{"faults": page_faults() - before}}))
    """
    kept = in_fresh_interpreter(body.format(install=f"tune_allocator({64 * ARENA_BYTES})"))
    plain = in_fresh_interpreter(body.format(install="pass"))
    # Without the cache each of the ~28 arenas is mapped afresh: 256 faults apiece.
    assert kept["faults"] < 1_000, f"{kept['faults']} page faults for a batch the size of " \
        "the last, with the cache"
    assert plain["faults"] > 4 * kept["faults"], (plain, kept)


def test_keeping_nothing_leaves_the_arenas_to_cpython() -> None:
    seen = in_fresh_interpreter(f"""
        tune_allocator({BOUND})
        batch = a_batch(5)
        del batch
        held = arenas_held()
        took = tune_allocator(0)
        batch = a_batch(6)  # takes every held arena
        del batch  # and now none is kept
        print(json.dumps({{"held": held, "took": took, "held_after": arenas_held()}}))
    """)
    assert seen["held"] == BOUND // ARENA_BYTES
    assert seen["took"] is True
    assert seen["held_after"] == 0, "with nothing to keep, an emptied arena goes to CPython"


def test_a_negative_amount_is_refused() -> None:
    seen = in_fresh_interpreter("""
        try:
            tune_allocator(-1)
            outcome = "taken"
        except ValueError as error:
            outcome = str(error)
        print(json.dumps({"outcome": outcome}))
    """)
    assert seen["outcome"] == "keep_bytes must be >= 0"
