"""Helpers of Wizwatch's Wiz.Detections (Wiz Defend) rules.

They read a detection in any shape Wiz delivers it: the webhook (``triggeringEvents`` list or a
single ``triggeringEvent``, ``mitreTactics``), the API (``triggeringEvents {nodes}``,
``ruleMatch.rule.securitySubCategories``) or the reconciled event the detector builds from
either, so a rule gives the same answer in ``wizwatch test`` (logs as written) and in production.
Nested keys are looked up case-insensitively, like Panther's event (Wiz's own documentation
spells ``actorIpMeta`` where its payloads say ``actorIPMeta``).
"""

import re
from collections.abc import Mapping, MutableMapping, Sequence

SEVERITY_ORDER = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")

#: MITRE ATT&CK Enterprise tactics (attack.mitre.org/tactics/enterprise): id -> name.
TACTIC_NAMES = {
    "TA0043": "Reconnaissance",
    "TA0042": "Resource Development",
    "TA0001": "Initial Access",
    "TA0002": "Execution",
    "TA0003": "Persistence",
    "TA0004": "Privilege Escalation",
    "TA0005": "Defense Evasion",
    "TA0006": "Credential Access",
    "TA0007": "Discovery",
    "TA0008": "Lateral Movement",
    "TA0009": "Collection",
    "TA0011": "Command and Control",
    "TA0010": "Exfiltration",
    "TA0040": "Impact",
}
_TACTIC_IDS = {name.lower(): ta for ta, name in TACTIC_NAMES.items()}
_TACTIC_RE = re.compile(r"\bTA\d{4}\b")

#: Names that say "production", as a whole word or token: prod, production, prd (prod-payments,
#: payments_prd, production). Not "product" or "prodigy".
PRODUCTION_RE = re.compile(r"(?<![a-z0-9])(prod|production|prd)(?![a-z0-9])", re.IGNORECASE)
#: Tag keys whose value names the environment.
ENVIRONMENT_TAGS = ("environment", "env", "stage", "tier")


#: type -> is it a Mapping / a non-string Sequence. isinstance against the ABCs goes through
#: ABCMeta's machinery on every call; the answer depends only on the type, so it is looked up once
#: (only for types whose instances report them as their ``__class__``: not for mocks).
_MAP_TYPES = {dict: True, str: False, type(None): False, list: False, int: False, bool: False}
_LIST_TYPES = {list: True, tuple: True, str: False, bytes: False, type(None): False, dict: False}


def is_map(value):
    """A mapping: a plain dict or the event's read-only nested view."""
    t = type(value)
    found = _MAP_TYPES.get(t)
    if found is None:
        found = isinstance(value, Mapping)
        if value.__class__ is t:
            _MAP_TYPES[t] = found
    return found


def is_list(value):
    t = type(value)
    found = _LIST_TYPES.get(t)
    if found is None:
        found = isinstance(value, Sequence) and not isinstance(value, (str, bytes))
        if value.__class__ is t:
            _LIST_TYPES[t] = found
    return found


def ci_get(obj, key, default=None):
    """``obj[key]`` with a case-insensitive key (exact key first); ``default`` if absent/None."""
    t = type(obj)
    if t is not dict:
        found = _MAP_TYPES.get(t)
        if not (is_map(obj) if found is None else found):
            return default
        value = obj.get(key)
        if value is not None or not isinstance(obj, dict):
            return default if value is None else value
    else:
        value = obj.get(key)
        if value is not None:
            return value
    low = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            value = v
            break
    return default if value is None else value


# --- per-event memo -----------------------------------------------------------------------------
# Every Defend rule derives the same values (tactics, resources, production evidence, the shared
# alert context) from the same event, several times each (rule, title, severity, dedup, context).
# A read-only event (Wizwatch's and Panther's PantherEvent) cannot change between those calls, so
# the values are derived once per event object and shared. The memo holds the event it belongs
# to (a strong reference: its id cannot be reused while it is kept). A mutable mapping (a plain
# dict a test passes) is never memoised.
#: (event, its values) in one tuple: read and replaced whole, so two threads evaluating at once
#: can only recompute, never read another event's values.
_memo_entry = [(None, {})]
_READ_ONLY_TYPES = {dict: False}


