"""Where bundled rules come from: the ``SOURCE.yml`` manifest of a managed rule folder.

A managed folder (the Panther rules, Wizwatch's own rules) carries a ``SOURCE.yml`` naming its
origin; for rules taken from panther-analysis it records the repository, the release tag and
commit, and each file's upstream path and git blob id, so an upstream update is a diff against a
known version (``git diff <commit> <new tag> -- <path>``) rather than a guess. Rules in folders
without a manifest (``custom/``, a user's own tree) are the user's: source "custom".
Panther's tool skips the file (it has no ``AnalysisType``)::

    Source: panther-analysis
    Repository: https://github.com/panther-labs/panther-analysis
    Version: v3.111.0
    Commit: 447474faaff9164851bc5e12d2f43998758f47fe
    Files:
      wiz_rule_change.yml: {Path: rules/wiz_rules/wiz_rule_change.yml, Blob: 5d0c...}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizwatch.detect.spec import Problems
from wizwatch.detect.yaml_strict import YamlDocument

FILE_NAME = "SOURCE.yml"
CUSTOM = "custom"
_KEYS = {"Source", "Repository", "Version", "Commit", "License", "Notes", "Files"}


@dataclass
class Manifest:
    folder: Path
    source: str
    version: str = ""
    commit: str = ""
    repository: str = ""
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    def describe(self, spec: Path) -> str:
        """e.g. ``panther-analysis v3.111.0 rules/wiz_rules/wiz_rule_change.yml``."""
        parts = [self.source]
        if self.version:
            parts.append(self.version)
        upstream = self.files.get(spec.relative_to(self.folder).as_posix(), {}).get("Path")
        if upstream:
            parts.append(upstream)
        return " ".join(parts)


def parse_manifest(doc: YamlDocument, path: Path, problems: Problems) -> Manifest | None:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("Source"), str):
        problems.add(
            "Source", "a SOURCE.yml names its origin: Source: <name> (see wizwatch.detect.provenance)"
        )
        return None
    for key in sorted(set(data) - _KEYS, key=str):
        problems.add(str(key), f"unknown key (known: {', '.join(sorted(_KEYS))})")
    files: dict[str, dict[str, str]] = {}
    raw: Any = data.get("Files") or {}
    if not isinstance(raw, dict):
        problems.add("Files", "a mapping of file name -> {Path, Blob}")
        raw = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("Path"), str):
            problems.add("Files", f"{name}: needs Path (the upstream path) and Blob (its git blob id)")
            continue
        if not (path.parent / str(name)).is_file():
            problems.add("Files", f"{name} is listed but not in {path.parent}")
        files[str(name)] = {k: str(v) for k, v in entry.items()}
    return Manifest(
        folder=path.parent,
        source=data["Source"],
        version=str(data.get("Version") or ""),
        commit=str(data.get("Commit") or ""),
        repository=str(data.get("Repository") or ""),
        files=files,
    )


def source_of(spec: Path, manifests: dict[Path, Manifest]) -> str:
    """The source label of a spec: the nearest manifest at or above its folder, else custom."""
    for folder in (spec.parent, *spec.parent.parents):
        found = manifests.get(folder)
        if found is not None:
            return found.describe(spec)
    return CUSTOM
