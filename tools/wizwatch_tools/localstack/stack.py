"""The local stack: provisioned resources plus the roles AWS would play around the handlers.

moto stores the data and really delivers S3 notifications into SQS and SNS messages into SQS,
but it runs no Lambda code and fires no schedule. On a local server that enforces IAM
(:class:`~wizwatch_tools.localstack.server.MotoServer`), provisioning and the stack's own clients
run as an administrator, and each handler -- and the event source mapping polling its queue --
runs under temporary credentials of the function's own role from the template.
:class:`LocalStack` does those parts: schedule ticks invoke the poller with the template's
schedule inputs; SQS event sources are drained into handler invocations in batches, honouring
``batchItemFailures`` (failed messages become visible again, and moto's redrive moves them to the
DLQ after ``maxReceiveCount``); and the alerts SNS delivered are read back from a subscribed queue.
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from wizwatch.logtypes import API_LOG_TYPES
from wizwatch_tools.localstack import invoke as _invoke
from wizwatch_tools.localstack import roles
from wizwatch_tools.localstack.cfn_functions import FunctionSpec, QueueSource
from wizwatch_tools.localstack.clients import DUMMY_CREDENTIALS, REGION, aws_client
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE, Provisioned, provision
from wizwatch_tools.localstack.recorder import Recorder
from wizwatch_tools.localstack.server import reset as reset_server

SECRET_ID = "WizCredentialsSecret"
SIMULATOR_AUDIENCE = "wiz-api"
SIMULATOR_REQUESTS_PER_SECOND = "50"
#: A safety net against a handler that fails forever: Lambda would stop at the DLQ too.
MAX_BATCHES_PER_DRAIN = 500


@dataclass
class DrainResult:
    """What draining one function's queue did."""

    invocations: int = 0
    messages: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DrainResult) -> None:
        """Fold another drain's counts into this one."""
        self.invocations += other.invocations
        self.messages += other.messages
        self.deleted += other.deleted
        self.failed += other.failed
        self.errors += other.errors


def schedule_key(event: dict[str, Any], name: str) -> str:
    """``<LogType>`` for a poll schedule, ``<LogType>/snapshot`` for a snapshot schedule."""
    log_type = str(event.get("log_type", name))
    return f"{log_type}/snapshot" if event.get("snapshot") else log_type


