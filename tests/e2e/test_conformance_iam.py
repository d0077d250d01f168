"""IAM conformance: each function's role grants exactly what its code calls, no more, no less.

The pipeline runs end to end on the local stack (plus the paths a quiet day never takes: a
rejected token, an unreadable page, a hand-written notification); the recorder notes every AWS
call per function with the parameters that decide its authorisation; :func:`iam_pairs` turns each
call into the IAM (action, resource ARN) pairs AWS authorises, as AWS documents them (quoted
below), and they are compared with the ``Code*`` statements of the function's role in
template.yaml, resolved against the provisioned resources. ``Runtime*`` statements (logs, the SQS
event source mapping) serve Lambda itself.

The local server enforces IAM too (every e2e test runs each handler under its own role), so a
missing grant also fails there; this test adds what enforcement cannot see: grants nobody uses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs

import pytest

from wizwatch_tools.localstack.cfn import load_template
from wizwatch_tools.localstack.clients import ACCOUNT_ID, REGION, aws_client
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE
from wizwatch_tools.localstack.receivers import local_destinations
from wizwatch_tools.localstack.recorder import AwsCall
from wizwatch_tools.localstack.roles import role_logical_id

TEMPLATE = load_template(DEFAULT_TEMPLATE)
#: One stack for the module, exercised once (every flow below), on one xdist worker.
pytestmark = pytest.mark.xdist_group("conformance_iam")

#: "Using IAM with DynamoDB transactions" (DynamoDB Developer Guide): "Permissions for Put,
#: Update, Delete, and Get actions are governed by the permissions used for the underlying
#: PutItem, UpdateItem, DeleteItem, and GetItem operations. For the ConditionCheck action, you can
#: use the dynamodb:ConditionCheckItem permission in IAM policies."
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
#: "Amazon SQS batch actions" (SQS Developer Guide): "You cannot set permissions explicitly for
#: SendMessageBatch, DeleteMessageBatch, or ChangeMessageVisibilityBatch. Instead, setting
#: permissions for SendMessage, DeleteMessage, or ChangeMessageVisibility sets permissions for
#: the corresponding batch versions of the actions."
_SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}  # fmt: skip


def _s3_object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3_read(arn: str, version: str | None) -> tuple[str, str]:
    # GetObject (S3 API Reference): "If you include a versionId in your request header, you must
    # have the s3:GetObjectVersion permission to access a specific version of an object. The
    # s3:GetObject permission is not required in this scenario. If you request the current
    # version of an object without a specific versionId in the request header, only the
    # s3:GetObject permission is required."
    return ("s3:GetObjectVersion" if version else "s3:GetObject", arn)


def _s3_pairs(op: str, p: dict[str, str]) -> list[tuple[str, str]]:
    obj = _s3_object(p.get("Bucket", ""), p.get("Key", ""))
    if op in ("GetObject", "HeadObject"):
        # HeadObject: "You need the relevant read object (or version) permission for this operation."
        return [_s3_read(obj, p.get("VersionId"))]
    if op == "CopyObject":
        # CopyObject: "If the source object is in a general purpose bucket, you must have
        # s3:GetObject permission to read the source object that is being copied. If the
        # destination bucket is a general purpose bucket, you must have s3:PutObject permission to
        # write the object copy to the destination bucket." A versioned source is read as a
        # version (GetObject's rule above).
        path, _, query = p["CopySource"].partition("?")
        return [
            ("s3:PutObject", obj),
            _s3_read(f"arn:aws:s3:::{path}", parse_qs(query).get("versionId", [None])[0]),
        ]
    if op == "PutObject":
        # PutObject: "s3:PutObjectAcl - To successfully change the objects ACL of your PutObject
        # request, you must have the s3:PutObjectAcl. s3:PutObjectTagging - To successfully set
        # the tag-set with your PutObject request, you must have the s3:PutObjectTagging."
        extra = [("s3:PutObjectTagging", obj)] if "Tagging" in p else []
        extra += [("s3:PutObjectAcl", obj)] if "ACL" in p else []
        return [("s3:PutObject", obj), *extra]
    if op in ("ListObjectsV2", "ListObjects"):
        # ListObjectsV2: "You must have permission to perform the s3:ListBucket action" -- on the
        # bucket resource type (arn:aws:s3:::bucket), never an object ARN.
        return [("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}")]
    if op == "DeleteObject":
        # Service Authorization Reference (Amazon S3): DeleteObjectVersion "Grants permission to
        # remove a specific version of an object"; DeleteObject removes the null version.
        return [("s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject", obj)]
    raise AssertionError(f"no IAM mapping for s3 {op}: extend iam_pairs() before granting it")


def _kms_pairs(key: str | None, actions: list[str]) -> list[tuple[str, str]]:
    """KMS use by SNS/SQS on a caller's behalf: only for customer keys. An AWS managed key's policy
    (alias/aws/sns, alias/aws/sqs) already allows every principal of the account through the service."""
    if not key or key.startswith("alias/aws/"):
        return []
    return [(f"kms:{a}", key) for a in actions]


def iam_pairs(call: AwsCall, kms_keys: dict[str, str]) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM authorises for one API call, parameters included.

    ``kms_keys`` maps a topic or queue ARN to the KMS key ARN it is encrypted with.
    """
    p, op = call.params, call.operation
    if call.service == "s3":
        return _s3_pairs(op, p)
    if call.service == "dynamodb":
        if op in ("TransactWriteItems", "TransactGetItems"):
            items = [item.split(":", 1) for item in p["TransactItems"].split(",")]
            return [(f"dynamodb:{_TRANSACT_ACTIONS[k]}", _table(t)) for k, t in items]
        # BatchGetItem/BatchWriteItem (Service Authorization Reference): actions of their own on
        # each table of RequestItems; the others act on the one table named.
        tables = [_table(t) for t in p["TableName"].split(",")]
        if p.get("IndexName") and op in ("Query", "Scan"):
            tables = [f"{t}/index/{p['IndexName']}" for t in tables]
        return [(f"dynamodb:{op}", t) for t in tables]
    if call.service == "sqs":
        name = p["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        action = _SQS_BATCH.get(op, op)
        # SQS Developer Guide, key management: "the producer must have the kms:GenerateDataKey and
        # kms:Decrypt permissions for the customer master key"; "the consumer must have the
        # kms:Decrypt permission for any customer master key (CMK) that is used to encrypt the
        # messages in the specified queue".
        kms = {"SendMessage": ["GenerateDataKey", "Decrypt"], "ReceiveMessage": ["Decrypt"]}.get(action, [])
        return [(f"sqs:{action}", arn), *_kms_pairs(kms_keys.get(arn), kms)]
    if call.service == "sns" and op in ("Publish", "PublishBatch"):
        topic = p.get("TopicArn") or p["TargetArn"]
        # SNS Developer Guide, "Allow a user to send messages to a topic with SSE": "The publisher
        # must have the kms:GenerateDataKey and kms:Decrypt permissions for the AWS KMS key."
        return [("sns:Publish", topic), *_kms_pairs(kms_keys.get(topic), ["GenerateDataKey", "Decrypt"])]
    if call.service == "secretsmanager" and op == "GetSecretValue":
        return [("secretsmanager:GetSecretValue", p["SecretId"])]
    raise AssertionError(f"no IAM mapping for {call}: extend iam_pairs() before granting it")


def _table(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"


def kms_keys_of(stack: Any) -> dict[str, str]:
    """Topic and queue ARNs of the stack -> the KMS key they are encrypted with (as configured)."""
    keys = {}
    for topic in stack.sns.list_topics()["Topics"]:
        attrs = stack.sns.get_topic_attributes(TopicArn=topic["TopicArn"])["Attributes"]
        if attrs.get("KmsMasterKeyId"):
            keys[topic["TopicArn"]] = _key_arn(stack, attrs["KmsMasterKeyId"])
    for url in stack.sqs.list_queues().get("QueueUrls", []):
        attrs = stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "KmsMasterKeyId"])
        if attrs["Attributes"].get("KmsMasterKeyId"):
            keys[attrs["Attributes"]["QueueArn"]] = _key_arn(stack, attrs["Attributes"]["KmsMasterKeyId"])
    return keys


