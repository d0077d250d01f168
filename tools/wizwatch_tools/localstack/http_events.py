"""HTTP requests as a Lambda function URL hands them to the function (payload format 2.0).

Built to AWS's documented request payload ("Invoking Lambda function URLs", Request payload
format): ``version: "2.0"``, ``routeKey: "$default"``, ``rawPath``, ``rawQueryString``, ``cookies``,
``headers`` with lower-cased names and repeated headers joined by commas, ``queryStringParameters``,
``requestContext`` (``accountId``, ``apiId``, ``domainName``, ``domainPrefix``, ``http.method``
/ ``path`` / ``protocol`` / ``sourceIp`` / ``userAgent``, ``requestId``, ``routeKey``, ``stage``,
``time``, ``timeEpoch``), ``body``, ``pathParameters``, ``isBase64Encoded``, ``stageVariables``.
A body whose content type is not text-like is base64-encoded, as Lambda does; the function must
cope with both.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

URL_ID = "abcdefghijklmnopqrstuvwxyz123456"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def _is_text(content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    return any(ct.startswith(t) for t in _TEXT_TYPES) or ct.endswith("+json") or ct.endswith("+xml")


def function_url_event(
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    source_ip: str = "127.0.0.1",
    query: str = "",
    region: str = "us-east-1",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The event a function URL would invoke the function with for this request."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    domain = f"{URL_ID}.lambda-url.{region}.on.aws"
    merged.setdefault("host", domain)
    merged.setdefault("x-forwarded-for", source_ip)
    merged.setdefault("x-forwarded-proto", "https")
    merged.setdefault("x-forwarded-port", "443")
    when = now or datetime.now(UTC)
    as_text = _is_text(merged.get("content-type")) if body else True
    if as_text:
        try:
            text: str | None = body.decode("utf-8")
        except UnicodeDecodeError:
            as_text, text = False, None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": "anonymous",  # an AuthType NONE URL; an AWS_IAM one names the caller
            "apiId": URL_ID,
            "domainName": domain,
            "domainPrefix": URL_ID,
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(when.timestamp() * 1000) if now else int(time.time() * 1000),
        },
        "pathParameters": None,
        "isBase64Encoded": not as_text,
        "stageVariables": None,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params: dict[str, str] = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    if body:
        event["body"] = text if as_text and text is not None else base64.b64encode(body).decode()
    return event
