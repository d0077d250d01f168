"""Panther's ``p_any_*`` indicator fields and dotted-path lookups (case-insensitive keys).

:func:`indicators` and :func:`values_at` are the reference. :class:`Paths` is the same lookup
compiled once per log type: paths split ahead of time, and every step whose key is a field of a
schema model at that level marked *clean*. For a record the compiled plan
(:mod:`wizwatch.parse.plan`) accepted, a clean step is a plain ``dict.get``: the plan rejects
any key that differs from a field name only by case, so the exact key is the only candidate and
the case-insensitive scan (a ``lower()`` per key whenever the key is absent) cannot find more.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wizwatch import logtypes

if TYPE_CHECKING:  # pydantic is imported with the schemas, by the first Normalizer (first page)
    from pydantic import BaseModel

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


#: An object's keys (in order) -> {lower-cased key: its first key}. Objects of one shape share
#: their keys, so the case-insensitive scan is made once per shape, not per lookup.
_LOWERED: dict[tuple[Any, ...], dict[str, str]] = {}
_LOWERED_MAX = 4096


def _ci_key(d: dict[Any, Any], key: str) -> Any:
    """The first key of ``d`` equal to ``key`` ignoring case (the exact key first), else None."""
    if key in d:
        return key
    keys = tuple(d)
    lowered = _LOWERED.get(keys)
    if lowered is None:
        lowered = {}
        for k in keys:
            if isinstance(k, str):
                lowered.setdefault(k.lower(), k)
        if len(_LOWERED) >= _LOWERED_MAX:
            _LOWERED.clear()
        _LOWERED[keys] = lowered
    return lowered.get(key.lower())


def _ci_get(d: dict[str, Any], key: str) -> Any:
    """``d[key]`` with Panther's case-insensitive key lookup (exact key first); None if absent."""
    if key in d:
        return d[key]
    found = _ci_key(d, key)
    return None if found is None else d[found]


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


class Paths:
    """Dotted paths (as :func:`values_at` reads them) split once, clean steps marked."""

    def __init__(self, model: type[BaseModel] | None, paths: Iterable[str]) -> None:
        from wizwatch.parse.plan import sole_submodel  # pydantic: off the import path (cold start)

        self.paths: list[tuple[tuple[str, bool, bool], ...]] = []
        #: Per path: its keys when every step is clean and only the last may walk a list, else
        #: None. On an accepted record each step is then a plain ``dict.get``.
        self.simple: list[tuple[tuple[str, ...], bool] | None] = []
        for path in paths:
            steps = []
            current = model
            for part in path.split("."):
                walk = part.endswith("[]")
                key = part[:-2] if walk else part
                clean = current is not None and key in current.model_fields
                steps.append((key, walk, clean))
                current = sole_submodel(current.model_fields[key].annotation) if clean and current else None
            self.paths.append(tuple(steps))
            simple = all(c for _, _, c in steps) and not any(w for _, w, _ in steps[:-1])
            self.simple.append((tuple(k for k, _, _ in steps), steps[-1][1]) if simple else None)

    def values(self, index: int, record: Any, clean: bool) -> list[Any]:
        """values_at(record, paths[index]); ``clean``: the plan accepted the record."""
        simple = self.simple[index] if clean else None
        if simple is not None:
            keys, walk = simple
            node: Any = record
            for key in keys:
                if node.__class__ is not dict:
                    return []  # None, or a list met without [] in the path: values_at skips it
                node = node.get(key)
            if walk:
                return node if node.__class__ is list else []
            return [] if node is None else [node]
        current: list[Any] = [record]
        for key, walk, step_clean in self.paths[index]:
            nxt: list[Any] = []
            for node in current:
                if not isinstance(node, dict):
                    continue
                if clean and step_clean:
                    value = node.get(key)
                else:
                    value = node[key] if key in node else _ci_get(node, key)
                if walk:
                    if isinstance(value, list):
                        nxt.extend(value)
                elif value is not None:
                    nxt.append(value)
            current = nxt
        return current


