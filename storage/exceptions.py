"""Errors raised by :mod:`storage` (the archive, the store and compaction).

Every class derives from :class:`StorageError` and from one of the shared kinds: a store
that did not answer is transient (retry later), a layout that does not match the archive
is terminal (fix the configuration first).
"""

from __future__ import annotations

import errno

from candle_core.exceptions import CandlesError, TerminalError, TransientError


class StorageError(CandlesError):
    """Root of every error raised on purpose by :mod:`storage`."""


class StoreUnavailableError(StorageError, TransientError):
    """Reading or writing the store failed (disk full, S3 endpoint down, permissions)."""

    def __init__(self, uri: str, action: str, cause: Exception) -> None:
        self.uri, self.action, self.cause = uri, action, cause
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            advice = ("The disk is full: free space on the volume that holds it (or grow "
                      "it), then run again")
        else:
            advice = ("Check that the store is reachable and writable "
                      "(CANDLES_ARCHIVE_ROOT, CANDLES_S3_*), then run again")
        super().__init__(f"could not {action} {uri}: {cause}. {advice}: no "
                         "partial file was left, and nothing was committed past the last "
                         "complete file")


class ArchiveLayoutError(StorageError, TerminalError):
    """The archive at this root was written with a different chunk size (or is not ours)."""

    def __init__(self, root: str, found: object, wanted: object) -> None:
        self.root, self.found, self.wanted = root, found, wanted
        super().__init__(
            f"archive {root} uses {found}, but this process is configured for {wanted}: "
            "file names derive from the chunk size, so changing it would duplicate rows on "
            "replay. Set CANDLES_ARCHIVE_CHUNK_OFFSETS back, or archive to a new root")


class OffsetOrderError(StorageError, TerminalError):
    """A partition's offsets went backwards inside one assignment (a bug or a manual seek)."""

    def __init__(self, topic: str, partition: int, offset: int, chunk_first: int) -> None:
        self.topic, self.partition, self.offset = topic, partition, offset
        super().__init__(
            f"{topic}[{partition}] offset {offset} is before the open chunk at {chunk_first}: "
            "offsets must only grow within an assignment; restart the archiver")


class DatasetNotFoundError(StorageError, TerminalError):
    """There is no data where a job expected some (wrong date, root or symbols)."""

    def __init__(self, where: str, hint: str) -> None:
        self.where, self.hint = where, hint
        super().__init__(f"no data at {where}: {hint}")


class ArchiveCommitError(StorageError, TransientError):
    """A sealed chunk's offset could not be committed (the broker stayed away)."""

    def __init__(self, topic: str, partition: int, offset: int, detail: str) -> None:
        self.topic, self.partition, self.offset = topic, partition, offset
        super().__init__(f"could not commit {topic}[{partition}] at offset {offset}: "
                         f"{detail}. The chunk's files are written; a restart re-reads the "
                         "chunk, rewrites them with the same bytes and commits")


class BadReportError(StorageError, TerminalError):
    """A ``report.json`` that is not a reconciliation report this version can read."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: not a reconciliation report this version can read "
                         f"({problem}); run `candles reconcile` for that date again")


class BadDatasetError(StorageError, TerminalError):
    """Files of the dataset lack what every file of their kind has (damaged, or not ours)."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}. These files were not written by `candles "
                         "archive` or were damaged: move them away and archive the topic "
                         "again (a replay rewrites the same files)")
