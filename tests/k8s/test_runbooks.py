"""Every alert in monitoring/ has a runbook entry in docs/operations.md that its
runbook_url points at: what it means, and the first three things to check."""

from __future__ import annotations

import re

import pytest

from k8s.tools import REPO, monitoring

OPERATIONS = REPO / "docs" / "operations.md"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.MULTILINE)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections() -> dict[str, str]:
    """Anchor -> the text under that heading, up to the next heading of any level."""
    text = OPERATIONS.read_text()
    found = list(HEADING.finditer(text))
    result = {}
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        result[github_anchor(match.group(2))] = text[match.end():end]
    return result


def alerts() -> list[dict[str, object]]:
    return [rule for group in monitoring.rule_groups() for rule in group["rules"]
            if "alert" in rule]


ALERT_NAMES = [str(rule["alert"]) for rule in alerts()]


def test_there_are_alerts() -> None:
    assert ALERT_NAMES
    assert all(re.fullmatch(r"Candles[A-Z][A-Za-z0-9]+", name) for name in ALERT_NAMES)


def test_github_anchor() -> None:
    # (heading, anchor): GitHub's rule, as the runbook links rely on it
    cases = [("Alert: CandlesDriftBreach", "alert-candlesdriftbreach"),
             ("Scale: partitions vs replicas", "scale-partitions-vs-replicas"),
             ("Secrets and key rotation", "secrets-and-key-rotation")]
    for heading, anchor in cases:
        assert github_anchor(heading) == anchor


@pytest.mark.parametrize("rule", alerts(), ids=ALERT_NAMES)
def test_alert_has_a_runbook_entry(rule: dict[str, object]) -> None:
    name = str(rule["alert"])
    anchor = f"alert-{name.lower()}"
    annotations = rule.get("annotations")
    assert isinstance(annotations, dict)
    assert annotations.get("runbook_url") == f"docs/operations.md#{anchor}"
    entry = sections().get(anchor)
    assert entry is not None, f"docs/operations.md has no heading 'Alert: {name}'"
    assert "What it means" in entry
    checks = entry.split("First three things to check", 1)
    assert len(checks) == 2, f"{name}: no 'First three things to check'"
    steps = re.findall(r"^\d+\.\s+\S", checks[1], re.MULTILINE)
    assert len(steps) >= 3, f"{name}: {len(steps)} numbered checks, want 3"


def test_no_runbook_entry_for_an_alert_that_does_not_exist() -> None:
    documented = {anchor for anchor in sections() if anchor.startswith("alert-")}
    assert documented == {f"alert-{name.lower()}" for name in ALERT_NAMES}


def test_operations_guide_covers_the_deploy() -> None:
    text = OPERATIONS.read_text()
    for needed in ("k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/prod-keda",
                   "scripts/check-k8s", "secret.template.yaml", "prometheus-adapter"):
        assert needed in text
