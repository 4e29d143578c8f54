"""Errors raised by :mod:`sources.ingest` (the kinds say whether a retry can help)."""

from __future__ import annotations

from pathlib import Path

from candle_core.exceptions import TerminalError
from sources.exceptions import SourcesError


class FeedRefusedError(SourcesError, TerminalError):
    """The feed answered with a client error other than 429: the URL or a parameter is
    wrong, and retrying the same request will not help."""

    def __init__(self, url: str, status: int, body: str) -> None:
        self.url, self.status, self.body = url, status, body
        super().__init__(f"{url} answered HTTP {status}: {body[:200]!r}; check the URL "
                         "(the feed's base URL, e.g. http://127.0.0.1:8000)")


class CheckpointMismatchError(SourcesError, TerminalError):
    """The checkpoint file belongs to another feed or another mode."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}; pass another --checkpoint (the topic itself "
                         "still prevents duplicates) or delete this one")
