"""The simulator as Wiz's webhook sender: POSTs issue and detection bodies to a URL.

Bodies come from the simulated tenant (``store.webhook_body``: Wiz's documented templates), so a
pushed detection and the same detection polled later are one detection. Auth is configurable
(Bearer token, Basic credentials, none), and the hostile cases a receiver must survive are one
call each: wrong credentials, a body over the limit, a body that is not JSON, a re-delivery of a
body already sent. Every POST is recorded (:class:`Delivery`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from wizwatch.logtypes import DETECTIONS, ISSUES, ISSUES_WEBHOOK
from wizwatch_tools.simulator.store import RecordStore

PATHS = {ISSUES_WEBHOOK: "/issues", DETECTIONS: "/detections"}
#: Wiz's webhook integration sends JSON with its own user agent.
USER_AGENT = "Wiz-Webhook/1.0 (wizwatch simulator)"


@dataclass(frozen=True)
class Auth:
    """How the sender authenticates: a Bearer token, Basic credentials, or nothing."""

    bearer: str | None = None
    username: str | None = None
    password: str | None = None

    def header(self) -> str | None:
        if self.bearer is not None:
            return f"Bearer {self.bearer}"
        if self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None


@dataclass
class Delivery:
    """One POST and its answer."""

    kind: str  # issue | detection | bad_auth | oversized | malformed | redelivery | ...
    log_type: str
    path: str
    status: int
    body_bytes: int
    record_id: str | None = None


@dataclass
class WebhookSender:
    """POSTs to ``url`` (the endpoint's base URL: ``/issues`` and ``/detections`` are appended)."""

    url: str
    auth: Auth
    store: RecordStore | None = None
    rule_id: str = "8f2c1d7e-5b3a-4c1e-9d2f-6a7b8c9d0e1f"  # the Wiz Automation Rule's id
    timeout: float = 30.0
    deliveries: list[Delivery] = field(default_factory=list)
    _session: requests.Session = field(default_factory=requests.Session, repr=False)
    _sent: list[tuple[str, bytes, str | None]] = field(default_factory=list, repr=False)

    def post(
        self,
        log_type: str,
        body: bytes,
        *,
        kind: str,
        auth: Auth | None = None,
        path: str | None = None,
        record_id: str | None = None,
        content_type: str = "application/json",
    ) -> Delivery:
        """POST raw bytes (exactly these bytes: a re-delivery sends the same ones)."""
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        header = (auth or self.auth).header()
        if header is not None:
            headers["Authorization"] = header
        route = path or PATHS[log_type]
        resp = self._session.post(
            self.url.rstrip("/") + route, data=body, headers=headers, timeout=self.timeout
        )
        delivery = Delivery(kind, log_type, route, resp.status_code, len(body), record_id)
        self.deliveries.append(delivery)
        if resp.status_code == 200:
            self._sent.append((log_type, body, record_id))
        return delivery

    def push_record(self, log_type: str, record: dict[str, Any], *, kind: str | None = None) -> Delivery:
        """POST one record as Wiz serialises it."""
        body = orjson.dumps(record)
        return self.post(log_type, body, kind=kind or log_type, record_id=str(record.get("id") or ""))

    # ---- from the simulated tenant ------------------------------------------------------------
    def _store(self) -> RecordStore:
        if self.store is None:
            raise ValueError("this sender has no simulator store to take bodies from")
        return self.store

    def push_detection(self, detection_id: str) -> Delivery:
        """Wiz's Detections webhook for one stored detection."""
        body = self._store().webhook_body(DETECTIONS, detection_id, rule_id=self.rule_id)
        return self.post(DETECTIONS, orjson.dumps(body), kind="detection", record_id=detection_id)

    def push_issue(self, issue_id: str) -> Delivery:
        """Wiz's Issues webhook for one stored issue."""
        body = self._store().webhook_body(ISSUES, issue_id, rule_id=self.rule_id)
        return self.post(ISSUES_WEBHOOK, orjson.dumps(body), kind="issue", record_id=issue_id)

    def push_all(
        self, log_type: str, start: Any = None, end: Any = None, *, limit: int | None = None
    ) -> list[Delivery]:
        """Push every stored detection (``Wiz.Detections``) or open issue (``Wiz.IssuesWebhook``)."""
        store = self._store()
        if log_type == DETECTIONS:
            ids = [d["id"] for d in store.records(DETECTIONS, start, end)]
            return [self.push_detection(i) for i in ids[:limit]]
        ids = [i["id"] for i in store.records(ISSUES, start, end) if i["status"] == "OPEN"]
        return [self.push_issue(i) for i in ids[:limit]]

    # ---- what a receiver must refuse or absorb -------------------------------------------------
    def bad_credentials(self, log_type: str = DETECTIONS) -> list[Delivery]:
        """A wrong Bearer token, wrong Basic credentials, and no credentials at all."""
        body = orjson.dumps({"id": "bad-credentials-probe", "createdAt": "2026-01-01T00:00:00Z"})
        return [
            self.post(log_type, body, kind="bad_auth", auth=Auth(bearer="not-the-token-" + "x" * 20)),
            self.post(log_type, body, kind="bad_auth", auth=Auth(username="wiz", password="wrong")),
            self.post(log_type, body, kind="bad_auth", auth=Auth()),
        ]

    def oversized(self, log_type: str = DETECTIONS, size: int = 1024 * 1024 + 1) -> Delivery:
        """A JSON body one byte over 1 MiB (a valid detection padded with a long description)."""
        head = b'{"id": "oversized-detection", "description": "'
        tail = b'"}'
        body = head + b"x" * max(0, size - len(head) - len(tail)) + tail
        return self.post(log_type, body, kind="oversized")

    def malformed(self, log_type: str = DETECTIONS) -> list[Delivery]:
        """Bodies that are not a JSON object/array: broken JSON, a form, a bare string."""
        return [
            self.post(log_type, b'{"id": "truncated", "severity": "HI', kind="malformed"),
            self.post(
                log_type, b"id=form-encoded&severity=HIGH", kind="malformed", content_type="text/plain"
            ),
            self.post(log_type, b'"just a string"', kind="malformed"),
        ]

    def wrong_paths(self) -> list[Delivery]:
        """Other paths and methods (404, 405)."""
        out = [self.post(DETECTIONS, b"{}", kind="wrong_path", path="/alerts")]
        resp = self._session.get(self.url.rstrip("/") + "/detections", timeout=self.timeout)
        out.append(Delivery("wrong_method", DETECTIONS, "/detections", resp.status_code, 0))
        self.deliveries.append(out[-1])
        return out

    def redeliver(self, count: int = 1) -> list[Delivery]:
        """Send again, byte for byte, the last ``count`` bodies that were accepted (Wiz retrying)."""
        again = self._sent[-count:]
        return [self.post(lt, body, kind="redelivery", record_id=rid) for lt, body, rid in again]
