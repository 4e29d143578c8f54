"""``candles batch`` as a user runs it: pruning, and clear errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storage.local import LocalStore
from tests.storage.archive_helpers import chaos_stream
from tests.storage.offline import archive_offline


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archive")
    stream = chaos_stream(4_000, seed=3, rate_per_s=100.0)
    records = [(o, ts, k, v) for o, (k, v, ts) in enumerate(stream.records)]
    archive_offline(LocalStore(path), records, chunk_offsets=1_000)
    return path


def candles(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lambda_candles", *args],
                          capture_output=True, text=True, timeout=120)


def test_symbols_prune_what_is_read_and_written(root: Path) -> None:
    result = candles("batch", "--date", "2025-12-31", "--root", str(root),
                     "--symbols", "AAPL, MSFT", "--json")
    assert result.returncode == 0, result.stderr
    written = {p.name for p in (root / "candles").rglob("*.parquet")}
    assert written == {"AAPL.parquet", "MSFT.parquet"}


@pytest.mark.parametrize(("args", "message"), [
    (("--date", "2025-13-01"), "expected a UTC date as YYYY-MM-DD"),   # not a date
    (("--date", "2024-01-01"), "no data at"),                          # nothing archived
    (("--date", "2025-12-31", "--intervals", "1s,7s"), "does not divide a day"),
    (("--date", "2025-12-31", "--intervals", "10s"), "CANDLES_INTERVALS"),  # no 1s base
])
def test_bad_input_stops_with_an_actionable_message(root: Path, args: tuple[str, ...],
                                                    message: str) -> None:
    result = candles("batch", "--root", str(root), *args)
    assert result.returncode == 2
    assert message in result.stderr
