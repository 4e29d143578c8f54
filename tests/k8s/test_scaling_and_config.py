"""Settings, scaling and monitoring wiring that must agree across files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from k8s.tools import OVERLAYS, REPO, SECRET_TEMPLATE
from k8s.tools.render import Manifest, load_documents
from lambda_candles.settings import CandlesSettings, env_name, load_settings
from speed_layer.metrics import SpeedMetrics
from tests.k8s.manifests import named, of_kind, settings_env

OVERLAY_NAMES = list(OVERLAYS)
SETTING_NAMES = {env_name(field) for field in CandlesSettings.model_fields}


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_config_map_is_a_valid_configuration(rendered: dict[str, list[Manifest]], overlay: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """Every key is a real setting, and the values load (a typo would stop every pod)."""
    env = settings_env(rendered[overlay])
    assert env.keys() <= SETTING_NAMES, env.keys() - SETTING_NAMES
    for name in SETTING_NAMES | {"KAFKA_BOOTSTRAP_SERVERS"}:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    settings = load_settings()
    assert settings.trades_partitions == int(env["CANDLES_TRADES_PARTITIONS"])


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_replica_cap_is_the_partition_count(rendered: dict[str, list[Manifest]],
                                            overlay: str) -> None:
    """One consumer per partition at most: more replicas would idle."""
    objects = rendered[overlay]
    partitions = int(settings_env(objects)["CANDLES_TRADES_PARTITIONS"])
    caps = [hpa["spec"]["maxReplicas"] for hpa in of_kind(objects, "HorizontalPodAutoscaler")]
    caps += [so["spec"]["maxReplicaCount"] for so in of_kind(objects, "ScaledObject")]
    assert caps == [partitions]
    floors = [hpa["spec"]["minReplicas"] for hpa in of_kind(objects, "HorizontalPodAutoscaler")]
    floors += [so["spec"]["minReplicaCount"] for so in of_kind(objects, "ScaledObject")]
    assert 1 <= floors[0] <= partitions


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_hpa_scales_on_cpu_and_a_lag_metric_the_speed_layer_exposes(
        rendered: dict[str, list[Manifest]], overlay: str) -> None:
    hpa = named(rendered[overlay], "HorizontalPodAutoscaler", "candles-speed")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "candles-speed"}
    by_type = {metric["type"]: metric for metric in hpa["spec"]["metrics"]}
    assert by_type["Resource"]["resource"]["name"] == "cpu"
    external = by_type["External"]["external"]["metric"]
    exposed = {metric.name for metric in SpeedMetrics(CollectorRegistry()).registry.collect()}
    assert external["name"] in exposed
    assert external["selector"]["matchLabels"]["job"] in service_monitor_jobs(rendered[overlay])


def test_keda_trigger_matches_the_configuration(rendered: dict[str, list[Manifest]]) -> None:
    objects = rendered["prod-keda"]
    env = settings_env(objects)
    defaults = CandlesSettings.model_fields
    (kafka,) = [trigger for trigger in named(objects, "ScaledObject", "candles-speed")
                ["spec"]["triggers"] if trigger["type"] == "kafka"]
    meta = kafka["metadata"]
    assert meta["bootstrapServers"] == env["CANDLES_KAFKA_BOOTSTRAP_SERVERS"]
    assert meta["topic"] == env.get("CANDLES_TOPIC_TRADES", defaults["topic_trades"].default)
    assert meta["consumerGroup"] == env.get("CANDLES_SPEED_GROUP_ID",
                                            defaults["speed_group_id"].default)
    assert meta["allowIdleConsumers"] == "false"
    assert env["CANDLES_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert meta["sasl"] == "scram_sha512" and meta["tls"] == "enable"
    auth = named(objects, "TriggerAuthentication", kafka["authenticationRef"]["name"])
    template = {obj["metadata"]["name"]: obj for obj in load_documents(SECRET_TEMPLATE.read_text())}
    for ref in auth["spec"]["secretTargetRef"]:
        assert ref["key"] in template[ref["name"]]["stringData"]


def service_monitor_jobs(objects: list[Manifest]) -> set[str]:
    """The job label each ServiceMonitor gives its targets."""
    jobs = set()
    for monitor in of_kind(objects, "ServiceMonitor"):
        for endpoint in monitor["spec"]["endpoints"]:
            jobs |= {relabel["replacement"] for relabel in endpoint.get("relabelings", [])
                     if relabel.get("targetLabel") == "job"}
    return jobs


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_scrape_jobs_are_the_ones_the_rules_expect(rendered: dict[str, list[Manifest]],
                                                   overlay: str) -> None:
    """monitoring/prometheus/prometheus.yml names the jobs the alerts and dashboards use."""
    config = yaml.safe_load((REPO / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    expected = {job["job_name"] for job in config["scrape_configs"]} - {"prometheus"}
    assert service_monitor_jobs(rendered[overlay]) == expected
    services = {svc["metadata"]["name"]: svc for svc in of_kind(rendered[overlay], "Service")}
    for monitor in of_kind(rendered[overlay], "ServiceMonitor"):
        if "namespaceSelector" in monitor["spec"]:
            continue  # the Pushgateway lives in the monitoring namespace
        (service,) = [svc for svc in services.values()
                      if monitor["spec"]["selector"]["matchLabels"].items()
                      <= svc["metadata"]["labels"].items()]
        ports = {port["name"] for port in service["spec"]["ports"]}
        assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= ports


def test_secret_template_holds_nothing() -> None:
    """Placeholders only: every value empty, no base64 `data`, every key a real setting."""
    for secret in load_documents(SECRET_TEMPLATE.read_text()):
        assert secret["kind"] == "Secret" and "data" not in secret
        assert secret["stringData"] and set(secret["stringData"].values()) == {""}
        assert secret["stringData"].keys() <= SETTING_NAMES


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_no_overlay_ships_a_credential(rendered: dict[str, list[Manifest]],
                                       overlay: str) -> None:
    """prod renders no Secret (a deploy must not overwrite the real ones); dev's are empty."""
    secrets = of_kind(rendered[overlay], "Secret")
    if overlay == "dev":
        assert secrets and all(not s.get("data") and not s.get("stringData") for s in secrets)
    else:
        assert secrets == []
    secret_settings = {name for name in SETTING_NAMES
                       if "PASSWORD" in name or "SECRET" in name or "PRIVATE_KEY" in name}
    assert not settings_env(rendered[overlay]).keys() & secret_settings
