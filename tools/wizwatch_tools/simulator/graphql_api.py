"""The ``/graphql`` endpoint: faults, authentication, parsing, validation, scopes, execution.

graphql-core parses and validates every query against the SDL (so a misspelled field fails as
at Wiz: HTTP 400, ``GRAPHQL_VALIDATION_FAILED``) and coerces arguments and variables (a wrong
filter key or enum value: HTTP 400, ``BAD_USER_INPUT``). Connection fields are resolved by
``ConnectionResolver``; their nodes are shaped by the compiled ``Projector`` for speed.
Resolver errors (page size, cursors) come back on HTTP 200 with an error envelope, like Apollo.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLObjectType, execute_sync, parse, validate
from graphql.language import ast

from wizwatch_tools.simulator import schema as sdl
from wizwatch_tools.simulator.connections import CONNECTION_SCOPE, ConnectionResolver
from wizwatch_tools.simulator.cursors import INVALID_CURSOR, CursorLoop
from wizwatch_tools.simulator.errors import ApiError, envelope
from wizwatch_tools.simulator.faults import Fault, Faults, Gate
from wizwatch_tools.simulator.projector import Projector, SubPlan
from wizwatch_tools.simulator.ratelimit import TokenBucket
from wizwatch_tools.simulator.tokens import TokenIssuer

GATEWAY_PAGE = "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center></body></html>\n"
_REASONS = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out"}


@dataclass
class Answer:
    """One HTTP answer plus what the stats record about the request."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    operation: str | None = None
    variables: dict[str, Any] | None = None


@dataclass
class _Parsed:
    document: ast.DocumentNode | None
    errors: list[GraphQLError]
    validation_errors: list[GraphQLError] | None = None


def json_answer(status: int, payload: Any, **kw: Any) -> Answer:
    return Answer(status, orjson.dumps(payload), **kw)


def fault_answer(fault: Fault, operation: str | None = None) -> Answer | None:
    """The answer a fault forces, or None for faults that only delay or act elsewhere."""
    if fault.kind == "rate_limit":
        headers = {"Content-Type": "application/json"}
        if fault.params.get("retry_after") is not None:
            headers["Retry-After"] = f"{fault.params['retry_after']:g}"
        return json_answer(
            429, ApiError("RATE_LIMIT_EXCEEDED").envelope(), headers=headers, operation=operation
        )
    if fault.kind == "server_error":
        status = int(fault.params["status"])
        if status == 500:
            return json_answer(500, ApiError("INTERNAL").envelope(), operation=operation)
        return Answer(
            status,
            GATEWAY_PAGE.format(_REASONS[status]).encode(),
            {"Content-Type": "text/html"},
            operation=operation,
        )
    if fault.kind == "graphql_error":
        error = ApiError(str(fault.params.get("code", "INTERNAL")), fault.params.get("message"))
        return json_answer(200, error.envelope(), operation=operation)
    if fault.kind == "cursor_expired":
        return json_answer(
            200,
            ApiError("BAD_USER_INPUT", INVALID_CURSOR + " (cursor expired)").envelope(),
            operation=operation,
        )
    return None


