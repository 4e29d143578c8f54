"""Every overlay renders with kustomize and every object validates strictly, offline.

The same code as scripts/check-k8s: kustomize from kubectl, kubernetes-validate's strict
schemas for built-in kinds, k8s/schemas/ for the custom resources.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from k8s.tools import OVERLAYS, SCHEMAS, SECRET_TEMPLATE, check
from k8s.tools.render import Manifest, load_documents
from k8s.tools.validate import CUSTOM_RESOURCES, problems
from tests.k8s.manifests import containers, named, of_kind, pod_template, workloads

NAMESPACES = {"dev": "candles-dev", "prod": "candles-prod", "prod-keda": "candles-prod",
              "prod-sharded": "candles-prod"}
ENVIRONMENTS = {"dev": "dev", "prod": "prod", "prod-keda": "prod", "prod-sharded": "prod"}
IMAGES = {"dev": "lambda-candles:dev",
          "prod": "registry.example.com/lambda-candles:0.1.0",
          "prod-keda": "registry.example.com/lambda-candles:0.1.0",
          "prod-sharded": "registry.example.com/lambda-candles:0.1.0"}


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_every_object_validates_strictly(rendered: dict[str, list[Manifest]],
                                         overlay: str) -> None:
    assert problems(rendered[overlay]) == []


def test_secret_template_validates() -> None:
    assert problems(load_documents(SECRET_TEMPLATE.read_text())) == []


def test_custom_resource_schemas_are_valid_schemas() -> None:
    files = sorted(SCHEMAS.glob("*.json"))
    assert {path.stem for path in files} == {*CUSTOM_RESOURCES.values(), "_common"}
    for path in files:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_check_script_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/check-k8s's entry point: every overlay ok, exit status 0."""
    assert check.main([]) == 0
    out = capsys.readouterr().out
    assert all(f"{overlay}: " in out for overlay in OVERLAYS)


def _set(path: str, value: Any) -> Callable[[Manifest], None]:
    def mutate(obj: Manifest) -> None:
        *parents, leaf = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return mutate


# (kind, name, mutation, the edge it checks): each must be reported, or validation is blind.
BROKEN = [
    ("Deployment", "candles-speed",
     _set("spec.template.spec.containers.0.securityContext.readOnlyRootFileSystem", True),
     "a misspelt field (strict: unknown properties are errors)"),
    ("Deployment", "candles-speed",
     _set("spec.template.spec.terminationGracePeriodSeconds", "90"),
     "a wrong type"),
    ("HorizontalPodAutoscaler", "candles-speed", _set("spec.maxReplicas", None),
     "a missing required field"),
    ("CronJob", "candles-nightly", _set("spec.concurency_policy", "Forbid"),
     "an unknown field at spec level"),
    ("ServiceMonitor", "candles-speed", _set("spec.selector", None),
     "a custom resource without a required field"),
    ("ServiceMonitor", "candles-speed", _set("spec.endpoints.0.interval", "15 seconds"),
     "a custom resource with a malformed duration"),
    ("PrometheusRule", "candles", _set("spec.groups.0.rules.0.record", "x:y"),
     "a rule that is both an alert and a recording rule"),
    ("Namespace", "candles-dev", _set("kind", "Namespaces"),
     "an unknown kind (the CLI only warns)"),
]


@pytest.mark.parametrize(("kind", "name", "mutate", "edge"), BROKEN,
                         ids=[edge for *_, edge in BROKEN])
def test_validation_reports(rendered: dict[str, list[Manifest]], kind: str, name: str,
                            mutate: Callable[[Manifest], None], edge: str) -> None:
    obj = copy.deepcopy(named(rendered["dev"], kind, name))
    mutate(obj)
    assert problems([obj]), f"not reported: {edge}"


def test_duplicate_rule_group_is_reported(rendered: dict[str, list[Manifest]]) -> None:
    rule = copy.deepcopy(named(rendered["dev"], "PrometheusRule", "candles"))
    rule["spec"]["groups"].append(rule["spec"]["groups"][0])
    assert any("duplicate group name" in problem for problem in problems([rule]))