@functools.lru_cache(maxsize=4096)  # hosts repeat (a portal's, a cloud console's); pure
def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_inet_pton = socket.inet_pton
_AF_INET = socket.AF_INET


def _is_ip_fast(value: str) -> bool:
    """Same answer as :func:`_is_ip`; strict dotted quads (the common case) via inet_pton."""
    try:
        _inet_pton(_AF_INET, value)
    except (OSError, ValueError):
        return _is_ip(value)
    return True


#: ``http(s)://host`` with a plain lower-case host and nothing else in the authority (no user,
#: port or brackets), followed by a path, query, fragment or the end: urlsplit's hostname is then
#: the host text itself. Anything else goes through urlsplit.
_PLAIN_URL = re.compile(r"https?://([a-z0-9.-]+)(?:[/?#]|\Z)")


#: What an IP address written with only lower-case letters, digits, dots and dashes can look
#: like: digits and dots (a letter or a dash rules out IPv4, the missing colon IPv6).
_IPV4ISH = re.compile(r"[0-9.]+")


def _host(url: str) -> str | None:
    m = _PLAIN_URL.match(url)
    if m is not None:
        return m.group(1)
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    return host or None


#: URL -> (indicator field, host) or None: portal, console and advisory URLs repeat across records.
_URL_HOSTS: dict[str, tuple[str, str] | None] = {}
_URL_HOSTS_MAX = 4096


def _url_host(url: str) -> tuple[str, str] | None:
    """(``p_any_ip_addresses`` or ``p_any_domain_names``, the URL's host), None without a host."""
    try:
        return _URL_HOSTS[url]
    except KeyError:
        pass
    m = _PLAIN_URL.match(url)
    if m is not None:
        host: str | None = m.group(1)
        is_ip = _IPV4ISH.fullmatch(m.group(1)) is not None and _is_ip_fast(m.group(1))
    else:
        host = _host(url)
        is_ip = bool(host) and _is_ip_fast(host or "")
    found = ("p_any_ip_addresses" if is_ip else "p_any_domain_names", host) if host else None
    if len(_URL_HOSTS) >= _URL_HOSTS_MAX:
        _URL_HOSTS.clear()
    _URL_HOSTS[url] = found
    return found


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


def _collect(out: dict[str, list[str]], kind: str, values: Iterable[Any]) -> None:
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        if kind == "ip":
            if _is_ip_fast(value):
                _add(out, "p_any_ip_addresses", value)
        elif kind == "actor_id":
            _add(out, "p_any_actor_ids", value)
        elif kind == "username":
            _add(out, "p_any_usernames", value)
        elif kind == "email":
            if "@" in value and " " not in value:
                _add(out, "p_any_emails", value)
        elif kind == "url":
            found = _url_host(value)
            if found is not None:
                _add(out, *found)
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


def indicators(log_type: str, record: dict[str, Any]) -> dict[str, list[str]]:
    """The ``p_any_*`` arrays for a record (only non-empty ones, values deduplicated, in order)."""
    out: dict[str, list[str]] = {}
    for path, kind in INDICATORS.get(log_type, ()):
        _collect(out, kind, values_at(record, path))
    return out


class Indicators:
    """:func:`indicators` for one log type with its paths compiled (see :class:`Paths`)."""

    def __init__(self, log_type: str, model: type[BaseModel]) -> None:
        spec = [(p, k) for p, k in INDICATORS.get(log_type, ()) if k != "arn_host"]  # never one
        self.kinds = [kind for _, kind in spec]
        self.paths = Paths(model, [path for path, _ in spec])

    def __call__(self, record: dict[str, Any], clean: bool) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        values = self.paths.values
        for i, kind in enumerate(self.kinds):
            found = values(i, record, clean)
            if found:
                _collect(out, kind, found)
        return out
