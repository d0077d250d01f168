"""Which IAM permissions AWS checks for one request: the (action, resource ARN) pairs, per service.

moto's access control evaluates one action per request, and for DynamoDB, SNS, Secrets Manager
and KMS against resource ``"*"``: a grant scoped to a table, topic or secret (every grant in
template.yaml) would never match, and multi-item or versioned operations are authorised as the
wrong action. This module says what AWS really authorises, following its documentation (quoted
beside each rule); :mod:`wizwatch_tools.localstack.enforce` checks every pair against the
caller's policies. A request this module does not know keeps moto's own (action, resource):
for the services above that is ``"*"``, which no resource-scoped grant matches, so an unknown
call fails closed, as strict as AWS or stricter.

It is pure: a :class:`Request` (what arrived) and a :class:`Lookup` (what the backends know:
a secret's full ARN, a queue's or topic's KMS key) in, :class:`Permission` pairs out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlparse


@dataclass(frozen=True)
class Permission:
    """One IAM action on one resource ARN, as a policy statement must allow it."""

    action: str  # with the service prefix, e.g. "s3:GetObjectVersion"
    resource: str


@dataclass
class Request:
    """What the local endpoint received, reduced to what authorisation needs."""

    service: str  # the SigV4 credential scope's service: s3, dynamodb, sqs, sns, secretsmanager, kms
    operation: str  # the API operation moto resolved (S3: moto's ACTION_MAP name, e.g. GetObject)
    region: str
    account: str
    method: str = "POST"
    url: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | str = b""
    params: Mapping[str, Any] = field(default_factory=dict)  # query-protocol parameters (SNS)
    default_resource: str = "*"  # what moto determined (S3: the bucket or object ARN; SQS: the queue ARN)

    def json(self) -> dict[str, Any]:
        """The JSON body of a JSON-protocol request (DynamoDB, Secrets Manager, KMS, SQS)."""
        raw = self.body.decode() if isinstance(self.body, bytes) else self.body
        try:
            doc = json.loads(raw or "{}")
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.url).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def param(self, name: str) -> str | None:
        """A parameter of either protocol (query string/form or JSON body)."""
        value = self.params.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            value = self.json().get(name)
        return None if value is None else str(value)


class Lookup(Protocol):
    """What only the backends know."""

    def secret_arn(self, secret_id: str) -> str | None: ...
    def kms_key_arn(self, key_id: str) -> str | None: ...
    def kms_key_is_aws_managed(self, key_id: str) -> bool: ...
    def topic_kms_key(self, topic_arn: str) -> str | None: ...
    def queue_kms_key(self, queue_arn: str) -> str | None: ...


class NoLookup:
    """A Lookup that knows nothing (unit tests of the pure rules)."""

    def secret_arn(self, secret_id: str) -> str | None:
        return None

    def kms_key_arn(self, key_id: str) -> str | None:
        return None

    def kms_key_is_aws_managed(self, key_id: str) -> bool:
        return False

    def topic_kms_key(self, topic_arn: str) -> str | None:
        return None

    def queue_kms_key(self, queue_arn: str) -> str | None:
        return None


def permissions(req: Request, lookup: Lookup) -> list[Permission]:
    """Every (action, resource) AWS authorises for ``req``; all of them must be allowed."""
    rule = _RULES.get(req.service)
    if rule is None:
        return [Permission(f"{req.service}:{req.operation}", req.default_resource)]
    return rule(req, lookup)


# ---- S3 -------------------------------------------------------------------------------------


def _s3(req: Request, lookup: Lookup) -> list[Permission]:
    action, resource = req.operation, req.default_resource
    query = req.query()
    if req.method == "HEAD" and action == "GetObject" and "versionId" in query:
        # HeadObject (API Reference): "You need the relevant read object (or version)
        # permission for this operation"; GetObject: "If you include a versionId in your request
        # header, you must have the s3:GetObjectVersion permission to access a specific version
        # of an object. The s3:GetObject permission is not required in this scenario."
        # moto maps every HEAD of a key to GetObject.
        action = "GetObjectVersion"
    out = [Permission(f"s3:{action}", resource)]
    source = req.header("x-amz-copy-source")
    if req.method == "PUT" and source and "partNumber" not in query:
        # CopyObject (API Reference): "If the source object is in a general purpose bucket, you
        # must have s3:GetObject permission to read the source object that is being copied. If
        # the destination bucket is a general purpose bucket, you must have s3:PutObject
        # permission" -- and a copy of a specific version reads that version, which GetObject's
        # rule above puts under s3:GetObjectVersion. moto checks only the destination.
        src_arn, version = _copy_source(source)
        out.append(Permission("s3:GetObjectVersion" if version else "s3:GetObject", src_arn))
    if req.method == "PUT" and action == "PutObject":
        # PutObject (API Reference): "s3:PutObjectAcl - To successfully change the objects ACL
        # of your PutObject request, you must have the s3:PutObjectAcl. s3:PutObjectTagging - To
        # successfully set the tag-set with your PutObject request, you must have the
        # s3:PutObjectTagging."
        if req.header("x-amz-tagging"):
            out.append(Permission("s3:PutObjectTagging", resource))
        if req.header("x-amz-acl") or any(k.lower().startswith("x-amz-grant-") for k in req.headers):
            out.append(Permission("s3:PutObjectAcl", resource))
    return out


def _copy_source(header: str) -> tuple[str, str | None]:
    """``x-amz-copy-source`` (``bucket/key[?versionId=v]``, URL-encoded) -> (object ARN, version)."""
    path, _, query = header.partition("?")
    version = parse_qs(query).get("versionId", [None])[0]
    return f"arn:aws:s3:::{unquote(path.lstrip('/'))}", version


# ---- DynamoDB -------------------------------------------------------------------------------

#: "Using IAM with DynamoDB transactions": "Permissions for Put, Update, Delete, and Get actions
#: are governed by the permissions used for the underlying PutItem, UpdateItem, DeleteItem, and
#: GetItem operations. For the ConditionCheck action, you can use the dynamodb:ConditionCheckItem
#: permission in IAM policies."
_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
#: Operations the Service Authorization Reference lists without a resource type ("*").
_DYNAMODB_ACCOUNT_WIDE = {
    "ListTables",
    "DescribeLimits",
    "DescribeEndpoints",
    "ListBackups",
    "ListGlobalTables",
}


def _table_arn(req: Request, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{req.region}:{req.account}:table/{table}"


def _dynamodb(req: Request, lookup: Lookup) -> list[Permission]:
    op, body = req.operation, req.json()
    if op in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for item in body.get("TransactItems", []):
            for kind, spec in item.items():
                out.append(
                    Permission(f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", _table_arn(req, spec["TableName"]))
                )
        return out
    if op in ("BatchGetItem", "BatchWriteItem"):
        # Service Authorization Reference (DynamoDB): BatchGetItem / BatchWriteItem are actions
        # of their own on the "table*" resource type, one check per table in RequestItems.
        return [
            Permission(f"dynamodb:{op}", _table_arn(req, t)) for t in sorted(body.get("RequestItems", {}))
        ]
    if op in _DYNAMODB_ACCOUNT_WIDE or "TableName" not in body:
        return [Permission(f"dynamodb:{op}", "*")]
    arn = _table_arn(req, str(body["TableName"]))
    if body.get("IndexName") and op in ("Query", "Scan"):
        # Resource type "index":
        # arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}
        arn = f"{arn}/index/{body['IndexName']}"
    return [Permission(f"dynamodb:{op}", arn)]


# ---- SQS ------------------------------------------------------------------------------------

#: "Amazon SQS batch actions": "You cannot set permissions explicitly for SendMessageBatch,
#: DeleteMessageBatch, or ChangeMessageVisibilityBatch. Instead, setting permissions for
#: SendMessage, DeleteMessage, or ChangeMessageVisibility sets permissions for the corresponding
#: batch versions of the actions."
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _sqs(req: Request, lookup: Lookup) -> list[Permission]:
    action = _SQS_BATCH.get(req.operation, req.operation)
    out = [Permission(f"sqs:{action}", req.default_resource)]
    key = lookup.queue_kms_key(req.default_resource) if req.default_resource != "*" else None
    if key and not lookup.kms_key_is_aws_managed(key):
        key_arn = lookup.kms_key_arn(key) or key
        if action == "SendMessage":
            # SQS Developer Guide, "Configure KMS permissions for producers": "the producer must
            # have the kms:GenerateDataKey and kms:Decrypt permissions for the customer master key"
            out += [Permission("kms:GenerateDataKey", key_arn), Permission("kms:Decrypt", key_arn)]
        elif action == "ReceiveMessage":
            # "...for consumers": "the consumer must have the kms:Decrypt permission for any
            # customer master key (CMK) that is used to encrypt the messages in the specified queue"
            out.append(Permission("kms:Decrypt", key_arn))
    return out


# ---- SNS ------------------------------------------------------------------------------------

_SNS_ACCOUNT_WIDE = {
    "ListTopics",
    "ListSubscriptions",
    "ListPlatformApplications",
    "CheckIfPhoneNumberIsOptedOut",
}


def _sns(req: Request, lookup: Lookup) -> list[Permission]:
    op = req.operation
    if op in _SNS_ACCOUNT_WIDE:
        return [Permission(f"sns:{op}", "*")]
    if op == "CreateTopic":
        return [Permission("sns:CreateTopic", f"arn:aws:sns:{req.region}:{req.account}:{req.param('Name')}")]
    topic = req.param("TopicArn") or req.param("TargetArn") or req.param("ResourceArn")
    if not topic and req.param("SubscriptionArn"):
        topic = str(req.param("SubscriptionArn")).rsplit(":", 1)[
            0
        ]  # a subscription ARN is its topic's + ":id"
    action = "Publish" if op == "PublishBatch" else op  # PublishBatch is authorised as sns:Publish
    out = [Permission(f"sns:{action}", topic or "*")]
    if action == "Publish" and topic:
        key = lookup.topic_kms_key(topic)
        if key and not lookup.kms_key_is_aws_managed(key):
            # SNS Developer Guide, "Allow a user to send messages to a topic with SSE": "The
            # publisher must have the kms:GenerateDataKey and kms:Decrypt permissions for the AWS
            # KMS key." An AWS managed key (alias/aws/sns) is exempt: its key policy, which AWS
            # writes and no one can change, already allows every principal of the account to use
            # it through SNS (kms:ViaService); a customer key's policy delegates to IAM.
            key_arn = lookup.kms_key_arn(key) or key
            out += [Permission("kms:GenerateDataKey", key_arn), Permission("kms:Decrypt", key_arn)]
    return out


# ---- Secrets Manager, KMS -------------------------------------------------------------------


def _secretsmanager(req: Request, lookup: Lookup) -> list[Permission]:
    op = req.operation
    secret_id = req.param("SecretId")
    if secret_id:
        # Resource type "Secret": arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}
        # (the full ARN, with the random suffix; a name is resolved to it).
        arn = lookup.secret_arn(secret_id) or (
            secret_id
            if secret_id.startswith("arn:")
            else f"arn:aws:secretsmanager:{req.region}:{req.account}:secret:{secret_id}"
        )
        return [Permission(f"secretsmanager:{op}", arn)]
    if op == "CreateSecret" and req.param("Name"):
        return [
            Permission(
                f"secretsmanager:{op}",
                f"arn:aws:secretsmanager:{req.region}:{req.account}:secret:{req.param('Name')}",
            )
        ]
    return [Permission(f"secretsmanager:{op}", "*")]


def _kms(req: Request, lookup: Lookup) -> list[Permission]:
    key_id = req.param("KeyId")
    if not key_id:
        return [Permission(f"kms:{req.operation}", "*")]
    return [Permission(f"kms:{req.operation}", lookup.kms_key_arn(key_id) or key_id)]


_RULES: dict[str, Callable[[Request, Lookup], list[Permission]]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "secretsmanager": _secretsmanager,
    "kms": _kms,
}