def _memo(event):
    """The memo dict of ``event``, or None when the event could change between calls."""
    entry = _memo_entry[0]
    if entry[0] is event:
        return entry[1]
    t = type(event)
    read_only = _READ_ONLY_TYPES.get(t)
    if read_only is None:
        read_only = isinstance(event, Mapping) and not isinstance(event, MutableMapping)
        if event.__class__ is t:
            _READ_ONLY_TYPES[t] = read_only
    if not read_only:
        return None
    values = {}
    _memo_entry[0] = (event, values)
    return values


def _once(name, derive, event):
    """``derive(event)``, computed once per read-only event."""
    memo = _memo(event)
    if memo is None:
        return derive(event)
    try:
        return memo[name]
    except KeyError:
        value = memo[name] = derive(event)
        return value


def triggering_events(event):
    """The detection's triggering events as a list, whichever shape carried them."""
    return list(_once("triggering_events", _triggering_events, event))


def _triggering_events(event):
    raw = ci_get(event, "triggeringEvents")
    if is_map(raw):
        raw = ci_get(raw, "nodes")
    events = [e for e in raw if is_map(e)] if is_list(raw) else []
    single = ci_get(event, "triggeringEvent")
    if is_map(single) and all(ci_get(e, "id") != ci_get(single, "id") for e in events):
        events.append(single)
    return tuple(events)


def tactics(event):
    """MITRE tactic ids of the detection: mitreTactics, technique prefixes, rule categories."""
    return list(_once("tactics", _tactics, event))


def _tactics(event):
    out = []

    def add(ta):
        if ta in TACTIC_NAMES and ta not in out:
            out.append(ta)

    for key in ("mitreTactics", "mitreTechniques"):
        value = ci_get(event, key)
        for item in value if is_list(value) else [value]:
            if isinstance(item, str):
                for ta in _TACTIC_RE.findall(item.upper()):
                    add(ta)
    rule = ci_get(ci_get(event, "ruleMatch"), "rule")
    subs = ci_get(rule, "securitySubCategories") if rule else None
    for sub in subs if is_list(subs) else []:
        name = ci_get(ci_get(sub, "category"), "name")
        if isinstance(name, str) and name.strip().lower() in _TACTIC_IDS:
            add(_TACTIC_IDS[name.strip().lower()])
    return tuple(out)


def detection_severity(event):
    """Wiz's severity in Panther's words (INFORMATIONAL -> INFO); None if unknown."""
    return _once("detection_severity", _detection_severity, event)


def _detection_severity(event):
    sev = str(ci_get(event, "severity", "")).upper()
    sev = "INFO" if sev == "INFORMATIONAL" else sev
    return sev if sev in SEVERITY_ORDER else None


def raise_severity(sev, steps=1):
    """One (or more) severity step up, capped at CRITICAL; MEDIUM for an unknown one."""
    if sev not in SEVERITY_ORDER:
        return "MEDIUM"
    return SEVERITY_ORDER[min(len(SEVERITY_ORDER) - 1, SEVERITY_ORDER.index(sev) + steps)]


def primary_resource(event):
    """The detection's primary resource (else its first listed one), ``{}`` when it names none."""
    resource = _once("primary_resource", _primary_resource, event)
    return {} if resource is None else resource


def _primary_resource(event):
    resource = ci_get(event, "primaryResource")
    if is_map(resource):
        return resource
    resources = ci_get(event, "resources")
    return resources[0] if is_list(resources) and resources and is_map(resources[0]) else None


def resource_label(event):
    return _once("resource_label", _resource_label, event)


def _resource_label(event):
    r = primary_resource(event)
    return ci_get(r, "name") or ci_get(r, "externalId") or ci_get(r, "id") or "<unknown resource>"


