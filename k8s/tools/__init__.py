"""Tooling for the Kubernetes manifests under ``k8s/``: render, validate, generate.

Not part of the installed package: scripts/check-k8s and tests/k8s run it from the
repository (``python -m k8s.tools.check``, ``python -m k8s.tools.monitoring``).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
BASE = K8S / "base"
SECRET_TEMPLATE = BASE / "secret.template.yaml"
SCHEMAS = K8S / "schemas"

# Every overlay CI renders and validates: name -> kustomization directory.
OVERLAYS = {
    "dev": K8S / "overlays" / "dev",
    "prod": K8S / "overlays" / "prod",
    "prod-keda": K8S / "overlays" / "prod-keda",
    "prod-sharded": K8S / "overlays" / "prod-sharded",
}

# The oldest Kubernetes the manifests support (podFailurePolicy and the PDB's
# unhealthyPodEvictionPolicy are GA from 1.31) and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
