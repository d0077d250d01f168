"""HTTP requests and responses in the Lambda payload format 2.0 (function URLs and HTTP APIs).

A Lambda function URL sends the API Gateway HTTP API payload format 2.0 (``version: "2.0"``,
``rawPath``, ``requestContext.http.method`` / ``sourceIp``, lower-cased ``headers`` with repeated
headers joined by commas, ``body`` base64-encoded when ``isBase64Encoded``). Powertools'
``LambdaFunctionUrlEvent`` reads the fields; the body is decoded here to *bytes*, because
Powertools' ``decoded_body`` returns text and the archive keeps the exact bytes Wiz sent.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import orjson
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent


class BadRequestEvent(ValueError):
    """The Lambda event is not an HTTP request in payload format 2.0."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    source_ip: str
    request_id: str
    user_agent: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_request(event: Any) -> Request:
    """The HTTP request of a function URL / HTTP API (payload 2.0) event."""
    if not isinstance(event, dict) or not isinstance(event.get("requestContext"), dict):
        raise BadRequestEvent("not an HTTP event (no requestContext)")
    http = event["requestContext"].get("http")
    if not isinstance(http, dict) or not http.get("method"):
        raise BadRequestEvent("not a payload format 2.0 event (no requestContext.http.method)")
    data = LambdaFunctionUrlEvent(event)
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        raise BadRequestEvent("body is not a string")
    if data.is_base64_encoded:
        try:
            body = base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise BadRequestEvent(f"isBase64Encoded body is not base64 ({exc})") from None
    else:
        body = raw.encode("utf-8", "surrogatepass")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return Request(
        method=str(http["method"]).upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        headers=headers,
        body=body,
        source_ip=str(http.get("sourceIp") or ""),
        request_id=str(event["requestContext"].get("requestId") or ""),
        user_agent=str(http.get("userAgent") or headers.get("user-agent") or ""),
    )


@dataclass(frozen=True)
class Response:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def to_lambda(self) -> dict[str, Any]:
        """The function's result as a function URL / HTTP API 2.0 response."""
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json", "cache-control": "no-store", **self.headers},
            "body": orjson.dumps(self.payload).decode(),
            "isBase64Encoded": False,
        }
