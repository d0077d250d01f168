from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from wizwatch.detect.loader import load_rule
from wizwatch.detect.spec import Rule

MakeRule = Callable[..., Rule]


@pytest.fixture
def make_rule(tmp_path: Path) -> MakeRule:
    """Write a rule (YAML + optional Python source) under tmp_path and load it."""
    counter = iter(range(10_000))

    def make(source: str | None = None, **spec: Any) -> Rule:
        n = next(counter)
        doc: dict[str, Any] = {
            "AnalysisType": "rule",
            "RuleID": spec.pop("RuleID", f"Test.Rule.{n}"),
            "Enabled": True,
            "LogTypes": ["Wiz.Audit"],
            "Severity": "Medium",
        }
        if source is not None:
            name = f"rule_{tmp_path.name}_{n}.py"
            (tmp_path / name).write_text(textwrap.dedent(source))
            doc["Filename"] = name
        doc.update(spec)
        path = tmp_path / f"rule_{n}.yml"
        path.write_text(yaml.safe_dump(doc))
        return load_rule(path)

    return make
