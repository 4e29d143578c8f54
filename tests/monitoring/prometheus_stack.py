"""A real Prometheus server and Pushgateway on localhost, for live monitoring tests.

Both are Debian's packages (``/usr/bin/prometheus``, ``/usr/bin/prometheus-pushgateway``;
``./scripts/bootstrap`` installs them). The server loads the repository's alert rules
(``monitoring/prometheus/rules/*.yml``, the very files production uses), scrapes and
evaluates every second, scrapes the Pushgateway with ``honor_labels`` (job
``pushgateway``, as in ``monitoring/prometheus/prometheus.yml``) plus whatever targets the
caller names, and keeps its data in a temporary directory removed on stop.

Reuse it like this::

    from tests.monitoring.prometheus_stack import (
        PrometheusStack, ScrapeTarget, free_port, load_dashboard, panel_queries,
        require_binaries,
    )

    require_binaries()                      # pytest.skip with what to install, if absent
    port = free_port()                      # e.g. CANDLES_METRICS_PORT of a speed layer
    with PrometheusStack([ScrapeTarget("candles_speed", f"127.0.0.1:{port}")]) as stack:
        stack.add_targets(ScrapeTarget("candles_archive", "127.0.0.1:9109"))  # reloads
        stack.wait_for_targets_up()
        ReconcileMetrics().push(stack.pushgateway_url)   # batch jobs push here
        stack.wait_for_alert("CandlesDriftBreach", labels={"symbol": "BTCUSDT"})
        assert not stack.queries_without_series(panel_queries(load_dashboard("drift")))

API of :class:`PrometheusStack` (a context manager; ``start``/``stop`` also work):

- ``prometheus_url``, ``pushgateway_url``: ``http://127.0.0.1:<port>`` (free ports);
- ``query(expr) -> list[dict]``: an instant query; each series is the API's
  ``{"metric": {...}, "value": [ts, "text"]}`` (a scalar comes back as one series with no
  labels); :func:`sample_value` turns ``value`` into a float;
- ``alerts() -> list[dict]``: ``/api/v1/alerts`` (pending and firing alerts, each with
  ``labels``, ``annotations``, ``state``); ``active_alerts(name, state, labels)`` filters;
- ``wait_for(predicate, timeout, what)``: polls until ``predicate()`` is truthy and
  returns that value, or fails with ``what`` and the tail of both processes' logs;
  ``wait_for_series(expr)``, ``wait_for_alert(name, state, labels)``,
  ``wait_for_targets_up()`` and ``wait_for_evaluation()`` (every rule group evaluated
  again after this call: once data is visible to ``query``, "no alert" after it means the
  rules saw that data) build on it;
- ``queries_without_series(queries, timeout)``: waits for every :class:`PanelQuery` to
  return series and lists those that never did (empty when the dashboards are fine);
- ``add_targets(*targets)``: scrape more targets (rewrites the config, reloads);
- ``delete_push_group(job)``: forget what a batch job pushed;
- ``logs()``: both processes' output. If the ``with`` block raises, it is printed to
  stderr (pytest shows it with the failure).

The rules keep their production ``for:`` durations: the drift and nightly-failure alerts
(no ``for:``) fire within seconds here; the rate and lag alerts need minutes.

Dashboard helpers: :func:`load_dashboard`, :func:`panel_queries` (every panel target's
expression with Grafana's variables substituted: ``$symbol``-style template variables
become ``.*`` (the dashboards only use them in ``=~`` matchers), ``$__rate_interval`` a
duration, ...), and :func:`variable_queries` (the template variables' ``label_values``
as PromQL).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
MONITORING_DIR = REPO_ROOT / "monitoring"
RULES_DIR = MONITORING_DIR / "prometheus" / "rules"
DASHBOARDS_DIR = MONITORING_DIR / "grafana" / "dashboards"
PUSHGATEWAY_JOB = "pushgateway"
INSTALL_HINT = ("install Debian's prometheus and prometheus-pushgateway packages "
                "(./scripts/bootstrap does it when run as root: apt-get install prometheus "
                "prometheus-pushgateway prometheus-alertmanager)")
T = TypeVar("T")
_ALIASES = {"prometheus-pushgateway": ("prometheus-pushgateway", "pushgateway")}


def rule_files() -> list[Path]:
    """The repository's Prometheus rule files, the ones production loads."""
    return sorted(RULES_DIR.glob("*.yml"))


