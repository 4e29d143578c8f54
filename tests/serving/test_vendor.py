"""The committed chart library is the one ``serving/vendor.py`` recorded: its sha512 is
``vendor.json``'s ``file_integrity``, and the page loads that file (offline, no CDN)."""

from __future__ import annotations

import json

from serving.vendor import RECORD_NAME, SCRIPT_NAME, VENDOR_DIR, sri


def test_the_vendored_build_matches_its_record() -> None:
    record = json.loads((VENDOR_DIR / RECORD_NAME).read_text())
    assert record["file"] == SCRIPT_NAME
    assert sri((VENDOR_DIR / SCRIPT_NAME).read_bytes()) == record["file_integrity"]
    assert (VENDOR_DIR / "LICENSE-lightweight-charts").read_text().strip()


def test_the_page_loads_the_vendored_build() -> None:
    page = (VENDOR_DIR.parent / "index.html").read_text()
    assert f"vendor/{SCRIPT_NAME}" in page
