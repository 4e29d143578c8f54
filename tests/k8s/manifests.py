"""Small lookups over rendered manifests, shared by the k8s tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from k8s.tools.render import Manifest

WORKLOAD_KINDS = ("Deployment", "CronJob")


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_template(obj: Manifest) -> dict[str, Any]:
    """The pod template of a Deployment or a CronJob."""
    if obj["kind"] == "CronJob":
        template: dict[str, Any] = obj["spec"]["jobTemplate"]["spec"]["template"]
        return template
    template = obj["spec"]["template"]
    return template


def workloads(objects: list[Manifest]) -> Iterator[Manifest]:
    return (obj for obj in objects if obj["kind"] in WORKLOAD_KINDS)


def containers(obj: Manifest) -> list[dict[str, Any]]:
    spec = pod_template(obj)["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def config_map(objects: list[Manifest]) -> Manifest:
    """The generated candles-config ConfigMap (its name carries a content hash)."""
    maps = [obj for obj in of_kind(objects, "ConfigMap")
            if obj["metadata"]["name"].startswith("candles-config-")]
    assert len(maps) == 1
    return maps[0]


def settings_env(objects: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = config_map(objects)["data"]
    return data


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects ``labels``."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], \
            expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