class _ConnectionPlan:
    """A compiled connection selection plus the serialized form of each node it has shaped.

    Stored record versions never change (a status change is a new version), so a node's JSON
    for a given selection can be computed once and reused on every page that carries it.
    """

    MAX_CACHED_NODES = 200_000

    def __init__(self, sub: SubPlan) -> None:
        ((self.type_name, self.plan),) = sub.items()
        self._nodes: dict[int, orjson.Fragment] = {}
        self._lock = threading.Lock()

    def _node(self, child: SubPlan, record: dict[str, Any]) -> orjson.Fragment:
        key = id(record)  # records live as long as the store, so ids are stable
        hit = self._nodes.get(key)
        if hit is None:
            hit = orjson.Fragment(orjson.dumps(Projector.apply(child, record)))
            with self._lock:
                if len(self._nodes) >= self.MAX_CACHED_NODES:
                    self._nodes.clear()
                self._nodes[key] = hit
        return hit

    def apply(self, connection: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, name, child in self.plan:
            value = connection.get(name)
            if name == "__typename":
                out[key] = self.type_name
            elif child is None or value is None:
                out[key] = value
            elif name == "nodes":
                out[key] = [self._node(child, record) for record in value]
            else:
                out[key] = Projector.apply(child, value)
        return out


class GraphQLEndpoint:
    """Answers POST /graphql bodies; thread-safe (shared state lives in its collaborators)."""

    def __init__(
        self,
        resolver: ConnectionResolver,
        tokens: TokenIssuer,
        faults: Faults,
        clock: Callable[[], datetime],
    ) -> None:
        self.schema = sdl.build()
        self.resolver = resolver
        self.tokens = tokens
        self.faults = faults
        self.clock = clock
        self.page_delay_seconds = 0.0
        self.rate_limiter: TokenBucket | None = None
        self._parsed: OrderedDict[str, _Parsed] = OrderedDict()
        self._parse_lock = threading.Lock()
        self._plans: dict[tuple[Any, ...], _ConnectionPlan] = {}
        self.loops = CursorLoop()
        self.gate = Gate()

    # --- parse/validate cache ------------------------------------------------------------

    def _parse(self, query: str) -> _Parsed:
        with self._parse_lock:
            return self._parse_locked(query)

    def _parse_locked(self, query: str) -> _Parsed:
        hit = self._parsed.get(query)
        if hit is not None:
            return hit
        try:
            parsed = _Parsed(parse(query), [])
        except GraphQLError as exc:
            parsed = _Parsed(None, [exc])
        if parsed.document is not None:
            parsed.validation_errors = list(validate(self.schema, parsed.document))
        self._parsed[query] = parsed
        while len(self._parsed) > 64:
            self._parsed.popitem(last=False)
        return parsed

    @staticmethod
    def _operation(document: ast.DocumentNode, name: str | None) -> ast.OperationDefinitionNode | None:
        ops = [d for d in document.definitions if isinstance(d, ast.OperationDefinitionNode)]
        if name:
            return next((o for o in ops if o.name and o.name.value == name), None)
        return ops[0] if len(ops) == 1 else None

    @staticmethod
    def _root_fields(op: ast.OperationDefinitionNode | None) -> list[str]:
        if op is None:
            return []
        return [s.name.value for s in op.selection_set.selections if isinstance(s, ast.FieldNode)]

    # --- the request -----------------------------------------------------------------------

    def handle(self, body: bytes, authorization: str | None) -> Answer:
        self.gate.pass_through()
        received = time.monotonic()
        try:
            request = orjson.loads(body)
            if not isinstance(request, dict) or not isinstance(request.get("query"), str):
                raise ValueError("expected a JSON object with a 'query' string")
            variables = request.get("variables") or {}
            if not isinstance(variables, dict):
                raise ValueError("'variables' must be a JSON object")
        except (ValueError, orjson.JSONDecodeError) as exc:
            return json_answer(
                400, envelope([(f"POST body is not a valid GraphQL request: {exc}", "BAD_USER_INPUT")])
            )
        parsed = self._parse(request["query"])
        op = self._operation(parsed.document, request.get("operationName")) if parsed.document else None
        roots = self._root_fields(op)
        connection = next((r for r in roots if r in CONNECTION_SCOPE), roots[0] if roots else None)
        base = Answer(200, b"", operation=connection, variables=variables)

        fault = self.faults.take("graphql", connection, has_cursor=bool(variables.get("after")))
        looping = fault is not None and fault.kind == "cursor_cycle"
        if fault is not None and not looping:
            if fault.kind == "slow":
                time.sleep(float(fault.params["delay"]))
            elif fault.kind == "token_expired":
                if authorization and authorization.lower().startswith("bearer "):
                    self.tokens.expire(authorization[7:].strip())
            else:
                forced = fault_answer(fault, connection)
                assert forced is not None
                forced.variables = variables
                return forced
        if self.rate_limiter is not None and not self.rate_limiter.allow():
            retry = self.rate_limiter.retry_after
            headers = {"Retry-After": f"{retry:g}"} if retry is not None else {}
            return self._error(base, ApiError("RATE_LIMIT_EXCEEDED", headers=headers))
        now = self.clock()
        try:
            token = self.tokens.check(authorization, now)
        except ApiError as exc:
            return self._error(base, exc)
        if parsed.errors:
            return self._graphql_errors(base, parsed.errors, "GRAPHQL_PARSE_FAILED")
        if parsed.validation_errors:
            return self._graphql_errors(base, parsed.validation_errors, "GRAPHQL_VALIDATION_FAILED")
        if op is None:
            return self._error(
                base, ApiError("BAD_USER_INPUT", "Unknown or ambiguous operationName", http_status=400)
            )
        missing = sorted(
            {CONNECTION_SCOPE[r] for r in roots if r in CONNECTION_SCOPE} - set(token.client.scopes)
        )
        if missing:
            return self._error(
                base,
                ApiError(
                    "UNAUTHORIZED",
                    f"Client token scopes does not permit this action (needs {', '.join(missing)})",
                ),
            )
        answer = self._execute(base, request["query"], parsed.document, op, variables, now, looping)  # type: ignore[arg-type]
        # A fixed API latency: the page is answered page_delay_seconds after the request arrived
        # (not after our own work), so a benchmark's API-bound limit is exactly 1/page_delay.
        wait = self.page_delay_seconds - (time.monotonic() - received)
        if wait > 0:
            time.sleep(wait)
        return answer

    def _execute(
        self,
        base: Answer,
        query: str,
        document: ast.DocumentNode,
        op: ast.OperationDefinitionNode,
        variables: dict[str, Any],
        now: datetime,
        looping: bool = False,
    ) -> Answer:
        captured: list[tuple[str, list[ast.FieldNode], dict[str, Any]]] = []

        def connection_resolver(name: str) -> Callable[..., dict[str, Any]]:
            def resolve(info: Any, **args: Any) -> dict[str, Any]:
                full = self.resolver.resolve(name, args, now)
                after, page_info = str(args.get("after") or ""), full["pageInfo"]
                self.loops.issued(after, page_info["endCursor"])
                if looping:
                    page_info["endCursor"] = self.loops.loop(after, page_info["endCursor"])
                captured.append((str(info.path.key), list(info.field_nodes), full))
                return {"nodes": [], "pageInfo": full["pageInfo"], "totalCount": full["totalCount"]}

            return resolve

        root = {name: connection_resolver(name) for name in CONNECTION_SCOPE}
        result = execute_sync(
            self.schema,
            document,
            root_value=root,
            variable_values=variables,
            operation_name=op.name.value if op.name else None,
        )
        if result.errors:
            for err in result.errors:
                if isinstance(err.original_error, ApiError):
                    return self._error(base, err.original_error)
            for err in result.errors:
                if err.original_error is not None and not isinstance(err.original_error, GraphQLError):
                    return self._error(base, ApiError("INTERNAL", http_status=500))
            # No resolver ran into it: variables or arguments failed coercion.
            return self._graphql_errors(base, list(result.errors), "BAD_USER_INPUT")
        data: dict[str, Any] = dict(result.data or {})
        query_type = self.schema.query_type
        assert isinstance(query_type, GraphQLObjectType)
        # Plans depend on the document and on the Boolean variables (@include/@skip) only.
        flags = tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, bool)))
        projector: Projector | None = None
        for key, nodes, full in captured:
            plan_key = (query, op.name.value if op.name else None, key, flags)
            with self._parse_lock:
                cached = self._plans.get(plan_key)
            if cached is None:
                projector = projector or Projector(self.schema, document, variables)
                conn_type = query_type.fields[nodes[0].name.value].type
                named = getattr(conn_type, "of_type", conn_type)
                cached = _ConnectionPlan(
                    projector.plan_for(named, [n.selection_set for n in nodes if n.selection_set])
                )
                with self._parse_lock:
                    if len(self._plans) > 256:
                        self._plans.clear()
                    self._plans[plan_key] = cached
            data[key] = cached.apply(full)
        base.body = orjson.dumps({"data": data})
        return base

    def _execute_for_test(self, query: str, variables: dict[str, Any]) -> Any:
        """The ``data`` this endpoint answers for a valid query, without HTTP or auth (tests)."""
        parsed = self._parse(query)
        assert parsed.document is not None and not parsed.validation_errors, parsed.validation_errors
        op = self._operation(parsed.document, None)
        assert op is not None
        answer = self._execute(Answer(200, b""), query, parsed.document, op, variables, self.clock())
        return orjson.loads(answer.body)["data"]

    @staticmethod
    def _error(base: Answer, error: ApiError) -> Answer:
        base.status = error.http_status
        base.body = orjson.dumps(error.envelope())
        base.headers = {"Content-Type": "application/json", **error.headers}
        return base

    @staticmethod
    def _graphql_errors(base: Answer, errors: list[GraphQLError], code: str) -> Answer:
        locations = [
            [{"line": loc.line, "column": loc.column} for loc in (e.locations or [])] for e in errors
        ]
        base.status = 400
        base.body = orjson.dumps(envelope([(e.message, code) for e in errors], locations))
        return base
