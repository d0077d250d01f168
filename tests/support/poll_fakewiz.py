"""A small in-process Wiz double for the poller's unit tests, mounted as a requests adapter.

It serves the token endpoint and Relay-paginated GraphQL from lists of records, filtering by the
delta field of ``filterBy`` exactly like the real API is documented to, and can be scripted to
answer the next requests with arbitrary statuses/bodies. The end-to-end tests use the real
simulator over HTTP; this double keeps unit tests sub-second and free of sockets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
import requests
from requests.adapters import BaseAdapter

TOKEN_URL = "https://auth.app.wiz.io/oauth/token"
API_URL = "https://api.us1.app.wiz.io/graphql"

CONNECTIONS = {
    "auditLogEntries": "timestamp",
    "issues": "statusChangedAt",
    "vulnerabilityFindings": "updatedAt",
    "configurationFindings": "updatedAt",
}


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeWiz(BaseAdapter):
    def __init__(self, client_id: str = "cid", client_secret: str = "s3cret-value") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.records: dict[str, list[dict[str, Any]]] = {c: [] for c in CONNECTIONS}
        self.script: list[Scripted] = []
        self.token_script: list[Scripted] = []
        self.requests: list[dict[str, Any]] = []  # GraphQL requests: variables, token, connection
        self.tokens_issued = 0
        self.token_requests = 0  # every POST to the token URL, refused ones included
        self.expires_in: Any = 86400  # anything JSON can carry, to test what the poller accepts
        self.valid_tokens: set[str] = set()
        self.on_request: Callable[[dict[str, Any]], None] | None = None
        self.expire_next_cursor = False
        self.deny: set[str] = set()  # connections answered with 403 UNAUTHORIZED
        self.cursor_loop: dict[str, str] = {}  # endCursor -> the (earlier) cursor answered instead
        self._lock = threading.Lock()

    # -- data
    def add(self, connection: str, when: datetime, **fields: Any) -> dict[str, Any]:
        rec = {
            "id": f"{connection}-{len(self.records[connection])}",
            CONNECTIONS[connection]: iso(when),
            **fields,
        }
        self.records[connection].append(rec)
        return rec

    # -- transport
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with self._lock:
            if request.url == TOKEN_URL:
                status, body, headers = self._token(request)
            else:
                status, body, headers = self._graphql(request)
        resp = requests.Response()
        resp.status_code = status
        resp._content = body if isinstance(body, bytes) else orjson.dumps(body)
        resp.headers.update(headers)
        resp.url = request.url or ""
        resp.request = request
        return resp

    def close(self) -> None:
        pass

    def _token(self, request: requests.PreparedRequest) -> tuple[int, Any, dict[str, str]]:
        self.token_requests += 1
        if self.token_script:
            s = self.token_script.pop(0)
            return s.status, s.body, s.headers
        raw = request.body or ""
        form = parse_qs(raw if isinstance(raw, str) else raw.decode())
        if form.get("client_id") != [self.client_id] or form.get("client_secret") != [self.client_secret]:
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}, {}
        assert form.get("grant_type") == ["client_credentials"]
        self.tokens_issued += 1
        token = f"tok-{self.tokens_issued}-{form['audience'][0]}"
        self.valid_tokens.add(token)
        return 200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}, {}

    def _end_cursor(self, offset: int) -> str:
        cursor = f"c:{offset}"
        return self.cursor_loop.get(cursor, cursor)

    def _graphql(self, request: requests.PreparedRequest) -> tuple[int, Any, dict[str, str]]:
        doc = orjson.loads(request.body or b"{}")
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        variables = doc["variables"]
        query = doc["query"]
        connection = "issues" if "issuesV2" in query else next(c for c in CONNECTIONS if c in query)
        entry = {"variables": variables, "token": token, "connection": connection}
        self.requests.append(entry)
        if self.on_request:
            self.on_request(entry)
        if self.script:
            s = self.script.pop(0)
            return s.status, s.body, s.headers
        if connection in self.deny:
            return (
                403,
                {
                    "errors": [
                        {
                            "message": "Client token scopes does not permit this action",
                            "extensions": {"code": "UNAUTHORIZED"},
                        }
                    ],
                    "data": None,
                },
                {},
            )
        if self.expire_next_cursor and variables.get("after"):
            self.expire_next_cursor = False
            return (
                200,
                {
                    "errors": [
                        {"message": "Invalid or expired cursor", "extensions": {"code": "BAD_USER_INPUT"}}
                    ],
                    "data": None,
                },
                {},
            )
        if token not in self.valid_tokens:
            return 401, {"errors": [{"message": "bad token", "extensions": {"code": "UNAUTHENTICATED"}}]}, {}
        field_name = CONNECTIONS[connection]
        window = variables["filterBy"].get(field_name)
        if window is None:  # a snapshot: no time window, every record
            rows = list(self.records[connection])
        else:
            after, before = _parse(window["after"]), _parse(window["before"])
            rows = [r for r in self.records[connection] if after <= _parse(r[field_name]) <= before]
        if "status" in variables["filterBy"]:
            rows = [r for r in rows if r.get("status", "OPEN") in variables["filterBy"]["status"]]
        offset = int(variables.get("after", "c:0").split(":")[1]) if variables.get("after") else 0
        first = variables["first"]
        page = rows[offset : offset + first]
        has_next = offset + first < len(rows)
        conn: dict[str, Any] = {
            "nodes": page,
            "pageInfo": {
                "hasNextPage": has_next,
                "endCursor": self._end_cursor(offset + first) if has_next else None,
            },
        }
        if variables.get("withCount"):
            conn["totalCount"] = len(rows)
        return 200, {"data": {connection: conn}}, {"X-Request-Id": f"req-{len(self.requests)}"}
