"""The monitoring/ files, checked offline: promtool, amtool, and their structure.

``promtool check rules``/``test rules`` and ``amtool check-config`` are the acceptance
checks CI runs; the structural tests hold the alert names stable (docs/operations.md has a
runbook per alert), and hold every rule and dashboard to the metric names the code exports.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from reconciliation.metrics import ReconcileMetrics
from speed_layer.metrics import SpeedMetrics
from storage.metrics import ArchiveMetrics
from tests.monitoring.prometheus_stack import (
    DASHBOARD_NAMES,
    MONITORING_DIR,
    RULES_DIR,
    find_binary,
    iter_panels,
    load_dashboard,
    panel_queries,
    render,
    require_binaries,
    rule_files,
    template_variables,
    variable_queries,
)

PROMETHEUS_DIR = MONITORING_DIR / "prometheus"
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
ALERTMANAGER_CONFIG = MONITORING_DIR / "alertmanager" / "alertmanager.yml"
DATASOURCES = MONITORING_DIR / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = MONITORING_DIR / "grafana" / "provisioning" / "dashboards" / "candles.yml"

# docs/operations.md has a runbook per name: rename one only together with its runbook.
EXPECTED_ALERTS = {
    "CandlesDriftBreach": "warning",
    "CandlesUnexplainedDrift": "critical",
    "CandlesSpeedConsumerLag": "warning",
    "CandlesDLQRateHigh": "warning",
    "CandlesLateRateHigh": "warning",
    "CandlesTradesPastRevisionHorizon": "warning",
    "CandlesSpeedInternalError": "critical",
    "CandlesNoTradesFlowing": "critical",
    "CandlesNightlyFailed": "critical",
    "CandlesNightlyStale": "critical",
    "CandlesArchiveCommitLag": "warning",
    "CandlesTargetDown": "warning",
}
# Alerts that fire at the first evaluation: on pushed batch results, and on a bug.
IMMEDIATE_ALERTS = {"CandlesDriftBreach", "CandlesUnexplainedDrift", "CandlesNightlyFailed",
                    "CandlesSpeedInternalError"}
# Pushed by the load and nightly jobs (written elsewhere; names from the design of issue 5).
PUSHED_ELSEWHERE = {
    "candles_load_rows", "candles_load_duration_seconds",
    "candles_load_last_success_timestamp_seconds", "candles_nightly_success",
    "candles_nightly_exit_code", "candles_nightly_last_run_timestamp_seconds",
    "candles_nightly_last_success_timestamp_seconds", "candles_nightly_stage_duration_seconds",
}
_METRIC_NAME = re.compile(r"\bcandles_[a-z0-9_]+\b")
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'|`[^`]*`')


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (f"{' '.join(result.args)} exited {result.returncode}:\n"
                                    f"{result.stdout}\n{result.stderr}")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alerting_rules() -> list[dict[str, Any]]:
    return [rule for path in rule_files() for group in load_yaml(path)["groups"]
            for rule in group["rules"] if "alert" in rule]


def exported_metric_names() -> set[str]:
    """Every sample name the speed layer, archiver and reconciler can expose."""
    registries = [SpeedMetrics(CollectorRegistry()).registry,
                  ArchiveMetrics(CollectorRegistry()).registry, ReconcileMetrics().registry]
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                "gauge": ("",)}
    return {family.name + suffix for registry in registries for family in registry.collect()
            for suffix in suffixes[family.type]}


def metric_names(expr: str) -> set[str]:
    """``candles_*`` names in a PromQL expression, ignoring string literals (job names)."""
    return set(_METRIC_NAME.findall(_QUOTED.sub('""', expr)))


def datasource_uid() -> str:
    (source,) = load_yaml(DATASOURCES)["datasources"]
    uid: str = source["uid"]
    return uid


# ---- promtool and amtool -----------------------------------------------------------------
@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_promtool_check_rules(path: Path) -> None:
    require_binaries("promtool")
    assert_ok(run(find_binary("promtool") or "promtool", "check", "rules", str(path)))


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_test_rules(path: Path) -> None:
    require_binaries("promtool")
    assert_ok(run(find_binary("promtool") or "promtool", "test", "rules", str(path)))


def test_promtool_check_config() -> None:
    require_binaries("promtool")
    assert_ok(run(find_binary("promtool") or "promtool", "check", "config",
                  str(PROMETHEUS_DIR / "prometheus.yml")))


def test_amtool_check_config() -> None:
    require_binaries("amtool")
    assert_ok(run(find_binary("amtool") or "amtool", "check-config", str(ALERTMANAGER_CONFIG)))


@pytest.mark.parametrize(("labels", "receiver"), [
    (["alertname=CandlesUnexplainedDrift", "severity=critical"], "candles-pager"),
    (["alertname=CandlesDriftBreach", "severity=warning"], "candles-chat"),
    (["alertname=Watchdog"], "candles-chat"),  # no severity: the default route
])
def test_alertmanager_routes(labels: list[str], receiver: str) -> None:
    require_binaries("amtool")
    result = run(find_binary("amtool") or "amtool", "config", "routes", "test",
                 f"--config.file={ALERTMANAGER_CONFIG}", *labels)
    assert_ok(result)
    assert result.stdout.split() == [receiver]


def test_alertmanager_inhibits_drift_breach_under_unexplained_drift() -> None:
    inhibit = load_yaml(ALERTMANAGER_CONFIG)["inhibit_rules"]
    drift = [rule for rule in inhibit if set(rule.get("equal", [])) == {"symbol", "interval"}]
    assert len(drift) == 1, inhibit
    assert 'severity="critical"' in drift[0]["source_matchers"]
    assert 'severity="warning"' in drift[0]["target_matchers"]


def test_alertmanager_inhibits_the_horizon_rate_under_the_late_share() -> None:
    """Over 1% of an instance's trades past the horizon mutes the absolute-rate alert of
    the same instance only (another instance's trickle still reports)."""
    inhibit = load_yaml(ALERTMANAGER_CONFIG)["inhibit_rules"]
    late = [rule for rule in inhibit
            if rule["target_matchers"] == ['alertname="CandlesTradesPastRevisionHorizon"']]
    assert len(late) == 1, inhibit
    assert late[0]["source_matchers"] == ['alertname="CandlesLateRateHigh"']
    assert late[0]["equal"] == ["job", "instance"]


# ---- rule files --------------------------------------------------------------------------
def test_alert_names_are_the_documented_ones() -> None:
    names = [rule["alert"] for rule in alerting_rules()]
    assert len(names) == len(set(names)), names
    assert set(names) == set(EXPECTED_ALERTS)


@pytest.mark.parametrize("rule", alerting_rules(), ids=lambda r: r["alert"])
def test_alert_has_severity_annotations_and_runbook(rule: dict[str, Any]) -> None:
    name = rule["alert"]
    assert re.fullmatch(r"Candles[A-Z][A-Za-z]+", name)
    assert rule["labels"]["severity"] == EXPECTED_ALERTS[name]
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    assert annotations["runbook_url"] == f"docs/operations.md#alert-{name.lower()}"
    if name in IMMEDIATE_ALERTS:
        assert rule.get("for", "0s") in ("0s", "0m"), f"{name} must fire without a for:"


def test_rule_groups_leave_the_evaluation_interval_to_the_server() -> None:
    """A group ``interval:`` would slow the live tests' 1s evaluation down."""
    for path in rule_files():
        for group in load_yaml(path)["groups"]:
            assert "interval" not in group, f"{path.name}: {group['name']}"


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    tested_files: set[Path] = set()
    for path in RULE_TESTS:
        suite = load_yaml(path)
        tested_files.update((path.parent / name).resolve() for name in suite["rule_files"])
        for case in suite["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    assert tested_files == {path.resolve() for path in rule_files()}
    assert set(EXPECTED_ALERTS) - firing == set(), "alerts never tested firing"
    assert set(EXPECTED_ALERTS) - silent == set(), "alerts never tested silent"


def test_rules_use_exported_metric_names() -> None:
    known = exported_metric_names() | PUSHED_ELSEWHERE
    for rule in alerting_rules():
        names = metric_names(rule["expr"]) | set(
            _METRIC_NAME.findall(" ".join(rule["annotations"].values())))
        assert names <= known, (rule["alert"], names - known)


# ---- Grafana -----------------------------------------------------------------------------
def test_grafana_provisioning_files() -> None:
    (provider,) = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    (source,) = load_yaml(DATASOURCES)["datasources"]
    assert source["type"] == "prometheus" and source["uid"]


def test_dashboards_have_unique_uids() -> None:
    uids = [load_dashboard(name)["uid"] for name in DASHBOARD_NAMES]
    assert len(set(uids)) == len(uids)
    assert {path.stem for path in (MONITORING_DIR / "grafana" / "dashboards").glob("*.json")} \
        == set(DASHBOARD_NAMES)


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_dashboard_structure(name: str) -> None:
    board, uid = load_dashboard(name), datasource_uid()
    panels = list(iter_panels(board))
    assert panels
    assert len({panel["id"] for panel in panels}) == len(panels), "duplicate panel ids"
    for panel in panels:
        if panel["type"] in ("row", "text"):
            continue
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], f"{panel['title']}: no targets"
        for target in panel["targets"]:
            assert target.get("expr", "").strip(), f"{panel['title']} [{target['refId']}]"
            assert target["datasource"]["uid"] == uid, panel["title"]
    for variable in template_variables(board):
        assert variable["datasource"]["uid"] == uid, variable["name"]


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_dashboard_variables_only_in_regex_matchers(name: str) -> None:
    """Panel queries render ``$symbol`` as ``.*``: right only inside ``=~"..."``."""
    board = load_dashboard(name)
    user = {variable["name"] for variable in template_variables(board)}
    for query in panel_queries(board):
        for var in user:
            uses = len(re.findall(rf"\${var}\b", query.raw_expr))
            in_regex = len(re.findall(rf'=~"\${var}"', query.raw_expr))
            assert uses == in_regex, f"{query.panel}: ${var} outside =~ in {query.raw_expr}"


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_dashboard_queries_use_exported_metric_names(name: str) -> None:
    known = exported_metric_names()
    board = load_dashboard(name)
    queries = [q.expr for q in panel_queries(board)] + list(variable_queries(board).values())
    for expr in queries:
        assert metric_names(expr) <= known, (expr, metric_names(expr) - known)


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_dashboard_queries_are_valid_promql(name: str, tmp_path: Path) -> None:
    """Each rendered query as a recording rule, so that ``promtool check rules`` parses it."""
    require_binaries("promtool")
    board = load_dashboard(name)
    exprs = [q.expr for q in panel_queries(board)] + list(variable_queries(board).values())
    rules = [{"record": f"dashboard:query_{n}", "expr": expr} for n, expr in enumerate(exprs)]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": name, "rules": rules}]}))
    assert_ok(run(find_binary("promtool") or "promtool", "check", "rules", str(path)))


def test_render_substitutes_every_variable_form() -> None:
    variables = {"symbol": ".*", "__rate_interval": "30s"}
    expr = 'rate(x{symbol=~"$symbol", a=~"${symbol}", b=~"[[symbol]]"}[$__rate_interval])'
    assert render(expr, variables) == 'rate(x{symbol=~".*", a=~".*", b=~".*"}[30s])'
    with pytest.raises(KeyError, match="unknown"):
        render("x[$__nope]", variables)


def test_rules_dir_is_the_one_production_loads() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    assert config["rule_files"] == ["rules/*.yml"]
    assert (PROMETHEUS_DIR / "rules") == RULES_DIR
    pushgateway = [job for job in config["scrape_configs"] if job["job_name"] == "pushgateway"]
    assert pushgateway and pushgateway[0]["honor_labels"] is True
