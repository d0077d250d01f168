"""Raw Wiz record -> the event rules see: the record plus Panther's ``p_`` fields.

Validation has two paths that must agree: the pydantic model in ``schemas`` is the reference,
and a hand-written check for the exact shape the API sends (every Wiz.Audit record in practice)
avoids per-event pydantic work on the hot path. Records the fast check does not accept go to
pydantic, which either accepts them (case variants, odd-but-valid shapes) or gives the reason
for :class:`InvalidRecord`. ``tests/unit/parse`` checks that both paths agree.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from wizwatch import logtypes
from wizwatch.errors import InvalidRecord
from wizwatch.parse import timestamps
from wizwatch.parse.schemas import MODELS

#: Where each log type keeps its event time, first present wins (dotted paths).
EVENT_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    logtypes.AUDIT: ("timestamp",),
    logtypes.ISSUES: ("statusChangedAt", "updatedAt", "createdAt"),
    logtypes.VULNERABILITY_FINDING: ("updatedAt", "lastDetectedAt", "firstDetectedAt"),
    logtypes.ISSUES_WEBHOOK: ("issue.created",),
    logtypes.DETECTIONS: ("createdAt",),
}

#: Indicator fields per log type: (path, kind). ``[]`` in a path walks a list.
INDICATORS: dict[str, tuple[tuple[str, str], ...]] = {
    logtypes.AUDIT: (
        ("sourceIP", "ip"),
        ("user.id", "actor_id"),
        ("serviceAccount.id", "actor_id"),
        ("user.name", "username"),
        ("serviceAccount.name", "username"),
        ("user.id", "email"),
        ("user.name", "email"),
    ),
    logtypes.ISSUES: (
        ("entitySnapshot.cloudProviderURL", "url"),
        ("entitySnapshot.externalId", "arn_host"),
    ),
    logtypes.VULNERABILITY_FINDING: (
        ("vulnerableAsset.ipAddresses[]", "ip"),
        ("vulnerableAsset.cloudProviderURL", "url"),
        ("portalUrl", "url"),
        ("link", "url"),
    ),
    logtypes.ISSUES_WEBHOOK: (("resource.cloudProviderURL", "url"),),
    logtypes.DETECTIONS: (
        ("triggeringEvents[].actorIP", "ip"),
        ("primaryActor.id", "actor_id"),
        ("actors[].id", "actor_id"),
        ("threatURL", "url"),
        ("triggeringEvents[].cloudProviderUrl", "url"),
    ),
}

_ROW_PREFIX = os.urandom(7).hex()
_ROW_COUNTER = itertools.count(1)


def new_row_id() -> str:
    """30 hex characters, unique within a process and random across processes (like Panther's)."""
    return f"{_ROW_PREFIX}{next(_ROW_COUNTER):016x}"


def _ci_get(d: dict[str, Any], key: str) -> Any:
    if key in d:
        return d[key]
    low = key.lower()
    for k, v in d.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return None


def values_at(record: Any, path: str) -> Iterable[Any]:
    """Every value at a dotted path (case-insensitive keys; ``x[]`` walks list ``x``)."""
    current: list[Any] = [record]
    for part in path.split("."):
        walk = part.endswith("[]")
        key = part[:-2] if walk else part
        nxt: list[Any] = []
        for node in current:
            if not isinstance(node, dict):
                continue
            value = _ci_get(node, key)
            if walk:
                if isinstance(value, list):
                    nxt.extend(value)
            elif value is not None:
                nxt.append(value)
        current = nxt
    return current


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _host(url: str) -> str | None:
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    return host or None


def _add(out: dict[str, list[str]], field: str, value: str) -> None:
    bucket = out.setdefault(field, [])
    if value not in bucket:
        bucket.append(value)


def indicators(log_type: str, record: dict[str, Any]) -> dict[str, list[str]]:
    """The ``p_any_*`` arrays for a record (only non-empty ones, values deduplicated, in order)."""
    out: dict[str, list[str]] = {}
    for path, kind in INDICATORS.get(log_type, ()):
        for value in values_at(record, path):
            if not isinstance(value, str) or not value:
                continue
            if kind == "ip":
                if _is_ip(value):
                    _add(out, "p_any_ip_addresses", value)
            elif kind == "actor_id":
                _add(out, "p_any_actor_ids", value)
            elif kind == "username":
                _add(out, "p_any_usernames", value)
            elif kind == "email":
                if "@" in value and " " not in value:
                    _add(out, "p_any_emails", value)
            elif kind == "url":
                host = _host(value)
                if host:
                    _add(out, "p_any_ip_addresses" if _is_ip(host) else "p_any_domain_names", host)
            elif kind == "arn_host":
                continue  # ARNs are not domains; kept as a documented non-indicator
    return out


def _canonical(model: type[BaseModel], data: Any) -> Any:
    """A copy of ``data`` whose keys match the model's field names case-insensitively."""
    if not isinstance(data, dict):
        return data
    fields = model.model_fields
    by_lower = {name.lower(): name for name in fields}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key if key in fields else by_lower.get(key.lower(), key) if isinstance(key, str) else key
        if name in out and name != key:
            continue  # the exact-case key wins
        ann = fields[name].annotation if name in fields else None
        sub = _submodel(ann)
        if sub is not None:
            value = [_canonical(sub, v) for v in value] if isinstance(value, list) else _canonical(sub, value)
        out[name] = value
    return out


def _submodel(annotation: Any) -> type[BaseModel] | None:
    import typing

    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
        stack.extend(typing.get_args(a))
    return None


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _is_principal(v: Any) -> bool:
    if v is None:
        return True
    if type(v) is not dict:
        return False
    i = v.get("id")
    n = v.get("name")
    return (i is None or type(i) is str) and (n is None or type(n) is str)


def _fast_audit(record: dict[str, Any]) -> str | None:
    """The Panther event time of an API-shaped audit entry, or None to take the slow path."""
    g = record.get
    if not (type(g("id")) is str and type(g("action")) is str and type(g("status")) is str):
        return None
    ts = g("timestamp")
    if type(ts) is not str:
        return None
    for key in ("requestId", "userAgent", "sourceIP"):
        v = g(key)
        if v is not None and type(v) is not str:
            return None
    if not (_is_principal(g("user")) and _is_principal(g("serviceAccount"))):
        return None
    try:
        return timestamps.to_panther(ts)
    except timestamps.TimestampError:
        return None


def _audit_indicators(event: dict[str, Any]) -> None:
    """Hot-path twin of :func:`indicators` for API-shaped audit entries (kept equal by tests)."""
    ip = event.get("sourceIP")
    if ip and _is_ip_fast(ip):
        event["p_any_ip_addresses"] = [ip]
    ids: list[str] = []
    names: list[str] = []
    emails: list[str] = []
    for who in (event.get("user"), event.get("serviceAccount")):
        if who:
            i = who.get("id")
            n = who.get("name")
            if i and i not in ids:
                ids.append(i)
            if n and n not in names:
                names.append(n)
    user = event.get("user")
    if user:
        for v in (user.get("id"), user.get("name")):
            if v and "@" in v and " " not in v and v not in emails:
                emails.append(v)
    if ids:
        event["p_any_actor_ids"] = ids
    if names:
        event["p_any_usernames"] = names
    if emails:
        event["p_any_emails"] = emails


_IPV4_CHARS = frozenset("0123456789.")


def _is_ip_fast(value: str) -> bool:
    # Dotted quads are the common case; anything else goes to ipaddress.
    if _IPV4_CHARS.issuperset(value):
        parts = value.split(".")
        return len(parts) == 4 and all(
            p and len(p) <= 3 and int(p) <= 255 and (p == "0" or p[0] != "0") for p in parts
        )
    return _is_ip(value)


class Normalizer:
    """Validates records of one log type and adds Panther's standard fields."""

    def __init__(
        self, log_type: str, *, source_id: str = "wizwatch", source_label: str | None = None
    ) -> None:
        if log_type not in MODELS:
            raise ValueError(f"unknown log type {log_type!r}; known: {', '.join(MODELS)}")
        self.log_type = log_type
        self.model = MODELS[log_type]
        self.source_id = source_id
        self.source_label = source_label or log_type
        self._time_fields = EVENT_TIME_FIELDS[log_type]
        self._fast: Callable[[dict[str, Any]], str | None] | None = (
            _fast_audit if log_type == logtypes.AUDIT else None
        )

    def validate(self, record: Any) -> None:
        """Raise InvalidRecord(reason) unless the record fits the log type's model."""
        if not isinstance(record, dict):
            raise InvalidRecord(f"record is a JSON {type(record).__name__}, expected an object")
        try:
            self.model.model_validate(_canonical(self.model, record))
        except ValidationError as exc:
            raise InvalidRecord(_reason(exc)) from None

    def event_time(self, record: dict[str, Any]) -> str | None:
        for path in self._time_fields:
            for value in values_at(record, path):
                if isinstance(value, str) and value:
                    return timestamps.to_panther(value)
        return None

    def normalize(self, record: Any, parse_time: str | None = None) -> dict[str, Any]:
        """A new dict: the record's own keys plus ``p_`` fields; raises InvalidRecord."""
        parse_time = parse_time or timestamps.now_panther()
        event_time = self._fast(record) if self._fast is not None and type(record) is dict else None
        if event_time is not None:
            event = dict(record)
            _audit_indicators(event)
        else:
            self.validate(record)
            event = dict(record)
            event_time = self.event_time(record)
            event.update(indicators(self.log_type, record))
        event["p_log_type"] = self.log_type
        event["p_row_id"] = new_row_id()
        event["p_event_time"] = event_time or parse_time
        event["p_parse_time"] = parse_time
        event["p_source_id"] = self.source_id
        event["p_source_label"] = self.source_label
        return event
