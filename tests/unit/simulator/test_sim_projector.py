"""The fast projector gives exactly what graphql-core's own executor gives, for every query shape."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import execute_sync, parse
from sim_helpers import NOW

from wizwatch.poll.queries import SPECS
from wizwatch_tools.simulator import WizSimulator
from wizwatch_tools.simulator.connections import CONNECTION_SCOPE

EVERY_STATUS = ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"]

FRAGMENTS_QUERY = """
query Shapes($skipUser: Boolean!, $first: Int) {
  a: auditLogEntries(first: $first) {
    ...Entries
    pageInfo { endCursor hasNextPage }
  }
  issuesV2(first: $first, filterBy: {status: [OPEN, RESOLVED, IN_PROGRESS, REJECTED]}) {
    nodes {
      __typename
      key: id
      sourceRules { ... on Control { name } ... Rule }
      projects { id } projects { name }
    }
  }
}
fragment Rule on CloudEventRule { __typename kind: type }
fragment Entries on AuditLogEntryConnection {
  nodes { id user @skip(if: $skipUser) { name } serviceAccount @include(if: $skipUser) { id } }
  totalCount
}
"""


def _reference(sim: WizSimulator, query: str, variables: dict[str, Any]) -> Any:
    """graphql-core executing everything itself, over the same connection results."""
    now = sim.clock()

    def resolver(name: str) -> Any:
        return lambda info, **args: sim.graphql.resolver.resolve(name, args, now)

    result = execute_sync(
        sim.graphql.schema,
        parse(query),
        root_value={n: resolver(n) for n in CONNECTION_SCOPE},
        variable_values=variables,
    )
    assert result.errors is None, result.errors
    return result.data


@pytest.fixture
def seeded(sim: WizSimulator) -> WizSimulator:
    sim.store.seed_history(NOW, hours=4)
    return sim


@pytest.mark.parametrize("log_type", sorted(SPECS))
def test_poller_queries_project_like_graphql_core(seeded: WizSimulator, log_type: str) -> None:
    spec = SPECS[log_type]
    filter_by: dict[str, Any] = {"status": EVERY_STATUS} if spec.statuses else {}
    variables = {"first": 200, "after": None, "filterBy": filter_by, "withCount": True}
    answer = seeded.graphql._execute_for_test(spec.query, variables)
    assert answer == _reference(seeded, spec.query, variables)
    # A real sample, not an empty page (detections are rarer: a few an hour).
    assert len(answer[spec.connection]["nodes"]) > (10 if log_type == "Wiz.Detections" else 40)


@pytest.mark.parametrize("skip", [True, False])
def test_fragments_aliases_directives_project_like_graphql_core(seeded: WizSimulator, skip: bool) -> None:
    variables = {"skipUser": skip, "first": 30}
    answer = seeded.graphql._execute_for_test(FRAGMENTS_QUERY, variables)
    assert answer == _reference(seeded, FRAGMENTS_QUERY, variables)
    node = answer["a"]["nodes"][0]
    assert ("user" in node) is not skip and ("serviceAccount" in node) is skip
