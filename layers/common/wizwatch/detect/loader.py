"""Finding rule files on disk, validating them, importing their modules, applying overrides.

Panther's layout: a YAML spec beside its ``.py`` module; shared code in ``global_helpers/``
folders, which go on ``sys.path`` so rules can ``import panther_wiz_helpers``. What a tree may
hold besides rules (each skipped by Panther's tool, which ignores YAML without ``AnalysisType``):

* ``rules-overrides.yml`` — the user's overlay (``wizwatch.detect.overrides``);
* ``SOURCE.yml`` — where a managed folder's rules come from (``wizwatch.detect.provenance``);
* ``<rule>.wizwatch.yml`` — Wizwatch-only expected outputs of a rule's tests (``sidecar``).

Nothing is dropped quietly and one bad file costs only itself: every problem of every file is
collected as a :class:`RuleLoadError` (file, line, key, problem, rule id when known), the rules
that loaded are returned, and each broken rule is listed as a :class:`BrokenRule` so the detector
can raise a rule-error alert for it instead of refusing to start.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from wizwatch.detect import overrides as ov
from wizwatch.detect import provenance, sidecar
from wizwatch.detect.correlation_spec import parse_correlation
from wizwatch.detect.overlay import apply_overrides, build_runner
from wizwatch.detect.ruleset import BrokenRule, RuleSet
from wizwatch.detect.spec import Problems, Rule, parse_spec
from wizwatch.detect.yaml_strict import YamlDocument, load
from wizwatch.errors import RuleLoadError

HELPERS_DIR = "global_helpers"
#: Panther analysis types that are not detections Wizwatch runs, but are fine to find in a tree.
PASSIVE_TYPES = {"global", "pack", "datamodel", "saved_query", "lookup_table"}
UNSUPPORTED_TYPES = {"policy", "scheduled_rule", "scheduled_query", "scheduled_prompt"}


def _walk(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise RuleLoadError(str(root), None, "no such rule file or folder")
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") or part == "__pycache__" for part in rel):
            continue
        if any(part == HELPERS_DIR for part in rel[:-1]):
            continue
        if p.suffix in (".yml", ".yaml") and p.is_file():
            out.append(p)
    return out


def spec_files(root: Path) -> list[Path]:
    """Every YAML under root that may define a rule (not overrides, manifests or sidecars)."""
    return [p for p in _walk(root) if _kind(p) == "spec"]


def _kind(path: Path) -> str:
    if path.name in ov.FILE_NAMES:
        return "overrides"
    if path.name == provenance.FILE_NAME:
        return "manifest"
    if sidecar.is_sidecar(path):
        return "sidecar"
    return "spec"


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
    except SyntaxError as exc:
        del sys.modules[name]
        where = exc.filename or str(py)
        raise RuleLoadError(where, None, f"import failed: SyntaxError: {exc.msg}", line=exc.lineno) from exc
    except Exception as exc:
        del sys.modules[name]
        raise RuleLoadError(str(py), None, f"import failed: {type(exc).__name__}: {exc}") from exc
    return module


def _read(path: Path, problems: Problems) -> YamlDocument:
    try:
        doc = load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(None, f"cannot read: {exc}")
        return YamlDocument(None)
    problems.doc = doc
    for line, problem in doc.problems:
        problems.errors.append(RuleLoadError(problems.path, None, problem, line=line or None))
    return doc


def load_rule(path: Path, ordinal: int = 0) -> Rule:
    """One rule file (raises the first problem; tests and tools use it on a single spec)."""
    problems = Problems(path)
    rule = _load_rule(_read(path, problems), path, ordinal, problems)
    if rule is None:
        raise problems.errors[0]
    return rule


def _load_rule(doc: YamlDocument, path: Path, ordinal: int, problems: Problems) -> Rule | None:
    if problems.errors:  # the YAML itself is broken: its values cannot be trusted
        data = doc.data if isinstance(doc.data, dict) else {}
        if isinstance(data.get("RuleID"), str):
            problems.rule_id = data["RuleID"]
            for e in problems.errors:
                e.rule_id = data["RuleID"]
        return None
    rule = parse_spec(doc.data, path, ordinal, problems)
    if rule is None:
        return None
    filename = rule.spec.get("Filename")
    if filename:
        py = path.parent / filename
        if not py.is_file():
            problems.add("Filename", f"{filename} does not exist beside the spec")
            return None
        try:
            module = import_module(py)
        except RuleLoadError as exc:
            exc.rule_id = rule.rule_id
            problems.errors.append(exc)
            return None
        if not callable(getattr(module, "rule", None)):
            problems.errors.append(
                RuleLoadError(str(py), "rule", "the module must define rule(event)", rule_id=rule.rule_id)
            )
            return None
        rule.module = module
        rule.has_unique = callable(getattr(module, "unique", None))
    return rule if build_runner(rule, problems) else None


def load_rules(root: Path) -> tuple[list[Rule], list[RuleLoadError]]:
    """All rules under root, and every problem found (kept for callers that want just these)."""
    found = load_tree(root)
    return found.rules, found.errors


def load_tree(root: Path) -> RuleSet:
    """Everything under root: rules, correlation rules, overrides applied, every problem."""
    root = Path(root)
    add_helper_paths(root)
    out = RuleSet()
    manifests: dict[Path, provenance.Manifest] = {}
    sidecars: list[tuple[Path, YamlDocument, Problems]] = []
    seen: dict[str, str] = {}
    files = _walk(root)
    for path in files:
        if _kind(path) != "manifest":
            continue
        problems = Problems(path)
        doc = _read(path, problems)
        if not problems and (manifest := provenance.parse_manifest(doc, path, problems)) is not None:
            manifests[path.parent] = manifest
        out.errors.extend(problems.errors)
    for ordinal, path in enumerate(files):
        kind = _kind(path)
        if kind == "manifest":
            continue
        problems = Problems(path)
        doc = _read(path, problems)
        if kind == "overrides":
            if not problems:
                out.overrides.extend(ov.parse_overrides(doc, path, problems))
            out.errors.extend(problems.errors)
            continue
        if kind == "sidecar":
            sidecars.append((path, doc, problems))
            continue
        _load_spec(path, doc, problems, ordinal, out, provenance.source_of(path, manifests), seen)
    by_id = {r.rule_id: r for r in out.rules}
    for path, doc, problems in sidecars:
        sidecar.apply(doc, path, by_id, problems)
        _record_broken(out, problems, None, path)
    apply_overrides(out)
    _link_correlations(out)
    return out


def _link_correlations(out: RuleSet) -> None:
    """Each correlation rule's inputs must be loaded rules; its log types are theirs. A rule whose
    members share no match criterion cannot be partitioned for streaming evaluation: an error."""
    by_id = {r.rule_id: r for r in out.rules}
    broken = {b.rule_id for b in out.broken}
    keep = []
    for corr in out.correlations:
        problems = Problems(corr.path)
        problems.rule_id = corr.rule_id
        for m in corr.members:
            if m.rule_id not in by_id and m.rule_id not in broken:
                problems.add("Detection", f"member {m.id!r}: no rule {m.rule_id!r} is loaded")
        if corr.criteria and corr.primary is None:
            problems.add(
                "Detection",
                "Wizwatch evaluates correlation rules as signals arrive, partitioned by a match "
                "criterion every member takes part in; this rule has none",
            )
        corr.log_types = sorted(
            {t for m in corr.members if m.rule_id in by_id for t in by_id[m.rule_id].log_types}
        )
        if problems.errors:
            _record_broken(
                out,
                problems,
                {"Enabled": corr.enabled, "Severity": corr.severity},
                Path(corr.path),
                corr.source,
            )
        else:
            keep.append(corr)
    out.correlations = keep


def _load_spec(
    path: Path,
    doc: YamlDocument,
    problems: Problems,
    ordinal: int,
    out: RuleSet,
    source: str,
    seen: dict[str, str],
) -> None:
    data = doc.data if isinstance(doc.data, dict) else None
    kind = data.get("AnalysisType") if data is not None and not problems else None
    if data is not None and not problems and kind is None:
        if "RuleID" in data:
            problems.add(
                "AnalysisType", "missing: a rule spec needs AnalysisType: rule (or correlation_rule)"
            )
        else:
            out.skipped.append((str(path), "no AnalysisType: not an analysis file"))
            return
    if kind in PASSIVE_TYPES:
        out.skipped.append((str(path), f"AnalysisType {kind}: nothing for Wizwatch to run"))
        return
    if kind in UNSUPPORTED_TYPES:
        problems.add("AnalysisType", f"{kind} is not supported by Wizwatch (rules and correlation rules are)")
    if kind == "correlation_rule" and not problems:
        assert data is not None
        corr = parse_correlation(data, path, problems)
        if corr is not None and _unique(corr.rule_id, path, seen, problems):
            corr.source, corr.ordinal = source, ordinal
            out.correlations.append(corr)
            return
    elif not problems:
        rule = _load_rule(doc, path, ordinal, problems)
        if rule is not None and _unique(rule.rule_id, path, seen, problems):
            rule.source = source
            out.rules.append(rule)
            return
    elif data is not None and isinstance(data.get("RuleID"), str):
        problems.rule_id = data["RuleID"]
        for e in problems.errors:
            e.rule_id = e.rule_id or data["RuleID"]
    _record_broken(out, problems, data, path, source)


def _unique(rule_id: str, path: Path, seen: dict[str, str], problems: Problems) -> bool:
    if rule_id in seen:
        problems.add("RuleID", f"{rule_id} is also defined in {seen[rule_id]}")
        return False
    seen[rule_id] = str(path)
    return True


def _record_broken(
    out: RuleSet, problems: Problems, data: dict[str, Any] | None, path: Path, source: str = ""
) -> None:
    """File the problems; a rule that did not load becomes a BrokenRule (disabled, reported)."""
    if not problems.errors:
        return
    out.errors.extend(problems.errors)
    data = data or {}
    rule_id = problems.rule_id
    if rule_id is not None and any(b.rule_id == rule_id for b in out.broken):
        broken = next(b for b in out.broken if b.rule_id == rule_id)
        broken.errors.extend(problems.errors)
        return
    if rule_id is not None and any(r.rule_id == rule_id for r in out.rules):
        # A sidecar problem of a rule that loaded: the rule runs; only its tests are affected.
        return
    enabled = data.get("Enabled", True)
    log_types = data.get("LogTypes")
    severity = data.get("Severity")
    dedup = data.get("DedupPeriodMinutes", 60)
    out.broken.append(
        BrokenRule(
            key=rule_id or str(path),
            errors=list(problems.errors),
            rule_id=rule_id,
            enabled=enabled if isinstance(enabled, bool) else True,
            log_types=[t for t in log_types if isinstance(t, str)] if isinstance(log_types, list) else [],
            severity=severity.upper() if isinstance(severity, str) and severity.upper() in _SEV else "HIGH",
            dedup_period_minutes=dedup if isinstance(dedup, int) and not isinstance(dedup, bool) else 60,
            source=source,
        )
    )


_SEV = {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
