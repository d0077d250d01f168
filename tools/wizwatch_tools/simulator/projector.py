"""Shape stored records into a GraphQL response for a validated selection set, quickly.

graphql-core's executor resolves every field of every node through Python calls (about 15 ms for
one 500-entry audit page), too slow to benchmark a poller against. After graphql-core has parsed,
validated and coerced the request, this module compiles the connection's selection set once
(aliases, inline fragments, named fragments, ``@include``/``@skip``, ``__typename``, abstract
types resolved by the stored ``__typename``) and applies it to plain dicts. A unit test checks
its output equals graphql-core's own execution for every query the poller sends.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_abstract_type,
    is_leaf_type,
)
from graphql.language import ast

#: A compiled selection on one object type: (response key, field name, sub-plan or None).
Plan = list[tuple[str, str, "SubPlan | None"]]
#: For an object-typed field: runtime type name -> plan (one entry for a concrete type).
SubPlan = dict[str, Plan]

_TYPENAME_KEY = "__typename"


def _unwrap(type_: GraphQLOutputType) -> GraphQLNamedType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


class Projector:
    """Compiles selections of one request (its fragments and variables) into plans."""

    def __init__(self, schema: GraphQLSchema, document: ast.DocumentNode, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, ast.FragmentDefinitionNode)
        }

    # --- compiling ---------------------------------------------------------------------------

    def _included(self, node: ast.SelectionNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("include", "skip"):
                continue
            value: Any = None
            for arg in directive.arguments or ():
                if arg.name.value == "if":
                    if isinstance(arg.value, ast.VariableNode):
                        value = self.variables.get(arg.value.name.value)
                    elif isinstance(arg.value, ast.BooleanValueNode):
                        value = arg.value.value
            if name == "include" and value is not True:
                return False
            if name == "skip" and value is True:
                return False
        return True

    def _applies(self, condition: ast.NamedTypeNode | None, runtime: GraphQLObjectType) -> bool:
        if condition is None or condition.name.value == runtime.name:
            return True
        cond_type = self.schema.get_type(condition.name.value)
        return is_abstract_type(cond_type) and self.schema.is_sub_type(
            cond_type,
            runtime,
        )

    def _collect(
        self,
        runtime: GraphQLObjectType,
        selection_sets: list[ast.SelectionSetNode],
        into: dict[str, list[ast.FieldNode]],
    ) -> None:
        for selection_set in selection_sets:
            for sel in selection_set.selections:
                if not self._included(sel):
                    continue
                if isinstance(sel, ast.FieldNode):
                    key = sel.alias.value if sel.alias else sel.name.value
                    into.setdefault(key, []).append(sel)
                elif isinstance(sel, ast.InlineFragmentNode):
                    if self._applies(sel.type_condition, runtime):
                        self._collect(runtime, [sel.selection_set], into)
                elif isinstance(sel, ast.FragmentSpreadNode):
                    frag = self.fragments.get(sel.name.value)
                    if frag is not None and self._applies(frag.type_condition, runtime):
                        self._collect(runtime, [frag.selection_set], into)

    def plan_for(self, type_: GraphQLNamedType, selection_sets: list[ast.SelectionSetNode]) -> SubPlan:
        """Plans for every runtime type a value of ``type_`` can have."""
        if isinstance(type_, GraphQLObjectType):
            runtimes: list[GraphQLObjectType] = [type_]
        else:
            runtimes = list(self.schema.get_possible_types(type_))  # type: ignore[arg-type]
        out: SubPlan = {}
        for runtime in runtimes:
            grouped: dict[str, list[ast.FieldNode]] = {}
            self._collect(runtime, selection_sets, grouped)
            plan: Plan = []
            for key, nodes in grouped.items():
                name = nodes[0].name.value
                if name == _TYPENAME_KEY:
                    plan.append((key, name, None))
                    continue
                field_type = _unwrap(runtime.fields[name].type)
                if is_leaf_type(field_type):
                    plan.append((key, name, None))
                else:
                    subs = [n.selection_set for n in nodes if n.selection_set is not None]
                    plan.append((key, name, self.plan_for(field_type, subs)))
            out[runtime.name] = plan
        return out

    # --- applying ----------------------------------------------------------------------------

    @staticmethod
    def apply(sub: SubPlan, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [Projector.apply(sub, v) for v in value]
        if len(sub) == 1:
            type_name, plan = next(iter(sub.items()))
        else:
            type_name = value.get(_TYPENAME_KEY)
            found = sub.get(type_name)
            if found is None:
                raise ValueError(f"stored value has no known __typename: {type_name!r}")
            plan = found
        out: dict[str, Any] = {}
        get = value.get
        for key, name, child in plan:
            if name == _TYPENAME_KEY:
                out[key] = type_name
            elif child is None:
                out[key] = get(name)
            else:
                out[key] = Projector.apply(child, get(name))
        return out
