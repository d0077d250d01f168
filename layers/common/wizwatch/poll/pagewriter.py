"""Archives page N and commits the cursor for it on one background thread while page N+1 is fetched.

Order of effects per page (the whole crash-consistency argument): fetch -> S3 put -> cursor
write. A crash before the cursor write re-fetches that page next run (same key, overwritten: a
duplicate at worst), never skips it. Page N+1's own put waits for page N's cursor write, so the
order holds page by page while the API stays the bottleneck.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from wizwatch.poll.state import CursorState, CursorStore


class PageWriter:
    """Archives page N and then commits the cursor for it, on one background thread.

    At most one page is in flight; :meth:`wait` returns the last committed state (or raises what
    went wrong), and every cursor change made on the main thread waits for it first.
    """

    def __init__(self, executor: ThreadPoolExecutor, store: CursorStore, lease: float, state: CursorState):
        self._executor = executor
        self._store = store
        self._lease = lease
        self._state = state
        self._pending: Future[CursorState] | None = None

    @property
    def committed(self) -> CursorState:
        """The last state known to be written (without waiting for the page in flight)."""
        return self._state

    def wait(self) -> CursorState:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._state = pending.result()
        return self._state

    def save(self, transition: Callable[[CursorState], CursorState]) -> CursorState:
        """A cursor change with nothing to archive (open, shrink or restart a window)."""
        self._state = self._store.save(transition(self.wait()), self._lease)
        return self._state

    def submit(self, archive: Callable[[], None], transition: Callable[[CursorState], CursorState]) -> None:
        """Archive, then apply ``transition`` to the committed state, after the previous page."""
        state = self.wait()

        def job() -> CursorState:
            current = state
            if self._store.lease_remaining(current) < self._lease / 2:
                # A long fetch (retries, time-outs) may have outlasted half the lease: renew it
                # before the put. If another run took it over, it may already have archived this
                # page from a newer view and moved past it; overwriting that object would lose
                # what only its copy holds, so StaleStateError stops this run before the put.
                current = self._store.save(current, self._lease)
            archive()
            return self._store.commit_page(transition(current), self._lease)

        self._pending = self._executor.submit(job)
