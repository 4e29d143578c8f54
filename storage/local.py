"""The local-directory store: temp file, fsync, ``os.replace``, fsync of the directory."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from storage.exceptions import StoreUnavailableError
from storage.store import TEMP_SUFFIX, FileEntry


class LocalStore:
    """A :class:`~storage.store.Store` on a local (POSIX) filesystem."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()

    @property
    def root_uri(self) -> str:
        return str(self.root)

    def _full(self, path: str) -> Path:
        return self.root / path

    def write_bytes(self, path: str, data: bytes) -> None:
        target = self._full(path)
        temp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}"
                                f"{TEMP_SUFFIX}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StoreUnavailableError(str(target), "write", exc) from exc

    def read_bytes(self, path: str) -> bytes | None:
        try:
            return self._full(path).read_bytes()
        except FileNotFoundError:
            return None

    def list_files(self, prefix: str) -> list[FileEntry]:
        base = self._full(prefix)
        if not base.is_dir():
            return []
        entries = [FileEntry(p.relative_to(self.root).as_posix(), p.stat().st_size)
                   for p in base.rglob("*") if p.is_file()]
        return sorted(entries)

    def list_dirs(self, prefix: str) -> list[str]:
        base = self._full(prefix)
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def delete(self, path: str) -> None:
        self._full(path).unlink(missing_ok=True)

    def uri(self, path: str) -> str:
        return str(self._full(path))

    def polars_options(self) -> dict[str, str] | None:
        return None


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX needs the directory fsynced)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
