"""OS-level helpers for the local broker: find java, pick ports, find and signal processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
from pathlib import Path

from kafka_ops.exceptions import ToolNotFoundError

_POLL_INTERVAL_S = 0.1


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME is set and valid, else ``java`` from PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise ToolNotFoundError(
            "java", "install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)"
        )
    return found


def pick_free_ports(host: str, count: int) -> list[int]:
    """Ask the OS for ``count`` distinct free TCP ports on ``host``.

    All sockets stay bound until every port is chosen, so the ports differ from each other.
    Another process may still grab one before the broker binds it; that shows up as a
    clear "Address already in use" in the broker log.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_is_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def process_alive(pid: int, cmdline_marker: str | None = None) -> bool:
    """True if ``pid`` runs and (where /proc exists) its command line holds the marker.

    The marker guards against a recycled pid: after a reboot the pid in a stale state file
    may belong to an unrelated process, which must never be signalled. Zombies have an
    empty command line and count as dead.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline_marker is None or not Path("/proc/self").exists():
        return True
    try:
        return cmdline_marker in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def signal_process_group(pid: int, sig: signal.Signals) -> None:
    """Signal the group led by ``pid`` (started with a new session), else just ``pid``."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_until_dead(pid: int, cmdline_marker: str | None, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap_if_child(pid)
        if not process_alive(pid, cmdline_marker):
            return True
        time.sleep(_POLL_INTERVAL_S)
    return not process_alive(pid, cmdline_marker)


def _reap_if_child(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def tail_file(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def root_cause_line(path: Path) -> str | None:
    """The most telling line of a JVM log: the last ``Caused by:``, else the first ERROR.

    The tail of a failed broker log is shutdown noise; the cause is usually further up.
    """
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    causes = [line.strip() for line in lines if line.startswith("Caused by:")]
    if causes:
        return causes[-1]
    errors = [line.strip() for line in lines if "] ERROR " in line or "] FATAL " in line]
    return errors[0] if errors else None
