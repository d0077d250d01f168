"""Raw Wiz record -> the event rules see: the record plus Panther's ``p_`` fields.

Validation has two paths that must agree: the pydantic model in ``schemas`` is the reference,
and a hand-written check for the exact shape the API sends (every Wiz.Audit record in practice)
avoids per-event pydantic work on the hot path. Records the fast check does not accept go to
pydantic, which either accepts them (case variants, odd-but-valid shapes) or gives the reason
for :class:`InvalidRecord`. ``tests/unit/parse`` checks that both paths agree.
"""

from __future__ import annotations

import ipaddress
import operator
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from wizwatch import logtypes
from wizwatch.errors import InvalidRecord
from wizwatch.parse import timestamps
from wizwatch.parse.records import UnreadableRecord
from wizwatch.parse.schemas import MODELS

#: Where each log type keeps its event time, first present wins (dotted paths).
EVENT_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    logtypes.AUDIT: ("timestamp",),
    logtypes.ISSUES: ("statusChangedAt", "updatedAt", "createdAt"),
    logtypes.VULNERABILITY_FINDING: ("updatedAt", "lastDetectedAt", "firstDetectedAt"),
    logtypes.ISSUES_WEBHOOK: ("issue.created",),
    logtypes.DETECTIONS: ("createdAt", "updatedAt"),
    # The delta field first (updatedAt by default; analyzedAt where a record has no updatedAt).
    logtypes.CLOUD_CONFIGURATION_FINDING: ("updatedAt", "analyzedAt", "firstSeenAt"),
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
    # Computed on the reconciled event (parse.detections): triggeringEvents is then always a list
    # holding a single triggeringEvent too; the explicit path covers records read without it.
    logtypes.DETECTIONS: (
        ("triggeringEvents[].actorIP", "ip"),
        ("triggeringEvent.actorIP", "ip"),
        ("actors[].externalId", "ip"),
        ("primaryActor.externalId", "ip"),
        ("primaryActor.id", "actor_id"),
        ("actors[].id", "actor_id"),
        ("threatURL", "url"),
        ("triggeringEvents[].cloudProviderUrl", "url"),
        ("triggeringEvent.cloudProviderUrl", "url"),
    ),
    logtypes.CLOUD_CONFIGURATION_FINDING: (
        ("resource.providerId", "arn"),
        ("targetObjectProviderUniqueId", "arn"),
        ("resource.subscription.externalId", "aws_account"),
        ("resource.subscription.externalId", "cloud_account"),
        ("resource.providerId", "resource_id"),
        ("targetObjectProviderUniqueId", "resource_id"),
    ),
}

_inet_pton = socket.inet_pton
_AF_INET = socket.AF_INET
_ROW_PREFIX = os.urandom(7).hex()
_ROW_LOCK = threading.Lock()
_ROW_NEXT = [1]


#: The last three hex digits of a row id, so a page's ids are one concatenation each.
_HEX3 = [f"{i:03x}" for i in range(4096)]


def _reserve_row_ids(n: int) -> list[str]:
    """n fresh row ids (``f"{_ROW_PREFIX}{i:016x}"``), formatted in one go (the page hot path)."""
    with _ROW_LOCK:
        start = _ROW_NEXT[0]
        _ROW_NEXT[0] = start + n
    out: list[str] = []
    i, end = start, start + n
    while i < end:
        high = i >> 12
        stop = min(end, (high + 1) << 12)
        head = f"{_ROW_PREFIX}{high:013x}"
        out += [head + low for low in _HEX3[i & 0xFFF : ((stop - 1) & 0xFFF) + 1]]
        i = stop
    return out


def new_row_id() -> str:
    """30 hex characters, unique within a process and random across processes (like Panther's)."""
    return _reserve_row_ids(1)[0]


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


_AWS_ACCOUNT = re.compile(r"\d{12}")


def _add_arn(out: dict[str, list[str]], value: str) -> None:
    """An ARN to ``p_any_aws_arns`` and its account (5th field, when present) to the account ids."""
    if not value.startswith("arn:"):
        return
    _add(out, "p_any_aws_arns", value)
    parts = value.split(":", 5)
    if len(parts) > 4 and _AWS_ACCOUNT.fullmatch(parts[4]):
        _add(out, "p_any_aws_account_ids", parts[4])


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
            elif kind == "arn":
                _add_arn(out, value)
            elif kind == "aws_account":
                if _AWS_ACCOUNT.fullmatch(value):
                    _add(out, "p_any_aws_account_ids", value)
            elif kind == "cloud_account":
                _add(out, "p_any_cloud_account_ids", value)  # Wizwatch's own: any cloud's account
            elif kind == "resource_id":
                _add(out, "p_any_cloud_resource_ids", value)  # Wizwatch's own: provider resource ids
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


