"""Opening a :class:`~storage.store.Store`: the factory, kept out of the protocol module
so that ``store.py`` imports neither implementation (each of which imports it)."""

from __future__ import annotations

from storage.local import LocalStore
from storage.s3 import S3Store
from storage.settings import ArchiveSettings
from storage.store import Store


def open_store(settings: ArchiveSettings) -> Store:
    """The store for ``settings.archive_root`` (``s3://...`` or a local path)."""
    root = settings.archive_root
    if root.startswith("s3://"):
        return S3Store.from_settings(root, settings)
    return LocalStore(root)
