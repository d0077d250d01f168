"""One event shape for Wiz Defend detections, whether Wiz pushed them or the poller pulled them.

Wiz delivers the same detection in three shapes:

* the Detections webhook (Wiz's documented payload, Panther's rule tests): ``triggeringEvents``
  is a list, and ``threatId``, ``threatURL``, ``title``, ``tdrId``, ``tdrSource``,
  ``mitreTactics`` / ``mitreTechniques`` and ``triggeringEventsCount`` are top-level fields;
* a webhook carrying one ``triggeringEvent`` object instead of the list (Elastic's ``defend``
  sample: its receiver splits the list into one document per event);
* the GraphQL ``detections`` connection (Elastic ``defend_v2``, SEKOIA): ``triggeringEvents`` is a
  connection object ``{nodes: [...], totalCount}``, the threat is ``issue {id}`` and the rule
  ``ruleMatch.rule {id name securitySubCategories}``; events carry ``timestamp``, not ``eventTime``.

Wiz's own webhook template says how the two relate: ``"threatId": "{{detection.issue.id}}"``,
``"title": "{{detection.rule.name}}"``, ``"tdrId": "{{detection.rule.id}}"``. :func:`reconcile`
gives a normalised event the webhook's names, derived from the API's fields where the record has
no such key itself (a webhook record is left as it is, apart from the single ``triggeringEvent``
also appearing in the ``triggeringEvents`` list). So Panther's ``Wiz.Defend.Alert.Passthrough``
computes the same title and dedup string from both, and a rule reads ``triggeringEvents`` as a
list whatever the source. Only the normalised event is reconciled: the archived record is the
exact body Wiz sent.

``mitreTactics`` of a polled detection come from the rule's security sub-categories whose
category name is a MITRE ATT&CK Enterprise tactic ("Credential Access" -> ``TA0006``), the only
tactic information the API's confirmed fields carry. What cannot be derived stays absent
(``threatURL``, ``tdrSource``, ``mitreTechniques``, ``actorIPMeta``, ``primaryResource.nativeType``).
"""

from __future__ import annotations

from typing import Any

from wizwatch.parse.indicators import _ci_get, _ci_key

#: MITRE ATT&CK Enterprise tactics by name (lower case) -> id (attack.mitre.org/tactics/enterprise).
MITRE_TACTICS: dict[str, str] = {
    "reconnaissance": "TA0043",
    "resource development": "TA0042",
    "initial access": "TA0001",
    "execution": "TA0002",
    "persistence": "TA0003",
    "privilege escalation": "TA0004",
    "defense evasion": "TA0005",
    "credential access": "TA0006",
    "discovery": "TA0007",
    "lateral movement": "TA0008",
    "collection": "TA0009",
    "command and control": "TA0011",
    "exfiltration": "TA0010",
    "impact": "TA0040",
}


def _get(d: Any, key: str) -> Any:
    """``d[key]`` with Panther's case-insensitive key lookup (exact key first); None if absent."""
    return _ci_get(d, key) if isinstance(d, dict) else None


def _has(d: dict[str, Any], key: str) -> bool:
    return key in d or _ci_key(d, key) is not None


def triggering_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's triggering events as one list: from the webhook list, the API connection's
    ``nodes``, and a single ``triggeringEvent`` (added unless the list already holds its id)."""
    raw = _get(record, "triggeringEvents")
    if isinstance(raw, dict):
        raw = _get(raw, "nodes")
    events = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    single = _get(record, "triggeringEvent")
    if isinstance(single, dict):
        sid = _get(single, "id")
        if sid is None or all(_get(e, "id") != sid for e in events):
            events.append(single)
    return events


def _tactics(rule: Any) -> list[str]:
    out: list[str] = []
    subs = _get(rule, "securitySubCategories")
    for sub in subs if isinstance(subs, list) else ():
        name = _get(_get(sub, "category"), "name")
        tactic = MITRE_TACTICS.get(name.strip().lower()) if isinstance(name, str) else None
        if tactic and tactic not in out:
            out.append(tactic)
    return out


def reconcile(event: dict[str, Any]) -> None:
    """Give a (shallow-copied) detection event the webhook's shape, in place; see the module doc.

    Nested objects of the original record are never modified: changed ones are replaced by copies.
    """
    raw = _get(event, "triggeringEvents")
    events = triggering_events(event)
    if raw is not None or events:
        if not isinstance(raw, list) or len(events) != len(raw):
            if isinstance(raw, dict) and not _has(event, "triggeringEventsCount"):
                count = _get(raw, "totalCount")
                if count is None:
                    count = _get(raw, "totalCountV2")
                event["triggeringEventsCount"] = count if isinstance(count, int) else len(events)
            event["triggeringEvents"] = events
        if any(_get(e, "eventTime") is None and _get(e, "timestamp") is not None for e in events):
            event["triggeringEvents"] = [
                {**e, "eventTime": _get(e, "timestamp")} if _get(e, "eventTime") is None else e
                for e in events
            ]
    if not _has(event, "triggeringEventsCount") and events:
        event["triggeringEventsCount"] = len(events)

    rule = _get(_get(event, "ruleMatch"), "rule")
    if isinstance(rule, dict):
        if not _has(event, "tdrId") and _get(rule, "id") is not None:
            event["tdrId"] = _get(rule, "id")
        if not _has(event, "title") and _get(rule, "name") is not None:
            event["title"] = _get(rule, "name")
        if not _has(event, "mitreTactics"):
            tactics = _tactics(rule)
            if tactics:
                event["mitreTactics"] = tactics
    if _has(event, "issue") and not _has(event, "threatId"):
        # Wiz's template renders "{{detection.issue.id}}": "" for a detection without a threat.
        issue_id = _get(_get(event, "issue"), "id")
        event["threatId"] = issue_id if isinstance(issue_id, str) else ""