def find_binary(*names: str) -> str | None:
    """The first of ``names`` on PATH or in /usr/bin."""
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    return None


def prometheus_binary() -> str | None:
    return find_binary("prometheus")


def pushgateway_binary() -> str | None:
    return find_binary(*_ALIASES["prometheus-pushgateway"])


def require_binaries(*names: str) -> None:
    """``pytest.skip`` with what to install unless every binary is there; in CI (``CI``
    set) a missing binary fails the test instead, so "passed in CI" is never a skip.

    Default: the Prometheus server and the Pushgateway; pass e.g. ``"promtool"``.
    """
    import os

    import pytest

    wanted = names or ("prometheus", "prometheus-pushgateway")
    missing = [name for name in wanted if find_binary(*_ALIASES.get(name, (name,))) is None]
    if missing and (os.environ.get("CI") or os.environ.get("CANDLES_REQUIRE_TOOLS")):
        pytest.fail(f"{', '.join(missing)} not found in CI: {INSTALL_HINT}")
    if missing:
        pytest.skip(f"{', '.join(missing)} not found: {INSTALL_HINT}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (tiny race: bind it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class ScrapeTarget:
    """One endpoint to scrape: ``job`` becomes the series' ``job`` label."""

    job: str
    address: str  # host:port
    metrics_path: str = "/metrics"


def sample_value(series: Mapping[str, Any]) -> float:
    """The float value of one series of :meth:`PrometheusStack.query` ("NaN" included)."""
    return float(series["value"][1])


class StackError(RuntimeError):
    """A process did not start, an API call failed, or a wait timed out."""


class _Process:
    """One server process with its output in a log file."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path) -> None:
        self.name, self.argv, self.port, self.log_path = name, argv, port, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class PrometheusStack:
    """Prometheus + Pushgateway on localhost with the repository's rules (see module doc)."""

    def __init__(self, targets: Sequence[ScrapeTarget] = (), *,
                 rules: Sequence[Path] | None = None, interval_s: int = 1,
                 start_timeout_s: float = 60.0) -> None:
        self.targets: list[ScrapeTarget] = list(targets)
        self.rules = list(rule_files() if rules is None else rules)
        self.interval_s = interval_s
        self.start_timeout_s = start_timeout_s
        self.workdir: Path | None = None
        self.prometheus_port = self.pushgateway_port = 0
        self._prometheus: _Process | None = None
        self._pushgateway: _Process | None = None

    # ---- lifecycle -----------------------------------------------------------------------
    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def pushgateway_url(self) -> str:
        return f"http://127.0.0.1:{self.pushgateway_port}"

    def start(self) -> PrometheusStack:
        prometheus, pushgateway = prometheus_binary(), pushgateway_binary()
        if prometheus is None or pushgateway is None:
            raise StackError(f"prometheus or prometheus-pushgateway not found: {INSTALL_HINT}")
        self.workdir = Path(tempfile.mkdtemp(prefix="candles-prometheus-"))
        try:
            marker = str(self._workdir / "pushgateway.db")  # names this process: see _ours
            self._pushgateway = self._start_ready("pushgateway", lambda port: [
                pushgateway, f"--web.listen-address=127.0.0.1:{port}", "--log.level=info",
                f"--persistence.file={marker}"],
                ours=lambda port: _flag(port, "/api/v1/status", "persistence.file") == marker)
            self.pushgateway_port = self._pushgateway.port
            self._write_config()
            self._prometheus = self._start_ready("prometheus", lambda port: [
                prometheus, f"--config.file={self._config_path}",
                f"--storage.tsdb.path={self._workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
                "--log.level=info"],
                ours=lambda port: _flag(port, "/api/v1/status/flags", "storage.tsdb.path")
                == str(self._workdir / "tsdb"))
            self.prometheus_port = self._prometheus.port
        except BaseException:
            print(self.logs(), file=sys.stderr)
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in (self._prometheus, self._pushgateway):
            if process is not None:
                process.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> PrometheusStack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None and issubclass(exc_type, Exception):  # not a pytest.skip
            print(self.logs(), file=sys.stderr)
        self.stop()

    @property
    def _workdir(self) -> Path:
        if self.workdir is None:
            raise StackError("the stack is not started")
        return self.workdir

    @property
    def _config_path(self) -> Path:
        return self._workdir / "prometheus.yml"

    def _start_ready(self, name: str, argv_for: Callable[[int], list[str]],
                     ours: Callable[[int], bool], attempts: int = 3) -> _Process:
        """Start on a free port and wait for ``/-/ready``; retry if the port was taken.

        Ready is not enough: another test run's server may hold the port and answer, while
        ours failed to bind. ``ours`` checks a flag only this process has (its own data
        path) before the port is trusted.
        """
        for _ in range(attempts):
            port = free_port()
            process = _Process(name, argv_for(port), port, self._workdir / f"{name}.log")
            if name == "prometheus":
                self._prometheus = process  # so that logs() shows it
            else:
                self._pushgateway = process
            process.start()
            deadline = time.monotonic() + self.start_timeout_s
            while process.exited() is None:
                if _http_ok(f"http://127.0.0.1:{port}/-/ready"):
                    if ours(port):
                        return process
                    process.stop()  # someone else answers on this port: try another
                    break
                if time.monotonic() > deadline:
                    process.stop()
                    raise StackError(f"{name} not ready on 127.0.0.1:{port} after "
                                     f"{self.start_timeout_s:.0f}s")
                time.sleep(0.1)
        raise StackError(f"{name} exited with {process.exited()} {attempts} times")

    # ---- configuration -------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The generated prometheus.yml (JSON is YAML)."""
        interval = f"{self.interval_s}s"
        by_endpoint: dict[tuple[str, str], list[str]] = {}
        for target in self.targets:
            by_endpoint.setdefault((target.job, target.metrics_path), []).append(target.address)
        scrape: list[dict[str, Any]] = [{
            "job_name": PUSHGATEWAY_JOB, "honor_labels": True,
            "static_configs": [{"targets": [f"127.0.0.1:{self.pushgateway_port}"]}],
        }]
        for number, ((job, path), addresses) in enumerate(by_endpoint.items()):
            scrape.append({
                "job_name": f"{job}-{number}",  # unique; the job label is set below
                "metrics_path": path,
                "static_configs": [{"targets": addresses, "labels": {"job": job}}],
            })
        return {
            "global": {"scrape_interval": interval, "scrape_timeout": interval,
                       "evaluation_interval": interval},
            "rule_files": [str(path) for path in self.rules],
            "scrape_configs": scrape,
        }

    def _write_config(self) -> None:
        self._config_path.write_text(json.dumps(self.config(), indent=2))

    def add_targets(self, *targets: ScrapeTarget) -> None:
        """Scrape these too: rewrite the config and reload the running server."""
        self.targets.extend(targets)
        self._write_config()
        request = urllib.request.Request(f"{self.prometheus_url}/-/reload", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise StackError(f"reload failed: {exc.read().decode(errors='replace')}") from exc

    # ---- API -----------------------------------------------------------------------------
    def api(self, path: str, **params: str) -> Any:
        """``GET /api/v1/<path>``'s ``data`` (raises :class:`StackError` on an error)."""
        url = f"{self.prometheus_url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise StackError(f"GET {path} {params}: HTTP {exc.code}: {detail}") from exc
        except OSError as exc:
            raise StackError(f"GET {path} {params}: {exc}") from exc
        if body.get("status") != "success":
            raise StackError(f"GET {path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query now: the result's series (a scalar is one unlabelled series)."""
        data = self.api("query", query=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Every pending or firing alert (``/api/v1/alerts``)."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts

    def active_alerts(self, name: str | None = None, state: str | None = None,
                      labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The alerts with this name, state ("pending"/"firing") and labels (all optional)."""
        return [alert for alert in self.alerts()
                if (name is None or alert["labels"].get("alertname") == name)
                and (state is None or alert["state"] == state)
                and all(alert["labels"].get(k) == v for k, v in (labels or {}).items())]

    def targets_health(self) -> list[dict[str, Any]]:
        """The active scrape targets (``/api/v1/targets``)."""
        targets: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return targets

    def delete_push_group(self, job: str) -> None:
        """Delete what was pushed with ``job`` (and no other grouping label)."""
        url = f"{self.pushgateway_url}/metrics/job/{urllib.parse.quote(job, safe='')}"
        request = urllib.request.Request(url, method="DELETE")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    # ---- waiting -------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], T], timeout: float = 30.0,
                 what: str = "condition", poll_s: float = 0.2) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except StackError as exc:
                last_error = exc
            if time.monotonic() >= deadline:
                break
            self._check_alive()
            time.sleep(poll_s)
        detail = f" (last error: {last_error})" if last_error else ""
        raise StackError(f"timed out after {timeout:.0f}s waiting for {what}{detail}\n"
                         f"{self.logs(tail=3000)}")

    def wait_for_series(self, expr: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``expr`` returns at least one series; return them."""
        return self.wait_for(lambda: self.query(expr), timeout, f"series of {expr!r}")

    def wait_for_alert(self, name: str, state: str = "firing",
                       labels: Mapping[str, str] | None = None,
                       timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``name`` is in ``state`` (with these labels); return the alerts."""
        return self.wait_for(lambda: self.active_alerts(name, state, labels), timeout,
                             f"alert {name} {state} {dict(labels or {})}")

    def wait_for_targets_up(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until every configured target has been scraped successfully."""
        expected = len(self.targets) + 1  # + the pushgateway

        def all_up() -> list[dict[str, Any]]:
            targets = self.targets_health()
            healthy = [t for t in targets if t["health"] == "up"]
            return healthy if len(healthy) >= expected else []

        return self.wait_for(all_up, timeout, f"{expected} scrape targets up")

    def wait_for_evaluation(self, timeout: float = 30.0) -> None:
        """Wait until every rule group has been evaluated again after this call."""
        since = time.time()

        def evaluated() -> bool:
            groups = self.api("rules")["groups"]
            return bool(groups) and all(_rfc3339(g["lastEvaluation"]) > since for g in groups)

        self.wait_for(evaluated, timeout, "a rule evaluation")

    def queries_without_series(self, queries: Sequence[PanelQuery],
                               timeout: float = 30.0) -> list[PanelQuery]:
        """Wait up to ``timeout`` for every query to return series; return those that don't.

        An error (say, invalid PromQL) counts as no series.
        """
        deadline = time.monotonic() + timeout
        while True:
            empty = [q for q in queries if not self._has_series(q.expr)]
            if not empty or time.monotonic() >= deadline:
                return empty
            self._check_alive()
            time.sleep(0.5)

    def _has_series(self, expr: str) -> bool:
        try:
            return bool(self.query(expr))
        except StackError:
            return False

    # ---- diagnostics ---------------------------------------------------------------------
    def _check_alive(self) -> None:
        for process in (self._prometheus, self._pushgateway):
            if process is not None and process.exited() is not None:
                raise StackError(f"{process.name} exited with {process.exited()}:\n"
                                 f"{process.log()[-4000:]}")

    def logs(self, tail: int | None = None) -> str:
        """Both processes' output (the last ``tail`` characters of each)."""
        parts = []
        for process in (self._prometheus, self._pushgateway):
            if process is not None:
                text = process.log()
                parts.append(f"----- {process.name} log -----\n"
                             f"{text[-tail:] if tail else text}")
        return "\n".join(parts)


@contextlib.contextmanager
def prometheus_stack(targets: Sequence[ScrapeTarget] = (),
                     **options: Any) -> Iterator[PrometheusStack]:
    """``with prometheus_stack(targets) as stack:`` (same as ``with PrometheusStack(...)``)."""
    with PrometheusStack(targets, **options) as stack:
        yield stack


def _flag(port: int, path: str, name: str) -> str | None:
    """A command-line flag as the server on ``port`` reports it (``None``: no answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            data = json.load(response)["data"]
    except (OSError, ValueError, KeyError):
        return None
    flags = data.get("flags", data)  # the Pushgateway nests them, Prometheus does not
    value = flags.get(name)
    return value if isinstance(value, str) else None


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _rfc3339(text: str) -> float:
    """Prometheus's UTC timestamps ("...T10:00:00.123456789Z") as Unix seconds."""
    head, _, frac = text.removesuffix("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds + (float(f"0.{frac}") if frac else 0.0)


# ---- Grafana dashboards ------------------------------------------------------------------
DASHBOARD_NAMES = ("pipeline-overview", "drift")
# Grafana's built-in variables, as a test renders them.
BUILTIN_DEFAULTS = {
    "__rate_interval": "30s", "__interval": "15s", "__interval_ms": "15000",
    "__range": "1h", "__range_s": "3600", "__range_ms": "3600000",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$")


@dataclass(frozen=True)
class PanelQuery:
    """One target of one dashboard panel, with its expression rendered for Prometheus."""

    dashboard: str
    panel: str
    ref_id: str
    expr: str
    raw_expr: str


def load_dashboard(name: str) -> dict[str, Any]:
    """``monitoring/grafana/dashboards/<name>.json``."""
    board: dict[str, Any] = json.loads((DASHBOARDS_DIR / f"{name}.json").read_text())
    return board


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def template_variables(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    variables: list[dict[str, Any]] = dashboard.get("templating", {}).get("list", [])
    return variables


def render(expr: str, variables: Mapping[str, str]) -> str:
    """Substitute ``$var``, ``${var}``, ``${var:fmt}`` and ``[[var]]``; fail on unknown ones."""

    def substitute(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in variables:
            raise KeyError(f"unknown dashboard variable ${name} in {expr!r}")
        return variables[name]

    return _VARIABLE.sub(substitute, expr)


def dashboard_variables(dashboard: Mapping[str, Any],
                        overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Built-ins plus every template variable as ``.*`` (its "All"), then ``overrides``."""
    values = dict(BUILTIN_DEFAULTS)
    for variable in template_variables(dashboard):
        values[variable["name"]] = variable.get("allValue") or ".*"
    values.update(overrides or {})
    return values


def panel_queries(dashboard: Mapping[str, Any],
                  variables: Mapping[str, str] | None = None) -> list[PanelQuery]:
    """Every panel target's expression, rendered (see :func:`dashboard_variables`)."""
    values = dashboard_variables(dashboard, variables)
    title = str(dashboard.get("title", ""))
    return [PanelQuery(title, str(panel.get("title", "")), str(target.get("refId", "")),
                       render(target["expr"], values), target["expr"])
            for panel in iter_panels(dashboard)
            for target in panel.get("targets", [])
            if target.get("expr")]


def variable_queries(dashboard: Mapping[str, Any],
                     variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each ``label_values(metric, label)`` variable as ``count by (label) (metric)``."""
    values = dashboard_variables(dashboard, variables)
    queries = {}
    for variable in template_variables(dashboard):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        match = _LABEL_VALUES.match(text or str(variable.get("definition", "")))
        if match is None:
            raise ValueError(f"variable {variable['name']}: not label_values(...): {text!r}")
        selector, label = match.group(1) or f'{{{match.group(2)}!=""}}', match.group(2)
        queries[variable["name"]] = f"count by ({label}) ({render(selector, values)})"
    return queries
