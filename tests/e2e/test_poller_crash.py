"""Crash consistency: the poller killed (os._exit, no cleanup) at each step of a page loses nothing.

Order per page is fetch -> S3 put -> cursor commit; a crash anywhere leaves the cursor at the
last committed page, so the next run re-fetches (a duplicate at worst) instead of skipping.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from poller_e2e_support import FAST, cursor_item, missing, now, poll_until_ok

from wizwatch_tools.localstack.invoke import CrashResult

#: Several pages per window, and a lease short enough that the crashed run's lapses quickly.
ENV = {**FAST, "WIZ_PAGE_SIZE": "150", "WIZ_LEASE_SECONDS": "1"}
AUDIT = {"log_type": "Wiz.Audit"}


@pytest.mark.parametrize(
    "crash_at",
    [
        "after:wizwatch.poll.client.GraphQLClient.execute",  # page fetched, not archived
        "before:wizwatch.archive.writer.put_page",
        "after:wizwatch.archive.writer.put_page",  # archived, cursor not moved
        "before:wizwatch.poll.state.CursorStore.commit_page",
        "after:wizwatch.poll.state.CursorStore.commit_page",  # moved, lease never released
    ],
)
def test_killed_at_each_step_loses_nothing(stack: Any, wiz_sim: Any, crash_at: str) -> None:
    crashed = stack.invoke("poller", AUDIT, env_overrides=ENV, fresh_process=True, crash_at=crash_at)
    assert isinstance(crashed, CrashResult), crashed
    item = cursor_item(stack, "Wiz.Audit")
    assert item.get("lease_owner"), "the crashed run should have left its lease behind"
    if "commit_page" in crash_at and crash_at.startswith("before"):
        assert item["page"]["N"] == "1"  # the archived first page is not yet committed
    time.sleep(1.2)  # the lease lapses on its own: no human needed
    as_of = now()
    poll_until_ok(stack, AUDIT, ENV, fresh=True)
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()
    assert "lease_owner" not in cursor_item(stack, "Wiz.Audit")
