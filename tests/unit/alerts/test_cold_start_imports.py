"""What the detector's cold start imports (issue 14): a fresh process importing the Lambda's
``app.py`` as Lambda's init does loads every rule, and leaves out what only a page needs
(pydantic: a log type's first page imports it with the schemas) or what the detector never needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "functions" / "detector" / "app.py"

_CODE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("detector_app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
detector = module.detector_from_env(module.RULES_DIR)
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
before_page = "pydantic" in sys.modules
from wizwatch.alerts.detector import _normalizer
_normalizer("Wiz.Audit")
print(json.dumps({{"rules": len(detector.engine.rules), "top_level": loaded,
                  "pydantic_before_page": before_page, "pydantic_after_page": "pydantic" in sys.modules}}))
"""


def test_the_cold_start_loads_the_rules_and_leaves_page_only_imports_to_the_first_page() -> None:
    env = dict(os.environ)
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="wizwatch-test-detector",
        DEDUP_TABLE="dedup",
        ALERT_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/000000000000/alerts",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",  # no request is made
    )
    for name in ("RULES_DIR", "DESTINATIONS_FILE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", _CODE.format(app=str(APP))],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["rules"] > 0
    assert not got["pydantic_before_page"]
    assert got["pydantic_after_page"]  # the first page's normaliser brings it in
    for never in ("duckdb", "pyarrow", "requests", "asyncio"):
        assert never not in got["top_level"], never
