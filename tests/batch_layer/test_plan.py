"""Batches of a symbol's files: no two batches share an id, and each holds at most
``bucket_rows`` rows unless one chain of overlapping files is bigger (oversized)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from batch_layer.plan import IdRange, components, pack

ranges = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50), st.integers(1, 40)),
                  max_size=25).map(lambda rows: [
                      IdRange(f"f{i}", rows=n, low=low, high=low + width)
                      for i, (low, width, n) in enumerate(rows)])


@given(ranges, st.integers(1, 120))
def test_batches_never_share_an_id_and_respect_the_size(files: list[IdRange],
                                                        bucket_rows: int) -> None:
    batches = pack(components(files), bucket_rows)
    by_uri = {f.uri: f for f in files}
    assert sorted(u for b in batches for u in b.uris) == sorted(by_uri)  # each file once
    spans = []
    for batch in batches:
        members = [by_uri[u] for u in batch.uris]
        assert batch.rows == sum(f.rows for f in members)
        assert batch.rows <= bucket_rows or batch.oversized
        spans.append((min(f.low for f in members), max(f.high for f in members)))
    for (_, high), (next_low, _) in itertools.pairwise(spans):
        assert high < next_low  # batches in id order, ranges disjoint


def test_one_chain_of_overlaps_is_one_component() -> None:
    """A late copy of an old id stretches its file's range over the files between."""
    files = [IdRange("a", 10, 0, 99), IdRange("b", 10, 100, 199), IdRange("c", 10, 200, 299),
             IdRange("late", 1, 50, 250), IdRange("d", 10, 300, 399)]
    assert [[f.uri for f in group] for group in components(files)] == [
        ["a", "late", "b", "c"], ["d"]]
    assert [(b.uris, b.oversized) for b in pack(components(files), 20)] == [
        (("a", "late", "b", "c"), True), (("d",), False)]
