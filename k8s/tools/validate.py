"""Validate rendered objects: built-in kinds with kubernetes-validate (strict), custom
resources against the schemas in ``k8s/schemas/``.

kubernetes-validate ships the Kubernetes OpenAPI schemas, so this runs offline; its strict
schemas reject any property Kubernetes does not know (a misspelt or misplaced field), as
``kubectl apply --validate=strict`` would. It has no schemas for custom resources, and its
CLI only warns about them: their schemas here are hand-written from the CRDs (required
fields, types, and no unknown property in the parts these manifests use).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from k8s.tools import KUBERNETES_VERSIONS, SCHEMAS
from k8s.tools.render import Manifest

# apiVersion/kind -> schema file of a custom resource these manifests use.
CUSTOM_RESOURCES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.monitoring.coreos.com-v1",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.monitoring.coreos.com-v1",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.keda.sh-v1alpha1",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication.keda.sh-v1alpha1",
}
CLUSTER_SCOPED = {"Namespace"}


def describe(obj: Manifest) -> str:
    """``Kind/name`` of a manifest, for messages."""
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"


def is_custom(obj: Manifest) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) in CUSTOM_RESOURCES


@cache
def _custom_validator(schema_name: str) -> Any:
    common = json.loads((SCHEMAS / "_common.json").read_text())
    schema = json.loads((SCHEMAS / f"{schema_name}.json").read_text())
    registry: Registry[Any] = Registry().with_resource(common["$id"],
                                                       Resource.from_contents(common))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def custom_problems(obj: Manifest) -> Iterator[str]:
    """Where a custom resource breaks its schema, plus what a schema cannot say."""
    schema_name = CUSTOM_RESOURCES[(obj["apiVersion"], obj["kind"])]
    for error in _custom_validator(schema_name).iter_errors(obj):
        path = ".".join(str(part) for part in error.absolute_path) or "(top)"
        yield f"{describe(obj)}: {path}: {error.message}"
    if obj["kind"] == "PrometheusRule":
        names = [group.get("name") for group in obj.get("spec", {}).get("groups", [])]
        for name in sorted({name for name in names if names.count(name) > 1}):
            yield f"{describe(obj)}: spec.groups: duplicate group name {name!r}"


def builtin_problems(obj: Manifest, versions: Iterable[str]) -> Iterator[str]:
    """Where a built-in object breaks the strict schema of any of ``versions``."""
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path) or "(top)"
            yield f"{describe(obj)}: Kubernetes {version}: {path}: {error.message}"
        except kubernetes_validate.SchemaNotFoundError as error:
            yield f"{describe(obj)}: Kubernetes {version}: {error.message}"


def problems(objects: Iterable[Manifest],
             versions: Iterable[str] = KUBERNETES_VERSIONS) -> list[str]:
    """Every problem of every object; empty when all are valid."""
    found: list[str] = []
    versions = tuple(versions)
    for obj in objects:
        if is_custom(obj):
            found.extend(custom_problems(obj))
        else:
            found.extend(builtin_problems(obj, versions))
    return found
