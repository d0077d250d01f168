"""IAM conformance: each function's role grants exactly what its code calls, no more, no less.

The pipeline runs end to end on the local stack (plus the paths a quiet day never takes: a
rejected token, an unreadable page); the recorder notes every AWS call per function; each call
is turned into the IAM (action, resource ARN) pairs AWS would authorise, and compared with the
``Code*`` statements of that function's role in template.yaml, resolved against the provisioned
resources. ``Runtime*`` statements (logs, the SQS event source mapping) serve Lambda itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

import pytest

from wizwatch_tools.localstack.cfn import load_template
from wizwatch_tools.localstack.provision import ACCOUNT_ID, DEFAULT_TEMPLATE, REGION
from wizwatch_tools.localstack.recorder import AwsCall

TEMPLATE = load_template(DEFAULT_TEMPLATE)
FUNCTIONS = {
    "poller": "PollerFunction",
    "detector": "DetectorFunction",
    "notifier": "NotifierFunction",
    "webhook": "WebhookFunction",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_S3_ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject",
               "DeleteObject": "s3:DeleteObject"}  # fmt: skip


def iam_pairs(call: AwsCall) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM authorises for one API call."""
    p, op = call.params, call.operation
    if call.service == "s3":
        obj = f"arn:aws:s3:::{p.get('Bucket')}/{p.get('Key', '')}"
        if op == "CopyObject":
            return [("s3:PutObject", obj), ("s3:GetObject", f"arn:aws:s3:::{p['CopySource']}")]
        if op in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}")]
        if op in _S3_ACTIONS:
            return [(_S3_ACTIONS[op], obj)]
    if call.service == "dynamodb":
        tables = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{t}" for t in p["TableName"].split(",")]
        if op == "TransactWriteItems":
            actions = [f"dynamodb:{_TRANSACT_ACTIONS[k]}" for k in p["TransactItems"].split(",")]
        else:
            actions = [f"dynamodb:{op}"]
        return [(a, t) for a in actions for t in tables]
    if call.service == "sqs":
        name = p["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        return [(f"sqs:{op.removesuffix('Batch')}", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}")]
    if call.service == "sns" and op in ("Publish", "PublishBatch"):
        return [("sns:Publish", p.get("TopicArn") or p["TargetArn"])]
    if call.service == "secretsmanager" and op == "GetSecretValue":
        return [("secretsmanager:GetSecretValue", p["SecretId"])]
    raise AssertionError(f"no IAM mapping for {call}: extend iam_pairs() before granting it")


def role_statements(stack: Any, fn: str) -> list[dict[str, Any]]:
    """The resolved statements of ``fn``'s role."""
    role_ref = TEMPLATE["Resources"][FUNCTIONS[fn]]["Properties"]["Role"]
    role_id = role_ref["Fn::GetAtt"][0]
    statements = []
    for policy in TEMPLATE["Resources"][role_id]["Properties"]["Policies"]:
        statements += stack.provisioned.resolver.resolve(policy["PolicyDocument"]["Statement"])
    return statements


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource pattern) of every ``Code*`` statement."""
    return {
        (action, resource)
        for st in statements
        if st["Sid"].startswith("Code") and st["Effect"] == "Allow"
        for action in _as_list(st["Action"])
        for resource in _as_list(st["Resource"])
    }


@pytest.fixture
def captured_logs() -> Iterator[list[str]]:
    """Every record the functions' loggers emit (Powertools loggers do not propagate)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage() + " " + json.dumps(record.__dict__, default=str))

    handler = Keep()
    loggers = [
        logging.getLogger(name) for name in ("poller", "detector", "notifier", "webhook", "wizwatch", "")
    ]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.fixture
