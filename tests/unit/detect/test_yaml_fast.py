"""The libyaml-backed strict loader gives what the pure-Python one gives: data, duplicate-key
problems, key lines, and the wording of syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizwatch.detect import yaml_strict

ROOT = Path(__file__).resolve().parents[3]
SNIPPETS = [
    "a: 1\na: 2\nb: yes\nc: true\nd: on\ne: 0o17\nf: 1_000\ng: 2024-01-01\nh: ~\n",
    "a: [1\n",
    "a: b: c\n",
    "- a\n- b: {x: 1, x: 2}\n",
    "k: &anchor {a: 1}\nm:\n  <<: *anchor\n  b: 2\n",
    "---\na: 1\n---\nb: 2\n",
    "a:\n\t- tab\n",
    "? [1, 2]\n: complex key\n",
    "",
]


def _shape(doc: yaml_strict.YamlDocument) -> tuple[object, ...]:
    lines = [sorted(v.items(), key=repr) for v in doc.key_lines.values()]
    return doc.data, doc.problems, lines


@pytest.mark.skipif(len(yaml_strict._LOADERS) < 2, reason="PyYAML without libyaml")
def test_fast_loader_equals_pure_python_loader() -> None:
    texts = list(SNIPPETS)
    for folder in ("functions", "tests", "conformance"):
        texts += [p.read_text() for p in sorted((ROOT / folder).rglob("*.yml"))]
    assert len(texts) > 60
    for text in texts:
        assert _shape(yaml_strict.load(text)) == _shape(yaml_strict._load_python(text)), text[:200]
