"""The layer's requirements and the project's runtime dependencies must not drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _names(specs: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", s.strip(), maxsplit=1)[0].lower() for s in specs if s.strip()}


def test_layer_requirements_match_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    layer = [
        line
        for line in (ROOT / "layers/common/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # boto3 is provided by the Lambda runtime, so the layer does not bundle it.
    assert _names(project["dependencies"]) - {"boto3"} == _names(layer)


def test_layer_holds_no_dev_tooling() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "layers/common").rglob("*.py")
        if re.search(r"^\s*(import|from)\s+(moto|pytest|graphql|wizwatch_tools)\b", p.read_text(), re.M)
    ]
    assert offenders == []