def exercised(stack: Any, wiz_sim: Any, captured_logs: list[str]) -> Any:
    """The stack after every flow: pipeline, pushed issues and detections (and refused pushes), a
    rejected token, an unreadable raw page, an alert delivered twice, and an alert SNS refuses
    (its topic deleted)."""
    from wizwatch_tools.localstack.webhook_listener import WebhookListener
    from wizwatch_tools.simulator.sender import Auth, WebhookSender

    with WebhookListener(stack) as hook:
        sender = WebhookSender(hook.url, Auth(bearer=hook.bearer_token()), wiz_sim.store)
        assert [d.status for d in sender.push_all("Wiz.Detections", limit=2)] == [200, 200]
        assert [d.status for d in sender.push_all("Wiz.IssuesWebhook", limit=1)] == [200]
        assert {d.status for d in sender.bad_credentials() + sender.malformed()} == {401, 400}
    stack.run_pipeline()
    assert stack.received_alerts(), "the pipeline produced no alerts: nothing to conform"
    wiz_sim.faults.add("token_expired", count=1)
    stack.tick_poller("Wiz.Audit")
    bad_key = "raw/Wiz.Audit/dt=2026-01-01/20260101T000000000000Z_20260101T001500000000Z/page-00001.json.gz"
    stack.s3.put_object(Bucket=stack.resources["bucket"], Key=bad_key, Body=b"not gzip, not json")
    stack.run_detector()
    quarantined = stack.archived_keys("quarantine/")
    assert quarantined, "the unreadable page was not quarantined"
    stack.run_notifier()
    # The notifier's publish ledger: a second copy of a published alert is dropped, and a publish
    # that fails releases its claim.
    alert = stack.received_alerts()[0]
    record = {
        "messageId": "copy",
        "receiptHandle": "h",
        "body": json.dumps(alert),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:wizwatch-AlertQueue",
        "attributes": {},
        "messageAttributes": {},
    }
    assert stack.invoke("notifier", {"Records": [record]}) == {"batchItemFailures": []}
    stack.sns.delete_topic(TopicArn=stack.resources["alert_topic_arn"])
    refused = {**record, "messageId": "refused", "body": json.dumps({**alert, "alert_id": "f" * 32})}
    assert stack.invoke("notifier", {"Records": [refused]}) == {
        "batchItemFailures": [{"itemIdentifier": "refused"}]
    }
    return stack


def test_roles_grant_exactly_what_the_code_calls(exercised: Any) -> None:
    problems = []
    for fn in sorted(FUNCTIONS):
        calls = exercised.recorder.calls.get(fn, [])
        if not calls:
            problems.append(f"{fn} made no AWS calls: did its handler run?")
            continue
        needed = {pair for call in calls for pair in iam_pairs(call)}
        granted = grants(role_statements(exercised, fn))
        missing = sorted(
            (action, arn)
            for action, arn in needed
            if not any(action == g_action and fnmatchcase(arn, g_res) for g_action, g_res in granted)
        )
        unused = sorted(
            (g_action, g_res)
            for g_action, g_res in granted
            if not any(action == g_action and fnmatchcase(arn, g_res) for action, arn in needed)
        )
        if missing:
            problems.append(f"{fn} calls what its role does not grant: {missing}")
        if unused:
            problems.append(f"{fn}'s role grants what its code never called: {unused}")
    assert not problems, "\n".join(problems)


def test_no_wildcards_and_each_secret_is_its_readers_alone(stack: Any) -> None:
    secret_arn = stack.resources["secret_id"]
    webhook_secret = stack.resources["webhook_secret_id"]
    for fn in FUNCTIONS:
        for st in role_statements(stack, fn):
            assert "*" not in _as_list(st["Resource"]), (fn, st["Sid"])
            assert all("*" not in action for action in _as_list(st["Action"])), (fn, st["Sid"])
            if fn != "poller":
                assert secret_arn not in json.dumps(st), fn
            if fn != "webhook":
                assert webhook_secret not in json.dumps(st), fn
            if any(a.startswith("secretsmanager:") for a in _as_list(st["Action"])):
                assert fn in ("poller", "webhook"), fn


def _stored_tokens(stack: Any) -> list[str]:
    items = stack.dynamodb.scan(TableName=stack.resources["state_table"])["Items"]
    return [item["access_token"]["S"] for item in items if "access_token" in item]


def test_no_secret_or_token_in_environment_or_logs(exercised: Any, captured_logs: list[str]) -> None:
    stored = exercised.secretsmanager.get_secret_value(SecretId=exercised.resources["secret_id"])
    client_secret = json.loads(stored["SecretString"])["client_secret"]
    hook = exercised.secretsmanager.get_secret_value(SecretId=exercised.resources["webhook_secret_id"])
    webhook_token = json.loads(hook["SecretString"])["bearer_token"]
    tokens = _stored_tokens(exercised)
    assert tokens, "no token in the state table: the poller's token cache was not exercised"
    for fn in FUNCTIONS:
        env = json.dumps(exercised.spec(fn).environment)
        assert client_secret not in env and not any(t in env for t in tokens), fn
        assert webhook_token not in env, fn
    lines = [line for fn in FUNCTIONS for line in exercised.recorder.output.get(fn, [])] + captured_logs
    assert len(lines) > 10, "too little output captured to say anything about the logs"
    for needle in [client_secret, webhook_token, *tokens]:
        leaked = [line[:200] for line in lines if needle in line]
        assert not leaked, leaked[:3]
