"""The moto server the local stack runs AWS on: one per process, on a free localhost port."""

from __future__ import annotations

import logging

import requests
from moto.server import ThreadedMotoServer


class MotoServer:
    """A ThreadedMotoServer bound to 127.0.0.1 on a free port (port 0: xdist workers never clash)."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
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