class LocalStack:
    """Resources of template.yaml on an AWS endpoint, and the real handlers run against them.

    Attributes: ``endpoint``; ``iam_enforced`` (the endpoint checks every call against the
    caller's policies); ``credentials`` (function -> its role's temporary credentials, empty when
    IAM is not enforced); ``resources`` (bucket, state_table, dedup_table, raw_queue_url,
    raw_dlq_url, alert_queue_url, alert_dlq_url, alert_topic_arn, secret_id,
    alerts_subscription_queue_url); ``functions`` (name -> FunctionSpec); ``recorder`` (AWS
    calls, EMF metrics and stdout per function); ``s3``/``sqs``/``sns``/``dynamodb``/
    ``secretsmanager`` clients on the endpoint; ``errors`` (tracebacks of handler invocations
    that raised while a queue was drained, as Lambda would log them).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        template_path: str | Path = DEFAULT_TEMPLATE,
        parameters: Mapping[str, str] | None = None,
        secret_values: Mapping[str, str] | None = None,
        stack_name: str = "wizwatch",
        reset: bool = False,
        echo: bool = True,
        function_env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """``function_env`` adds variables to a function's template environment (e.g. a faster
        request budget against the simulator); ``echo`` shows handler output on stdout."""
        if reset:
            reset_server(endpoint)
        self.endpoint = endpoint
        self.iam_enforced = roles.enforcing(endpoint)
        self.provisioned: Provisioned = provision(
            endpoint,
            template_path=template_path,
            parameters=parameters,
            stack_name=stack_name,
            secret_values=secret_values,
        )
        self.resources: dict[str, str] = self.provisioned.resources
        self.functions: dict[str, FunctionSpec] = self.provisioned.functions
        self.credentials: dict[str, roles.Credentials] = (
            roles.function_credentials(endpoint, self.functions) if self.iam_enforced else {}
        )
        self.function_env = {fn: dict(extra) for fn, extra in (function_env or {}).items()}
        self.recorder = Recorder()
        self.errors: list[str] = []
        self.s3 = aws_client("s3", endpoint)
        self.sqs = aws_client("sqs", endpoint)
        self.sns = aws_client("sns", endpoint)
        self.dynamodb = aws_client("dynamodb", endpoint)
        self.secretsmanager = aws_client("secretsmanager", endpoint)
        self._function_keys = {k for spec in self.functions.values() for k in spec.environment} | {
            k for extra in self.function_env.values() for k in extra
        }
        self._runner = _invoke.InProcessRunner(self.recorder, self._function_keys, echo=echo)
        self._alerts: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []

    @classmethod
    def for_wiz(
        cls,
        endpoint: str,
        *,
        wiz_api_url: str,
        wiz_token_url: str,
        client_id: str,
        client_secret: str,
        wiz_audience: str = "",
        parameters: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> LocalStack:
        """The stack with the poller pointed at a Wiz API (the simulator or a real tenant) and
        the credentials secret holding that API's client id and secret. ``wiz_audience`` is
        needed only for a token URL that is not one of Wiz's own hosts (the simulator's)."""
        params = {
            "WizApiUrl": wiz_api_url,
            "WizTokenUrl": wiz_token_url,
            "WizAudience": wiz_audience,
            # The webhook function (and its secret) exist locally: it runs behind a local listener.
            "WebhookEndpoint": "FunctionUrl",
            **(parameters or {}),
        }
        secret = json.dumps({"client_id": client_id, "client_secret": client_secret})
        return cls(endpoint, parameters=params, secret_values={SECRET_ID: secret}, **kwargs)

    @classmethod
    def for_simulator(
        cls,
        endpoint: str,
        sim: Any,
        *,
        client_id: str,
        client_secret: str,
        history_hours: float,
        **kwargs: Any,
    ) -> LocalStack:
        """The stack against a running :class:`WizSimulator` seeded with ``history_hours``.

        The first poll reaches back exactly over the seeded history, and the poller's request
        budget is raised (``WIZ_REQUESTS_PER_SECOND``): it protects the real Wiz, while the
        simulator only throttles when a test asks it to.
        """
        params = {
            "InitialLookbackHours": str(max(1, math.ceil(history_hours))),
            # The simulator serves every polled type (Wiz.Detections included, opt-in in AWS).
            "WizLogTypes": ",".join(API_LOG_TYPES),
            **kwargs.pop("parameters", {}),
        }
        function_env = {"poller": {"WIZ_REQUESTS_PER_SECOND": SIMULATOR_REQUESTS_PER_SECOND}}
        for fn, extra in (kwargs.pop("function_env", None) or {}).items():
            function_env.setdefault(fn, {}).update(extra)
        return cls.for_wiz(
            endpoint,
            wiz_api_url=sim.api_url,
            wiz_token_url=sim.token_url,
            wiz_audience=SIMULATOR_AUDIENCE,
            client_id=client_id,
            client_secret=client_secret,
            parameters=params,
            function_env=function_env,
            **kwargs,
        )

    # ---- environment and invocation ----------------------------------------------------------
    def spec(self, fn: str) -> FunctionSpec:
        try:
            return self.functions[fn]
        except KeyError:
            raise KeyError(
                f"no function {fn!r} in the template (have: {', '.join(self.functions)})"
            ) from None

    def env(self, fn: str) -> dict[str, str]:
        """The template's environment for ``fn`` (+ ``function_env``) + the local endpoint, the
        credentials of the function's role (dummy ones when IAM is not enforced) and region."""
        creds = self.credentials.get(fn)
        return {
            **self.spec(fn).environment,
            **self.function_env.get(fn, {}),
            "AWS_ENDPOINT_URL": self.endpoint,
            **(creds.env() if creds else DUMMY_CREDENTIALS),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client_as(self, fn: str, service: str) -> Any:
        """A client signed with ``fn``'s role (the administrator's when IAM is not enforced)."""
        return aws_client(service, self.endpoint, self.credentials.get(fn))

    def invoke(
        self,
        fn: str,
        event: Any,
        *,
        remaining_ms: int | None = None,
        env_overrides: Mapping[str, str] | None = None,
        fresh_process: bool = False,
        crash_at: str | None = None,
    ) -> Any:
        """Run ``functions/<fn>/app.py``'s handler with a Lambda-like context; return its result.

        In-process by default (warm after the first call, exceptions propagate). With
        ``fresh_process=True`` it is a cold start in a new process: a handler exception is raised
        as :class:`HandlerError`; with ``crash_at`` the process dies there and a
        :class:`CrashResult` is returned (:class:`CrashPointNotReached` if it never got there).
        """
        spec = self.spec(fn)
        env = {**self.env(fn), **(env_overrides or {})}
        budget = remaining_ms if remaining_ms is not None else spec.timeout * 1000
        if fresh_process:
            return _invoke.run_in_subprocess(
                spec, env, event, budget, self.recorder, self._function_keys, crash_at=crash_at
            )
        if crash_at:
            raise ValueError("crash_at needs fresh_process=True (a crash must not kill the test process)")
        return self._runner.invoke(spec, env, event, budget)

    # ---- the roles AWS plays -------------------------------------------------------------------
    def tick_poller(self, log_type: str | None = None) -> Any:
        """One schedule tick. With ``log_type``: that schedule's event, returns the handler's
        result. Without: every enabled schedule in turn, returns ``{log_type: result}``."""
        poller = self.spec("poller")
        if log_type is not None:
            for sched in poller.schedules:
                if sched.input.get("log_type") == log_type and not sched.input.get("snapshot"):
                    return self.invoke("poller", sched.input)
            return self.invoke("poller", {"log_type": log_type})
        results = {}
        for sched in poller.schedules:
            if sched.enabled:
                results[schedule_key(sched.input, sched.name)] = self.invoke("poller", sched.input)
        return results

    def tick_snapshot(self, log_type: str = "Wiz.CloudConfigurationFinding") -> Any:
        """One tick of ``log_type``'s posture-snapshot schedule; returns the handler's result."""
        return self.invoke("poller", {"log_type": log_type, "snapshot": True})

    def run_detector(self) -> DrainResult:
        """Drain the detector's queue (S3 notifications) into detector invocations."""
        return self.drain("detector")

    def run_notifier(self) -> DrainResult:
        """Drain the alert queue and the delivery queue into notifier invocations."""
        return self.drain("notifier")

    def drain(self, fn: str) -> DrainResult:
        """Poll every SQS event source of ``fn`` as Lambda would until all of them are empty.

        Messages not reported in ``batchItemFailures`` are deleted; failed ones (or the whole
        batch when the handler raises) are made visible again at once, so retries happen now
        rather than after the visibility timeout (or the delay a handler set); moto's redrive
        moves them to the DLQ.
        """
        spec = self.spec(fn)
        if not spec.queue_sources:
            raise ValueError(f"{fn} has no SQS event source in the template")
        out = DrainResult()
        for _ in range(MAX_BATCHES_PER_DRAIN):
            rounds = [self._drain_source(fn, source) for source in spec.queue_sources]
            for r in rounds:
                out.add(r)
            if all(r.messages == 0 for r in rounds):
                return out
        raise RuntimeError(f"{fn}: queues still not empty after {MAX_BATCHES_PER_DRAIN} rounds")

    def _drain_source(self, fn: str, source: QueueSource) -> DrainResult:
        # Lambda's event source mapping polls with the function's execution role.
        sqs = self.client_as(fn, "sqs")
        out = DrainResult()
        for _ in range(MAX_BATCHES_PER_DRAIN):
            resp = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(10, source.batch_size),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = resp.get("Messages", [])
            if not messages:
                return out
            out.invocations += 1
            out.messages += len(messages)
            event = {"Records": [_sqs_record(m, source.queue_arn) for m in messages]}
            try:
                result = self.invoke(fn, event)
                failed = _failed_ids(result) if source.report_batch_item_failures else set()
            except Exception:
                tb = traceback.format_exc()
                self.errors.append(f"{fn}: {tb}")
                out.errors.append(tb)
                print(f"[local stack] {fn} raised; the batch will be retried:\n{tb}", file=sys.stderr)
                failed = {m["MessageId"] for m in messages}
            for m in messages:
                if m["MessageId"] in failed:
                    out.failed += 1
                    sqs.change_message_visibility(
                        QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    out.deleted += 1
                    sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"])
        raise RuntimeError(f"{fn}: queue still not empty after {MAX_BATCHES_PER_DRAIN} batches")

    def run_pipeline(self, max_rounds: int = 10) -> dict[str, Any]:
        """Poll every enabled log type, then run detector and notifier until both queues are quiet."""
        summary: dict[str, Any] = {
            "poller": self.tick_poller(),
            "detector": DrainResult(),
            "notifier": DrainResult(),
        }
        for _ in range(max_rounds):
            det, note = self.run_detector(), self.run_notifier()
            summary["detector"].add(det)
            summary["notifier"].add(note)
            if det.messages == 0 and note.messages == 0:
                break
        return summary

    # ---- what came out -------------------------------------------------------------------------
    def received_notifications(self) -> list[dict[str, Any]]:
        """Every SNS notification delivered to the local subscription so far (the SNS envelope:
        ``Message``, ``MessageAttributes``, ``Subject``...), oldest first."""
        url = self.resources["alerts_subscription_queue_url"]
        while True:
            resp = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = resp.get("Messages", [])
            if not messages:
                break
            for m in messages:
                self._notifications.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return list(self._notifications)

    def received_alerts(self) -> list[dict[str, Any]]:
        """The alert JSON of every notification SNS delivered so far, oldest first."""
        notes = self.received_notifications()
        self._alerts = [json.loads(n["Message"]) for n in notes]
        return list(self._alerts)

    def queue_depth(self, key: str) -> int:
        """Visible + in-flight messages of a queue named in ``resources`` (e.g. ``raw_dlq_url``)."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources[key],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def archived_keys(self, prefix: str = "raw/") -> list[str]:
        """Keys under ``prefix`` in the archive bucket."""
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.resources["bucket"], Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def expire_ttl_items(self, now: float | None = None) -> int:
        """Delete items whose TTL has passed, as DynamoDB eventually would (moto never does).

        The code must not rely on this happening (expiry is checked on read); tests use it to
        show that either way the outcome is the same.
        """
        now = time.time() if now is None else now
        deleted = 0
        deser = TypeDeserializer()
        for table in self.dynamodb.list_tables()["TableNames"]:
            ttl = self.dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            attr = ttl.get("AttributeName")
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not attr:
                continue
            keys = [
                k["AttributeName"]
                for k in self.dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            ]
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    if attr in item and "N" in item[attr] and float(deser.deserialize(item[attr])) <= now:
                        self.dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})
                        deleted += 1
        return deleted

    def close(self) -> None:
        """Drop the warm handler modules of this stack."""
        for name in self.functions:
            sys.modules.pop(_invoke.module_name(name), None)


def _failed_ids(result: Any) -> set[str]:
    if not isinstance(result, dict):
        return set()
    return {str(f["itemIdentifier"]) for f in result.get("batchItemFailures", []) or []}


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to the function."""
    attrs = message.get("MessageAttributes", {}) or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            k: {
                "stringValue": v.get("StringValue"),
                "binaryValue": v.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": v["DataType"],
            }
            for k, v in attrs.items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