def _key_arn(stack: Any, key_id: str) -> str:
    if key_id.startswith("alias/aws/"):
        return key_id
    return str(aws_client("kms", stack.endpoint).describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])


def role_statements(stack: Any, fn: str) -> list[dict[str, Any]]:
    """The resolved statements of ``fn``'s role."""
    spec = stack.spec(fn)
    role_id = role_logical_id(spec.logical_id, TEMPLATE["Resources"][spec.logical_id]["Properties"])
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


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def exercised(
    module_stack: Any, module_wiz_sim: Any, captured_logs: list[str], tmp_path_factory: Any
) -> Iterator[Any]:
    """The stack after every flow: pipeline, pushed issues and detections (and refused pushes), a
    rejected token, an unreadable raw page, an alert delivered twice, an alert SNS refuses (its
    topic deleted) until it is parked in the DLQ, and a delivery with credentials from the secret.
    Once per module: the tests only read what these flows left behind."""
    stack, wiz_sim, tmp_path = module_stack, module_wiz_sim, tmp_path_factory.mktemp("iam")
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
    # An operator re-queues a hand-written notification (no versionId): the current version is read.
    good_key = stack.archived_keys("raw/")[0]
    s3 = {"bucket": {"name": stack.resources["bucket"]}, "object": {"key": good_key}}
    hand_written = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": s3}]}
    stack.sqs.send_message(QueueUrl=stack.resources["raw_queue_url"], MessageBody=json.dumps(hand_written))
    stack.run_detector()
    quarantined = stack.archived_keys("quarantine/")
    assert quarantined, "the unreadable page was not quarantined"
    stack.run_notifier()
    # The notifier's delivery ledger: a second copy of a delivered alert is dropped, and a delivery
    # that fails releases its claim, sets its retry delay, records its state under deliveries/.
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
    # Routed at once (one delivery message per destination: SNS); the delivery then fails at
    # every attempt and ends in DeliveryDLQ.
    assert stack.invoke("notifier", {"Records": [refused]}) == {"batchItemFailures": []}
    assert stack.run_notifier().failed > 0
    assert stack.queue_depth("delivery_dlq_url") == 1
    # A destination with credentials (read from DestinationsSecret), over HTTP to a receiver.
    dest = local_destinations(("sns", "webhook"))
    try:
        stack.secretsmanager.put_secret_value(
            SecretId=stack.resources["destinations_secret_id"], SecretString=dest.secret_string()
        )
        stack.function_env.setdefault("notifier", {}).update(
            {
                "DESTINATIONS_FILE": str(dest.write_document(tmp_path / "d.yml")),
                "DESTINATIONS_ALLOW_LOOPBACK_HTTP": "1",
            }
        )
        hooked = {
            **record,
            "messageId": "hook",
            "body": json.dumps({**alert, "alert_id": "e" * 32, "destinations": ["webhook"]}),
        }
        assert stack.invoke("notifier", {"Records": [hooked]}) == {"batchItemFailures": []}
        stack.run_notifier()
        assert len(dest.receivers.received("webhook", accepted=True)) == 1
        stack.destination_credentials = list(dest.credentials.values())
        yield stack
    finally:
        dest.stop()


