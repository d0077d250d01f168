"""Provisioning the real template.yaml on the moto server, and ``wizwatch local provision``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_plus

from wizwatch_tools.localstack import provision
from wizwatch_tools.localstack.clients import aws_client
from wizwatch_tools.localstack.server import reset


def test_provision_cli_creates_resources_and_prints_environments(moto_server: str) -> None:
    reset(moto_server)
    wizwatch = Path(sys.executable).parent / "wizwatch"
    proc = subprocess.run(
        [str(wizwatch), "local", "provision", "--endpoint-url", moto_server],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out["functions"]) == {"poller", "detector", "notifier"}
    env = out["functions"]["poller"]
    assert env["STATE_TABLE"] == out["resources"]["state_table"]
    assert env["RAW_BUCKET"] == out["resources"]["bucket"]
    assert out["functions"]["detector"]["ALERT_QUEUE_URL"] == out["resources"]["alert_queue_url"]
    assert out["functions"]["notifier"]["ALERT_TOPIC_ARN"] == out["resources"]["alert_topic_arn"]
    ddb = aws_client("dynamodb", moto_server)
    ttl = ddb.describe_time_to_live(TableName=out["resources"]["dedup_table"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    keys = ddb.describe_table(TableName=out["resources"]["dedup_table"])["Table"]["KeySchema"]
    assert keys == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


def test_bucket_notifies_the_raw_queue_for_raw_prefix_only(moto_server: str) -> None:
    reset(moto_server)
    prov = provision(moto_server, parameters={"WizApiUrl": "https://wiz-api.invalid/graphql"})
    s3, sqs = aws_client("s3", moto_server), aws_client("sqs", moto_server)
    bucket, queue = prov.resources["bucket"], prov.resources["raw_queue_url"]

    def drain() -> list[str]:
        keys = []
        while msgs := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            for m in msgs:
                body = json.loads(m["Body"])
                keys += [unquote_plus(r["s3"]["object"]["key"]) for r in body.get("Records", [])]
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return keys

    drain()  # S3's test event
    s3.put_object(Bucket=bucket, Key="raw/Wiz.Audit/x.json.gz", Body=b"x")
    s3.put_object(Bucket=bucket, Key="matches/Rule/x.json.gz", Body=b"x")
    assert drain() == ["raw/Wiz.Audit/x.json.gz"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["deadLetterTargetArn"].endswith("RawObjectDLQ") and int(redrive["maxReceiveCount"]) == 5
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert "RawBucketPolicy.TLS-only" in prov.skipped


def test_secret_holds_the_given_value(moto_server: str) -> None:
    reset(moto_server)
    value = json.dumps({"client_id": "a", "client_secret": "b"})
    prov = provision(
        moto_server,
        parameters={"WizApiUrl": "https://wiz-api.invalid/graphql"},
        secret_values={"WizCredentialsSecret": value},
    )
    sm = aws_client("secretsmanager", moto_server)
    assert sm.get_secret_value(SecretId=prov.resources["secret_id"])["SecretString"] == value
    assert prov.functions["poller"].environment["WIZ_CREDENTIALS_SECRET"] == prov.resources["secret_id"]
