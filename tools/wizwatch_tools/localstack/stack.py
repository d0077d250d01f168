"""The local stack: provisioned resources plus the roles AWS would play around the handlers.

moto stores the data and really delivers S3 notifications into SQS and SNS messages into SQS,
but it runs no Lambda code and fires no schedule. On a local server that enforces IAM
(:class:`~wizwatch_tools.localstack.server.MotoServer`), provisioning and the stack's own clients
run as an administrator, and each handler -- and the event source mapping polling its queue --
runs under temporary credentials of the function's own role from the template.
:class:`LocalStack` does those parts: schedule ticks invoke the poller with the template's
schedule inputs; SQS event sources are drained into handler invocations in batches
(:mod:`.event_sources`); and what came out -- the alerts SNS delivered, queue depths, archived
keys -- is read back (:mod:`.stack_inspection`). This module builds the stack, gives each
function its environment and invokes the handlers.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wizwatch.logtypes import API_LOG_TYPES
from wizwatch_tools.localstack import invoke as _invoke
from wizwatch_tools.localstack import roles
from wizwatch_tools.localstack.cfn_functions import FunctionSpec
from wizwatch_tools.localstack.clients import DUMMY_CREDENTIALS, REGION, aws_client
from wizwatch_tools.localstack.event_sources import DrainResult, QueueEventSources
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE, Provisioned, provision
from wizwatch_tools.localstack.recorder import Recorder
from wizwatch_tools.localstack.server import reset as reset_server
from wizwatch_tools.localstack.stack_inspection import StackInspection

SECRET_ID = "WizCredentialsSecret"
SIMULATOR_AUDIENCE = "wiz-api"
SIMULATOR_REQUESTS_PER_SECOND = "50"


def schedule_key(event: dict[str, Any], name: str) -> str:
    """``<LogType>`` for a poll schedule, ``<LogType>/snapshot`` for a snapshot schedule."""
    log_type = str(event.get("log_type", name))
    return f"{log_type}/snapshot" if event.get("snapshot") else log_type


class LocalStack(QueueEventSources, StackInspection):
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

    def close(self) -> None:
        """Drop the warm handler modules of this stack."""
        for name in self.functions:
            sys.modules.pop(_invoke.module_name(name), None)
