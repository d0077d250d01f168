"""Hostile Wiz records and objects for the isolation tests (unit and e2e share them).

Each hostile audit record is a DeleteUser entry (so every rule set here would alert on it) that
carries one value the whole-page parse or the renderer cannot take, as raw JSON bytes.
"""

from __future__ import annotations

import functools
import gzip
import json
import zlib
from typing import Any

MiB = 1024 * 1024


def audit_json(id_: str, action: str = "DeleteUser", **extra: Any) -> bytes:
    record = {
        "id": id_,
        "action": action,
        "requestId": f"req-{id_}",
        "status": "SUCCESS",
        "timestamp": "2026-11-22T09:30:00.123Z",
        "actionParameters": {},
        "userAgent": "pytest",
        "sourceIP": "1.2.3.4",
        "serviceAccount": None,
        "user": {"id": "u1", "name": "alice@example.com"},
        **extra,
    }
    return json.dumps(record).encode()


def audit_with(id_: str, raw_value: bytes) -> bytes:
    """An audit record whose actionParameters is ``raw_value`` (raw JSON, possibly not JSON)."""
    base = audit_json(id_)
    return base.replace(b'"actionParameters": {}', b'"actionParameters": ' + raw_value)


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


#: name -> (record id, raw record, outcome): "repaired" (evaluated, p_parse_repairs),
#: "unreadable" (quarantined alone), "render" (evaluated; its alert/matches copy is a stand-in).
HOSTILE_AUDIT: dict[str, tuple[str, bytes, str]] = {
    name: (id_, audit_with(id_, value), outcome)
    for name, id_, value, outcome in [
        ("lone surrogate", "h-surrogate", b'{"name": "x\\ud800y"}', "repaired"),
        ("invalid UTF-8", "h-utf8", b'{"name": "caf\xe9 \xff"}', "repaired"),
        ("NaN", "h-nan", b'{"score": NaN}', "unreadable"),
        ("Infinity", "h-inf", b'{"score": -Infinity}', "unreadable"),
        ("number out of range", "h-1e400", b'{"score": 1e400}', "unreadable"),
        ("nested 1100 levels", "h-deep1100", nested_json(1100), "repaired"),
        ("nested 300 levels", "h-deep300", nested_json(300), "render"),
    ]
}


def graphql_page(nodes: list[bytes], connection: str = "auditLogEntries") -> bytes:
    """The gzip of a GraphQL page made of raw node bytes (exactly as the poller archives it)."""
    body = (
        b'{"data":{"' + connection.encode() + b'":{"nodes":['
        + b",".join(nodes)
        + b'],"pageInfo":{"hasNextPage":false,"endCursor":null}}}}'
    )  # fmt: skip
    return gzip.compress(body)


@functools.lru_cache(maxsize=2)  # built once per test process
def gzip_bomb(inflated_mib: int = 600, level: int = 1) -> bytes:
    """A GraphQL page whose one record holds a string of ``inflated_mib`` MiB, compressed as a
    stream (never built whole): at level 1, 600 MiB is the issue's 2.7 MB object."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    parts = [c.compress(b'{"data":{"auditLogEntries":{"nodes":[{"id":"bomb","blob":"')]
    chunk = b"A" * MiB
    parts += [c.compress(chunk) for _ in range(inflated_mib)]
    parts.append(c.compress(b'"}],"pageInfo":{"hasNextPage":false}}}}'))
    parts.append(c.flush())
    return b"".join(parts)