def test_roles_grant_exactly_what_the_code_calls(exercised: Any) -> None:
    problems = []
    kms_keys = kms_keys_of(exercised)
    for fn in sorted(exercised.functions):
        calls = exercised.recorder.calls.get(fn, [])
        if not calls:
            problems.append(f"{fn} made no AWS calls: did its handler run?")
            continue
        needed = {pair for call in calls for pair in iam_pairs(call, kms_keys)}
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


def test_no_wildcards_and_each_secret_is_its_readers_alone(module_stack: Any) -> None:
    stack = module_stack
    # the Wiz credentials are the poller's, the webhook's its own, the destinations' the notifier's
    owners = {
        stack.resources["secret_id"]: "poller",
        stack.resources["webhook_secret_id"]: "webhook",
        stack.resources["destinations_secret_id"]: "notifier",
    }
    for fn in stack.functions:
        for st in role_statements(stack, fn):
            assert "*" not in _as_list(st["Resource"]), (fn, st["Sid"])
            assert all("*" not in action for action in _as_list(st["Action"])), (fn, st["Sid"])
            for arn, owner in owners.items():
                if fn != owner:
                    assert arn not in json.dumps(st), (fn, st["Sid"])
            if any(a.startswith("secretsmanager:") for a in _as_list(st["Action"])):
                assert fn in owners.values(), fn


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
    for fn in exercised.functions:
        env = json.dumps(exercised.spec(fn).environment)
        assert client_secret not in env and not any(t in env for t in tokens), fn
        assert webhook_token not in env, fn
    lines = [
        line for fn in exercised.functions for line in exercised.recorder.output.get(fn, [])
    ] + captured_logs
    assert len(lines) > 10, "too little output captured to say anything about the logs"
    for needle in [client_secret, webhook_token, *tokens, *exercised.destination_credentials]:
        leaked = [line[:200] for line in lines if needle in line]
        assert not leaked, leaked[:3]
