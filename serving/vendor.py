"""Vendor TradingView lightweight-charts (Apache-2.0) into ``serving/static/vendor/``.

Run ``python -m serving.vendor [VERSION]`` once per upgrade and commit the result, so the
page and CI work offline. It downloads the npm tarball, checks it against the registry's
``dist.integrity`` (sha512), extracts the standalone production build and the licence, and
records the version, the tarball integrity and the file's own sha512 in ``vendor.json``
(``tests/serving/test_vendor.py`` checks the committed file against it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import httpx

PACKAGE = "lightweight-charts"
DEFAULT_VERSION = "4.2.3"
REGISTRY = "https://registry.npmjs.org"
BUILD = "package/dist/lightweight-charts.standalone.production.js"
LICENSE = "package/LICENSE"
VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
SCRIPT_NAME = "lightweight-charts.standalone.production.js"
RECORD_NAME = "vendor.json"


def sri(data: bytes) -> str:
    """A Subresource-Integrity string (``sha512-<base64>``), npm's ``integrity`` format."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(version: str, client: httpx.Client) -> tuple[bytes, str, str]:
    """The tarball of ``version`` checked against the registry; returns (tgz, integrity, url)."""
    meta = client.get(f"{REGISTRY}/{PACKAGE}/{version}").raise_for_status().json()
    integrity, url = meta["dist"]["integrity"], meta["dist"]["tarball"]
    tarball = client.get(url).raise_for_status().content
    if sri(tarball) != integrity:
        raise SystemExit(f"{url}: sha512 does not match the registry's integrity {integrity}")
    return tarball, integrity, url


def vendor(version: str = DEFAULT_VERSION, target: Path = VENDOR_DIR) -> dict[str, str]:
    """Fetch, verify and write the build, its licence and ``vendor.json``; return the record."""
    with httpx.Client(timeout=60, follow_redirects=True) as client:
        tarball, integrity, url = fetch(version, client)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        files = {name: _member(archive, name) for name in (BUILD, LICENSE)}
    target.mkdir(parents=True, exist_ok=True)
    (target / SCRIPT_NAME).write_bytes(files[BUILD])
    (target / "LICENSE-lightweight-charts").write_bytes(files[LICENSE])
    record = {"package": PACKAGE, "version": version, "tarball": url,
              "tarball_integrity": integrity, "file": SCRIPT_NAME,
              "file_integrity": sri(files[BUILD]), "license": "Apache-2.0"}
    (target / RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n")
    return record


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    extracted = archive.extractfile(name)
    if extracted is None:
        raise SystemExit(f"{name} is not a file in the {PACKAGE} tarball")
    return extracted.read()


if __name__ == "__main__":
    print(json.dumps(vendor(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VERSION), indent=2))