# What the overlays rely on kustomize for: namespace, labels, images, generated names,
# patches. If kustomize changed behaviour, these fail before a cluster sees it.

@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_every_object_is_in_the_overlay_namespace(rendered: dict[str, list[Manifest]],
                                                  overlay: str) -> None:
    namespace = NAMESPACES[overlay]
    for obj in rendered[overlay]:
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == namespace
        else:
            assert obj["metadata"].get("namespace") == namespace, obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_every_object_and_pod_carries_the_labels(rendered: dict[str, list[Manifest]],
                                                 overlay: str) -> None:
    wanted = {"app.kubernetes.io/part-of": "lambda-candles",
              "lambda-candles/environment": ENVIRONMENTS[overlay]}
    for obj in rendered[overlay]:
        labels = obj["metadata"].get("labels", {})
        assert wanted.items() <= labels.items(), f"{obj['kind']}/{obj['metadata']['name']}"
    for obj in workloads(rendered[overlay]):
        assert wanted.items() <= pod_template(obj)["metadata"]["labels"].items()


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_selectors_are_not_touched_by_the_overlay_labels(rendered: dict[str, list[Manifest]],
                                                         overlay: str) -> None:
    """Selectors are immutable: overlay labels must stay out of them."""
    for obj in of_kind(rendered[overlay], "Deployment"):
        assert obj["spec"]["selector"]["matchLabels"] == {
            "app.kubernetes.io/name": obj["metadata"]["name"]}


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_images_and_config_names_are_rewritten(rendered: dict[str, list[Manifest]],
                                               overlay: str) -> None:
    objects = rendered[overlay]
    config_names = {obj["metadata"]["name"] for obj in of_kind(objects, "ConfigMap")}
    for obj in workloads(objects):
        for container in containers(obj):
            assert container["image"] == IMAGES[overlay]
            refs = [ref["configMapRef"]["name"] for ref in container["envFrom"]
                    if "configMapRef" in ref]
            assert refs and all(ref in config_names for ref in refs), refs
            assert all(ref.startswith("candles-config-") for ref in refs)


def test_dev_patches_put_the_archive_on_the_volume(rendered: dict[str, list[Manifest]]) -> None:
    objects = rendered["dev"]
    claims = {obj["metadata"]["name"] for obj in of_kind(objects, "PersistentVolumeClaim")}
    for kind, name in (("Deployment", "candles-archive"), ("CronJob", "candles-nightly")):
        volumes = {volume["name"]: volume
                   for volume in pod_template(named(objects, kind, name))["spec"]["volumes"]}
        data = volumes["data"]
        assert "emptyDir" not in data, "the patch must replace the emptyDir, not add to it"
        assert data["persistentVolumeClaim"]["claimName"] in claims
    assert named(objects, "Deployment", "candles-archive")["spec"]["strategy"] == {
        "type": "Recreate"}


def test_prod_patches_scale(rendered: dict[str, list[Manifest]]) -> None:
    hpa = named(rendered["prod"], "HorizontalPodAutoscaler", "candles-speed")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert named(rendered["prod"], "Deployment", "candles-archive")["spec"]["replicas"] == 2
    speed = pod_template(named(rendered["prod"], "Deployment", "candles-speed"))["spec"]
    keys = {constraint["topologyKey"] for constraint in speed["topologySpreadConstraints"]}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}


def test_keda_overlay_replaces_the_hpa(rendered: dict[str, list[Manifest]]) -> None:
    """Two autoscalers on one Deployment fight: with KEDA, the HPA is gone."""
    objects = rendered["prod-keda"]
    assert of_kind(objects, "HorizontalPodAutoscaler") == []
    scaled = named(objects, "ScaledObject", "candles-speed")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "candles-speed"
    assert of_kind(rendered["prod"], "ScaledObject") == []
    rest = [obj for obj in objects if obj["kind"] not in ("ScaledObject", "TriggerAuthentication")]
    assert rest == [obj for obj in rendered["prod"] if obj["kind"] != "HorizontalPodAutoscaler"]
