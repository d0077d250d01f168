"""A tiny template with two fake functions, to test the local stack's own behaviour."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizwatch_tools.localstack import LocalStack

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Environment:
      Variables:
        POWERTOOLS_METRICS_NAMESPACE: Wizwatch
Resources:
  WorkDLQ:
    Type: AWS::SQS::Queue
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt WorkDLQ.Arn
        maxReceiveCount: 2
  EchoRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: &lambda_trust
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: echo
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: sqs:GetQueueAttributes
                Resource: !GetAtt WorkQueue.Arn
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: *lambda_trust
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility]
                Resource: !GetAtt WorkQueue.Arn
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo
      Role: !GetAtt EchoRole.Arn
      Timeout: 7
      MemorySize: 256
      Environment:
        Variables:
          GREETING: !Sub "${Greeting} from ${AWS::Region}"
          WORK_QUEUE_URL: !Ref WorkQueue
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"log_type": "Wiz.Audit"}'
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker
      Role: !GetAtt WorkerRole.Arn
      Environment:
        Variables:
          POWERTOOLS_SERVICE_NAME: worker
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
"""

ECHO_APP = """
import json, os
import wizwatch.aws

COLD_STARTS = globals().get("COLD_STARTS", 0) + 1
INVOCATIONS = []


def marker():
    return "marker"


def handler(event, context):
    INVOCATIONS.append(event)
    if event.get("raise"):
        raise RuntimeError("asked to fail")
    sqs = wizwatch.aws.client("sqs")
    sqs.get_queue_attributes(QueueUrl=os.environ["WORK_QUEUE_URL"], AttributeNames=["All"])
    if event.get("call_marker"):
        marker()
    print(json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "Wizwatch",
          "Dimensions": [["service", "LogType"]], "Metrics": [{"Name": "EchoCount", "Unit": "Count"}]}]},
          "service": "echo", "LogType": "Wiz.Audit", "EchoCount": 1}))
    return {
        "event": event,
        "greeting": os.environ["GREETING"],
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "invocations": len(INVOCATIONS),
        "pid": os.getpid(),
    }
"""

WORKER_APP = """
import json

SEEN = []


def handler(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        SEEN.append(body)
        if body.get("poison"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""


@pytest.fixture
def tiny_template(tmp_path: Path) -> Path:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "app.py").write_text(textwrap.dedent(ECHO_APP))
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "app.py").write_text(textwrap.dedent(WORKER_APP))
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


@pytest.fixture
def tiny_stack(moto_server: str, tiny_template: Path) -> Iterator[LocalStack]:
    local = LocalStack(moto_server, template_path=tiny_template, reset=True, stack_name="tiny")
    try:
        yield local
    finally:
        local.close()
