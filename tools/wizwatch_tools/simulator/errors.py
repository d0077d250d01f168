"""Wiz's GraphQL error envelope, and the exception the simulator raises to produce one."""

from __future__ import annotations

from typing import Any

#: The message Wiz's docs give for each code (the wording a client sees in ``errors[0].message``).
DEFAULT_MESSAGES = {
    "UNAUTHENTICATED": "Client token is either missing, invalid or expired",
    "UNAUTHORIZED": "Client token scopes does not permit this action",
    "RATE_LIMIT_EXCEEDED": "The client is being rate limited",
    "BAD_USER_INPUT": "A query or mutation was given invalid arguments",
    "INTERNAL": "An unexpected internal server error",
    "FORBIDDEN_IP": "Client IP address is not allowed",
    "NOT_FOUND": "The requested resource was not found",
    "GRAPHQL_VALIDATION_FAILED": "The query is not valid against the schema",
    "GRAPHQL_PARSE_FAILED": "The query could not be parsed",
}
#: The HTTP status each code is paired with in ``extensions.http.status``.
DEFAULT_STATUS = {
    "UNAUTHENTICATED": 401,
    "UNAUTHORIZED": 403,
    "RATE_LIMIT_EXCEEDED": 429,
    "BAD_USER_INPUT": 400,
    "INTERNAL": 500,
    "FORBIDDEN_IP": 403,
    "NOT_FOUND": 404,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "GRAPHQL_PARSE_FAILED": 400,
}


class ApiError(Exception):
    """An error the API answers with; ``http_status`` is the status line actually sent."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, code)
        self.http_status = http_status if http_status is not None else DEFAULT_STATUS.get(code, 400)
        self.headers = headers or {}
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        return envelope([(self.message, self.code)])


def envelope(errors: list[tuple[str, str]], locations: list[Any] | None = None) -> dict[str, Any]:
    """``{"errors": [{message, extensions: {code, http: {status}}}], "data": null}``."""
    out = []
    for i, (message, code) in enumerate(errors):
        item: dict[str, Any] = {
            "message": message,
            "extensions": {"code": code, "http": {"status": DEFAULT_STATUS.get(code, 400)}},
        }
        if locations and i < len(locations) and locations[i]:
            item["locations"] = locations[i]
        out.append(item)
    return {"errors": out, "data": None}
