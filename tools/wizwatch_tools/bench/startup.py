"""Cold start and peak memory of the detector, each in a fresh Python process.

* ``cold_start``: CPU time (``time.process_time``) of importing ``functions/detector/app.py`` as
  Lambda's first invocation does, i.e. with ``AWS_LAMBDA_FUNCTION_NAME`` set so the module builds
  its Detector at import (config, every rule loaded, router, boto3 clients created; no request is
  made), divided by the CPU time of ``import boto3`` in another fresh process. Interpreter start-up
  is in neither. Samples alternate (app, boto3, app, ...); medians. Creating the S3, SQS and
  DynamoDB clients afterwards (nothing if the import made them; the first request's cost if they
  are lazy) is reported apart, and ``over_boto3_with_clients`` includes it. So is what the import
  leaves to the first page of a log type (``first_page_setup_cpu_s``: building the Wiz.Audit
  Normalizer, which imports pydantic and the schemas); ``over_boto3_first_request`` includes both.
  The modules are read from bytecode as deployed: ``make build`` compiles every built function and
  the layer to hash-checked ``.pyc`` after ``sam build`` (which ships none), so the bench compiles
  the layer's and the detector's sources the same way first (:func:`compile_as_built`, in place:
  ``__pycache__`` is git-ignored) and ``bytecode`` in the result says how many modules had one.
* ``peak_rss``: one 10,000-record Wiz.Audit page (generated deterministically with the corpus's
  own generator) through ``Detector.process`` with the in-memory clients, in a fresh process:
  the process's peak resident set before (everything imported, rules loaded, page bytes read)
  and after. The peak is ``VmHWM`` from ``/proc/self/status`` where there is one (Linux), since
  ``ru_maxrss`` survives fork + exec there: a child of the big benchmark process would start at
  its parent's peak. Elsewhere ``ru_maxrss``.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from wizwatch.logtypes import AUDIT
from wizwatch_tools.bench.corpus import page_body
from wizwatch_tools.bench.production_path import ROOT, run_worker

APP = ROOT / "functions" / "detector" / "app.py"
RSS_RECORDS = 10_000

_IMPORT_APP = """
import importlib.util, json, time
t0 = time.process_time()
spec = importlib.util.spec_from_file_location("detector_app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t1 = time.process_time()
from wizwatch import aws
for service in ("dynamodb", "s3", "sqs"):  # what the first request creates if not done yet
    aws.client(service)
t2 = time.process_time()
from wizwatch.alerts.detector import _normalizer
_normalizer({log_type!r})  # what the first page sets up that the import left to it (schemas)
t3 = time.process_time()
rules = len(module.detector_from_env(module.RULES_DIR).engine.rules)
import os, sys
ours = [m.__file__ for n, m in list(sys.modules.items())
        if (n.startswith(("wizwatch", "detector_app")) or n.endswith("_helpers"))
        and getattr(m, "__file__", None) and m.__file__.endswith(".py")]
cached = sum(os.path.exists(importlib.util.cache_from_source(f)) for f in ours)
print(json.dumps({{"cpu_s": t1 - t0, "clients_cpu_s": t2 - t1, "first_page_cpu_s": t3 - t2,
                  "rules": rules, "modules": len(ours), "from_bytecode": cached}}))
"""

_IMPORT_BOTO3 = """
import json, time
t0 = time.process_time()
import boto3
t1 = time.process_time()
print(json.dumps({"cpu_s": t1 - t0}))
"""

_RSS = """
import json, resource, sys

def peak_kb():
    # VmHWM: this process's own high-water mark. ru_maxrss is not: Linux carries it over fork +
    # exec, so a child of a big parent starts at the parent's peak.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

from wizwatch.alerts.notifications import ObjectRef
from wizwatch_tools.bench.production_path import BUCKET, Bench, RULES, page_key
from wizwatch.detect.engine import Engine
body = open({page!r}, "rb").read()
bench = Bench(Engine.from_directory(RULES, strict=True))
key = page_key({log_type!r}, 1, 0)
bench.s3.serve(BUCKET, key, body)
before = peak_kb()
report = bench.detector.process(ObjectRef(BUCKET, key))
after = peak_kb()
print(json.dumps({{"before_kb": before, "after_kb": after, "events": report.events,
                  "quarantined": report.quarantined}}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="wizwatch-bench-detector",
        DEDUP_TABLE="wizwatch-bench-dedup",
        ALERT_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/000000000000/bench-alerts",
        RAW_BUCKET="wizwatch-bench",
        AWS_DEFAULT_REGION=env.get("AWS_DEFAULT_REGION", "us-east-1"),
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # a placeholder: no request is ever made
        POWERTOOLS_METRICS_NAMESPACE="WizwatchBench",
    )
    env.pop("AWS_ENDPOINT_URL", None)
    return env


def _python(code: str) -> dict[str, Any]:
    return run_worker(["-c", code], "bench subprocess", env=_env(), cwd=ROOT)


def compile_as_built() -> None:
    """What ``make build`` does to the built artifacts (``compileall --invalidation-mode
    checked-hash``), here to the layer's and the detector's sources."""
    import compileall
    import py_compile

    for tree in (ROOT / "layers" / "common", ROOT / "functions" / "detector"):
        ok = compileall.compile_dir(
            tree, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH, workers=1
        )
        if not ok:
            raise RuntimeError(f"could not compile {tree}")


def cold_start(samples: int = 3) -> dict[str, Any]:
    compile_as_built()
    app: list[float] = []
    clients: list[float] = []
    first_page: list[float] = []
    boto: list[float] = []
    rules = 0
    bytecode = ""
    for _ in range(samples):
        got = _python(_IMPORT_APP.format(app=str(APP), log_type=AUDIT))
        app.append(got["cpu_s"])
        clients.append(got["clients_cpu_s"])
        first_page.append(got["first_page_cpu_s"])
        rules = got["rules"]
        bytecode = f"{got['from_bytecode']} of {got['modules']} Wizwatch, rule and helper modules had a .pyc"
        boto.append(_python(_IMPORT_BOTO3)["cpu_s"])
    app_s, boto_s = statistics.median(app), statistics.median(boto)
    return {
        "path": "fresh process: import functions/detector/app.py as Lambda's cold start (rules loaded; "
        "clients if the import makes them) vs fresh process: import boto3; CPU time",
        "detector_import_cpu_s": round(app_s, 3),
        "boto3_import_cpu_s": round(boto_s, 3),
        "over_boto3": round(app_s / boto_s, 2),
        # Clients the import did not create (lazy) cost the first invocation instead: shown apart.
        "clients_after_import_cpu_s": round(statistics.median(clients), 3),
        "over_boto3_with_clients": round((app_s + statistics.median(clients)) / boto_s, 2),
        # Set-up the import leaves to the first page of a log type (its Normalizer: pydantic and
        # the schemas), for Wiz.Audit; ``over_boto3_first_request`` adds it and the clients.
        "first_page_setup_cpu_s": round(statistics.median(first_page), 3),
        "over_boto3_first_request": round(
            (app_s + statistics.median(clients) + statistics.median(first_page)) / boto_s, 2
        ),
        "rules_loaded": rules,
        "bytecode": bytecode,
        "samples": {"detector": [round(x, 3) for x in app], "boto3": [round(x, 3) for x in boto]},
    }


def rss_page(corpus: Path, records: int = RSS_RECORDS) -> Path:
    """The big Wiz.Audit page (cached beside the corpus; same seed, same bytes)."""
    from wizwatch_tools.bench.corpus import generate

    path = corpus / ".rss" / f"{AUDIT}-{records}.json.gz"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        body = page_body("auditLogEntries", generate(AUDIT, records, seed=10_000), "cursor-rss", False)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.rename(path)
    return path


def peak_rss(corpus: Path, records: int = RSS_RECORDS) -> dict[str, Any]:
    page = rss_page(corpus, records)
    got = _python(_RSS.format(page=str(page), log_type=AUDIT))
    if got["events"] + got["quarantined"] != records:
        raise RuntimeError(f"the {records}-record page gave {got}")
    return {
        "path": f"fresh process: Detector.process of one {records}-record {AUDIT} page (memaws clients)",
        "records": records,
        "page_bytes": page.stat().st_size,
        "baseline_mb": round(got["before_kb"] / 1024, 1),
        "peak_mb": round(got["after_kb"] / 1024, 1),
        "page_mb": round((got["after_kb"] - got["before_kb"]) / 1024, 1),
    }