def detection_title(event):
    return _once("detection_title", _detection_title, event)


def _detection_title(event):
    rule = ci_get(ci_get(event, "ruleMatch"), "rule")
    return ci_get(event, "title") or ci_get(rule, "name") or ci_get(event, "tdrId") or "Wiz Defend detection"


def threat_or_detection_id(event):
    """What groups detections of one incident: the Wiz threat (issue), else the detection."""
    threat = ci_get(event, "threatId") or ci_get(ci_get(event, "issue"), "id")
    return threat or ci_get(event, "id")


def _tag_values(tags):
    if is_map(tags):
        return [str(v) for k, v in tags.items() if str(k).lower() in ENVIRONMENT_TAGS]
    if is_list(tags):  # [{"key": ..., "value": ...}]
        return [
            str(ci_get(t, "value"))
            for t in tags
            if is_map(t) and str(ci_get(t, "key", "")).lower() in ENVIRONMENT_TAGS
        ]
    return []


def production_evidence(event):
    """Where the detection names production: ``["cloudAccount.name=prod-payments", ...]``."""
    return list(_once("production_evidence", _production_evidence, event))


def _production_evidence(event):
    found = []
    listed = ci_get(event, "resources", [])
    resources = [primary_resource(event), *(listed if is_list(listed) else [])]
    for r in resources:
        if not is_map(r):
            continue
        for key in ("name", "kubernetesNamespaceName", "kubernetesClusterName"):
            value = ci_get(r, key)
            if isinstance(value, str) and PRODUCTION_RE.search(value):
                found.append(f"resource.{key}={value}")
        for value in _tag_values(ci_get(r, "tags")):
            if PRODUCTION_RE.search(value):
                found.append(f"resource.tags={value}")
        account = ci_get(r, "cloudAccount")
        name = ci_get(account, "name")
        if isinstance(name, str) and PRODUCTION_RE.search(name):
            found.append(f"cloudAccount.name={name}")
    for account in ci_get(event, "cloudAccounts", []) or []:
        name = ci_get(account, "name")
        if isinstance(name, str) and PRODUCTION_RE.search(name):
            found.append(f"cloudAccount.name={name}")
    return tuple(dict.fromkeys(found))


def actor_ips(event):
    """(ip, actorIPMeta or {}) of every triggering event that names an actor IP."""
    return list(_once("actor_ips", _actor_ips, event))


def _actor_ips(event):
    out = []
    for e in triggering_events(event):
        ip = ci_get(e, "actorIP")
        if isinstance(ip, str) and ip:
            meta = ci_get(e, "actorIPMeta", {})
            out.append((ip, meta if is_map(meta) else {}))
    return tuple(out)


def detection_context(event):
    """The alert context every Wizwatch Defend rule shares (a new dict and lists each call)."""
    shared = _once("detection_context", _detection_context, event)
    return {k: list(v) if type(v) is list else v for k, v in shared.items()}


def _detection_context(event):
    r = primary_resource(event)
    events = triggering_events(event)
    return {
        "detection_id": ci_get(event, "id"),
        "threat_id": ci_get(event, "threatId") or ci_get(ci_get(event, "issue"), "id"),
        "detection": detection_title(event),
        "wiz_severity": ci_get(event, "severity"),
        "mitre_tactics": [f"{ta} {TACTIC_NAMES[ta]}" for ta in tactics(event)],
        "resource_id": ci_get(r, "id"),
        "resource_name": ci_get(r, "name"),
        "resource_type": ci_get(r, "type"),
        "resource_external_id": ci_get(r, "externalId"),
        "actor": ci_get(ci_get(event, "primaryActor"), "name"),
        "actor_ips": sorted({ip for ip, _ in actor_ips(event)}),
        "triggering_events": len(events),
        "commands": [c for c in (ci_get(e, "commandLine") for e in events) if c][:5],
    }
