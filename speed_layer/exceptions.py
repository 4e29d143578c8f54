"""Errors of the speed layer."""

from __future__ import annotations

from candle_core.exceptions import TerminalError, TransientError


class SpeedLayerError(TerminalError):
    """The speed layer cannot go on; the message says what to fix."""


class StateRestoreError(TransientError):
    """The open-window changelog could not be read back in time; restart to try again."""

    def __init__(self, topic: str, partition: int, detail: str) -> None:
        self.topic, self.partition = topic, partition
        super().__init__(f"restoring state from {topic}[{partition}] failed: {detail}")
