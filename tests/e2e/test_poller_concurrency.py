"""Two invocations at once: only one advances a log type's cursor, and nothing is lost."""

from __future__ import annotations

import threading
from typing import Any

from test_poller_support import FAST, missing, now, poll_until_ok


def test_overlapping_invocations_never_both_advance(stack: Any, wiz_sim: Any) -> None:
    wiz_sim.page_delay_seconds = 0.15  # each run takes a few seconds: they surely overlap
    env = {**FAST, "WIZ_PAGE_SIZE": "100", "WIZ_MAX_WINDOW_SECONDS": "3600"}
    event = {"log_type": "Wiz.Audit"}
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(stack.invoke("poller", event, env_overrides=env, fresh_process=True))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
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
