"""Two invocations at once: only one advances a log type's cursor, and nothing is lost."""

from __future__ import annotations

import threading
import time
from typing import Any

from poller_e2e_support import FAST, missing, now, poll_until_ok


def test_overlapping_invocations_never_both_advance(stack: Any, wiz_sim: Any) -> None:
    # The first run answers its first page, then its next requests wait at the simulator's gate
    # until the second run has finished: "the second starts while the first is still paging" is
    # set up, not raced for (a slow cold start under load used to let the first finish first).
    env = {**FAST, "WIZ_PAGE_SIZE": "100", "WIZ_MAX_WINDOW_SECONDS": "3600"}
    event = {"log_type": "Wiz.Audit"}
    results: list[Any] = []

    def run() -> None:
        results.append(stack.invoke("poller", event, env_overrides=env, fresh_process=True))

    wiz_sim.hold(after=1)
    first = threading.Thread(target=run)
    first.start()
    deadline = time.monotonic() + 60
    while wiz_sim.held == 0:  # the first run holds the lease and is paging
        assert time.monotonic() < deadline and first.is_alive(), f"the first run never paged: {results}"
        time.sleep(0.05)
    second = threading.Thread(target=run)
    second.start()
    second.join()
    wiz_sim.release()
    first.join()
    statuses = [r["log_types"]["Wiz.Audit"]["status"] for r in results]
    assert statuses == ["skipped", "ok"], results  # the second finished (skipped) while the first paged
    winner = results[1]
    assert winner["log_types"]["Wiz.Audit"]["pages"] > 1
    # Every page request came from one run: no (window, cursor) was fetched twice.
    seen = [
        (str(r.variables["filterBy"]), r.variables.get("after"))
        for r in wiz_sim.stats.requests
        if r.path == "/graphql"
    ]
    assert len(seen) == len(set(seen))
    as_of = now()
    poll_until_ok(stack, event, env, fresh=False)
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()
