"""Finding rule files on disk, validating them and importing their Python modules.

Panther's layout: a YAML spec beside its ``.py`` module; shared code in ``global_helpers/``
folders, which go on ``sys.path`` so rules can ``import panther_wiz_helpers``. A broken rule is a
:class:`RuleLoadError` naming the file, key and problem: the detector refuses to start rather
than silently run without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

from wizwatch.detect.runner import RuleRunner
from wizwatch.detect.simple import DetectionSyntaxError
from wizwatch.detect.spec import Rule, parse_spec
from wizwatch.errors import RuleLoadError

HELPERS_DIR = "global_helpers"


def spec_files(root: Path) -> list[Path]:
    """Every rule YAML under root (a file or a folder), skipping helpers and hidden folders."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise RuleLoadError(str(root), None, "no such rule file or folder")
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") or part == HELPERS_DIR or part == "__pycache__" for part in rel[:-1]):
            continue
        if p.suffix in (".yml", ".yaml") and p.is_file():
            out.append(p)
    return out


def add_helper_paths(root: Path) -> None:
    """Put every ``global_helpers`` folder at or above/below root on sys.path (once)."""
    candidates = []
    base = root if root.is_dir() else root.parent
    for parent in (base, *base.parents[:3]):
        candidates.append(parent / HELPERS_DIR)
    if base.is_dir():
        candidates.extend(base.rglob(HELPERS_DIR))
    for folder in candidates:
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def import_module(py: Path) -> ModuleType:
    """Import a rule module under a name unique to its path (two rules may share a file name)."""
    name = "wizwatch_rule_" + hashlib.sha1(str(py.resolve()).encode()).hexdigest()[:12] + "_" + py.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, py)
    if spec is None or spec.loader is None:
        raise RuleLoadError(str(py), None, "cannot import")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise RuleLoadError(str(py), None, f"import failed: {type(exc).__name__}: {exc}") from exc
    return module


def load_rule(path: Path, ordinal: int = 0) -> Rule:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RuleLoadError(str(path), None, f"not valid YAML: {exc}") from None
    rule = parse_spec(doc, path, ordinal)
    filename = doc.get("Filename")
    if filename:
        py = path.parent / filename
        if not py.is_file():
            raise RuleLoadError(str(path), "Filename", f"{filename} does not exist beside the spec")
        module = import_module(py)
        if not callable(getattr(module, "rule", None)):
            raise RuleLoadError(str(py), "rule", "the module must define rule(event)")
        rule.module = module
        rule.has_unique = callable(getattr(module, "unique", None))
    try:
        rule.runner = RuleRunner(rule)
    except (DetectionSyntaxError, KeyError, TypeError) as exc:
        key = "Detection" if rule.is_simple else "InlineFilters"
        raise RuleLoadError(str(path), key, str(exc)) from None
    return rule


def load_rules(root: Path) -> tuple[list[Rule], list[RuleLoadError]]:
    """All rules under root, and the problems of the ones that failed (nothing is dropped quietly)."""
    add_helper_paths(root)
    rules: list[Rule] = []
    errors: list[RuleLoadError] = []
    seen: dict[str, str] = {}
    for i, path in enumerate(spec_files(root)):
        try:
            rule = load_rule(path, ordinal=i)
        except RuleLoadError as exc:
            errors.append(exc)
            continue
        if rule.rule_id in seen:
            errors.append(
                RuleLoadError(str(path), "RuleID", f"{rule.rule_id} is also defined in {seen[rule.rule_id]}")
            )
            continue
        seen[rule.rule_id] = str(path)
        rules.append(rule)
    return rules, errors
