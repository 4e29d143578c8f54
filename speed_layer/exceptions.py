"""Errors of the speed layer."""

from __future__ import annotations

from candle_core.exceptions import TerminalError, TransientError


class SpeedLayerError(TerminalError):
    """The speed layer cannot go on; the message says what to fix."""


class TransactionFailedError(SpeedLayerError):
    """A transaction could not be committed (e.g. its coordinator moved during a broker
    outage). Exit code 2: a restart resumes exactly from the last commit. The clients are
    abandoned, not closed: a producer with a failed transaction can wait long on close."""

    abandon_clients = True

    def __init__(self, detail: str) -> None:
        super().__init__(f"the Kafka transaction could not be committed: {detail}; exiting "
                         "so a restart resumes from the last commit")


class StateRestoreError(TransientError):
    """The open-window changelog could not be read back in time; restart to try again."""

    def __init__(self, topic: str, partition: int, detail: str) -> None:
        self.topic, self.partition = topic, partition
        super().__init__(f"restoring state from {topic}[{partition}] failed: {detail}")
