"""The sharded nightly (k8s/overlays/prod-sharded): an Indexed Job whose pods 0..N-1 batch
a shard each and whose pod N reconciles and loads, wired to what ``candles nightly`` reads."""

from __future__ import annotations

from typing import Any

import pytest

from k8s.tools.render import Manifest
from lambda_candles.commands.nightly import nightly
from tests.k8s.manifests import containers, named, pod_template

OVERLAY = "prod-sharded"


def job_spec(rendered: dict[str, list[Manifest]]) -> dict[str, Any]:
    spec: dict[str, Any] = named(rendered[OVERLAY], "CronJob", "candles-nightly")[
        "spec"]["jobTemplate"]["spec"]
    return spec


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_one_pod_per_shard_and_one_that_reconciles(rendered: dict[str, list[Manifest]]
                                                   ) -> None:
    spec = job_spec(rendered)
    (container,) = containers(named(rendered[OVERLAY], "CronJob", "candles-nightly"))
    shards = int(flag(container["args"], "--shards"))
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == shards + 1, (
        "every pod at once: the reconciling pod must not queue behind the shards")
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_index_and_run_come_from_the_job(rendered: dict[str, list[Manifest]]) -> None:
    (container,) = containers(named(rendered[OVERLAY], "CronJob", "candles-nightly"))
    env = {item["name"]: item for item in container["env"]}
    index, run = flag(container["args"], "--index"), flag(container["args"], "--run")
    assert index == "$(NIGHTLY_INDEX)" and run == "$(NIGHTLY_RUN)"
    assert env["NIGHTLY_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.annotations['batch.kubernetes.io/job-completion-index']")
    assert env["NIGHTLY_RUN"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['batch.kubernetes.io/job-name']")
    assert not any(name.startswith("CANDLES_") for name in env), "not settings"


def test_the_wait_ends_before_the_job_deadline(rendered: dict[str, list[Manifest]]) -> None:
    """The reconciling pod gives up (exit 3) before Kubernetes kills the Job."""
    default_wait = next(p.default for p in nightly.params if p.name == "wait_timeout")
    assert isinstance(default_wait, float)
    assert default_wait < job_spec(rendered)["activeDeadlineSeconds"]


def test_only_the_nightly_differs_from_prod(rendered: dict[str, list[Manifest]]) -> None:
    def without_nightly(overlay: str) -> list[Manifest]:
        return [obj for obj in rendered[overlay] if obj["kind"] != "CronJob"]
    assert without_nightly(OVERLAY) == without_nightly("prod")
    prod = pod_template(named(rendered["prod"], "CronJob", "candles-nightly"))
    sharded = pod_template(named(rendered[OVERLAY], "CronJob", "candles-nightly"))
    assert sharded["metadata"] == prod["metadata"]


@pytest.mark.parametrize("index", [0, 4])
def test_candles_nightly_parses_the_args(rendered: dict[str, list[Manifest]],
                                         index: int) -> None:
    """The pod's args, once Kubernetes has substituted the variables, are what the
    command expects (parsed and converted, not run)."""
    (container,) = containers(named(rendered[OVERLAY], "CronJob", "candles-nightly"))
    args = [arg.replace("$(NIGHTLY_INDEX)", str(index)).replace("$(NIGHTLY_RUN)", "nightly-1")
            for arg in container["args"][1:]]
    params = nightly.make_context("nightly", args).params
    assert (params["shards"], params["index"], params["run_name"]) == (4, index, "nightly-1")