_TS_API = re.compile(
    r"(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))T((?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60))"
    r"(?:\.(\d{1,9}))?Z"
)


def _is_ip_fast(value: str) -> bool:
    """Same answer as :func:`_is_ip`; strict dotted quads (the common case) via inet_pton."""
    try:
        _inet_pton(_AF_INET, value)
    except (OSError, ValueError):
        return _is_ip(value)
    return True


_PAD = ["0" * (9 - k) for k in range(10)]


def _add_principal(who: Any, ids: list[str], names: list[str], emails: list[str] | None) -> bool:
    """Collect a user/serviceAccount's indicators; False when its shape needs the slow path."""
    if type(who) is not dict:
        return False
    i = who.get("id")
    n = who.get("name")
    if i is not None:
        if type(i) is not str:
            return False
        if i and i not in ids:
            ids.append(i)
    if n is not None:
        if type(n) is not str:
            return False
        if n and n not in names:
            names.append(n)
    if emails is not None:
        for v in (i, n):
            if v and "@" in v and " " not in v and v not in emails:
                emails.append(v)
    return True


def _fast_audit(record: dict[str, Any], copy: bool = True) -> dict[str, Any] | None:
    """The event for an API-shaped audit entry (exact keys, RFC 3339 UTC time), else None.

    Equivalent to pydantic validation + :func:`indicators` for the records it accepts (tests
    check both paths agree); anything unusual returns None and takes the slow path. Written
    flat on purpose: this runs for every audit record.
    """
    g = record.get
    ts = g("timestamp")
    if type(ts) is not str or type(g("id")) is not str or type(g("action")) is not str:
        return None
    status = g("status")
    if status is not None and type(status) is not str:
        return None
    m = _TS_API.fullmatch(ts)
    if m is None:
        return None
    date, clock, frac = m.groups()
    if date[8:10] > "28":
        try:
            datetime(int(date[:4]), int(date[5:7]), int(date[8:10]))
        except ValueError:
            return None
    v = g("requestId")
    if v is not None and type(v) is not str:
        return None
    v = g("userAgent")
    if v is not None and type(v) is not str:
        return None
    ip = g("sourceIP")
    if ip is not None and type(ip) is not str:
        return None
    user = g("user")
    sa = g("serviceAccount")
    event = record if not copy else dict(record)
    if user is not None:
        # The usual shape is inlined (this runs for every record); anything else -> slow path.
        if type(user) is not dict:
            return None
        ui = user.get("id")
        un = user.get("name")
        if (ui is not None and type(ui) is not str) or (un is not None and type(un) is not str):
            return None
        if sa is not None:
            ids: list[str] = []
            names: list[str] = []
            emails: list[str] = []
            _add_principal(user, ids, names, emails)
            if not _add_principal(sa, ids, names, None):
                return None
        else:
            ids = [ui] if ui else []
            names = [un] if un else []
            emails = [ui] if ui and "@" in ui and " " not in ui else []
            if un and un != ui and "@" in un and " " not in un:
                emails.append(un)
    elif sa is not None:
        ids, names, emails = [], [], []
        if not _add_principal(sa, ids, names, None):
            return None
    else:
        ids = names = emails = []
    if ip and _is_ip_fast(ip):
        event["p_any_ip_addresses"] = [ip]
    if ids:
        event["p_any_actor_ids"] = ids
    if names:
        event["p_any_usernames"] = names
    if emails:
        event["p_any_emails"] = emails
    if frac is None:
        event["p_event_time"] = f"{date} {clock}.000000000"
    else:
        event["p_event_time"] = f"{date} {clock}.{frac}{_PAD[len(frac)]}"
    return event


#: The keys of an API-shaped audit entry, fetched in one C call (KeyError: not that shape).
_API_AUDIT = operator.itemgetter(
    "id", "action", "status", "timestamp", "requestId", "userAgent", "sourceIP", "user", "serviceAccount"
)
#: len(RFC 3339 UTC timestamp) -> what follows its seconds in Panther's form (``.`` and 9 digits).
_TIME_TAIL = {20: ".000000000", **{21 + k: "0" * (9 - k) for k in range(1, 10)}}


