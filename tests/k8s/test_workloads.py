"""What the pods must be, in every overlay: hardened, probed, sized, stoppable cleanly."""

from __future__ import annotations

import datetime as dt

import pytest

from k8s.tools import OVERLAYS, SECRET_TEMPLATE
from k8s.tools.render import Manifest, load_documents
from lambda_candles.options import resolve_date
from speed_layer.changelog import TRANSACTION_TIMEOUT_MS
from tests.k8s.manifests import (
    containers,
    matches,
    named,
    of_kind,
    pod_template,
    settings_env,
    workloads,
)

OVERLAY_NAMES = list(OVERLAYS)
COMMANDS = {"candles-speed": ["speed"], "candles-archive": ["archive"],
            "candles-nightly": ["nightly", "--date", "yesterday"]}
SHARDED_NIGHTLY = ["nightly", "--date", "yesterday", "--shards", "4",
                   "--index", "$(NIGHTLY_INDEX)", "--run", "$(NIGHTLY_RUN)"]


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_pods_are_hardened(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    """The restricted Pod Security Standard, a read-only root and no API token."""
    for obj in workloads(rendered[overlay]):
        spec = pod_template(obj)["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001  # the image's user
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not spec.get("hostNetwork") and not spec.get("hostPID")
        for container in containers(obj):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["runAsNonRoot"] is True
            assert context.get("privileged", False) is False
            assert context["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_writable_paths_are_volumes(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    """With a read-only root, /tmp ($HOME) and CANDLES_DATA_DIR must be mounted volumes."""
    data_dir = settings_env(rendered[overlay])["CANDLES_DATA_DIR"]
    for obj in workloads(rendered[overlay]):
        volumes = {volume["name"] for volume in pod_template(obj)["spec"]["volumes"]}
        for container in containers(obj):
            mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
            assert {"/tmp", data_dir} <= mounts.keys()
            assert all(mount["name"] in volumes and not mount.get("readOnly")
                       for mount in mounts.values())
            env = {item["name"]: item.get("value") for item in container["env"]}
            assert env["HOME"] == "/tmp"


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_resources_are_set(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    for obj in workloads(rendered[overlay]):
        for container in containers(obj):
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys()
            assert {"cpu", "memory"} <= resources["limits"].keys()


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_each_workload_runs_its_command(rendered: dict[str, list[Manifest]],
                                        overlay: str) -> None:
    """One image (ENTRYPOINT candles): the subcommand is in args, never in command."""
    found = {}
    for obj in workloads(rendered[overlay]):
        (container,) = containers(obj)
        assert "command" not in container
        found[obj["metadata"]["name"]] = container["args"]
    nightly = SHARDED_NIGHTLY if overlay == "prod-sharded" else COMMANDS["candles-nightly"]
    assert found == {**COMMANDS, "candles-nightly": nightly}


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_long_running_pods_are_probed_on_healthz(rendered: dict[str, list[Manifest]],
                                                 overlay: str) -> None:
    port = int(settings_env(rendered[overlay])["CANDLES_METRICS_PORT"])
    for obj in of_kind(rendered[overlay], "Deployment"):
        (container,) = containers(obj)
        ports = {item["name"]: item["containerPort"] for item in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] == "/healthz", (obj["metadata"]["name"], probe)
            assert ports[get["port"]] == port


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_speed_layer_outlives_its_transaction(rendered: dict[str, list[Manifest]],
                                             overlay: str) -> None:
    """SIGTERM finishes the open transaction; SIGKILL must not come before it can."""
    env = settings_env(rendered[overlay])
    spec = pod_template(named(rendered[overlay], "Deployment", "candles-speed"))["spec"]
    grace_s = spec["terminationGracePeriodSeconds"]
    assert grace_s > TRANSACTION_TIMEOUT_MS / 1000  # the producer's, clients.py
    assert grace_s > int(env.get("CANDLES_SPEED_COMMIT_INTERVAL_MS", "100")) / 1000
    assert "replicas" not in named(rendered[overlay], "Deployment", "candles-speed")["spec"], (
        "the autoscaler owns the speed layer's replicas")


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_instance_ids_are_the_pod_names(rendered: dict[str, list[Manifest]],
                                        overlay: str) -> None:
    for name, variable in (("candles-speed", "CANDLES_SPEED_INSTANCE_ID"),
                           ("candles-archive", "CANDLES_ARCHIVE_INSTANCE_ID")):
        (container,) = containers(named(rendered[overlay], "Deployment", name))
        env = {item["name"]: item for item in container["env"]}
        assert env[variable]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_nightly_cronjob_policy(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    cron = named(rendered[overlay], "CronJob", "candles-nightly")
    spec, job = cron["spec"], cron["spec"]["jobTemplate"]["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Etc/UTC"  # "yesterday" is the UTC day that just ended
    assert 0 < spec["startingDeadlineSeconds"] <= 6 * 3600
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    assert 0 < job["backoffLimit"] <= 5
    assert 0 < job["activeDeadlineSeconds"] <= 24 * 3600
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    # exit status 2 = bad config or input (lambda_candles/cli.py): no retry
    (fail_job,) = [rule for rule in job["podFailurePolicy"]["rules"]
                   if rule["action"] == "FailJob"]
    assert fail_job["onExitCodes"] == {"containerName": "nightly", "operator": "In",
                                       "values": [2]}


def test_nightly_command_accepts_yesterday() -> None:
    """The CronJob's --date value is one `candles nightly` understands."""
    assert resolve_date("yesterday", dt.date(2026, 3, 1)) == "2026-02-28"


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_disruption_budgets_cover_the_deployments(rendered: dict[str, list[Manifest]],
                                                  overlay: str) -> None:
    """One pod at a time. maxUnavailable, not minAvailable: a single archiver must not
    block a node drain, and a crash-looping pod may always be evicted."""
    budgets = of_kind(rendered[overlay], "PodDisruptionBudget")
    for deployment in of_kind(rendered[overlay], "Deployment"):
        labels = pod_template(deployment)["metadata"]["labels"]
        (budget,) = [pdb for pdb in budgets if matches(pdb["spec"]["selector"], labels)]
        assert budget["spec"]["maxUnavailable"] == 1
        assert "minAvailable" not in budget["spec"]
        assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_services_expose_each_deployments_metrics(rendered: dict[str, list[Manifest]],
                                                  overlay: str) -> None:
    services = of_kind(rendered[overlay], "Service")
    for deployment in of_kind(rendered[overlay], "Deployment"):
        labels = pod_template(deployment)["metadata"]["labels"]
        (service,) = [svc for svc in services
                      if matches({"matchLabels": svc["spec"]["selector"]}, labels)]
        (container,) = containers(deployment)
        port_names = {port["name"] for port in container["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_references_resolve(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    """ConfigMaps, Secrets, claims and the service account a pod names exist (prod's
    Secrets are created from the template, never rendered)."""
    objects = rendered[overlay]
    names = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
    templates = {("Secret", obj["metadata"]["name"])
                 for obj in load_documents(SECRET_TEMPLATE.read_text())}
    for obj in workloads(objects):
        spec = pod_template(obj)["spec"]
        assert ("ServiceAccount", spec["serviceAccountName"]) in names
        for volume in spec["volumes"]:
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in names
        for container in containers(obj):
            for source in container["envFrom"]:
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in names
                if "secretRef" in source:
                    secret = ("Secret", source["secretRef"]["name"])
                    assert secret in templates
                    assert secret in names or overlay != "dev"
                    assert not source["secretRef"].get("optional")

