"""Errors raised by :mod:`sources` (the simulator and file replay).

Every class derives from :class:`SourcesError` and from one of the shared
:mod:`candle_core.exceptions` kinds: a bad input file or a bad flag is terminal (fix the
input, retrying will not help); a broker that did not accept our messages is transient.
"""

from __future__ import annotations

from pathlib import Path

from candle_core.exceptions import CandlesError, TerminalError, TransientError


class SourcesError(CandlesError):
    """Root of every error raised on purpose by :mod:`sources`."""


class SourceFormatError(SourcesError, TerminalError):
    """A line (or row) of an input file is not in the format it claims to be.

    Carries the file, the 1-based line number (0 when the problem is the whole file) and
    what is wrong, so the message points at the exact place to fix.
    """

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}")


class SourceOptionError(SourcesError, TerminalError):
    """A flag or option combination that cannot work (names the flag and what is allowed)."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


class DeliveryError(SourcesError, TransientError):
    """The broker did not acknowledge every message (count of failures, first error)."""

    def __init__(self, failed: int, first_error: str) -> None:
        self.failed = failed
        self.first_error = first_error
        super().__init__(f"{failed} message(s) were not delivered; first error: {first_error}")
