"""Two invocations at once: only one advances a log type's cursor, and nothing is lost."""

from __future__ import annotations

import threading
import time
from typing import Any

from poller_e2e_support import FAST, missing, now, poll_until_ok


def test_overlapping_invocations_never_both_advance(stack: Any, wiz_sim: Any) -> None:
    wiz_sim.page_delay_seconds = 0.25  # the first run takes seconds: the second starts during it
    env = {**FAST, "WIZ_PAGE_SIZE": "100", "WIZ_MAX_WINDOW_SECONDS": "3600"}
    event = {"log_type": "Wiz.Audit"}
    results: list[Any] = []

    def run() -> None:
        results.append(stack.invoke("poller", event, env_overrides=env, fresh_process=True))

    first = threading.Thread(target=run)
    first.start()
    deadline = time.monotonic() + 30
    while not any(r.path == "/graphql" for r in wiz_sim.stats.requests):  # the first run holds the lease
        assert time.monotonic() < deadline, "the first invocation never reached the API"
        time.sleep(0.05)
    second = threading.Thread(target=run)
    second.start()
    for t in (first, second):
        t.join()
    statuses = sorted(r["log_types"]["Wiz.Audit"]["status"] for r in results)
    assert statuses == ["ok", "skipped"], results
    winner = next(r for r in results if r["log_types"]["Wiz.Audit"]["status"] == "ok")
    assert winner["log_types"]["Wiz.Audit"]["pages"] > 1
    # Every page request came from one run: no (window, cursor) was fetched twice.
    seen = [
        (str(r.variables["filterBy"]), r.variables.get("after"))
        for r in wiz_sim.stats.requests
        if r.path == "/graphql"
    ]
    assert len(seen) == len(set(seen))
    wiz_sim.page_delay_seconds = 0
    as_of = now()
    poll_until_ok(stack, event, env, fresh=False)
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()