def _audit_page(
    records: list[Any], tail: dict[str, str], normalize: Callable[..., dict[str, Any]]
) -> tuple[list[dict[str, Any] | None], dict[int, str]]:
    """:meth:`Normalizer.normalize_page` for Wiz.Audit: the API shape inlined, the rest via normalize.

    Accepts exactly what :func:`_fast_audit` accepts when all of the entry's keys are present and
    one of user / service account is set (every check is made before the record is touched);
    anything else, e.g. a missing key, both principals or an odd time, takes the general path.
    """
    log_type = tail["p_log_type"]
    parse_time = tail["p_parse_time"]
    source_id = tail["p_source_id"]
    source_label = tail["p_source_label"]
    row_ids = _reserve_row_ids(len(records))
    api = _API_AUDIT
    minutes = _API_MINUTES
    seconds = _SECONDS
    time_tail = _TIME_TAIL
    inet_pton = _inet_pton
    af_inet = _AF_INET
    events: list[dict[str, Any] | None] = []
    append = events.append
    invalid: dict[int, str] = {}
    for i, record in enumerate(records):
        if record.__class__ is dict:
            try:
                rid, action, status, ts, req, ua, ip, user, sa = api(record)
            except KeyError:
                user = sa = None  # not the full API shape: the general path below
            if user is None:
                user, sa, principal_emails = sa, None, False  # a service account: no email indicator
            else:
                principal_emails = True
            if (
                user.__class__ is dict
                and sa is None
                and ts.__class__ is str
                and rid.__class__ is str
                and action.__class__ is str
                and (status.__class__ is str or status is None)
                and (req is None or req.__class__ is str)
                and (ua is None or ua.__class__ is str)
                and (ip is None or ip.__class__ is str)
            ):
                ui = user.get("id")
                un = user.get("name")
                if (ui is None or ui.__class__ is str) and (un is None or un.__class__ is str):
                    # RFC 3339 UTC without the regex when the minute is known good (see _api_time).
                    when = None
                    base = minutes.get(ts[:16])
                    if base is not None:
                        n = len(ts)
                        if ts[16:19] in seconds and ts[-1] == "Z":
                            if n == 20:
                                when = base + ts[16:19] + ".000000000"
                            elif 22 <= n <= 30 and ts[19] == "." and ts[20:-1].isdecimal():
                                when = base + ts[16:-1] + time_tail[n]
                    if when is None:
                        when = _api_time(ts)
                    if when is not None:
                        if ip:
                            try:
                                inet_pton(af_inet, ip)
                            except (OSError, ValueError):
                                if _is_ip(ip):
                                    record["p_any_ip_addresses"] = [ip]
                            else:
                                record["p_any_ip_addresses"] = [ip]
                        if ui:
                            record["p_any_actor_ids"] = [ui]
                        if un:
                            record["p_any_usernames"] = [un]
                        if not principal_emails:
                            pass
                        elif ui and "@" in ui and " " not in ui:
                            if un and un != ui and "@" in un and " " not in un:
                                record["p_any_emails"] = [ui, un]
                            else:
                                record["p_any_emails"] = [ui]
                        elif un and un != ui and "@" in un and " " not in un:
                            record["p_any_emails"] = [un]
                        record["p_event_time"] = when
                        record["p_log_type"] = log_type
                        record["p_parse_time"] = parse_time
                        record["p_source_id"] = source_id
                        record["p_source_label"] = source_label
                        record["p_row_id"] = row_ids[i]
                        append(record)
                        continue
            event = _fast_audit(record, False)
            if event is not None:
                event.update(tail)
                event["p_row_id"] = row_ids[i]
                append(event)
                continue
        try:
            append(normalize(record, parse_time, copy=False))
        except InvalidRecord as exc:
            invalid[i] = exc.reason
            append(None)
    return events, invalid


#: ``YYYY-MM-DDTHH:MM`` prefixes of timestamps _TS_API accepted -> ``YYYY-MM-DD HH:MM``. With the
#: minute known good, the rest (``:SS``, optional fraction, ``Z``) takes a few string checks that
#: accept a subset of what the regex does (ASCII seconds only) and give the same text.
_API_MINUTES: dict[str, str] = {}
_API_MINUTES_MAX = 4096
_SECONDS = frozenset(f":{s:02d}" for s in range(61))


