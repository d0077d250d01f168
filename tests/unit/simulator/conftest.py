"""Fixtures for the simulator's tests: a controllable clock, a running simulator, a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import Api, Clock

from wizwatch_tools.simulator import WizSimulator


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[WizSimulator]:
    with WizSimulator(seed=7, clock=clock) as running:
        yield running


@pytest.fixture
def api(sim: WizSimulator) -> Api:
    return Api(sim)
