"""A local Wiz API (OAuth token endpoint + GraphQL on graphql-core) for proving the poller right.

``WizSimulator`` serves the token endpoint and the three connections the poller reads, with
seeded realistic data (``sim.store``), programmable faults (``sim.faults``) and request stats
(``sim.stats``). ``wizwatch simulate`` runs one standalone.
"""

from wizwatch_tools.simulator.faults import Faults
from wizwatch_tools.simulator.server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RequestRecord,
    Stats,
    WizSimulator,
)
from wizwatch_tools.simulator.store import RecordStore

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "Faults",
    "RecordStore",
    "RequestRecord",
    "Stats",
    "WizSimulator",
]
