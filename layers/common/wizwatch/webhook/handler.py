"""The webhook function: authenticate, check, archive, answer. No rule runs in the request.

``POST /issues`` -> Wiz.IssuesWebhook, ``POST /detections`` -> Wiz.Detections (a trailing ``/`` is
tolerated). Answers, in the order checked:

| status | when |
|---|---|
| 404 | any other path |
| 405 | another method on a known path (``Allow: POST``) |
| 401 | no or wrong credentials (the body says only "unauthorized") |
| 413 | body over ``WEBHOOK_MAX_BODY_BYTES`` (1 MiB) |
| 400 | body not JSON, or JSON that is neither an object nor an array |
| 200 | archived: ``{"accepted": true, "log_type", "records", "sha256"}`` |
| 500 | the auth secret cannot be read, or S3 refused the write: Wiz retries later |

Credentials are checked before the body is looked at, so an unauthenticated caller learns nothing
about size limits or parsing. Only an accepted body is archived; what the detector does with it
happens later, through the bucket's S3 notification.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from wizwatch import aws
from wizwatch import metric_names as mn
from wizwatch.archive.pushed import put_pushed
from wizwatch.config import load
from wizwatch.logs import configure, logger
from wizwatch.logtypes import WEBHOOK_PATHS
from wizwatch.webhook.auth import AuthSecretError, CredentialCache
from wizwatch.webhook.config import WebhookConfig
from wizwatch.webhook.request import BadRequestEvent, Request, Response, parse_request

UNAUTHORIZED = Response(
    401,
    {"message": "unauthorized"},
    {"www-authenticate": 'Bearer realm="wizwatch", Basic realm="wizwatch", charset="UTF-8"'},
)


def now() -> datetime:
    """The webhook's clock (the receipt time); tests replace it."""
    return datetime.now(UTC)


def _metric(name: str, **dimensions: str) -> None:
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=mn.NAMESPACE,
        default_dimensions={"service": "webhook", **dimensions},
    ):
        pass


def _refuse(status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> Response:
    _metric(mn.WEBHOOK_REQUESTS_REFUSED, **{mn.REASON: reason})
    return Response(status, {"message": message}, headers or {})


@functools.lru_cache(maxsize=4)
def _credentials(config: WebhookConfig) -> CredentialCache:
    """One credential cache per container (functools: a cold start in the local stack drops it)."""
    provider = SecretsProvider(boto3_client=aws.client("secretsmanager"))

    def fetch(force: bool) -> str:
        value = provider.get(config.auth_secret, max_age=config.auth_cache_seconds, force_fetch=force)
        if not isinstance(value, str):
            raise AuthSecretError("the webhook auth secret must be a SecretString (JSON), not binary")
        return value

    return CredentialCache(fetch, refresh_seconds=config.auth_refresh_seconds)


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """(document, None) or (None, why it is refused).

    orjson first (fast); what it refuses but Python's json reads (a lone surrogate escape
    ``"\\ud800"``, ``NaN``) is still JSON Wiz may send: it is accepted and archived, and the
    detector deals with the odd record on its own. Invalid UTF-8 and nesting too deep for any
    parser are refused.
    """
    try:
        return orjson.loads(body), None
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "body is not JSON (not UTF-8)"
    try:
        return json.loads(text), None
    except RecursionError:
        return None, "body is not JSON this endpoint can read (nested too deep)"
    except ValueError:
        return None, "body is not JSON"


def route(path: str) -> str | None:
    """The log type posted to ``path`` (``/issues``, ``/detections``; trailing ``/`` ok)."""
    return WEBHOOK_PATHS.get(path.rstrip("/") or "/")


def respond(request: Request, config: WebhookConfig) -> Response:
    """The answer to one request (archiving the body when it is accepted)."""
    log_type = route(request.path)
    if log_type is None:
        return _refuse(404, "not_found", "not found: POST to /issues or /detections")
    if request.method != "POST":
        return _refuse(405, "method", "method not allowed: use POST", {"allow": "POST"})
    try:
        accepted, creds = _credentials(config).check(request.header("authorization"))
    except AuthSecretError as exc:
        logger.error("webhook auth secret unusable; answering 500", extra={"error": str(exc)})
        _metric(mn.WEBHOOK_ERRORS, **{mn.REASON: "secret"})
        return Response(500, {"message": "temporarily unavailable"})
    if creds.empty:
        logger.error(
            "WEBHOOK_AUTH_SECRET holds no credentials: every push is refused. Put "
            '{"bearer_tokens": ["..."]} or {"basic": [{"username": "...", "password": "..."}]} in it'
        )
    if not accepted:
        logger.warning("refused credentials", extra={"sender_ip": request.source_ip, "path": request.path})
        return _refuse(401, "auth", "unauthorized", UNAUTHORIZED.headers)
    if len(request.body) > config.max_body_bytes:
        return _refuse(413, "too_large", f"body over {config.max_body_bytes} bytes")
    doc, problem = parse_json(request.body)
    if problem:
        return _refuse(400, "not_json", problem)
    if not isinstance(doc, dict | list):
        return _refuse(400, "not_json", "body must be a JSON object or an array of objects")
    received = now()
    try:
        key = put_pushed(
            config.raw_bucket,
            log_type,
            request.body,
            doc,
            received=received,
            sender_ip=request.source_ip,
            request_id=request.request_id,
            user_agent=request.user_agent,
        )
    except Exception:
        logger.exception("could not archive a pushed body; answering 500 so Wiz retries")
        _metric(mn.WEBHOOK_ERRORS, **{mn.REASON: "archive"})
        return Response(500, {"message": "temporarily unavailable"})
    records = len(doc) if isinstance(doc, list) else 1
    _metric(mn.WEBHOOK_BODIES_ACCEPTED, **{mn.LOG_TYPE: log_type})
    logger.info(
        "pushed body archived",
        extra={"log_type": log_type, "key": key, "records": records, "sender_ip": request.source_ip},
    )
    return Response(
        200,
        {"accepted": True, "log_type": log_type, "records": records, "sha256": key.rsplit("/", 1)[1][:64]},
    )


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry (function URL / HTTP API payload 2.0) -> an HTTP response."""
    configure()  # service name and level of this function; the AWS SDK's loggers at WARNING
    config = load(WebhookConfig)
    try:
        request = parse_request(event)
    except BadRequestEvent as exc:
        logger.error("event is not an HTTP request", extra={"error": str(exc)})
        return Response(400, {"message": "bad request"}).to_lambda()
    return respond(request, config).to_lambda()
