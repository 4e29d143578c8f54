"""Run a real single-node Apache Kafka broker (KRaft, broker+controller) without Docker.

The broker is a detached JVM (own session, so it outlives the Python process that started
it, e.g. ``candles kafka start``). Everything about one broker lives in its *run dir*::

    <run_dir>/cluster.id         KRaft cluster id, generated once
    <run_dir>/server.properties  rewritten on every start (ports may change)
    <run_dir>/log4j2.properties
    <run_dir>/data/              log.dirs (topics survive stop/start)
    <run_dir>/broker.log         the JVM's stdout+stderr (log4j logs to stdout)
    <run_dir>/broker.pid         present while running
    <run_dir>/broker.json        present while running: pid, bootstrap, version, ...

Topics are NOT auto-created (``auto.create.topics.enable=false``): the service's topics need
a deliberate partition count, and auto-creation would turn a typo in a topic name into a
silent new topic. Set ``LocalKafkaConfig.auto_create_topics=True`` to change that.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from confluent_kafka.admin import AdminClient

from candle_core.exceptions import ConfigError
from kafka_ops.exceptions import BrokerNotRunning, BrokerStartError
from kafka_ops.maven import DEFAULT_KAFKA_VERSION, KafkaJars, resolve_kafka
from kafka_ops.process import (
    find_java,
    pick_free_ports,
    port_is_open,
    process_alive,
    root_cause_line,
    signal_process_group,
    tail_file,
    wait_until_dead,
)
from kafka_ops.properties import (
    BrokerSettings,
    new_cluster_id,
    render_log4j2_properties,
    render_server_properties,
)

log = logging.getLogger(__name__)

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"
DEFAULT_HOST = "127.0.0.1"
_FORMAT_TIMEOUT_S = 120
_KILL_WAIT_S = 10
_POLL_INTERVAL_S = 0.2
_LIBRDKAFKA_LOG = logging.getLogger("kafka_ops.librdkafka")


def default_run_dir() -> Path:
    """Where ``candles kafka start`` keeps its broker when no run dir is given."""
    return Path.home() / ".local" / "state" / "lambda-candles" / "kafka"


@dataclass(frozen=True)
class LocalKafkaConfig:
    """How to run the local broker. ``port``/``controller_port`` of 0 or None = pick free."""

    run_dir: Path = field(default_factory=default_run_dir)
    version: str = DEFAULT_KAFKA_VERSION
    cache_dir: Path | None = None
    host: str = DEFAULT_HOST
    port: int | None = None
    controller_port: int | None = None
    heap_mb: int = 512
    auto_create_topics: bool = False
    ready_timeout_s: int = 60
    stop_timeout_s: int = 30

    def __post_init__(self) -> None:
        for name in ("port", "controller_port"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 65535:
                raise ConfigError(name, value, "a TCP port 1-65535, or 0/None to pick a free one")
        if self.port and self.port == self.controller_port:
            raise ConfigError("controller_port", self.controller_port, "must differ from port")
        if self.heap_mb < 128:
            raise ConfigError("heap_mb", self.heap_mb, "at least 128")


@dataclass(frozen=True)
class BrokerStatus:
    """What ``candles kafka status`` shows. Fields other than paths are None when stopped."""

    running: bool
    run_dir: Path
    log_path: Path
    pid: int | None = None
    bootstrap: str | None = None
    version: str | None = None
    started_at: float | None = None


class LocalKafka:
    """Start, stop and inspect one broker identified by its run dir.

    Any number of ``LocalKafka`` objects (in any number of processes) may point at the same
    run dir; they share the broker through the pid/state files and a lock file.
    """

    def __init__(self, config: LocalKafkaConfig | None = None) -> None:
        self.config = config or LocalKafkaConfig()
        # absolute: the JVM runs with cwd=run_dir, and the pid check matches on this path
        self.run_dir = self.config.run_dir.expanduser().resolve()
        self._proc: subprocess.Popen[bytes] | None = None

    # ---- paths -----------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.run_dir / "broker.log"

    @property
    def pid_path(self) -> Path:
        return self.run_dir / "broker.pid"

    @property
    def state_path(self) -> Path:
        return self.run_dir / "broker.json"

    @property
    def properties_path(self) -> Path:
        return self.run_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    # ---- public API --------------------------------------------------------------------
    def start(self) -> str:
        """Start the broker (or find it already running) and return its bootstrap address.

        Blocks until the broker answers a metadata request; downloads the jars on first use.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            current = self.status()
            if current.running and current.bootstrap:
                self._warn_if_other_version(current)
                log.info("Kafka already running at %s (pid %s)", current.bootstrap, current.pid)
                return current.bootstrap
            self._remove_runtime_files()
            return self._start_new()

    def stop(self) -> bool:
        """Stop the broker: SIGTERM, wait ``stop_timeout_s``, then SIGKILL.

        Returns False if nothing was running. Data in the run dir is kept.
        """
        with self._locked():
            state = self._read_state()
            pid = state.get("pid") if state else self._read_pid()
            stopped = isinstance(pid, int) and self._terminate(pid)
            self._remove_runtime_files()
            self._proc = None
            return stopped

    def status(self) -> BrokerStatus:
        state = self._read_state()
        pid = state.get("pid") if state else None
        if not isinstance(pid, int) or not process_alive(pid, self._cmdline_marker()):
            return BrokerStatus(running=False, run_dir=self.run_dir, log_path=self.log_path)
        return BrokerStatus(
            running=True,
            run_dir=self.run_dir,
            log_path=self.log_path,
            pid=pid,
            bootstrap=state.get("bootstrap"),
            version=state.get("version"),
            started_at=state.get("started_at"),
        )

    def bootstrap(self) -> str:
        """The running broker's bootstrap address; raises :class:`BrokerNotRunning`."""
        current = self.status()
        if not current.running or not current.bootstrap:
            raise BrokerNotRunning(self.run_dir)
        return current.bootstrap

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- start -------------------------------------------------------------------------
    def _start_new(self) -> str:
        started = time.monotonic()
        cache_dir = self.config.cache_dir
        jars = resolve_kafka(self.config.version, cache_dir and cache_dir.expanduser().resolve())
        java = find_java()
        settings = self._settings()
        self._write_configs(settings)
        self._format_storage(java, jars)
        proc = self._launch(java, jars)
        self._write_state(proc.pid, settings.bootstrap)
        try:
            self._wait_ready(proc, settings)
        except BaseException:
            self._terminate(proc.pid)
            self._remove_runtime_files()
            raise
        log.info(
            "Kafka %s ready at %s in %.1f s (pid %d, log %s)",
            self.config.version,
            settings.bootstrap,
            time.monotonic() - started,
            proc.pid,
            self.log_path,
        )
        return settings.bootstrap

    def _settings(self) -> BrokerSettings:
        fixed = {self.config.port, self.config.controller_port} - {None, 0}
        free = (p for p in pick_free_ports(self.config.host, 4) if p not in fixed)
        return BrokerSettings(
            host=self.config.host,
            port=self.config.port or next(free),
            controller_port=self.config.controller_port or next(free),
            log_dir=self.data_dir,
            auto_create_topics=self.config.auto_create_topics,
        )

    def _write_configs(self, settings: BrokerSettings) -> None:
        self.properties_path.write_text(render_server_properties(settings), encoding="utf-8")
        self._log4j_path().write_text(render_log4j2_properties(), encoding="utf-8")

    def _log4j_path(self) -> Path:
        return self.run_dir / "log4j2.properties"

    def cluster_id(self) -> str:
        """This run dir's KRaft cluster id, generated and stored on first use."""
        path = self.run_dir / "cluster.id"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = new_cluster_id()
        path.write_text(cluster_id + "\n", encoding="utf-8")
        return cluster_id

    def _java_command(self, java: str, jars: KafkaJars, heap_mb: int) -> list[str]:
        return [
            java,
            f"-Xmx{heap_mb}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self._log4j_path()}",
            "-cp",
            jars.classpath,
        ]

    def _format_storage(self, java: str, jars: KafkaJars) -> None:
        """Format ``log.dirs`` once (KRaft refuses to start on an unformatted dir)."""
        if (self.data_dir / "meta.properties").is_file():
            return
        command = [
            *self._java_command(java, jars, heap_mb=256),
            STORAGE_TOOL_CLASS,
            "format",
            "--ignore-formatted",
            "--cluster-id",
            self.cluster_id(),
            "--config",
            str(self.properties_path),
        ]
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=_FORMAT_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            tail = "\n".join(result.stdout.strip().splitlines()[-40:])
            raise BrokerStartError(
                f"formatting the KRaft storage in {self.data_dir} failed "
                f"(exit {result.returncode}); delete {self.run_dir} to start from scratch",
                log_tail=tail,
            )

    def _launch(self, java: str, jars: KafkaJars) -> subprocess.Popen[bytes]:
        command = [
            *self._java_command(java, jars, self.config.heap_mb),
            MAIN_CLASS,
            str(self.properties_path),
        ]
        log.debug("launching %s", " ".join(command))
        if self.log_path.exists():  # keep exactly one previous run's log
            self.log_path.replace(self.log_path.with_suffix(".log.1"))
        with self.log_path.open("wb") as log_file:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.run_dir,
                start_new_session=True,
            )
        return self._proc

    def _wait_ready(self, proc: subprocess.Popen[bytes], settings: BrokerSettings) -> None:
        """Wait for the listener, then for a metadata answer listing at least one broker."""
        deadline = time.monotonic() + self.config.ready_timeout_s
        while not port_is_open(settings.host, settings.port):
            self._check_alive_before(proc, deadline)
            time.sleep(_POLL_INTERVAL_S)
        # librdkafka logs go to Python logging instead of stderr
        admin = AdminClient({"bootstrap.servers": settings.bootstrap}, logger=_LIBRDKAFKA_LOG)
        while not _answers_metadata(admin, min(5.0, max(0.5, deadline - time.monotonic()))):
            self._check_alive_before(proc, deadline)
            time.sleep(_POLL_INTERVAL_S)

    def _check_alive_before(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        code = proc.poll()
        if code is not None:
            self._fail(f"the Kafka broker exited with code {code} during startup")
        if time.monotonic() > deadline:
            self._fail(f"the Kafka broker was not ready within {self.config.ready_timeout_s} s")

    def _fail(self, detail: str) -> NoReturn:
        cause = root_cause_line(self.log_path)
        if cause:
            detail += f"; cause: {cause}"
        raise BrokerStartError(detail, self.log_path, tail_file(self.log_path))

    # ---- stop --------------------------------------------------------------------------
    def _terminate(self, pid: int) -> bool:
        marker = self._cmdline_marker()
        if not process_alive(pid, marker):
            return False
        log.info("stopping Kafka (pid %d)", pid)
        signal_process_group(pid, signal.SIGTERM)
        if not wait_until_dead(pid, marker, self.config.stop_timeout_s):
            log.warning(
                "Kafka pid %d ignored SIGTERM for %d s; killing", pid, self.config.stop_timeout_s
            )
            signal_process_group(pid, signal.SIGKILL)
            wait_until_dead(pid, marker, _KILL_WAIT_S)
        if self._proc is not None and self._proc.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=1)
        return True

    # ---- files -------------------------------------------------------------------------
    def _cmdline_marker(self) -> str:
        """Text only this run dir's broker has on its command line (its properties path)."""
        return str(self.properties_path)

    def _write_state(self, pid: int, bootstrap: str) -> None:
        state = {
            "pid": pid,
            "bootstrap": bootstrap,
            "version": self.config.version,
            "started_at": time.time(),
            "log_path": str(self.log_path),
        }
        self.pid_path.write_text(f"{pid}\n", encoding="utf-8")
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.state_path)

    def _read_state(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def _remove_runtime_files(self) -> None:
        for path in (self.pid_path, self.state_path):
            path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _warn_if_other_version(self, current: BrokerStatus) -> None:
        if current.version and current.version != self.config.version:
            log.warning(
                "the broker in %s runs Kafka %s, not the requested %s; stop it first to switch",
                self.run_dir,
                current.version,
                self.config.version,
            )


def _answers_metadata(admin: AdminClient, timeout_s: float) -> bool:
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except Exception:  # KafkaException while the broker is still coming up
        return False
    return bool(metadata.brokers)
