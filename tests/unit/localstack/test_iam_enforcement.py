"""The local server enforces IAM as AWS does: a call outside the caller's role is denied, a granted
call passes, resource by resource, for every service the handlers use."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from wizwatch_tools.localstack import roles
from wizwatch_tools.localstack.cfn import TemplateError
from wizwatch_tools.localstack.clients import DUMMY_CREDENTIALS, REGION, aws_client
from wizwatch_tools.localstack.server import reset

TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


class Probe:
    """Resources made by the administrator, and a role to call them with."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        admin = lambda service: aws_client(service, endpoint)  # noqa: E731
        self.admin = admin
        ddb = admin("dynamodb")
        for table in ("granted", "other"):
            ddb.create_table(
                TableName=table,
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        self.table_arn = ddb.describe_table(TableName="granted")["Table"]["TableArn"]
        s3 = admin("s3")
        s3.create_bucket(Bucket="probe")
        s3.put_bucket_versioning(Bucket="probe", VersioningConfiguration={"Status": "Enabled"})
        self.version = s3.put_object(Bucket="probe", Key="raw/a", Body=b"a")["VersionId"]
        sns = admin("sns")
        self.topic = sns.create_topic(Name="granted")["TopicArn"]
        self.aws_key_topic = sns.create_topic(Name="aws-key", Attributes={"KmsMasterKeyId": "alias/aws/sns"})[
            "TopicArn"
        ]
        self.cmk = admin("kms").create_key(Description="probe")["KeyMetadata"]["Arn"]
        self.cmk_topic = sns.create_topic(Name="cmk", Attributes={"KmsMasterKeyId": self.cmk})["TopicArn"]
        sm = admin("secretsmanager")
        self.secret = sm.create_secret(Name="granted", SecretString="s")["ARN"]
        self.other_secret = sm.create_secret(Name="other", SecretString="s")["ARN"]
        self.queue = admin("sqs").create_queue(QueueName="granted")["QueueUrl"]
        self.queue_arn = f"arn:aws:sqs:{REGION}:123456789012:granted"

    def role(self, name: str, statements: list[dict[str, Any]]) -> Callable[[str], Any]:
        """A role with these statements, assumed as Lambda would; returns a client factory."""
        iam = self.admin("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))["Role"]["Arn"]
        doc = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
        spec = type("Spec", (), {"role_arn": arn, "function_name": name, "logical_id": name})()
        creds = roles.function_credentials(self.endpoint, {name: spec})[name]
        return lambda service: aws_client(service, self.endpoint, creds)


@pytest.fixture
def probe(moto_server: str) -> Iterator[Probe]:
    reset(moto_server)
    roles.ensure_admin(
        moto_server, DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"], DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    )
    yield Probe(moto_server)


def _denied(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    assert err["Code"] in ("AccessDenied", "AccessDeniedException"), err
    return str(err.get("Message", ""))


def test_the_server_enforces_and_admin_may_do_anything(probe: Probe) -> None:
    assert roles.enforcing(probe.endpoint)
    probe.admin("dynamodb").put_item(TableName="other", Item={"pk": {"S": "x"}})


def test_unknown_keys_and_bad_signatures_are_refused(probe: Probe) -> None:
    for key, secret in (("AKIASTRANGER0000000", "x"), ("testing", "wrong")):  # unknown key; admin's, forged
        client = boto3.client(
            "sqs",
            endpoint_url=probe.endpoint,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )
        with pytest.raises(ClientError) as info:
            client.list_queues()
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_dynamodb_is_checked_on_the_table_arn_and_per_transaction_item(probe: Probe) -> None:
    client = probe.role(
        "ddb",
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:BatchGetItem"],
                "Resource": probe.table_arn,
            },
        ],
    )("dynamodb")
    client.put_item(TableName="granted", Item={"pk": {"S": "a"}})  # granted on this table
    message = _denied(lambda: client.put_item(TableName="other", Item={"pk": {"S": "a"}}))
    assert "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/other" in message
    _denied(lambda: client.get_item(TableName="granted", Key={"pk": {"S": "a"}}))  # action not granted
    client.batch_get_item(RequestItems={"granted": {"Keys": [{"pk": {"S": "a"}}]}})
    _denied(
        lambda: client.batch_get_item(
            RequestItems={"granted": {"Keys": [{"pk": {"S": "a"}}]}, "other": {"Keys": [{"pk": {"S": "a"}}]}}
        )
    )
    put = {"Put": {"TableName": "granted", "Item": {"pk": {"S": "t"}}}}
    client.transact_write_items(TransactItems=[put])  # a Put item needs dynamodb:PutItem, granted
    check = {
        "ConditionCheck": {
            "TableName": "granted",
            "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    message = _denied(lambda: client.transact_write_items(TransactItems=[put, check]))
    assert "dynamodb:ConditionCheckItem" in message
    update = {"Update": {"TableName": "granted", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET v = :v",
                         "ExpressionAttributeValues": {":v": {"S": "1"}}}}  # fmt: skip
    _denied(lambda: client.transact_write_items(TransactItems=[update]))


def test_s3_versions_and_copy_sources_need_their_own_grants(probe: Probe) -> None:
    obj = "arn:aws:s3:::probe/raw/*"
    s3 = probe.role(
        "s3",
        [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": obj},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::probe/kept/*"},
        ],
    )("s3")
    assert s3.get_object(Bucket="probe", Key="raw/a")["Body"].read() == b"a"
    s3.head_object(Bucket="probe", Key="raw/a")
    _denied(lambda: s3.get_object(Bucket="probe", Key="raw/a", VersionId=probe.version))
    with pytest.raises(ClientError) as info:  # HEAD answers a bare 403
        s3.head_object(Bucket="probe", Key="raw/a", VersionId=probe.version)
    assert info.value.response["Error"]["Code"] in ("403", "AccessDenied")
    s3.copy_object(Bucket="probe", Key="kept/a", CopySource={"Bucket": "probe", "Key": "raw/a"})
    versioned = {"Bucket": "probe", "Key": "raw/a", "VersionId": probe.version}
    _denied(lambda: s3.copy_object(Bucket="probe", Key="kept/b", CopySource=versioned))
    _denied(lambda: s3.put_object(Bucket="probe", Key="raw/b", Body=b"b"))  # PutObject only on kept/
    _denied(lambda: s3.list_objects_v2(Bucket="probe"))

    versions = probe.role(
        "s3v",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObjectVersion", "s3:PutObject"],
                "Resource": "arn:aws:s3:::probe/*",
            }
        ],
    )("s3")
    assert versions.get_object(Bucket="probe", Key="raw/a", VersionId=probe.version)["Body"].read() == b"a"
    versions.copy_object(Bucket="probe", Key="kept/c", CopySource=versioned)
    _denied(lambda: versions.get_object(Bucket="probe", Key="raw/a"))  # the current version is s3:GetObject


def test_sns_publish_is_checked_on_the_topic_and_a_customer_key(probe: Probe) -> None:
    sns = probe.role(
        "sns",
        [
            {
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": [probe.topic, probe.aws_key_topic, probe.cmk_topic],
            }
        ],
    )("sns")
    sns.publish(TopicArn=probe.topic, Message="m")
    sns.publish(TopicArn=probe.aws_key_topic, Message="m")  # an AWS managed key needs no grant
    assert "kms:GenerateDataKey" in _denied(lambda: sns.publish(TopicArn=probe.cmk_topic, Message="m"))
    other = probe.admin("sns").create_topic(Name="other")["TopicArn"]
    _denied(lambda: sns.publish(TopicArn=other, Message="m"))

    with_key = probe.role(
        "snskms",
        [
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": probe.cmk_topic},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": probe.cmk},
        ],
    )("sns")
    with_key.publish(TopicArn=probe.cmk_topic, Message="m")


