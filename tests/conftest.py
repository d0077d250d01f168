"""Shared fixtures: the moto server, the Wiz simulator and the provisioned local stack.

Every engineer's end-to-end tests code against exactly these (see docs/ARCHITECTURE.md):

- ``moto_server`` (session): endpoint URL ``http://127.0.0.1:PORT`` of a ThreadedMotoServer on a
  free port (one per xdist worker, so workers never clash).
- ``wiz_sim``: a started, seeded :class:`wizwatch_tools.simulator.WizSimulator`, stopped after the
  test; tests may set faults and knobs on it.
- ``stack``: moto state reset, every resource of template.yaml provisioned, the credentials
  secret holding ``wiz_sim``'s client id/secret and the poller pointed at ``wiz_sim`` (first
  poll reaching back over the seeded history, request budget raised for the simulator: see
  ``LocalStack.for_simulator``); a :class:`wizwatch_tools.localstack.LocalStack`.
- ``module_wiz_sim`` / ``module_stack``: the same, once per module, for modules whose tests
  check what one expensive run produced (the conformance tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# Tests never reach real AWS: fixed dummy credentials and region for everything in this process.
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

# moto's TransactWriteItems deep-copies every table it names (seconds per call once the dedup
# table holds a few MB) and its ReceiveMessage scans the queue per message returned: the same
# semantics at the cost of what a request touches (for the moto server and mock_aws alike).
from wizwatch_tools.localstack import moto_speedups  # noqa: E402

moto_speedups.install()

#: Client credentials the simulator accepts and the stack's secret holds.
SIM_CLIENT_ID = "wizwatch-test-client"
SIM_CLIENT_SECRET = "wizwatch-test-secret-not-real"
SIM_SEED = 20261122
#: Hours of history the simulator is seeded with (the poller's first window reaches back 24h).
SIM_HISTORY_HOURS = 2

_E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is marked ``e2e`` (``make test-fast`` leaves it out)."""
    for item in items:
        if _E2E_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from wizwatch_tools.localstack import MotoServer

    server = MotoServer().start()
    try:
        yield server.endpoint
    finally:
        server.stop()


def _started_sim() -> Any:
    from wizwatch_tools.simulator import WizSimulator

    sim = WizSimulator(seed=SIM_SEED, client_id=SIM_CLIENT_ID, client_secret=SIM_CLIENT_SECRET)
    sim.store.seed_history(datetime.now(UTC), hours=SIM_HISTORY_HOURS)
    sim.start()
    return sim


def _provisioned(moto_server: str, sim: Any) -> Any:
    from wizwatch_tools.localstack import LocalStack

    return LocalStack.for_simulator(
        moto_server,
        sim,
        client_id=SIM_CLIENT_ID,
        client_secret=SIM_CLIENT_SECRET,
        history_hours=SIM_HISTORY_HOURS,
        reset=True,
    )


@pytest.fixture
def wiz_sim() -> Iterator[Any]:
    sim = _started_sim()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def stack(moto_server: str, wiz_sim: Any) -> Iterator[Any]:
    local = _provisioned(moto_server, wiz_sim)
    try:
        yield local
    finally:
        local.close()


@pytest.fixture(scope="module")
def module_wiz_sim() -> Iterator[Any]:
    """``wiz_sim`` shared by a module's tests (for tests that only read what one run produced)."""
    sim = _started_sim()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def module_stack(moto_server: str, module_wiz_sim: Any) -> Iterator[Any]:
    """``stack`` provisioned once for a module (against ``module_wiz_sim``). A module using it
    must not also use ``stack`` (that resets the moto server under it), and should carry an
    ``xdist_group`` mark so that one worker runs all of it and provisions it once."""
    local = _provisioned(moto_server, module_wiz_sim)
    try:
        yield local
    finally:
        local.close()
