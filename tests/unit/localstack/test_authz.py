"""The (action, resource) pairs the local server checks, for requests the e2e flows rarely make."""

from __future__ import annotations

import json

from wizwatch_tools.localstack.authz import NoLookup, Permission, Request, permissions

QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"


class CmkQueue(NoLookup):
    def queue_kms_key(self, queue_arn: str) -> str | None:
        return "alias/mine" if queue_arn == QUEUE else None

    def kms_key_arn(self, key_id: str) -> str | None:
        return KEY


def _req(service: str, operation: str, **kw: object) -> Request:
    return Request(service=service, operation=operation, region="us-east-1", account="123456789012", **kw)  # type: ignore[arg-type]


def test_sqs_on_a_customer_key_queue_needs_kms_for_producers_and_consumers() -> None:
    send = permissions(_req("sqs", "SendMessageBatch", default_resource=QUEUE), CmkQueue())
    assert send == [
        Permission("sqs:SendMessage", QUEUE),
        Permission("kms:GenerateDataKey", KEY),
        Permission("kms:Decrypt", KEY),
    ]
    receive = permissions(_req("sqs", "ReceiveMessage", default_resource=QUEUE), CmkQueue())
    assert receive == [Permission("sqs:ReceiveMessage", QUEUE), Permission("kms:Decrypt", KEY)]
    assert permissions(_req("sqs", "DeleteMessageBatch", default_resource=QUEUE), CmkQueue()) == [
        Permission("sqs:DeleteMessage", QUEUE)
    ]


def test_copy_source_is_url_decoded_and_its_version_read_as_a_version() -> None:
    req = _req(
        "s3",
        "PutObject",
        method="PUT",
        url="/b/dst",
        headers={"x-amz-copy-source": "/b/raw/a%20b%2Bc.json?versionId=v1", "x-amz-tagging": "k=v"},
        default_resource="arn:aws:s3:::b/dst",
    )
    assert permissions(req, NoLookup()) == [
        Permission("s3:PutObject", "arn:aws:s3:::b/dst"),
        Permission("s3:GetObjectVersion", "arn:aws:s3:::b/raw/a b+c.json"),
        Permission("s3:PutObjectTagging", "arn:aws:s3:::b/dst"),
    ]


def test_dynamodb_index_queries_and_unknown_calls_fail_closed() -> None:
    body = json.dumps({"TableName": "t", "IndexName": "by_ip"})
    assert permissions(_req("dynamodb", "Query", body=body), NoLookup()) == [
        Permission("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/by_ip")
    ]
    assert permissions(_req("dynamodb", "ListTables", body="{}"), NoLookup()) == [
        Permission("dynamodb:ListTables", "*")
    ]
    # a service without rules keeps moto's own resource, "*" for most: no scoped grant matches it
    assert permissions(_req("logs", "PutLogEvents"), NoLookup()) == [Permission("logs:PutLogEvents", "*")]
