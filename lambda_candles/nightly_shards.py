"""The sharded nightly: N pods batch one shard of the symbols each, one more reconciles
and loads once all N have finished (a Kubernetes Indexed Job, ``k8s/overlays/prod-sharded``).

    index 0 .. N-1   candles batch --shard I/N, then its marker (batch_layer.shard_runs)
    index N          wait for the N markers of this run, then reconcile -> load

Every pod of the Job gets the same ``--run`` (the Job's name), so markers left by an
earlier run of the same date are not mistaken for this run's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from batch_layer.exceptions import ShardsUnfinishedError
from batch_layer.job import run_batch
from batch_layer.shard_runs import finished, mark_finished
from batch_layer.shards import Shard
from batch_layer.summary import BatchSummary
from lambda_candles.settings import CandlesSettings
from storage.store import Store

Say = Callable[[str], None]


@dataclass(frozen=True)
class ShardWait:
    """How long the reconciling pod waits for the shards, and how it waits."""

    timeout_s: float = 3 * 3600.0
    poll_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def run_shard(store: Store, settings: CandlesSettings, date: str, shard: Shard, run: str,
              say: Say | None = None) -> BatchSummary:
    """Batch the shard's symbols of ``date``, then mark the shard finished for ``run``."""
    summary = run_batch(store, settings, date, shard=shard, progress=say)
    mark_finished(store, run, summary, shard)
    return summary


def wait_for_shards(store: Store, date: str, run: str, count: int, wait: ShardWait,
                    say: Say | None = None) -> BatchSummary:
    """The shards' summaries combined, once all ``count`` shards of ``run`` have finished
    (raises :class:`ShardsUnfinishedError` after ``wait.timeout_s``)."""
    began = wait.clock()
    while True:
        done = finished(store, date, run, count)
        if len(done) == count:
            return combined(date, count, list(done.values()))
        waited = wait.clock() - began
        if waited >= wait.timeout_s:
            missing = [index for index in range(count) if index not in done]
            raise ShardsUnfinishedError(run, date, missing, count, waited)
        if say is not None:
            say(f"{len(done)} of {count} shards of run {run} finished; waiting")
        wait.sleep(wait.poll_s)


def combined(date: str, count: int, shards: list[dict[str, Any]]) -> BatchSummary:
    """One summary for the whole date from the shards' (their time: the slowest's)."""
    total = BatchSummary(date, sorted(s for shard in shards for s in shard["symbols"]),
                         shard=f"{count} shards")
    for shard in shards:
        total.trades_used += shard["trades_used"]
        total.duplicates += shard["duplicates"]
        total.conflicts += shard["conflicts"]
        total.files += shard["files"]
        total.seconds = max(total.seconds, shard["seconds"])
        for label, candles in shard["candles"].items():
            total.candles[label] = total.candles.get(label, 0) + candles
        for stage, seconds in shard["stages"].items():
            total.stages[stage] = total.stages.get(stage, 0.0) + seconds
    return total
