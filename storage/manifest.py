"""``_archive.json`` at the root: the layout parameters every file name depends on.

Written by the first archiver, checked by every later one, so a changed chunk size stops
the process with a clear message instead of silently duplicating rows on replay.
"""

from __future__ import annotations

import json

from storage.exceptions import ArchiveLayoutError
from storage.store import Store

MANIFEST = "_archive.json"
LAYOUT_VERSION = 1


def ensure_layout(store: Store, chunk_offsets: int) -> None:
    """Create the manifest, or check that it matches ``chunk_offsets``."""
    wanted = {"layout_version": LAYOUT_VERSION, "chunk_offsets": chunk_offsets}
    raw = store.read_bytes(MANIFEST)
    if raw is None:
        store.write_bytes(MANIFEST, json.dumps(wanted, sort_keys=True).encode() + b"\n")
        return
    try:
        found = json.loads(raw)
    except ValueError:
        found = {"unreadable": raw[:80].decode(errors="replace")}
    if found != wanted:
        raise ArchiveLayoutError(store.root_uri, found, wanted)
