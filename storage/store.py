"""Where the master dataset lives: a local directory or an S3-compatible bucket.

Paths given to a :class:`Store` are relative to its root and use ``/``. A write is atomic:
readers see the whole file under its final name or nothing. Locally that is a temp file
beside the target, fsynced and renamed (``os.replace``); on S3 an object appears only when
its upload completes, so the upload goes straight to the final key (there is no rename).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True, order=True)
class FileEntry:
    """A file under the root: its relative path and size in bytes."""

    path: str
    size: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


class Store(Protocol):
    """The operations the archive, compaction and the batch layer need."""

    @property
    def root_uri(self) -> str:
        """The root as a URI, for messages (``/abs/dir`` or ``s3://bucket/prefix``)."""

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically, replacing any file there."""

    def read_bytes(self, path: str) -> bytes | None:
        """The file's content, or ``None`` if there is no such file."""

    def list_files(self, prefix: str) -> list[FileEntry]:
        """Every file under ``prefix`` (recursively), sorted; temp files included."""

    def list_dirs(self, prefix: str) -> list[str]:
        """The names of the directories directly under ``prefix``, sorted."""

    def delete(self, path: str) -> None:
        """Remove ``path`` if it exists."""

    def uri(self, path: str) -> str:
        """A URI for ``path`` that Polars can scan."""

    def polars_options(self) -> dict[str, str] | None:
        """``storage_options`` for Polars scans of this store (``None`` locally)."""


def is_temp(name: str) -> bool:
    """True for an in-progress write's temp file (hidden, never a dataset file)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)
