"""Download the Apache Kafka broker jars from Maven Central with ``mvn``.

Why Maven and not the release tarball: Maven Central is reachable from the build machines
(the Apache download mirrors are not), and ``mvn`` already knows how to resolve the broker's
transitive runtime dependencies and cache them in ``~/.m2``.

Layout of the cache (one directory per Kafka version)::

    <cache_dir>/<version>/pom.xml     generated, kept for debugging
    <cache_dir>/<version>/libs/*.jar  the broker's runtime classpath
    <cache_dir>/<version>/.complete   written last; its presence means "nothing to do"
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from candle_core.exceptions import ConfigError
from kafka_ops.exceptions import MavenResolveError, ToolNotFoundError

log = logging.getLogger(__name__)

DEFAULT_KAFKA_VERSION = "4.3.1"
"""Newest Kafka line with a bug-fix release when this was written (4.4.0 was a fresh .0)."""

SCALA_BINARY_VERSION = "2.13"
LOG4J_VERSION = "2.25.5"
"""Log4j 2 backend for the broker's SLF4J 1.7 logging (Kafka's pom ships no backend)."""

DEPENDENCY_PLUGIN_VERSION = "3.8.1"
MAVEN_TIMEOUT_S = 900
CACHE_DIR_ENV = "CANDLES_KAFKA_CACHE_DIR"

_COMPLETE_MARKER = ".complete"
_OUTPUT_TAIL_LINES = 40
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?$")


@dataclass(frozen=True)
class KafkaJars:
    """A complete, downloaded set of broker jars for one Kafka version."""

    version: str
    home: Path

    @property
    def libs_dir(self) -> Path:
        return self.home / "libs"

    @property
    def classpath(self) -> str:
        """A ``java -cp`` value (the JVM expands the ``*`` wildcard itself)."""
        return str(self.libs_dir / "*")


def default_cache_dir() -> Path:
    """``$CANDLES_KAFKA_CACHE_DIR`` if set, else ``~/.cache/lambda-candles/kafka``."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "lambda-candles" / "kafka"


def kafka_coordinates(version: str) -> str:
    """The Maven coordinates of the broker artifact, ``group:artifact:version``."""
    return f"org.apache.kafka:kafka_{SCALA_BINARY_VERSION}:{version}"


def validate_version(version: str) -> str:
    """Reject anything that is not a plain release number (it becomes a path component)."""
    if not _VERSION_RE.match(version):
        raise ConfigError("kafka version", version, "a release number such as 4.1.1")
    return version


def render_pom(version: str, log4j_version: str = LOG4J_VERSION) -> str:
    """A throw-away pom whose runtime classpath is a runnable KRaft broker."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lambda-candles.local</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_BINARY_VERSION}</artifactId>
      <version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{log4j_version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j_version}</version>
    </dependency>
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-dependency-plugin</artifactId>
          <version>{DEPENDENCY_PLUGIN_VERSION}</version>
        </plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
"""


def version_home(version: str, cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / validate_version(version)


def is_resolved(version: str, cache_dir: Path | None = None) -> bool:
    return (version_home(version, cache_dir) / _COMPLETE_MARKER).is_file()


def find_mvn(mvn: str | None = None) -> str:
    found = shutil.which(mvn or "mvn")
    if found is None:
        raise ToolNotFoundError(
            mvn or "mvn",
            "install Apache Maven 3.8+ (e.g. `apt-get install maven`) or pass its path",
        )
    return found


def resolve_kafka(
    version: str = DEFAULT_KAFKA_VERSION,
    cache_dir: Path | None = None,
    *,
    mvn: str | None = None,
    timeout_s: int = MAVEN_TIMEOUT_S,
) -> KafkaJars:
    """Make sure the broker jars for ``version`` are in the cache; return where they are.

    Idempotent and safe to call from several processes at once (a file lock serialises
    the download; the later caller finds the marker and returns at once).
    """
    home = version_home(version, cache_dir)
    jars = KafkaJars(version=version, home=home)
    if is_resolved(version, cache_dir):
        return jars
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home / ".lock"):
        if not is_resolved(version, cache_dir):
            _download(jars, find_mvn(mvn), timeout_s)
    return jars


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(jars: KafkaJars, mvn: str, timeout_s: int) -> None:
    """Copy the runtime dependency closure into ``libs.partial``, then rename it to ``libs``."""
    coordinates = kafka_coordinates(jars.version)
    pom = jars.home / "pom.xml"
    pom.write_text(render_pom(jars.version), encoding="utf-8")
    partial = jars.home / "libs.partial"
    for stale in (partial, jars.libs_dir):
        shutil.rmtree(stale, ignore_errors=True)
    log.info("resolving %s with %s into %s (first time only)", coordinates, mvn, jars.libs_dir)
    started = time.monotonic()
    _run_mvn(mvn, pom, partial, coordinates, timeout_s)
    if not any(partial.glob("kafka_*.jar")):
        raise MavenResolveError(coordinates, f"mvn succeeded but {partial} holds no kafka jar")
    partial.rename(jars.libs_dir)
    (jars.home / _COMPLETE_MARKER).write_text(coordinates + "\n", encoding="utf-8")
    log.info("resolved %s in %.1f s", coordinates, time.monotonic() - started)


def _run_mvn(mvn: str, pom: Path, output_dir: Path, coordinates: str, timeout_s: int) -> None:
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={output_dir}",
        "-DincludeScope=runtime",
    ]
    try:
        result = subprocess.run(
            command,
            cwd=pom.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else ""
        raise MavenResolveError(
            coordinates, f"mvn did not finish within {timeout_s} s", _tail(output)
        ) from exc
    if result.returncode != 0:
        raise MavenResolveError(
            coordinates,
            f"mvn exited with code {result.returncode}; check the version exists on "
            "Maven Central and that the machine can reach it",
            _tail(result.stdout),
        )


def _tail(text: str, lines: int = _OUTPUT_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
