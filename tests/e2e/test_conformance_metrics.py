"""Metrics conformance: the alarms and the dashboard watch exactly the metrics the code emits.

The pipeline runs end to end on the local stack; every EMF blob the handlers print is captured;
each metric template.yaml refers to in the ``Wizwatch`` namespace (alarms, dashboard metrics and
SEARCH expressions) must have been emitted with the same name, the same dimension names and the
same dimension values. An alarm on a metric nobody emits would sit in INSUFFICIENT_DATA (or, with
missing data breaching, fire forever) instead of watching anything.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from wizwatch import metric_names
from wizwatch.logtypes import API_LOG_TYPES
from wizwatch_tools.localstack.cfn import load_template
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE

TEMPLATE = load_template(DEFAULT_TEMPLATE)
#: One stack for the module, run once, on one xdist worker.
pytestmark = pytest.mark.xdist_group("conformance_metrics")
NAMESPACE = metric_names.NAMESPACE
_SEARCH = re.compile(r"SEARCH\('\{(?P<schema>[^}]*)\}(?P<terms>[^']*)'")
_TERM = re.compile(r'(\w+)="([^"]*)"')

Emitted = set[tuple[str, str, frozenset[tuple[str, str]]]]
#: Dimensions whose values depend on the data seen: compared by name, value checked against the
#: values the code can produce (a seeded run need not raise a CRITICAL alert).
DATA_DIMENSIONS = {metric_names.SEVERITY: {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}}


def was_emitted(metrics: Emitted, ns: str, name: str, dims: dict[str, str]) -> bool:
    for key, allowed in DATA_DIMENSIONS.items():
        if key in dims and dims[key] not in allowed:
            return False
    fixed = {(k, v) for k, v in dims.items() if k not in DATA_DIMENSIONS}
    return any(
        m_ns == ns and m_name == name and {d for d, _ in m_dims} == set(dims) and fixed <= m_dims
        for m_ns, m_name, m_dims in metrics
    )


def emitted_metrics(stack: Any) -> Emitted:
    """(namespace, metric, {dimension: value}) of every metric in every captured EMF blob."""
    found = set()
    for blobs in stack.recorder.metrics.values():
        for blob in blobs:
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for dims in directive.get("Dimensions") or [[]]:
                    values = frozenset((d, str(blob[d])) for d in dims)
                    for metric in directive["Metrics"]:
                        found.add((directive["Namespace"], metric["Name"], values))
    return found


def alarm_metrics(stack: Any) -> list[tuple[str, str, str, dict[str, str]]]:
    """(alarm id, namespace, metric, dimensions) of every metric alarm (and of every metric a
    metric-math alarm combines)."""
    out = []
    for lid, res in TEMPLATE["Resources"].items():
        if res["Type"] != "AWS::CloudWatch::Alarm":
            continue
        keys = ("Namespace", "MetricName", "Dimensions")
        if "Metrics" in res["Properties"]:
            parts = [m["MetricStat"]["Metric"] for m in res["Properties"]["Metrics"] if "MetricStat" in m]
        else:
            parts = [{k: v for k, v in res["Properties"].items() if k in keys}]
        for part in parts:
            props = stack.provisioned.resolver.resolve(part)
            dims = {d["Name"]: str(d["Value"]) for d in props.get("Dimensions", [])}
            out.append((lid, props["Namespace"], props["MetricName"], dims))
    return out


def dashboard_widgets(stack: Any) -> list[dict[str, Any]]:
    body = stack.provisioned.resolver.resolve(
        TEMPLATE["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    )
    return json.loads(body)["widgets"]


def dashboard_metrics(
    stack: Any,
) -> tuple[list[tuple[str, str, dict[str, str]]], list[tuple[set[str], dict[str, str]]]]:
    """Plain metric rows (namespace, metric, dimensions) and SEARCH (schema, terms) of the dashboard."""
    rows, searches = [], []
    for widget in dashboard_widgets(stack):
        for row in widget["properties"].get("metrics", []):
            items = [x for x in row if not isinstance(x, dict)]
            expressions = [x["expression"] for x in row if isinstance(x, dict) and "expression" in x]
            if items:
                ns, name, *pairs = items
                rows.append((ns, name, dict(zip(pairs[::2], pairs[1::2], strict=True))))
            for expr in expressions:
                m = _SEARCH.search(expr)
                assert m, f"unparsed dashboard expression {expr!r}"
                schema = [s.strip() for s in m["schema"].split(",")]
                terms = dict(_TERM.findall(m["terms"]))
                searches.append((set(schema), {"namespace": schema[0], **terms}))
    return rows, searches


@pytest.fixture(scope="module")
def emitted(module_stack: Any, module_wiz_sim: Any) -> tuple[Any, Emitted]:
    stack, wiz_sim = module_stack, module_wiz_sim
    stack.run_pipeline()
    alerts = stack.received_alerts()
    assert alerts, "no alerts: the detector's alert metrics were not exercised"
    push_webhooks(stack, wiz_sim)
    # A destination that refuses (the topic is gone): the delivery failure metrics.
    stack.sns.delete_topic(TopicArn=stack.resources["alert_topic_arn"])
    stack.sqs.send_message(
        QueueUrl=stack.resources["alert_queue_url"],
        MessageBody=json.dumps({**alerts[0], "alert_id": "f" * 32}),
    )
    stack.run_notifier()
    return stack, emitted_metrics(stack)


def push_webhooks(stack: Any, wiz_sim: Any) -> None:
    """An issue and a detection pushed, and a refused push (the webhook's metrics)."""
    from wizwatch_tools.localstack.webhook_listener import WebhookListener
    from wizwatch_tools.simulator.sender import Auth, WebhookSender

    with WebhookListener(stack) as hook:
        sender = WebhookSender(hook.url, Auth(bearer=hook.bearer_token()), wiz_sim.store)
        assert sender.push_all("Wiz.Detections", limit=1)[0].status == 200
        assert sender.push_all("Wiz.IssuesWebhook", limit=1)[0].status == 200
        assert sender.bad_credentials()[0].status == 401


def test_alarms_and_dashboard_watch_emitted_metrics(emitted: tuple[Any, Emitted]) -> None:
    stack, metrics = emitted
    alarms = [a for a in alarm_metrics(stack) if a[1] == NAMESPACE]
    # heartbeat and lag per polled type, stalled ingestion for all but Wiz.Detections (quiet is
    # normal there), the two metrics of the webhook's no-traffic alarm, RuleLoadErrorAlarm,
    # quarantined records of any type, the posture snapshot's age, DeliveryRejectedAlarm
    assert len(alarms) == 3 * len(API_LOG_TYPES) - 1 + 2 + 3 + 1
    for lid, ns, name, dims in alarms:
        assert was_emitted(metrics, ns, name, dims), (
            f"{lid} watches {name} {dims}, which the code never emitted"
        )

    rows, searches = dashboard_metrics(stack)
    ours = [r for r in rows if r[0] == NAMESPACE]
    assert ours and searches
    for ns, name, dims in ours:
        assert was_emitted(metrics, ns, name, dims), f"dashboard plots {name} {dims}: never emitted"
    for schema, terms in searches:
        name = terms.pop("MetricName")
        namespace = terms.pop("namespace")
        dim_names = schema - {namespace}
        hits = [
            m for m in metrics
            if m[0] == namespace and m[1] == name and {d for d, _ in m[2]} == dim_names
            and all((k, v) in m[2] for k, v in terms.items())
        ]  # fmt: skip
        assert hits, f"dashboard SEARCH for {name} by {sorted(dim_names)} {terms} matches nothing emitted"


def test_aws_metric_dimensions_name_real_resources(module_stack: Any) -> None:
    stack = module_stack
    functions = {spec.function_name for spec in stack.functions.values()}
    queues = {
        stack.provisioned.resolver.get_att(q, "QueueName")
        for q in ("RawObjectDLQ", "AlertDLQ", "AlertQueue", "DeliveryDLQ", "DeliveryQueue")
    }
    rows, _ = dashboard_metrics(stack)
    refs = [(ns, dims) for _, ns, _, dims in alarm_metrics(stack)] + [(ns, dims) for ns, _, dims in rows]
    for ns, dims in refs:
        if ns == "AWS/Lambda":
            assert dims["FunctionName"] in functions, dims
        elif ns == "AWS/SQS":
            assert dims["QueueName"] in queues, dims
        else:
            assert ns == NAMESPACE, ns
