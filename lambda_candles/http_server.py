"""``/metrics`` and ``/healthz`` for a long-running process, on a daemon thread.

Healthy means the processing loop reported progress within ``stale_after_s``: a stuck
loop fails the Kubernetes liveness probe instead of silently holding its partitions.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kafka_ops.liveness import Heartbeat

# A consumer loop silent this long is stuck in a Kafka call (longer than any of its own
# timeouts: restore 60 s, transactions 30 s): the process exits and is restarted.
STALL_EXIT_S = 150.0
STOP_GRACE_S = 45.0  # after SIGTERM, at most this long to finish the transaction


def serve(registry: CollectorRegistry, heartbeat: Heartbeat, port: int,
          host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start serving on ``port`` (0 = any free port) and return the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path.startswith("/healthz"):
                ok = heartbeat.healthy()
                self._send(200 if ok else 503, b"ok\n" if ok else b"stale\n", "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # access logs would drown the structured logs

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server


def start_observability(port: int, stale_after_s: float
                        ) -> tuple[CollectorRegistry, Heartbeat]:
    """A long-running command's registry and heartbeat, served on ``port`` (0: not served)."""
    registry = CollectorRegistry()
    heartbeat = Heartbeat(stale_after_s)
    if port:
        server = serve(registry, heartbeat, port)
        logging.getLogger(__name__).info("serving /metrics and /healthz",
                                         extra={"port": server.server_port})
    return registry, heartbeat
