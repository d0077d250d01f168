"""The detector's collector setting (wizwatch.alerts.heap): frozen survivors, larger young gen."""

from __future__ import annotations

import gc

from wizwatch.alerts import heap


def test_settle_freezes_survivors_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        gc.unfreeze()
        keep = [{"rule": i} for i in range(100)]  # container objects alive at the cold start's end
        heap.settle()
        assert gc.get_freeze_count() >= len(keep)
        assert gc.get_threshold() == (heap.GEN0_THRESHOLD, before[1], before[2])
        heap.settle()  # idempotent: the same setting again
        assert gc.get_threshold() == (heap.GEN0_THRESHOLD, before[1], before[2])
        # Reference counting still frees frozen objects.
        del keep
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_frozen_garbage_without_cycles_is_still_freed() -> None:
    import weakref

    class Node:
        pass

    before = gc.get_threshold()
    try:
        node = Node()
        ref = weakref.ref(node)
        heap.settle()
        del node
        assert ref() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
