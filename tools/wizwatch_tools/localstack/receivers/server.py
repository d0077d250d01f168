"""Local stand-ins for Slack, Teams, PagerDuty, Jira and a webhook, on one 127.0.0.1 port.

Each service validates what it is sent the way the real one documents it (see each module) and
answers with its status codes and bodies, so the notifier's real HTTP code is exercised end to
end. Faults are injected per service: ``fail("slack", 429, retry_after=30)`` answers the next
request with a 429 and ``Retry-After: 30``; ``count=None`` keeps failing (a service down for the
whole run) until ``heal``. Every request is kept (``received``), with the status it got.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A service answers (status, headers, body); body is JSON-encoded unless bytes/str.
Answer = tuple[int, dict[str, str], Any]


@dataclass
class Request:
    """One request as a receiver saw it."""

    service: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Fault:
    status: int
    count: int | None  # None: until healed
    retry_after: str | None = None
    body: str = ""


class Service:
    """One imitated service: ``prefix`` of its paths and ``handle(request) -> Answer``."""

    name: str = ""
    prefix: str = ""

    def handle(self, request: Request) -> Answer:
        raise NotImplementedError

    def fault_body(self, status: int) -> Any:
        return {"error": f"injected {status}"}


@dataclass
class Receivers:
    """The services behind one local HTTP server."""

    services: list[Service]
    host: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "receivers not started"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def service(self, name: str) -> Any:
        return next(s for s in self.services if s.name == name)

    def start(self) -> Receivers:
        handler = _handler_class(self._dispatch)
        self._server = ThreadingHTTPServer((self.host, 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="receivers", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receivers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- faults and what was received ---------------------------------------------------------
    def fail(
        self, service: str, status: int, *, count: int | None = 1, retry_after: float | None = None
    ) -> None:
        """The next ``count`` requests to ``service`` (None: all, until healed) get ``status``."""
        ra = None if retry_after is None else str(int(retry_after))
        with self._lock:
            self._faults.setdefault(service, []).append(Fault(status, count, ra))

    def heal(self, service: str) -> None:
        with self._lock:
            self._faults.pop(service, None)

    def received(self, service: str | None = None, *, accepted: bool | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (service is None or r.service == service) and (accepted is None or r.accepted == accepted)
            ]

    def _take_fault(self, service: str) -> Fault | None:
        with self._lock:
            faults = self._faults.get(service) or []
            if not faults:
                return None
            fault = faults[0]
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    faults.pop(0)
            return fault

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        service = next((s for s in self.services if path.startswith(s.prefix)), None)
        request = Request(service.name if service else "?", method, path, headers, body)
        out_headers: dict[str, str] = {}
        payload: Any
        if service is None:
            status, out_headers, payload = 404, {}, {"error": "no such receiver"}
        elif (fault := self._take_fault(service.name)) is not None:
            if fault.retry_after:
                out_headers["Retry-After"] = fault.retry_after
            status, payload = fault.status, fault.body or service.fault_body(fault.status)
        else:
            status, out_headers, payload = service.handle(request)
        request.status = status
        with self._lock:
            self.requests.append(request)
        return status, out_headers, payload


def _handler_class(
    dispatch: Callable[[str, str, dict[str, str], bytes], Answer],
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, payload = dispatch(self.command, self.path, headers, body)
            if isinstance(payload, bytes):
                data, ctype = payload, "application/octet-stream"
            elif isinstance(payload, str):
                data, ctype = payload.encode(), "text/plain; charset=utf-8"
            else:
                data, ctype = json.dumps(payload).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in out_headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
