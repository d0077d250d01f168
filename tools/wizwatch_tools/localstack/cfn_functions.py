"""What Lambda would know about each ``AWS::Serverless::Function``: code, handler, limits,
environment (SAM globals merged, unbuilt layers mounted locally), schedules and SQS sources.

A layer the template ships unbuilt (no ``BuildMethod``, e.g. the config layer) is mounted at
``/opt`` in Lambda: environment values under ``/opt/`` are pointed at its local folder instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizwatch_tools.localstack.cfn import Provisioner
from wizwatch_tools.localstack.clients import ACCOUNT_ID, REGION


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source of a function, as Lambda's event source mapping would poll it."""

    queue_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Schedule:
    """One EventBridge schedule of a function: the constant input it sends."""

    name: str
    expression: str
    input: dict[str, Any]
    enabled: bool


@dataclass
class FunctionSpec:
    """What Lambda would know about a function: code, handler, limits, environment, triggers."""

    logical_id: str
    name: str  # short name: poller | detector | notifier
    function_name: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    schedules: list[Schedule] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    #: ReservedConcurrentExecutions (None: unreserved); the local webhook URL throttles beyond it.
    reserved_concurrency: int | None = None
    #: The execution role's ARN (its ``Role`` property); "" when the template gives none.
    role_arn: str = ""


def _short_name(logical_id: str) -> str:
    return logical_id.removesuffix("Function").lower()


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_function(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    glob = (prov.template.get("Globals") or {}).get("Function", {}) or {}
    r = prov.resolver.resolve

    def prop(key: str, default: Any) -> Any:
        return r(props[key]) if key in props else r(glob.get(key, default))

    env = dict(r(glob.get("Environment", {}).get("Variables", {})))
    env.update(r(props.get("Environment", {}).get("Variables", {})))
    env = _mount_layers(prov, env, [*glob.get("Layers", []), *props.get("Layers", [])])
    name = str(r(props["FunctionName"])) if "FunctionName" in props else f"{prov.stack_name}-{lid}"
    spec = FunctionSpec(
        logical_id=lid,
        name=_short_name(lid),
        function_name=name,
        code_dir=(prov.template_path.parent / str(prop("CodeUri", "."))).resolve(),
        handler=str(prop("Handler", "app.handler")),
        timeout=int(prop("Timeout", 3)),
        memory=int(prop("MemorySize", 128)),
        environment={k: _env_str(v) for k, v in env.items()},
        role_arn=str(r(props["Role"])) if "Role" in props else "",
    )
    reserved = r(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
    spec.reserved_concurrency = int(reserved) if isinstance(reserved, int | str) and str(reserved) else None
    for ev_name, ev in (props.get("Events") or {}).items():
        ev_props = ev.get("Properties", {})
        if ev["Type"] in ("Schedule", "ScheduleV2"):
            enabled = r(ev_props.get("Enabled", True))
            if "State" in ev_props:
                enabled = r(ev_props["State"]) == "ENABLED"
            spec.schedules.append(
                Schedule(
                    name=ev_name,
                    expression=str(r(ev_props.get("Schedule", ev_props.get("ScheduleExpression")))),
                    input=json.loads(r(ev_props.get("Input", "{}"))),
                    enabled=str(enabled).lower() == "true",
                )
            )
        elif ev["Type"] == "SQS":
            arn = r(ev_props["Queue"])
            queue_id = next(q for (q, att), v in prov.resolver.attrs.items() if att == "Arn" and v == arn)
            spec.queue_sources.append(
                QueueSource(
                    queue_id=queue_id,
                    queue_url=prov.resolver.refs[queue_id],
                    queue_arn=arn,
                    batch_size=int(r(ev_props.get("BatchSize", 10))),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in r(ev_props.get("FunctionResponseTypes", [])),
                )
            )
    prov.functions[spec.name] = spec
    prov.resolver.refs[lid] = name
    prov.resolver.attrs[(lid, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def _mount_layers(prov: Provisioner, env: dict[str, Any], layers: list[Any]) -> dict[str, Any]:
    """``/opt/<path>`` values -> the local folder of the unbuilt layer that holds ``<path>``
    (SAM merges the global and the function's ``Layers``; Lambda extracts them to /opt)."""
    folders = []
    for ref in layers:
        lid = ref.get("Ref") if isinstance(ref, dict) else None
        res = prov.template["Resources"].get(lid or "", {})
        if res.get("Type") == "AWS::Serverless::LayerVersion" and "BuildMethod" not in res.get(
            "Metadata", {}
        ):
            folders.append(prov.template_path.parent / str(res["Properties"]["ContentUri"]))
    out = dict(env)
    for key, value in env.items():
        if isinstance(value, str) and value.startswith("/opt/"):
            rest = value[len("/opt/") :]
            found = next((f / rest for f in folders if (f / rest).exists()), None)
            if found is not None:
                out[key] = str(found.resolve())
    return out
