"""``WizSimulator``: the token endpoint, the GraphQL endpoint and a control API on one local port.

Routes: ``POST /oauth/token``, ``POST /graphql``, and for out-of-process control
``GET /_sim/stats``, ``GET|POST|DELETE /_sim/faults``, ``POST /_sim/reset`` (stats and faults),
``GET /_sim/records?log_type=...&start=...&end=...&visible_only=0|1``, ``POST /_sim/config``
(``token_lifetime_seconds``, ``cursor_ttl_seconds``, ``page_delay_seconds``, ``max_first``),
``POST /_sim/generate`` (``{"until": RFC3339}``, default now) and ``GET /_sim/health``.
Binds 127.0.0.1 only; port 0 picks a free port.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import orjson

from wizwatch_tools.simulator.connections import ConnectionResolver, Limits
from wizwatch_tools.simulator.cursors import CursorCodec
from wizwatch_tools.simulator.faults import Faults
from wizwatch_tools.simulator.graphql_api import Answer, GraphQLEndpoint, fault_answer, json_answer
from wizwatch_tools.simulator.ratelimit import TokenBucket
from wizwatch_tools.simulator.store import RecordStore
from wizwatch_tools.simulator.tokens import DEFAULT_AUDIENCES, DEFAULT_SCOPES, Client, TokenIssuer
from wizwatch_tools.simulator.versions import LOG_TYPES, as_utc

DEFAULT_CLIENT_ID = "wizwatch-demo"
DEFAULT_CLIENT_SECRET = "wizwatch-demo-secret"  # a local simulator's demo credential


class RequestRecord(NamedTuple):
    """One request as the simulator saw it (``operation`` is the connection, or ``token``)."""

    time: float
    path: str
    operation: str | None
    variables: dict[str, Any] | None
    status: int


class Stats:
    """What the simulator answered: for assertions about retries, page counts and token reuse."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[RequestRecord] = []
        self.tokens_issued = 0

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.requests.append(entry)

    def token_issued(self) -> None:
        with self._lock:
            self.tokens_issued += 1

    def reset(self) -> None:
        with self._lock:
            self.requests = []
            self.tokens_issued = 0

    def graphql(self, connection: str | None = None) -> list[RequestRecord]:
        """The GraphQL requests (optionally for one connection)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == "/graphql" and (connection is None or r.operation == connection)
            ]

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": [r._asdict() for r in self.requests], "tokens_issued": self.tokens_issued}


class WizSimulator:
    """A local Wiz API: ``start()``/``stop()`` or ``with WizSimulator(...) as sim``."""

    def __init__(
        self,
        seed: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        clock: Callable[[], datetime] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        audiences: tuple[str, ...] = DEFAULT_AUDIENCES,
        token_lifetime_seconds: float = 86400,
        cursor_ttl_seconds: float | None = None,
        page_delay_seconds: float = 0.0,
        max_first: dict[str, int] | None = None,
        rate_limit_per_second: float | None = None,
        live: bool = False,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.host = host
        self.port = port
        self.live = live
        self.client_id = client_id
        self.client_secret = client_secret
        self.store = RecordStore(seed=seed, clock=self.clock)
        self.faults = Faults()
        self.stats = Stats()
        self.limits = Limits(cursor_ttl_seconds=cursor_ttl_seconds)
        if max_first:
            self.limits.max_first.update(max_first)
        self.tokens = TokenIssuer(self.store, token_lifetime_seconds, audiences)
        self.tokens.add_client(Client(client_id, client_secret, tuple(scopes), name="wizwatch"))
        self.graphql = GraphQLEndpoint(
            ConnectionResolver(self.store, CursorCodec(), self.limits), self.tokens, self.faults, self.clock
        )
        self.graphql.page_delay_seconds = page_delay_seconds
        self.set_rate_limit(rate_limit_per_second)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- knobs -----------------------------------------------------------------------------

    @property
    def token_lifetime_seconds(self) -> float:
        return self.tokens.lifetime_seconds

    @token_lifetime_seconds.setter
    def token_lifetime_seconds(self, value: float) -> None:
        self.tokens.lifetime_seconds = value

    @property
    def cursor_ttl_seconds(self) -> float | None:
        return self.limits.cursor_ttl_seconds

    @cursor_ttl_seconds.setter
    def cursor_ttl_seconds(self, value: float | None) -> None:
        self.limits.cursor_ttl_seconds = value

    @property
    def page_delay_seconds(self) -> float:
        return self.graphql.page_delay_seconds

    @page_delay_seconds.setter
    def page_delay_seconds(self, value: float) -> None:
        self.graphql.page_delay_seconds = value

    @property
    def rate_limit_per_second(self) -> float | None:
        bucket = self.graphql.rate_limiter
        return bucket.rate if bucket is not None else None

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, value: float | None) -> None:
        """Throttle GraphQL requests tenant-wide (None: never); see ``set_rate_limit`` for more."""
        self.set_rate_limit(value)

    def set_rate_limit(
        self,
        per_second: float | None,
        burst: float | None = None,
        retry_after: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.graphql.rate_limiter = (
            None if per_second is None else TokenBucket(per_second, burst, retry_after, monotonic)
        )

    @property
    def max_first(self) -> dict[str, int]:
        return self.limits.max_first

    def hold(self, after: int = 0) -> None:
        """GraphQL requests after the next ``after`` wait until :meth:`release` (test ordering)."""
        self.graphql.gate.hold(after)

    def release(self) -> None:
        self.graphql.gate.release()

    @property
    def held(self) -> int:
        """GraphQL requests waiting at the gate right now."""
        return self.graphql.gate.waiting

    def add_client(
        self, client_id: str, client_secret: str, scopes: tuple[str, ...], name: str | None = None
    ) -> Client:
        """Another service account (e.g. one without ``admin:audit``, for UNAUTHORIZED tests)."""
        return self.tokens.add_client(Client(client_id, client_secret, tuple(scopes), name=name or client_id))

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() first")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return self.url + "/oauth/token"

    @property
    def api_url(self) -> str:
        return self.url + "/graphql"

    def start(self) -> WizSimulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="wiz-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()  # a held request must not keep a handler thread waiting
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WizSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (``wizwatch simulate``)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    # --- request handling (called by the HTTP handler) --------------------------------------

    def _token(self, body: bytes, ip: str | None, agent: str | None) -> Answer:
        fault = self.faults.take("token")
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.params["delay"]))
        elif fault is not None:
            forced = fault_answer(fault, "token")
            if forced is not None:
                return forced
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        status, payload = self.tokens.issue(form, ip, agent, self.clock())
        if status == 200:
            self.stats.token_issued()
        return json_answer(status, payload, operation="token")

    def _control(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Answer:
        payload: Any = orjson.loads(body) if body.strip() else {}
        if path == "/_sim/health":
            return json_answer(200, {"ok": True})
        if path == "/_sim/stats" and method == "GET":
            return json_answer(200, self.stats.as_dict())
        if path == "/_sim/reset" and method == "POST":
            self.stats.reset()
            self.faults.clear()
            return json_answer(200, {"ok": True})
        if path == "/_sim/faults":
            if method == "GET":
                return json_answer(200, self.faults.pending())
            if method == "DELETE":
                self.faults.clear()
                return json_answer(200, {"ok": True})
            items = payload if isinstance(payload, list) else [payload]
            added = [self.faults.add(**item).as_dict() for item in items]
            return json_answer(200, added)
        if path == "/_sim/records" and method == "GET":
            log_type = (query.get("log_type") or [""])[0]
            if log_type not in LOG_TYPES:
                raise ValueError(f"log_type must be one of {', '.join(LOG_TYPES)}")
            visible = (query.get("visible_only") or ["1"])[0] not in ("0", "false")
            start = query["start"][0] if query.get("start") else None
            end = query["end"][0] if query.get("end") else None
            records = self.store.records(log_type, start, end, visible)
            return json_answer(200, records)
        if path == "/_sim/config" and method == "POST":
            if "rate_limit_per_second" in payload:
                self.set_rate_limit(
                    payload["rate_limit_per_second"],
                    payload.get("rate_limit_burst"),
                    payload.get("rate_limit_retry_after"),
                )
            for key in ("token_lifetime_seconds", "cursor_ttl_seconds", "page_delay_seconds"):
                if key in payload:
                    setattr(self, key, payload[key])
            self.limits.max_first.update(payload.get("max_first") or {})
            return json_answer(200, {"ok": True})
        if path == "/_sim/generate" and method == "POST":
            until = as_utc(payload["until"]) if payload.get("until") else self.clock()
            return json_answer(200, {"added": self.store.generate(until)})
        return json_answer(404, {"error": f"no such control route: {method} {path}"})

    def dispatch(self, method: str, raw_path: str, body: bytes, headers: Any, client_ip: str) -> Answer:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        if self.live and not path.startswith("/_sim"):
            self.store.generate(self.clock())
        if path == "/oauth/token" and method == "POST":
            answer = self._token(body, client_ip, headers.get("User-Agent"))
        elif path == "/graphql" and method == "POST":
            answer = self.graphql.handle(body, headers.get("Authorization"))
        elif path.startswith("/_sim/"):
            try:
                answer = self._control(method, path, parse_qs(parts.query), body)
            except (ValueError, TypeError, KeyError, orjson.JSONDecodeError) as exc:
                answer = json_answer(400, {"error": str(exc)})
            return answer  # control traffic is not part of the stats
        else:
            answer = json_answer(404, {"error": f"no route for {method} {path}"})
        self.stats.record(
            RequestRecord(time.monotonic(), path, answer.operation, answer.variables, answer.status)
        )
        return answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout during a ``slow`` fault) is normal here, not an error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def _handler_for(sim: WizSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with Wiz
        server_version = "WizSimulator/1.0"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = sim.dispatch(method, self.path, body, self.headers, self.client_address[0])
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and benchmarks read the stats instead

    return Handler
