"""Pipelines for reconciliation tests: real commands on the real broker, one lake each."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline import Pipeline

DATE = "2026-01-01"  # the date of tests.speed_layer.trades.T0_US
Records = list[tuple[bytes, bytes, int]]


def make_pipeline(bootstrap: str, root: Path, warehouse: Path | None = None) -> Pipeline:
    """An isolated pipeline whose archive (and DuckDB warehouse) live under ``root``."""
    line = Pipeline(bootstrap, partitions=3)
    line.extra_env.update({
        "CANDLES_ARCHIVE_ROOT": str(root),
        "CANDLES_ARCHIVE_GROUP_ID": f"{line.prefix}-archive",
        "CANDLES_ARCHIVE_INSTANCE_ID": f"{line.prefix}-archive-0",
        "CANDLES_ARCHIVE_CHUNK_OFFSETS": "2000",
        "CANDLES_ARCHIVE_FLUSH_INTERVAL_MS": "1000",
        "CANDLES_WAREHOUSE": "duckdb",
        "CANDLES_WAREHOUSE_DUCKDB_PATH": str(warehouse or root.parent / "warehouse.duckdb"),
    })
    return line


def run_pipeline(pipeline: Pipeline, records: Records, batch: bool = True) -> None:
    """Topics, records in, then speed and archive until idle (and batch for ``DATE``)."""
    pipeline.create_topics()
    pipeline.produce(records)
    steps = [("speed", "--exit-when-idle", "3", "--idle-timeout-ms", "1000"),
             ("archive", "--until-idle", "3")]
    if batch:
        steps.append(("batch", "--date", DATE))
    for step in steps:
        done = pipeline.run(*step)
        assert done.returncode == 0, f"{step[0]} failed:\n{done.stdout}\n{done.stderr}"
