"""Where the rules are when no path is given: resolved from the code, never from the cwd.

``wizwatch eval`` and ``wizwatch test`` work from any directory: the default is the rule tree of
the checkout this package was installed from (``make venv`` installs it editable), or
``$WIZWATCH_RULES_DIR`` when set.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

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
