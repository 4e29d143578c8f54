"""Which shards of a sharded batch run have finished: one marker file per shard.

A sharded nightly runs ``N`` batch shards in parallel pods and reconciles once all of
them are done. Each shard, after writing all its files, writes

    _batch/shards/date=YYYY-MM-DD/run=<run>/<I>-of-<N>.json   its BatchSummary as JSON

(``run`` names one attempt at the date, e.g. the Kubernetes Job's name, so markers of an
earlier run of the same date never count for this one). A marker is written atomically
and only after the shard's last output file, so its presence means the shard's files
are complete.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from batch_layer.exceptions import BadRunError
from batch_layer.shards import Shard
from batch_layer.summary import BatchSummary
from storage.store import Store

_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


def runs_dir(date: str, run: str) -> str:
    if _RUN.fullmatch(run) is None:
        raise BadRunError(run)
    return f"_batch/shards/date={date}/run={run}"


def marker_path(date: str, run: str, shard: Shard) -> str:
    return f"{runs_dir(date, run)}/{shard.index}-of-{shard.count}.json"


def mark_finished(store: Store, run: str, summary: BatchSummary, shard: Shard) -> None:
    """Record that ``shard`` of ``run`` wrote all its files for ``summary.date``."""
    store.write_bytes(marker_path(summary.date, run, shard),
                      json.dumps(asdict(summary), sort_keys=True).encode() + b"\n")


def finished(store: Store, date: str, run: str, count: int) -> dict[int, dict[str, Any]]:
    """The summaries of the shards (of ``count``) of ``run`` that have finished, by index."""
    done: dict[int, dict[str, Any]] = {}
    for index in range(count):
        data = store.read_bytes(marker_path(date, run, Shard(index, count)))
        if data is not None:
            done[index] = json.loads(data)
    return done