def _api_time(ts: str) -> str | None:
    """p_event_time for an RFC 3339 UTC timestamp as :func:`_fast_audit` reads it, else None."""
    m = _TS_API.fullmatch(ts)
    if m is None:
        return None
    date, clock, frac = m.groups()
    if date[8:10] > "28":
        try:
            datetime(int(date[:4]), int(date[5:7]), int(date[8:10]))
        except ValueError:
            return None
    if len(_API_MINUTES) >= _API_MINUTES_MAX:
        _API_MINUTES.clear()
    _API_MINUTES[ts[:16]] = f"{date} {clock[:5]}"
    if frac is None:
        return f"{date} {clock}.000000000"
    return f"{date} {clock}.{frac}{_PAD[len(frac)]}"


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
        self._tail: dict[str, str] = self._tail_for("")
        self._fast: Callable[[dict[str, Any], bool], dict[str, Any] | None] | None = (
            _fast_audit if log_type == logtypes.AUDIT else None
        )
        #: Gives pushed and polled detections one shape (before indicators are computed).
        self._reconcile: Callable[[dict[str, Any]], None] | None = None
        if log_type == logtypes.DETECTIONS:
            from wizwatch.parse.detections import reconcile  # imports this module's _ci_get

            self._reconcile = reconcile

    def validate(self, record: Any) -> None:
        """Raise InvalidRecord(reason) unless the record fits the log type's model."""
        if not isinstance(record, dict):
            if isinstance(record, UnreadableRecord):
                raise InvalidRecord(record.reason)
            raise InvalidRecord(f"record is a JSON {type(record).__name__}, expected an object")
        try:
            self.model.model_validate(_canonical(self.model, record))
        except ValidationError as exc:
            raise InvalidRecord(_reason(exc)) from None

    def event_time(self, record: dict[str, Any]) -> str | None:
        """The first time field that holds a timestamp (schemas validate the ones they type;
        free-text ones, e.g. a webhook's ``issue.created``, are skipped when they are not)."""
        for path in self._time_fields:
            for value in values_at(record, path):
                if isinstance(value, str) and value:
                    try:
                        return timestamps.to_panther(value)
                    except timestamps.TimestampError:
                        continue
        return None

    def normalize(self, record: Any, parse_time: str | None = None, *, copy: bool = True) -> dict[str, Any]:
        """The record's own keys plus ``p_`` fields; raises InvalidRecord.

        ``copy=False`` adds the fields to ``record`` itself (for callers that own the record).
        """
        parse_time = parse_time or timestamps.now_panther()
        event = self._fast(record, copy) if self._fast is not None and type(record) is dict else None
        if event is None:
            try:
                self.validate(record)
                event = dict(record) if copy else record
                for key in [k for k in event if isinstance(k, str) and k.startswith("p_any_")]:
                    del event[key]  # indicators are ours to compute, never the source's
                if self._reconcile is not None:
                    self._reconcile(event)
                event.update(indicators(self.log_type, event))
                event["p_event_time"] = self.event_time(record) or parse_time
            except InvalidRecord:
                raise
            except Exception as exc:  # whatever an odd record trips over is its own problem
                raise InvalidRecord(f"normalisation failed: {type(exc).__name__}: {exc}") from exc
        tail = self._tail
        if tail.get("p_parse_time") != parse_time:
            tail = self._tail = self._tail_for(parse_time)
        event.update(tail)
        event["p_row_id"] = _reserve_row_ids(1)[0]
        return event

    def normalize_page(
        self, records: list[Any], parse_time: str
    ) -> tuple[list[dict[str, Any] | None], dict[int, str]]:
        """Normalise a page's records in place: (events with None for invalid ones, reasons by index).

        Same result as :meth:`normalize` per record (copy=False); the loop lives here so the hot
        path pays one call per record, not three.
        """
        if self.log_type == logtypes.AUDIT:
            return _audit_page(records, self._tail_for(parse_time), self.normalize)
        tail = self._tail_for(parse_time)
        fast = self._fast
        row_ids = iter(_reserve_row_ids(len(records)))
        events: list[dict[str, Any] | None] = []
        append = events.append
        invalid: dict[int, str] = {}
        for i, record in enumerate(records):
            event = fast(record, False) if fast is not None and type(record) is dict else None
            if event is None:
                try:
                    event = self.normalize(record, parse_time, copy=False)
                except InvalidRecord as exc:
                    invalid[i] = exc.reason
                    append(None)
                    continue
            else:
                event.update(tail)
                event["p_row_id"] = next(row_ids)
            append(event)
        return events, invalid

    def _tail_for(self, parse_time: str) -> dict[str, str]:
        """The p_ fields every event of one parse shares (set with one dict update)."""
        return {
            "p_log_type": self.log_type,
            "p_parse_time": parse_time,
            "p_source_id": self.source_id,
            "p_source_label": self.source_label,
        }
