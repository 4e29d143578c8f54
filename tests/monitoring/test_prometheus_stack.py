"""Live: a real Prometheus and Pushgateway with the repository's rules and dashboards.

The reconciler's figures are pushed with the very :class:`ReconcileMetrics` (and its
``record`` of a :class:`Reconciliation`) that ``candles reconcile`` uses; the speed
layer's and archiver's ``/metrics`` are their real metric classes served by the real HTTP
endpoint, with a ticker standing in for traffic (test_live_pipeline.py drives the real
processes on a broker).

Timeline of one module run (one stack)::

    start stack --- targets up --- push clean --- rules evaluated: no drift alert
                                   push breach --- CandlesDriftBreach firing (seconds)
                                   push clean  --- resolved
                                   push unexplained --- CandlesUnexplainedDrift firing
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import pytest
import yaml
from prometheus_client import CollectorRegistry

from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from candle_core.windows import parse_interval
from kafka_ops.liveness import Heartbeat
from lambda_candles.http_server import serve
from reconciliation.attribution import CAUSES, Attribution
from reconciliation.compare import Comparison
from reconciliation.drift import FIELDS, CandleDrift, candle_drift
from reconciliation.job import Reconciliation
from reconciliation.metrics import ReconcileMetrics
from reconciliation.summary import GroupSummary
from speed_layer.metrics import SpeedMetrics
from storage.metrics import ArchiveMetrics
from tests.monitoring.prometheus_stack import (
    PrometheusStack,
    ScrapeTarget,
    load_dashboard,
    panel_queries,
    require_binaries,
    rule_files,
    sample_value,
    variable_queries,
)

pytestmark = pytest.mark.slow

DRIFT_ALERTS = ("CandlesDriftBreach", "CandlesUnexplainedDrift")
THRESHOLD = Fraction(5, 1000)
FIRST_DATE = dt.date(2025, 1, 1)
_ranges = itertools.count()


@dataclass(frozen=True)
class Group:
    """One (symbol, interval) of a reconciled range."""

    symbol: str
    interval: str
    compared: int = 1000
    drifted: int = 0  # of the compared candles
    breached: int = 0
    late: int = 0  # differing candles explained by late trades
    unexplained: int = 0
    max_drift: float = 0.0

    def summary(self) -> GroupSummary:
        return GroupSummary(
            self.symbol, parse_interval(self.interval), compared=self.compared,
            exact=self.compared - self.drifted, drifted=self.drifted, breaches=self.breached,
            unexplained=self.unexplained, attributed={**dict.fromkeys(CAUSES, 0),
                                                      "late": self.late},
            max_candle_drift=self.max_drift, max_drift=dict.fromkeys(FIELDS, self.max_drift),
            p99_drift=dict.fromkeys(FIELDS, self.max_drift / 2))


CLEAN = (Group("BTCUSDT", "1s"), Group("ETHUSDT", "1s"), Group("BTCUSDT", "1m", compared=20))
LATE_BREACH = (Group("BTCUSDT", "1s", drifted=4, breached=3, late=4, max_drift=0.0123),
               Group("ETHUSDT", "1s", drifted=1, late=1, max_drift=0.001),
               Group("BTCUSDT", "1m", compared=20))
UNEXPLAINED = (Group("BTCUSDT", "1s"),
               Group("ETHUSDT", "1s", drifted=2, breached=2, unexplained=2, max_drift=0.02),
               Group("BTCUSDT", "1m", compared=20))


def worst_candle(group: Group, date: dt.date) -> CandleDrift:
    """The group's worst candle: one trade, the speed price off by ``max_drift``."""
    start_us = (date - dt.date(1970, 1, 1)).days * 86_400_000_000
    price = 100_00000000
    batch = Trade(group.symbol, 1, start_us, price, 1_00000000)
    speed = batch._replace(price=round(price * (1 + group.max_drift)))
    (batch_candle,) = candles_from_trades([batch], [group.interval])
    (speed_candle,) = candles_from_trades([speed], [group.interval])
    return candle_drift(speed_candle, batch_candle)


