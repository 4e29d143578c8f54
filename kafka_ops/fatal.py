"""Noticing librdkafka's fatal errors, which a client may otherwise only log, and never
hanging on a client's close.

A static group member whose session timed out during a broker outage rejoins, and the
coordinator can fence it off as "another consumer with the same group.instance.id"
(librdkafka issue 3437): a fatal error, after which the consumer delivers nothing, and
whose ``KafkaError.fatal()`` can even say False (confluent-kafka-python issue 869, the
code is ``_FATAL``). Without this watch a process would stall silently, healthy-looking.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from confluent_kafka import KafkaError

from kafka_ops.exceptions import KafkaFatalError

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 20.0


def is_fatal(error: KafkaError) -> bool:
    """Fatal by its flag or by its code (the flag is not always set)."""
    return bool(error.fatal()) or error.code() == KafkaError._FATAL


class FatalErrorWatch:
    """An ``error_cb`` for client configs: remembers the first fatal error;
    :meth:`check` raises it from the processing loop."""

    def __init__(self, client: str) -> None:
        self.client = client
        self.error: KafkaError | None = None

    def __call__(self, error: KafkaError) -> None:
        if self.error is None and is_fatal(error):
            self.error = error

    def check(self) -> None:
        if self.error is not None:
            raise KafkaFatalError(self.client, self.error.str())


def close_bounded(consumer: Any, timeout_s: float) -> bool:
    """``consumer.close()``, given at most ``timeout_s``: after a broker outage, close can
    wait on an unreachable group coordinator far longer than a shutdown may take (and
    Kubernetes sends SIGKILL after its grace period anyway). Everything it would have
    committed is committed already, so abandoning it is safe. True if it closed."""
    done = threading.Event()

    def close() -> None:
        try:
            consumer.close()
        except Exception as exc:  # a close that fails is a close that is over
            log.warning("consumer close failed: %s", exc)
        finally:
            done.set()

    threading.Thread(target=close, name="consumer-close", daemon=True).start()
    if not done.wait(timeout_s):
        log.warning("consumer close did not finish in %.0f s; exiting without it", timeout_s)
        return False
    return True
