"""Each overlay rendered once per session (kustomize runs as a subprocess)."""

from __future__ import annotations

import pytest

from k8s.tools import OVERLAYS
from k8s.tools.render import Manifest, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    """Overlay name -> every object kustomize builds for it."""
    return {name: render(directory) for name, directory in OVERLAYS.items()}
