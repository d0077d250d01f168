"""The detector's collector setting (wizwatch.alerts.heap): frozen survivors, larger young gen."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

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


def test_the_cold_start_settles_the_heap_once_the_detector_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wizwatch.alerts import handler

    calls: list[bool] = []
    monkeypatch.setattr(heap, "settle", lambda: calls.append(True))
    monkeypatch.setenv("DEDUP_TABLE", "dedup")
    monkeypatch.setenv("ALERT_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/alerts")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("DESTINATIONS_FILE", raising=False)
    monkeypatch.delenv("RULES_DIR", raising=False)
    handler._build.cache_clear()
    try:
        handler.detector_from_env(tmp_path)  # an empty rule directory is a valid (quiet) detector
        handler.detector_from_env(tmp_path)  # the container's second request: no new settle
    finally:
        handler._build.cache_clear()
    assert calls == [True]


def test_young_cyclic_garbage_is_collected_before_the_freeze() -> None:
    """settle() collects only the young generations (cheap); the cold start's garbage is there."""
    import weakref

    class Node:
        other: object = None

    before = gc.get_threshold()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        ref = weakref.ref(a)
        del a, b
        heap.settle()
        assert ref() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
