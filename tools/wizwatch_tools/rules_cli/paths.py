"""Where the rules are when no path is given: resolved from the code, never from the cwd.

``wizwatch eval`` and ``wizwatch test`` work from any directory: the default is the rule tree of
the checkout this package was installed from (``make venv`` installs it editable), or
``$WIZWATCH_RULES_DIR`` when set.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

from wizwatch.detect.loader import RuleSet, load_tree
from wizwatch.errors import RuleLoadError

ENV = "WIZWATCH_RULES_DIR"
REPO = Path(__file__).resolve().parents[3]
BUNDLED = REPO / "functions" / "detector" / "rules"


def default_rules_dir() -> Path:
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured)
    return BUNDLED


def version() -> str:
    try:
        return metadata.version("wizwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def load_or_report(path: Path | None) -> RuleSet | None:
    """The tree at ``path`` (default: the bundled one); None, said on stderr, if it is not there."""
    try:
        return load_tree(path or default_rules_dir())
    except RuleLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
