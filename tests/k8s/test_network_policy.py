"""Only what must talk, talks: default deny, then one allowance per need."""

from __future__ import annotations

from typing import Any

import pytest

from k8s.tools import OVERLAYS
from k8s.tools.render import Manifest
from tests.k8s.manifests import matches, of_kind, pod_template, workloads


def policies_for(objects: list[Manifest], labels: dict[str, str],
                 policy_type: str) -> list[dict[str, Any]]:
    return [policy["spec"] for policy in of_kind(objects, "NetworkPolicy")
            if policy_type in policy["spec"]["policyTypes"]
            and matches(policy["spec"]["podSelector"], labels)]


def egress_ports(objects: list[Manifest], labels: dict[str, str]) -> set[int]:
    ports = set()
    for spec in policies_for(objects, labels, "Egress"):
        for rule in spec.get("egress", []):
            for port in rule["ports"]:
                ports |= set(range(port["port"], port.get("endPort", port["port"]) + 1))
    return ports


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_everything_is_denied_first(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    denies = [policy for policy in of_kind(rendered[overlay], "NetworkPolicy")
              if policy["spec"]["podSelector"] == {}
              and set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
              and not policy["spec"].get("ingress") and not policy["spec"].get("egress")]
    assert len(denies) == 1


# pod name -> egress ports it needs, exactly: DNS; Kafka; HTTPS (S3, Snowflake); Snowflake's
# OCSP checks (HTTP); Pushgateway.
EGRESS = {
    "candles-speed": {53, 9092, 9093, 9094},
    "candles-archive": {53, 9092, 9093, 9094, 443},
    "candles-nightly": {53, 80, 443, 9091},
}


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_each_pod_reaches_only_what_it_needs(rendered: dict[str, list[Manifest]],
                                             overlay: str) -> None:
    objects = rendered[overlay]
    for workload in workloads(objects):
        labels = pod_template(workload)["metadata"]["labels"]
        assert egress_ports(objects, labels) == EGRESS[workload["metadata"]["name"]]


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_only_prometheus_gets_in_and_only_to_metrics(rendered: dict[str, list[Manifest]],
                                                     overlay: str) -> None:
    objects = rendered[overlay]
    for workload in workloads(objects):
        labels = pod_template(workload)["metadata"]["labels"]
        rules = [rule for spec in policies_for(objects, labels, "Ingress")
                 for rule in spec.get("ingress", [])]
        if workload["kind"] == "CronJob":
            assert rules == []
            continue
        assert [port["port"] for rule in rules for port in rule["ports"]] == [9108]
        assert all(source["namespaceSelector"]["matchLabels"] ==
                   {"kubernetes.io/metadata.name": "monitoring"}
                   for rule in rules for source in rule["from"])
