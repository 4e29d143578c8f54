"""``candles batch --shard I/N``: a fixed hash of the symbol, disjoint files, and N shards
that write, between them, exactly the bytes of one unsharded run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batch_layer.exceptions import BadShardError
from batch_layer.shards import Shard, parse_shard, shard_of
from storage.local import LocalStore
from tests.storage.archive_helpers import chaos_stream, snapshot
from tests.storage.offline import archive_offline

DATE = "2025-12-31"
OUTPUTS = ("candles/", "duplicates/")


def test_the_hash_is_pinned() -> None:
    """The documented rule (docs/master-dataset.md), so other tools can compute it: the
    first 8 bytes of sha256(UTF-8 symbol), big-endian, modulo N. sha256(b"AAPL") starts
    1eb44d625271a4eb, which is 3 modulo 4."""
    assert int("1eb44d625271a4eb", 16) % 4 == 3
    assert {s: shard_of(s, 4) for s in ("AAPL", "MSFT", "BTCUSDT", "EURUSD", "BRK.A",
                                        "ETHUSDT", "SOLUSDT", "SHIBUSDT")} == {
        "AAPL": 3, "MSFT": 1, "BTCUSDT": 1, "EURUSD": 0, "BRK.A": 2, "ETHUSDT": 2,
        "SOLUSDT": 1, "SHIBUSDT": 3}
    assert shard_of("AAPL", 1) == 0


@pytest.mark.parametrize(("value", "expected"), [
    ("0/4", Shard(0, 4)), ("3/4", Shard(3, 4)), (" 0/1 ", Shard(0, 1)),
])
def test_parse_shard(value: str, expected: Shard) -> None:
    assert parse_shard(value) == expected


@pytest.mark.parametrize("value", [
    "4/4",   # index counts from 0
    "1/0",   # no shards
    "-1/4",  # not a number
    "2",     # no count
    "a/b",
])
def test_bad_shard_says_what_is_expected(value: str) -> None:
    with pytest.raises(BadShardError, match="expected I/N with 0 <= I < N"):
        parse_shard(value)


def candles(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "lambda_candles", "batch", "--date", DATE,
                           *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def outputs(root: Path) -> dict[str, str]:
    return {path: digest for path, digest in snapshot(root).items()
            if path.startswith(OUTPUTS)}


def test_four_shards_write_the_bytes_of_one_run(tmp_path: Path) -> None:
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    stream = chaos_stream(8_000, seed=9)
    records = [(offset, ts_ms, key, value)
               for offset, (key, value, ts_ms) in enumerate(stream.records)]
    archive_offline(LocalStore(whole), records, chunk_offsets=1_000)
    shutil.copytree(whole, sharded)
    candles("--root", str(whole))
    expected = outputs(whole)
    by_shard: list[set[str]] = []
    for index in range(4):
        before = set(outputs(sharded))
        candles("--root", str(sharded), "--shard", f"{index}/4")
        by_shard.append(set(outputs(sharded)) - before)
    assert outputs(sharded) == expected  # same files, same bytes
    assert sum(len(files) for files in by_shard) == len(expected)  # each written once
    assert all(files for files in by_shard), "every shard holds some symbol here"
