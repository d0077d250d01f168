"""The webhook function behind a local HTTP listener, as its Lambda function URL would serve it.

Each HTTP request becomes the function URL's payload-2.0 event (``http_events``) and an
invocation of the real handler on the local stack; the handler's response becomes the HTTP answer.
What the URL itself does before the function runs is played here too, per AWS's documentation:
a request payload over 6 MB is refused with 413 (Lambda's synchronous invocation limit) and never
reaches the function, and requests beyond the function's reserved concurrency get 429
(``TooManyRequestsException``, as a throttled function URL answers) instead of queueing. A handler
that raises is answered 502, as a function URL answers a function error.

Handlers run one at a time (the local stack swaps ``os.environ`` per invocation); a request that
finds the function busy waits, unless the reserved concurrency is exhausted.
"""

from __future__ import annotations

import base64
import json
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wizwatch_tools.localstack.http_events import function_url_event

#: Lambda's synchronous invocation payload limit (request and response): 6 MB.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
FUNCTION = "webhook"


class WebhookListener:
    """``with WebhookListener(stack) as hook: requests.post(hook.url + "/detections", ...)``."""

    def __init__(self, stack: Any, *, reserved_concurrency: int | None = None, port: int = 0) -> None:
        self.stack = stack
        spec = stack.spec(FUNCTION)
        self.reserved = (
            reserved_concurrency if reserved_concurrency is not None else spec.reserved_concurrency
        )
        self._slots = threading.BoundedSemaphore(self.reserved) if self.reserved else None
        self._invoke_lock = threading.Lock()
        self.requests = 0
        self.throttled = 0
        self.in_flight = 0  # requests holding a concurrency slot right now
        self.errors: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint's base URL (the function URL's ``https://<id>.lambda-url...`` locally)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> WebhookListener:
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-url", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WebhookListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def credentials(self) -> dict[str, Any]:
        """What the stack's webhook auth secret holds (tests and the demo present it)."""
        secret_id = self.stack.env(FUNCTION)["WEBHOOK_AUTH_SECRET"]
        value: dict[str, Any] = json.loads(
            self.stack.secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]
        )
        return value

    def bearer_token(self) -> str:
        creds = self.credentials()
        return str(creds.get("bearer_token") or creds["bearer_tokens"][0])

    # ---- one request ---------------------------------------------------------------------------
    def serve(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes, ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests += 1
        if len(body) > MAX_PAYLOAD_BYTES:
            return (
                413,
                {"content-type": "application/json"},
                b'{"Message":"Request must be smaller than 6291456 bytes"}',
            )
        if self._slots is not None and not self._slots.acquire(blocking=False):
            self.throttled += 1
            return (
                429,
                {"content-type": "application/json"},
                b'{"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}',
            )
        self.in_flight += 1
        try:
            path_only, _, query = path.partition("?")
            event = function_url_event(method, path_only, headers, body, source_ip=ip, query=query)
            try:
                with self._invoke_lock:
                    result = self.stack.invoke(FUNCTION, event)
            except Exception:
                self.errors.append(traceback.format_exc())
                return 502, {"content-type": "application/json"}, b'{"Message":"Internal Server Error"}'
            return _http_response(result)
        finally:
            self.in_flight -= 1
            if self._slots is not None:
                self._slots.release()


def _http_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A function URL's translation of the function's return value (payload format 2.0)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A value without statusCode is returned as a 200 JSON body (AWS's inference rule).
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), {str(k): str(v) for k, v in (result.get("headers") or {}).items()}, raw


def _handler_for(listener: WebhookListener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = [(k, v) for k, v in self.headers.items()]
            status, out_headers, payload = listener.serve(
                self.command, self.path, headers, body, self.client_address[0]
            )
            self.send_response(status)
            for k, v in out_headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
