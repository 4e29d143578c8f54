"""The Kubernetes copies of the alert rules and dashboards are monitoring/'s, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from k8s.tools import REPO, monitoring
from k8s.tools.render import Manifest, load_documents
from tests.k8s.manifests import named, of_kind


def test_generated_files_are_current() -> None:
    """Regenerated in memory, byte for byte what is committed (else run the generator)."""
    for path, text in monitoring.generate().items():
        assert path.read_text() == text, (
            f"{path.relative_to(REPO)} is stale: run python -m k8s.tools.monitoring")


def test_prometheus_rule_holds_every_rule_file_group() -> None:
    files = monitoring.rule_files()
    assert files, "no rule files under monitoring/prometheus/rules"
    expected = [group for path in files for group in yaml.safe_load(path.read_text())["groups"]]
    (rule,) = load_documents(monitoring.RULE_FILE.read_text())
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == expected


def test_every_dashboard_has_its_config_map() -> None:
    files = sorted(monitoring.DASHBOARDS_DIR.glob("*.json"))
    assert files, "no dashboards under monitoring/grafana/dashboards"
    maps = {cm["metadata"]["name"]: cm
            for cm in load_documents(monitoring.DASHBOARD_FILE.read_text())}
    assert len(maps) == len(files)
    for path in files:
        config_map = maps[monitoring.dashboard_name(path)]
        assert config_map["data"] == {path.name: path.read_text()}
        assert json.loads(config_map["data"][path.name]) == json.loads(path.read_text())
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_overlays_deploy_them_unchanged(rendered: dict[str, list[Manifest]]) -> None:
    (rule,) = load_documents(monitoring.RULE_FILE.read_text())
    dashboards = load_documents(monitoring.DASHBOARD_FILE.read_text())
    for objects in rendered.values():
        assert named(objects, "PrometheusRule", "candles")["spec"] == rule["spec"]
        deployed = {cm["metadata"]["name"]: cm["data"] for cm in of_kind(objects, "ConfigMap")}
        for dashboard in dashboards:
            assert deployed[dashboard["metadata"]["name"]] == dashboard["data"]


def test_generator_on_files_of_its_own(tmp_path: Path) -> None:
    """Groups in file-name order; one ConfigMap per dashboard with a DNS-1123 name; an
    empty monitoring/ gives files with no objects (kustomize accepts those)."""
    rules, dashboards = tmp_path / "rules", tmp_path / "dashboards"
    rules.mkdir()
    dashboards.mkdir()
    assert all(load_documents(text) == [] for text in
               monitoring.generate(rules, dashboards).values())
    (rules / "b.yml").write_text("groups:\n  - name: second\n    rules: []\n")
    (rules / "a.yml").write_text("groups:\n  - name: first\n    rules:\n"
                                 "      - alert: CandlesX\n        expr: |\n"
                                 "          up == 0\n          and on() vector(1)\n")
    (dashboards / "Pipeline_Overview.json").write_text('{"title": "x"}\n')
    generated = monitoring.generate(rules, dashboards)
    assert generated == monitoring.generate(rules, dashboards)
    (rule,) = load_documents(generated[monitoring.RULE_FILE])
    assert [group["name"] for group in rule["spec"]["groups"]] == ["first", "second"]
    assert rule["spec"]["groups"][0]["rules"][0]["expr"] == "up == 0\nand on() vector(1)\n"
    (config_map,) = load_documents(generated[monitoring.DASHBOARD_FILE])
    assert config_map["metadata"]["name"] == "candles-dashboard-pipeline-overview"
    assert config_map["data"] == {"Pipeline_Overview.json": '{"title": "x"}\n'}
