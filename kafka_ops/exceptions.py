"""Errors raised by :mod:`kafka_ops` (resolving Kafka jars, running a local broker).

Every class derives from :class:`KafkaOpsError` and from one of the shared
:mod:`candle_core.exceptions` kinds, so callers can tell whether a retry can help.
Messages say what to do next; when an external tool failed, its output tail is attached.
"""

from __future__ import annotations

from pathlib import Path

from candle_core.exceptions import CandlesError, TerminalError, TransientError


class KafkaOpsError(CandlesError):
    """Root of every error raised on purpose by :mod:`kafka_ops`."""


class ToolNotFoundError(KafkaOpsError, TerminalError):
    """A required executable (``mvn`` or ``java``) is not installed or not on PATH."""

    def __init__(self, tool: str, hint: str) -> None:
        self.tool = tool
        super().__init__(f"{tool!r} was not found: {hint}")


class MavenResolveError(KafkaOpsError, TerminalError):
    """``mvn`` ran but could not download the Kafka jars (bad version, no network, ...)."""

    def __init__(self, coordinates: str, detail: str, output_tail: str = "") -> None:
        self.coordinates = coordinates
        self.output_tail = output_tail
        message = f"could not resolve {coordinates} from Maven Central: {detail}"
        if output_tail:
            message += f"\n--- mvn output (tail) ---\n{output_tail}"
        super().__init__(message)


class BrokerStartError(KafkaOpsError, TerminalError):
    """The local broker failed to format its storage, exited early, or never became ready."""

    def __init__(self, detail: str, log_path: Path | None = None, log_tail: str = "") -> None:
        self.log_path = log_path
        self.log_tail = log_tail
        message = detail
        if log_path is not None:
            message += f" (full log: {log_path})"
        if log_tail:
            message += f"\n--- broker log (tail) ---\n{log_tail}"
        super().__init__(message)


class BrokerNotRunning(KafkaOpsError, TransientError):  # noqa: N818 - name is the API
    """An operation needs the local broker but none is running from this run dir.

    Transient: it succeeds once the broker is started (``candles kafka start``).
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        super().__init__(
            f"no local Kafka broker is running from {run_dir}; start one with "
            "`candles kafka start` (or LocalKafka(...).start())"
        )


class BrokerNotConfiguredError(KafkaOpsError, TerminalError):
    """No bootstrap servers are configured and no local broker is running to fall back on."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "no Kafka broker configured: set KAFKA_BOOTSTRAP_SERVERS (or "
            "CANDLES_KAFKA_BOOTSTRAP_SERVERS), or start a local broker with `candles kafka start`"
        )
        super().__init__(f"{message} ({detail})" if detail else message)


class KafkaFatalError(KafkaOpsError, TerminalError):
    """librdkafka reported a fatal error (a static member fenced by its own successor
    after a session timeout, a fenced transactional producer): the client cannot go on.

    ``abandon_clients``: the process must exit without closing its clients, whose close
    can wait forever after a fatal error; a restart resumes from the last commit.
    """

    abandon_clients = True

    def __init__(self, client: str, detail: str) -> None:
        self.client = client
        super().__init__(f"fatal Kafka error in the {client}: {detail}; exiting so that a "
                         "restart resumes from the last commit")