def test_secrets_are_checked_on_their_full_arn_and_sqs_batches_as_single_actions(probe: Probe) -> None:
    factory = probe.role(
        "misc",
        [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": probe.secret},
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": probe.queue_arn},
        ],
    )
    sm = factory("secretsmanager")
    assert sm.get_secret_value(SecretId="granted")["SecretString"] == "s"  # by name: the ARN is checked
    _denied(lambda: sm.get_secret_value(SecretId="other"))
    sqs = factory("sqs")
    sqs.send_message_batch(QueueUrl=probe.queue, Entries=[{"Id": "1", "MessageBody": "m"}])
    _denied(lambda: sqs.receive_message(QueueUrl=probe.queue))


def test_lambda_cannot_assume_a_role_that_does_not_trust_it(probe: Probe) -> None:
    trust = json.loads(json.dumps(TRUST_LAMBDA).replace("lambda.amazonaws.com", "ec2.amazonaws.com"))
    arn = probe.admin("iam").create_role(RoleName="ec2only", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    spec = type("Spec", (), {"role_arn": arn, "function_name": "f", "logical_id": "F"})()
    with pytest.raises(TemplateError, match=r"does not let lambda\.amazonaws\.com assume it"):
        roles.function_credentials(probe.endpoint, {"f": spec})


def test_in_process_moto_is_left_as_it_was(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit tests' mock_aws share this process with the enforcing server: still permissive."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "anything")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "anything")
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="m")
    assert roles.enforcing(moto_server)
