"""Helpers for the simulator's tests: a settable clock and a tiny client without retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from wizwatch.poll.queries import SPECS
from wizwatch_tools.simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, WizSimulator

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """A settable clock, so visibility, token expiry and cursor age are exact in tests."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Api:
    """The requests a poller makes, minus any of its retry logic (tests want the raw answers)."""

    def __init__(
        self, sim: WizSimulator, client_id: str = DEFAULT_CLIENT_ID, secret: str = DEFAULT_CLIENT_SECRET
    ):
        self.sim = sim
        self.client_id = client_id
        self.secret = secret
        self.session = requests.Session()
        self.token: str | None = None

    def fetch_token(self, **overrides: str) -> requests.Response:
        form = {
            "grant_type": "client_credentials",
            "audience": "wiz-api",
            "client_id": self.client_id,
            "client_secret": self.secret,
            **overrides,
        }
        resp = self.session.post(self.sim.token_url, data=form, timeout=10)
        if resp.status_code == 200:
            self.token = resp.json()["access_token"]
        return resp

    def post(self, query: str, variables: dict[str, Any] | None = None) -> requests.Response:
        if self.token is None:
            self.fetch_token()
        headers = {"Authorization": f"Bearer {self.token}"}
        body = {"query": query, "variables": variables or {}}
        return self.session.post(self.sim.api_url, json=body, headers=headers, timeout=30)

    def page(
        self,
        log_type: str,
        filter_by: dict[str, Any],
        first: int = 500,
        after: str | None = None,
        with_count: bool = True,
    ) -> requests.Response:
        variables = {"first": first, "after": after, "filterBy": filter_by, "withCount": with_count}
        return self.post(SPECS[log_type].query, variables)

    def all_pages(self, log_type: str, filter_by: dict[str, Any], first: int = 500) -> list[dict[str, Any]]:
        """Every node of a window, following endCursor; fails the test on any error."""
        spec = SPECS[log_type]
        nodes: list[dict[str, Any]] = []
        after = None
        for _ in range(1000):
            resp = self.page(log_type, filter_by, first, after, with_count=after is None)
            body = resp.json()
            assert resp.status_code == 200 and "errors" not in body, body
            conn = body["data"][spec.connection]
            nodes.extend(conn["nodes"])
            if not conn["pageInfo"]["hasNextPage"]:
                return nodes
            after = conn["pageInfo"]["endCursor"]
        raise AssertionError("pagination did not end")


def window(field: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        field: {
            "after": start.isoformat().replace("+00:00", "Z"),
            "before": end.isoformat().replace("+00:00", "Z"),
        }
    }