def push_range(stack: PrometheusStack, groups: Sequence[Group]) -> float:
    """Push one reconciled date as ``candles reconcile`` does; wait until it is scraped.

    Each push is a new date, so the range start identifies it; it is returned.
    """
    date = FIRST_DATE + dt.timedelta(days=next(_ranges))
    differing = [worst_candle(group, date) for group in groups if group.drifted]
    attributions = {drift.key: Attribution({**dict.fromkeys(CAUSES, 0), "late": 1},
                                           True, True)
                    for drift, group in zip(differing, [g for g in groups if g.drifted],
                                            strict=True) if not group.unexplained}
    result = Reconciliation(
        date=date.isoformat(), intervals=["1s", "1m"],
        threshold=THRESHOLD, comparison=Comparison(differing=differing),
        attributions=attributions, groups=[group.summary() for group in groups], seconds=2.5)
    metrics = ReconcileMetrics()
    metrics.record(result)
    metrics.push(stack.pushgateway_url)
    start_s = dt.datetime.combine(date, dt.time(), dt.UTC).timestamp()
    stack.wait_for_series(f"candles_reconcile_range_start_timestamp_seconds == {start_s}")
    return start_s


class FakeTraffic:
    """The real speed and archive metric classes on the real /metrics endpoint, ticking.

    No DLQ record, no revision and no sealed archive chunk: the dashboards must still show
    series (a clean, young pipeline looks like this). One trade in a hundred is late past
    the revision horizon (10/s): ``CandlesTradesPastRevisionHorizon`` goes pending.
    """

    def __init__(self) -> None:
        self.speed = SpeedMetrics(CollectorRegistry())
        self.archive = ArchiveMetrics(CollectorRegistry())
        self.servers = [serve(m.registry, Heartbeat(60.0), 0, host="127.0.0.1")
                        for m in (self.speed, self.archive)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-traffic", daemon=True)
        self._thread.start()

    @property
    def targets(self) -> list[ScrapeTarget]:
        speed, archive = (f"127.0.0.1:{server.server_port}" for server in self.servers)
        return [ScrapeTarget("candles_speed", speed), ScrapeTarget("candles_archive", archive)]

    def _run(self) -> None:
        speed, archive = self.speed, self.archive
        for tick in itertools.count():
            speed.consumed.inc(100)
            speed.valid.inc(98)
            speed.late.inc(1)
            speed.duplicates.inc(1)
            speed.candles.labels("1s").inc(2)
            speed.candles.labels("1m").inc(tick % 2)
            for partition in ("0", "1"):
                speed.watermark_lag.labels(partition).set(1.0 + tick % 3)
                speed.consumer_lag.labels(partition).set(tick % 50)
            speed.open_windows.set(4)
            speed.state_entries.set(400)
            speed.close_to_commit.observe(0.02 + (tick % 5) / 100)
            speed.commit_latency.observe(0.01)
            speed.last_commit.set_to_current_time()
            archive.consumed.inc(100)
            archive.bytes.inc(4096)
            archive.commit_lag.labels("trades", "0").set(100 * tick % 100_000)
            if self._stop.wait(0.1):
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def traffic() -> Iterator[FakeTraffic]:
    fake = FakeTraffic()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def stack(traffic: FakeTraffic) -> Iterator[PrometheusStack]:
    require_binaries()
    with PrometheusStack(traffic.targets) as live:
        live.wait_for_targets_up()
        yield live


def drift_alerts(stack: PrometheusStack) -> list[tuple[str, str, str, str]]:
    return sorted((a["labels"]["alertname"], a["labels"].get("symbol", ""),
                   a["labels"].get("interval", ""), a["state"])
                  for a in stack.alerts() if a["labels"]["alertname"] in DRIFT_ALERTS)


def test_every_alert_rule_is_loaded_and_healthy(stack: PrometheusStack) -> None:
    """The server loaded every alert of monitoring/'s rule files and evaluates each without
    error (a rule that parses but fails at evaluation shows only here)."""
    expected = {rule["alert"] for path in rule_files()
                for group in yaml.safe_load(path.read_text())["groups"]
                for rule in group["rules"] if "alert" in rule}
    stack.wait_for_evaluation()
    loaded = {rule["name"]: rule for group in stack.api("rules")["groups"]
              for rule in group["rules"] if rule["type"] == "alerting"}
    assert set(loaded) == expected
    unhealthy = {name: rule.get("lastError") for name, rule in loaded.items()
                 if rule["health"] != "ok"}
    assert unhealthy == {}


def test_trades_past_the_revision_horizon_go_pending(stack: PrometheusStack) -> None:
    """The traffic sends 10 trades/s to trades.late through the real SpeedMetrics: the
    alert's expression matches its exposition (it would fire after its 15m ``for:``)."""
    (alert,) = stack.wait_for_alert("CandlesTradesPastRevisionHorizon", "pending",
                                    {"job": "candles_speed"}, timeout=60)
    assert alert["labels"]["severity"] == "warning"
    assert alert["annotations"]["runbook_url"].endswith(
        "#alert-candlestradespastrevisionhorizon")


def test_clean_range_keeps_drift_alerts_inactive(stack: PrometheusStack) -> None:
    push_range(stack, CLEAN)
    stack.wait_for_evaluation()
    assert drift_alerts(stack) == []


def test_late_trades_beyond_threshold_fire_drift_breach(stack: PrometheusStack) -> None:
    push_range(stack, LATE_BREACH)
    (alert,) = stack.wait_for_alert("CandlesDriftBreach", "firing",
                                    {"symbol": "BTCUSDT", "interval": "1s"}, timeout=30)
    assert alert["labels"]["severity"] == "warning"
    assert "1.23%" in alert["annotations"]["description"]
    stack.wait_for_evaluation()
    # ETHUSDT drifted within the threshold; every difference has a cause.
    assert drift_alerts(stack) == [("CandlesDriftBreach", "BTCUSDT", "1s", "firing")]

    push_range(stack, CLEAN)  # the next clean range resolves it
    stack.wait_for(lambda: not drift_alerts(stack), timeout=30, what="drift alerts resolved")


def test_unexplained_difference_fires_critical(stack: PrometheusStack) -> None:
    push_range(stack, UNEXPLAINED)
    stack.wait_for_alert("CandlesUnexplainedDrift", "firing",
                         {"symbol": "ETHUSDT", "interval": "1s", "severity": "critical"})
    stack.wait_for_evaluation()
    assert drift_alerts(stack) == [("CandlesDriftBreach", "ETHUSDT", "1s", "firing"),
                                   ("CandlesUnexplainedDrift", "ETHUSDT", "1s", "firing")]
    push_range(stack, CLEAN)
    stack.wait_for(lambda: not drift_alerts(stack), timeout=30, what="drift alerts resolved")


@pytest.mark.parametrize("variables", [{}, {"symbol": "BTCUSDT", "interval": "1s"}],
                         ids=["all", "one-group"])
def test_every_drift_dashboard_query_returns_series(stack: PrometheusStack,
                                                    variables: dict[str, str]) -> None:
    push_range(stack, LATE_BREACH)
    board = load_dashboard("drift")
    empty = stack.queries_without_series(panel_queries(board, variables), timeout=15)
    assert empty == [], "\n".join(f"{q.panel} [{q.ref_id}]: {q.expr}" for q in empty)
    for name, expr in variable_queries(board).items():
        assert stack.query(expr), f"variable {name}: {expr}"
    (verdict,) = stack.query(panel_queries(board)[0].expr)
    assert sample_value(verdict) == 1  # BREACH


def test_every_pipeline_dashboard_query_returns_series(stack: PrometheusStack) -> None:
    board = load_dashboard("pipeline-overview")
    empty = stack.queries_without_series(panel_queries(board), timeout=30)
    assert empty == [], "\n".join(f"{q.panel} [{q.ref_id}]: {q.expr}" for q in empty)
    (throughput,) = stack.query(panel_queries(board)[0].expr)
    assert sample_value(throughput) > 0
