"""The S3 store (AWS or any S3-compatible server), through ``pyarrow.fs.S3FileSystem``.

An S3 object becomes visible only when its upload completes (a single PUT, or the
completion of a multipart upload), so a write goes straight to its final key: a killed
writer leaves nothing visible, which is what the local store's temp+rename achieves.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import pyarrow.fs as pafs

from storage.exceptions import StoreUnavailableError
from storage.settings import ArchiveSettings
from storage.store import FileEntry


@dataclass
class S3Store:
    """A :class:`~storage.store.Store` under ``s3://bucket/prefix``."""

    fs: pafs.S3FileSystem
    base: str  # "bucket/prefix" without a trailing slash
    options: dict[str, str]

    @classmethod
    def from_settings(cls, root: str, settings: ArchiveSettings) -> S3Store:
        secret = settings.s3_secret_access_key
        key, secret_value = settings.s3_access_key_id, secret.get_secret_value() if secret else None
        endpoint = urlparse(settings.s3_endpoint_url) if settings.s3_endpoint_url else None
        fs = pafs.S3FileSystem(
            access_key=key, secret_key=secret_value, region=settings.s3_region,
            scheme=endpoint.scheme if endpoint else None,
            endpoint_override=endpoint.netloc if endpoint else None,
        )
        options = {"aws_region": settings.s3_region}
        if key and secret_value:
            options |= {"aws_access_key_id": key, "aws_secret_access_key": secret_value}
        if settings.s3_endpoint_url:
            options |= {"aws_endpoint_url": settings.s3_endpoint_url,
                        "aws_allow_http": str(settings.s3_endpoint_url.startswith("http:"))}
        return cls(fs, root.removeprefix("s3://").rstrip("/"), options)

    @property
    def root_uri(self) -> str:
        return f"s3://{self.base}"

    def _full(self, path: str) -> str:
        return f"{self.base}/{path}".rstrip("/")

    def write_bytes(self, path: str, data: bytes) -> None:
        try:
            with self.fs.open_output_stream(self._full(path)) as out:
                out.write(data)
        except OSError as exc:
            raise StoreUnavailableError(self.uri(path), "write", exc) from exc

    def read_bytes(self, path: str) -> bytes | None:
        try:
            with self.fs.open_input_stream(self._full(path)) as stream:
                return bytes(stream.read())
        except FileNotFoundError:
            return None

    def list_files(self, prefix: str) -> list[FileEntry]:
        selector = pafs.FileSelector(self._full(prefix), recursive=True, allow_not_found=True)
        strip = len(self.base) + 1
        return sorted(FileEntry(info.path[strip:], info.size or 0)
                      for info in self.fs.get_file_info(selector)
                      if info.type == pafs.FileType.File)

    def list_dirs(self, prefix: str) -> list[str]:
        selector = pafs.FileSelector(self._full(prefix), recursive=False, allow_not_found=True)
        return sorted(info.base_name for info in self.fs.get_file_info(selector)
                      if info.type == pafs.FileType.Directory)

    def delete(self, path: str) -> None:
        try:
            self.fs.delete_file(self._full(path))
        except FileNotFoundError:
            return

    def uri(self, path: str) -> str:
        return f"s3://{self._full(path)}"

    def polars_options(self) -> dict[str, str] | None:
        return dict(self.options)
