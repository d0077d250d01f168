"""Wiz.Audit's hand-written fast path: the exact shape the API sends, checked and indexed inline.

Every Wiz.Audit record in practice has the API's shape (exact keys, RFC 3339 UTC time, one of
user / service account). :func:`_fast_audit` accepts exactly such records without pydantic or the
compiled plan (``parse.plan``) and gives the same event; :func:`_audit_page` is the page loop with
that check inlined (one call per record, not three). Anything unusual returns None / takes the
general path. ``tests/unit/parse`` checks both paths agree with the pydantic reference.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from wizwatch.errors import InvalidRecord
from wizwatch.parse.indicators import _AF_INET, _inet_pton, _is_ip, _is_ip_fast
from wizwatch.parse.plan import _MINUTES, _SECONDS, _TIME_TAIL, panther_time
from wizwatch.parse.timestamps import TimestampError

#: The RFC 3339 UTC form the API sends (what the fast path accepts; anything else: general path).
_TS_API = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)"
    r"(?:\.\d{1,9})?Z"
)


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
    check both paths agree); anything unusual returns None and takes the slow path. The page
    loop (:func:`_audit_page`) has the usual shape inlined; this serves the rest.
    """
    g = record.get
    ts = g("timestamp")
    if type(ts) is not str or type(g("id")) is not str or type(g("action")) is not str:
        return None
    status = g("status")
    if status is not None and type(status) is not str:
        return None
    when = _api_time(ts)
    if when is None:
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
    ids: list[str] = []
    names: list[str] = []
    emails: list[str] = []
    if user is not None and not _add_principal(user, ids, names, emails):
        return None
    if sa is not None and not _add_principal(sa, ids, names, None):
        return None  # a service account's id or name is no email indicator
    if ip and _is_ip_fast(ip):
        event["p_any_ip_addresses"] = [ip]
    if ids:
        event["p_any_actor_ids"] = ids
    if names:
        event["p_any_usernames"] = names
    if emails:
        event["p_any_emails"] = emails
    event["p_event_time"] = when
    return event


#: The keys of an API-shaped audit entry, fetched in one C call (KeyError: not that shape).
_API_AUDIT = operator.itemgetter(
    "id", "action", "status", "timestamp", "requestId", "userAgent", "sourceIP", "user", "serviceAccount"
)


def _audit_page(
    records: list[Any],
    tail: dict[str, str],
    normalize: Callable[..., dict[str, Any]],
    row_ids: list[str],
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
    api = _API_AUDIT
    minutes = _MINUTES
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
                    # RFC 3339 UTC without the regex when the minute is known good: panther_time's
                    # fast case, inlined (this runs for every record).
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
                        if ip:  # indicators._is_ip_fast inlined (the call: +0.1 of 2.1 us/record)
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
            append(normalize(record, parse_time, copy=False, row_id=row_ids[i]))
        except InvalidRecord as exc:
            invalid[i] = exc.reason
            append(None)
    return events, invalid


def _api_time(ts: str) -> str | None:
    """p_event_time for an RFC 3339 UTC timestamp as :func:`_fast_audit` reads it, else None."""
    if _TS_API.fullmatch(ts) is None:
        return None
    try:
        return panther_time(ts)  # remembers the minute for the page loop's inlined check
    except TimestampError:
        return None  # e.g. February 30th
