"""The moto server the local stack runs AWS on: one per process, on a free localhost port.

It enforces IAM like AWS unless told not to (:mod:`wizwatch_tools.localstack.enforce`): every
request must be signed by a known identity and allowed by its policies, resource by resource,
and S3 notifications arrive in AWS's documented shape (:mod:`wizwatch_tools.localstack.s3events`).
"""

from __future__ import annotations

import logging

import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from wizwatch_tools.localstack import enforce, moto_speedups


class _Threaded(ThreadedMotoServer):
    """moto's ThreadedMotoServer serving :class:`enforce.LocalServerApp` around moto's app."""

    def __init__(self, app: enforce.LocalServerApp) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.app = app

    def _server_entry(self) -> None:
        self.app.app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, self.app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class MotoServer:
    """A moto server bound to 127.0.0.1 on a free port (port 0: xdist workers never clash).

    ``enforce_iam`` (default True): requests are authorised as AWS would (see
    :mod:`wizwatch_tools.localstack.enforce`); the local stack provisions as an administrator
    and runs each handler under its own role.
    """

    def __init__(self, *, enforce_iam: bool = True) -> None:
        enforce.install()
        moto_speedups.install()  # requests cost what they touch, not everything stored
        self.app = enforce.LocalServerApp(lambda environ, start_response: [], enforcing=enforce_iam)
        self._server = _Threaded(self.app)
        self.endpoint = ""

    def start(self) -> MotoServer:
        # werkzeug logs every request at INFO; the demo and tests do not want that noise.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def reset(self) -> None:
        """Forget every resource (moto's reset API): each test starts from an empty account."""
        reset(self.endpoint)

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def reset(endpoint: str) -> None:
    """POST ``/moto-api/reset`` on any moto server."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
