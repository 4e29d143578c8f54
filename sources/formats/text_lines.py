"""Text lines of a plain file or of the one file inside a ``.zip``, with line numbers.

data.binance.vision publishes every file as ``NAME.zip`` holding a single ``NAME.csv``;
readers take either, and the zip is read as a stream, never extracted to disk. An error
inside a zip names both, as ``NAME.zip!NAME.csv:LINE`` (the Java ``jar!entry`` spelling),
so the message points at the file a person would unzip.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sources.exceptions import SourceFormatError

ZIP_SUFFIX = ".zip"
HEAD_BYTES = 4096


@dataclass(frozen=True)
class TextFile:
    """An open text file: the name errors should show, and its ``(line, text)`` pairs."""

    shown_as: Path
    lines: Iterator[tuple[int, str]]


def is_zip(path: Path) -> bool:
    """True for a ``.zip`` file name (the content is checked when it is opened)."""
    return path.suffix.lower() == ZIP_SUFFIX


def _member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    files = [info for info in archive.infolist() if not info.is_dir()]
    if len(files) != 1:
        names = ", ".join(info.filename for info in files) or "nothing"
        raise SourceFormatError(path, 0, f"a published zip holds exactly one file; this one "
                                f"holds {names}: unzip it and pass the file to read")
    return files[0]


@contextmanager
def open_text(path: Path, encoding: str = "utf-8") -> Iterator[TextFile]:
    """``path`` (or the single file inside ``path`` when it is a ``.zip``) as numbered
    lines, 1-based, line endings kept (callers strip)."""
    if not is_zip(path):
        with path.open(encoding=encoding, newline="") as handle:
            yield TextFile(path, enumerate(handle, 1))
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceFormatError(path, 0, f"not a readable zip file: {exc}") from None
    with archive:
        member = _member(archive, path)
        with archive.open(member) as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, newline="")
            yield TextFile(Path(f"{path}!{member.filename}"), enumerate(text, 1))


def first_line(path: Path) -> bytes:
    """The first non-blank line's bytes (up to :data:`HEAD_BYTES`), for format detection."""
    try:
        if is_zip(path):
            with zipfile.ZipFile(path) as archive, archive.open(_member(archive, path)) as raw:
                head = raw.read(HEAD_BYTES)
        else:
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceFormatError(path, 0, f"cannot read: {exc}") from None
    return head.lstrip().split(b"\n", 1)[0]
