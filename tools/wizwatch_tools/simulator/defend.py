"""Realistic Wiz Defend detections, and the webhook bodies Wiz would push for them and for issues.

A detection is stored in its API shape (the ``detections`` connection: ``type``, ``origins``,
``issue {id}``, ``ruleMatch.rule``, ``triggeringEvents {nodes}``; field values as in Elastic's
defend_v2 and SEKOIA's test data) plus a private ``_wh`` member with what only the webhook
carries (``tdrSource``, MITRE ids, ``actorIPMeta``, ``nativeType``, Kubernetes names). The store
never serves ``_``-members (they are not in the SDL, and ground-truth copies drop them).

:func:`detection_webhook` renders Wiz's documented Detections webhook template
(``"threatId": "{{detection.issue.id}}"``, ``"title": "{{detection.rule.name}}"``, ``"tdrId":
"{{detection.rule.id}}"`` ...) from the stored detection, so a pushed and a polled copy of one
detection agree exactly where Wiz's own template says they do. :func:`issue_webhook` does the
same for an issue (Panther's ``Wiz.IssuesWebhook`` test shape).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wizwatch_tools.simulator.datagen.actors import rand_ip, rand_token, rand_uuid
from wizwatch_tools.simulator.timestamps import format_datetime

#: Wiz's framework id for MITRE ATT&CK in Elastic's defend_v2 sample (``wf-id-34``).
MITRE_FRAMEWORK = "wf-id-34"


@dataclass(frozen=True)
class DefendRule:
    """A Wiz Defend threat-detection rule as the simulator uses it."""

    rule_id: str
    name: str
    source_type: str  # webhook tdrSource
    origin: str  # API origins[]
    tactics: tuple[tuple[str, str], ...]  # (TA id, tactic name)
    techniques: tuple[str, ...]
    severities: tuple[str, ...]
    description: str
    network_actor: bool  # the actor is an IP address (GuardDuty-style), else a workload/identity
    builtin: bool = True


RULES: tuple[DefendRule, ...] = (
    DefendRule(
        "f0568339-eb51-486b-bac1-7a835689f051",
        "UnauthorizedAccess:EC2/SSHBruteForce",
        "GUARD_DUTY",
        "AWS_GUARD_DUTY",
        (("TA0006", "Credential Access"),),
        ("T1110", "T1110.001"),
        ("LOW", "MEDIUM"),
        "An EC2 instance has been involved in SSH brute force attacks.",
        True,
    ),
    DefendRule(
        "cer-awsguardduty-recon-ec2-portprobeunprotectedport",
        "Recon:EC2/PortProbeUnprotectedPort",
        "GUARD_DUTY",
        "AWS_GUARD_DUTY",
        (("TA0043", "Reconnaissance"), ("TA0007", "Discovery")),
        ("T1595", "T1046"),
        ("LOW", "HIGH"),
        "An EC2 instance has an unprotected port that is being probed by a known malicious host.",
        True,
    ),
    DefendRule(
        "46fd0cdc-252e-5e69-be6e-66e4851d7ae4",
        "Timestomping technique was detected",
        "WIZ_SENSOR",
        "WIZ_SENSOR",
        (("TA0005", "Defense Evasion"),),
        ("T1070.006",),
        ("MEDIUM",),
        "Process executed the touch binary with flags that modify file dates (timestomping).",
        False,
    ),
    DefendRule(
        "49ed0540-4dff-4193-87cc-c4b5d6d9c305",
        "Service account token was accessed",
        "WIZ_SENSOR",
        "WIZ_SENSOR",
        (("TA0006", "Credential Access"),),
        ("T1528",),
        ("MEDIUM", "HIGH"),
        "A process read a Kubernetes service account token it does not normally use.",
        False,
        False,
    ),
    DefendRule(
        "sen-id-217-crypto-mining-domain",
        "Cryptocurrency mining related domain lookup",
        "WIZ_SENSOR",
        "WIZ_SENSOR",
        (("TA0040", "Impact"),),
        ("T1496",),
        ("HIGH",),
        "A workload resolved a domain of a cryptocurrency mining pool.",
        False,
    ),
    DefendRule(
        "cer-aws-id-061-s3-mass-delete",
        "Mass deletion of S3 objects by an unusual identity",
        "CLOUD_EVENTS",
        "CLOUD_EVENTS",
        (("TA0040", "Impact"),),
        ("T1485",),
        ("HIGH", "CRITICAL"),
        "An identity deleted an unusual number of S3 objects in a short time.",
        False,
    ),
)
RULES_BY_NAME = {r.name: r for r in RULES}

_ACCOUNTS = (
    ("100000000001", "prod-payments", True),
    ("100000000002", "staging", False),
    ("100000000003", "dev-sandbox", False),
    ("100000000004", "production-data", True),
)
_REPUTATIONS = (("Benign", 70), ("Suspicious", 18), ("Malicious", 12))
_ATTACK_GROUPS = ("APT29", "TeamTNT", "Kinsing")


def _cloud_event(
    rng: random.Random, rule: DefendRule, at: datetime, ip: str | None, resource: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the API node, what the webhook adds to it) of one triggering event."""
    eid = rand_uuid(rng)
    sensor = rule.origin == "WIZ_SENSOR"
    node = {
        "__typename": "CloudEvent",
        "id": eid,
        "name": rule.name,
        "description": f"{rule.description} Resource {resource['name']}.",
        "actorIP": ip,
        "timestamp": format_datetime(at),
        "rawAuditLogRecord": {"common": {"vmExternalId": resource["externalId"]}} if sensor else {},
        "commandLine": "touch -r /usr/bin /tmp/uga" if "Timestomping" in rule.name else None,
        "runtimeProgram": {"name": "/usr/bin/touch" if sensor else None},
        "parentRuntimeProgram": {"name": "/usr/bin/bash" if sensor else None},
    }
    extra: dict[str, Any] = {
        "category": "Detection",
        "origin": rule.origin,
        "source": "WizSensorAlert##RuleEngine" if sensor else rule.source_type.lower(),
        "status": "Success",
        "externalId": f"{rule.origin}##{eid}",
    }
    if ip:
        reputation = rng.choices([r for r, _ in _REPUTATIONS], [w for _, w in _REPUTATIONS])[0]
        extra["actorIPMeta"] = {
            "autonomousSystemNumber": rng.choice([12555, 8075, 14061, 16509]),
            "autonomousSystemOrganization": rng.choice(["DIGITALOCEAN-ASN", "Data-center Ltd.", "AMAZON-02"]),
            "country": rng.choice(["Russia", "Netherlands", "United States", "Brazil"]),
            "customIPRanges": [],
            "isForeign": True,
            "relatedAttackGroupNames": [rng.choice(_ATTACK_GROUPS)] if reputation == "Malicious" else [],
            "reputation": reputation,
            "reputationSource": "Recorded Future",
        }
    return node, extra


def detection(
    rng: random.Random,
    created: datetime,
    *,
    rule: DefendRule | None = None,
    production: bool | None = None,
    reputation: str | None = None,
    detection_type: str | None = None,
) -> dict[str, Any]:
    """One detection created at ``created`` (updatedAt = createdAt until it changes)."""
    rule = rule or rng.choice(RULES)
    account_id, account_name, is_prod = rng.choice(_ACCOUNTS)
    if production is not None and production != is_prod:
        account_id, account_name, is_prod = next(a for a in _ACCOUNTS if a[2] == production)
    region = rng.choice(["us-east-1", "eu-central-1", "us-east-2"])
    instance = f"i-{rand_token(rng, 17, '0123456789abcdef')}"
    namespace = "production" if is_prod else rng.choice(["default", "staging", "ci"])
    resource = {
        "id": rand_uuid(rng),
        "name": f"{'prod' if is_prod else 'app'}-{rand_token(rng, 5)}",
        "externalId": instance,
        "providerUniqueId": f"arn:aws:ec2:{region}:{account_id}:instance/{instance}",
        "type": rng.choice(["VIRTUAL_MACHINE", "CONTAINER"]),
        "region": region,
    }
    cloud_account = {
        "id": rand_uuid(rng),
        "name": account_name,
        "externalId": account_id,
        "cloudProvider": "AWS",
    }
    # GuardDuty-style rules have an IP address as their actor; others sometimes know one.
    ip = rand_ip(rng) if rule.network_actor or rng.random() < 0.3 else None
    actor: dict[str, Any]
    if rule.network_actor and ip:
        actor = {"id": rand_uuid(rng), "name": ip, "externalId": ip, "providerUniqueId": None}
        actor["type"] = "NETWORK_ADDRESS"
    else:
        actor = {
            "id": rand_uuid(rng),
            "name": rng.choice(["payments-api", "terraform-ci", "node-exporter"]),
            "externalId": f"arn:aws:iam::{account_id}:role/{rand_token(rng, 8)}",
            "providerUniqueId": None,
            "type": "SERVICE_ACCOUNT",
        }
    severity = rng.choice(rule.severities)
    kind = detection_type or rng.choices(["GENERATED_THREAT", "MATCH_ONLY"], [3, 1])[0]
    events: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    for n in range(rng.randint(1, 3)):
        node, extra = _cloud_event(rng, rule, created - timedelta(seconds=30 * (n + 1)), ip, resource)
        if reputation is not None and "actorIPMeta" in extra:
            extra["actorIPMeta"]["reputation"] = reputation
            if reputation == "Malicious" and not extra["actorIPMeta"]["relatedAttackGroupNames"]:
                extra["actorIPMeta"]["relatedAttackGroupNames"] = [rng.choice(_ATTACK_GROUPS)]
        events.append(node)
        extras.append(extra)
    ts = format_datetime(created)
    return {
        "id": rand_uuid(rng),
        "type": kind,
        "origins": [rule.origin],
        "createdAt": ts,
        "updatedAt": ts,
        "severity": severity,
        "description": rule.description,
        "actors": [actor],
        "resources": [{k: resource[k] for k in ("id", "name", "externalId", "providerUniqueId", "type")}],
        "cloudAccounts": [cloud_account],
        "cloudOrganizations": None,
        "primaryResource": {k: resource[k] for k in ("type", "name", "externalId", "region", "id")},
        "primaryActor": {
            **actor,
            "nativeType": None,
            "email": None,
            "userAgent": None,
            "MFA": None,
            "federated": False,
            "friendlyName": None,
            "accessKeyId": None,
            "hasHighPrivileges": False,
            "hasAdminPrivileges": False,
            "hasHighKubernetesPrivileges": False,
            "hasAdminKubernetesPrivileges": False,
            "inactiveInLast90Days": False,
            "actingAs": None,
            "cloudAccount": None,
        },
        "issue": {"id": rand_uuid(rng)} if kind == "GENERATED_THREAT" else None,
        "triggeringEvents": {"nodes": events, "totalCount": len(events), "totalCountV2": len(events)},
        "ruleMatch": {
            "rule": {
                "id": rule.rule_id,
                "name": rule.name,
                "builtin": rule.builtin,
                "sourceType": rule.source_type,
                "securitySubCategories": [
                    {
                        "id": f"wsct-id-{rng.randint(1000, 9999)}",
                        "title": name,
                        "category": {
                            "id": f"wct-id-{ta[2:]}",
                            "name": name,
                            "framework": {"id": MITRE_FRAMEWORK},
                        },
                    }
                    for ta, name in rule.tactics
                ],
            }
        },
        "_wh": {
            "nativeType": "virtualMachine"
            if resource["type"] == "VIRTUAL_MACHINE"
            else "ecs#containerinstance",
            "kubernetesNamespaceName": namespace if resource["type"] == "CONTAINER" else None,
            "events": extras,
        },
    }


def updated(
    record: dict[str, Any], at: datetime, rng: random.Random, link: bool | None = None
) -> dict[str, Any]:
    """A later version of a detection (``updatedAt`` = ``at``), maybe linked to a new threat."""
    new = dict(record)
    new["updatedAt"] = format_datetime(at)
    if new.get("issue") is None and (link if link is not None else rng.random() < 0.5):
        new["type"] = "GENERATED_THREAT"
        new["issue"] = {"id": rand_uuid(rng)}
    return new


# --- webhook bodies --------------------------------------------------------------------------


def detection_webhook(
    record: dict[str, Any],
    *,
    rule_id: str,
    rule_name: str = "wizwatch-detections",
    portal: str = "app.wiz.io",
) -> dict[str, Any]:
    """Wiz's Detections webhook body for a stored detection (Wiz's documented template)."""
    wh = record.get("_wh") or {}
    rule = (record.get("ruleMatch") or {}).get("rule") or {}
    issue_id = (record.get("issue") or {}).get("id")
    tactics, techniques = _mitre(rule)
    accounts = [
        {"cloudPlatform": a.get("cloudProvider"), "externalId": a.get("externalId"), "id": a.get("id")}
        for a in record.get("cloudAccounts") or []
    ]
    account_ref = accounts[0] if accounts else None
    primary = dict(record.get("primaryResource") or {})
    primary.update(nativeType=wh.get("nativeType"), cloudAccount=account_ref)
    if wh.get("kubernetesNamespaceName"):
        primary["kubernetesNamespaceName"] = wh["kubernetesNamespaceName"]
    resources = [
        {
            **r,
            "nativeType": wh.get("nativeType"),
            "region": primary.get("region"),
            "cloudAccount": account_ref,
        }
        for r in record.get("resources") or []
    ]
    actors = [{k: a.get(k) for k in ("externalId", "id", "name", "type")} for a in record.get("actors") or []]
    events = []
    nodes = (record.get("triggeringEvents") or {}).get("nodes") or []
    for node, extra in zip(nodes, wh.get("events") or [{}] * len(nodes), strict=False):
        event = {
            "actor": {"id": actors[0]["id"]} if actors else None,
            "actorIP": node.get("actorIP"),
            "cloudPlatform": "AWS",
            "cloudProviderUrl": f"https://console.aws.amazon.com/cloudtrail/home#/events/{node.get('id')}",
            "description": node.get("description"),
            "eventTime": node.get("timestamp"),
            "id": node.get("id"),
            "name": node.get("name"),
            "resources": [
                {k: r.get(k) for k in ("externalId", "id", "name", "nativeType", "region", "type")}
                for r in resources
            ],
            **extra,
        }
        if event["actorIP"] is None:
            event.pop("actorIP")
        events.append(event)
    times = sorted(n.get("timestamp") for n in nodes if n.get("timestamp"))
    return {
        "trigger": {"source": "DETECTIONS", "type": "Created", "ruleId": rule_id, "ruleName": rule_name},
        "id": record["id"],
        "threatId": issue_id or "",
        "threatURL": f"https://{portal}/issues#~(issue~'{issue_id})" if issue_id else None,
        "title": rule.get("name"),
        "description": record.get("description"),
        "severity": record.get("severity"),
        "createdAt": record.get("createdAt"),
        "tdrId": rule.get("id"),
        "tdrSource": rule.get("sourceType"),
        "mitreTactics": tactics,
        "mitreTechniques": techniques,
        "cloudAccounts": accounts,
        "cloudOrganizations": record.get("cloudOrganizations") or [],
        "timeframe": {"start": times[0] if times else None, "end": times[-1] if times else None},
        "actors": actors,
        "primaryActor": {
            k: (record.get("primaryActor") or {}).get(k) for k in ("externalId", "id", "name", "type")
        },
        "resources": resources,
        "primaryResource": primary,
        "triggeringEventsCount": len(events),
        "triggeringEvents": events,
    }


def _mitre(rule: dict[str, Any]) -> tuple[list[str], list[str]]:
    catalogue = RULES_BY_NAME.get(str(rule.get("name")))
    if catalogue is None:
        return [], []
    return [ta for ta, _ in catalogue.tactics], list(catalogue.techniques)


def issue_webhook(
    issue: dict[str, Any], *, rule_id: str, rule_name: str = "wizwatch-issues"
) -> dict[str, Any]:
    """The Issues webhook body Wiz pushes for an issue (Panther's ``Wiz.IssuesWebhook`` shape)."""
    source = issue.get("sourceRule") or {}
    entity = issue.get("entitySnapshot") or {}
    status = str(issue.get("status") or "OPEN")
    return {
        "trigger": {
            "ruleId": rule_id,
            "ruleName": rule_name,
            "source": "ISSUE",
            "type": "Resolved" if status == "RESOLVED" else "Open" if status == "OPEN" else "Updated",
        },
        "issue": {
            "id": issue["id"],
            "created": issue.get("createdAt"),
            "severity": issue.get("severity"),
            "status": status,
            "projects": ", ".join(p.get("name", "") for p in issue.get("projects") or []),
        },
        "resource": {
            "id": entity.get("id") or "",
            "name": entity.get("name") or "",
            "type": entity.get("nativeType") or entity.get("type") or "",
            "cloudPlatform": entity.get("cloudPlatform") or "",
            "region": entity.get("region") or "",
            "subscriptionId": entity.get("subscriptionExternalId") or "",
            "subscriptionName": entity.get("subscriptionName") or "",
            "cloudProviderURL": entity.get("cloudProviderURL") or "",
            "status": entity.get("status") or "",
        },
        "control": {
            "id": source.get("id"),
            "name": source.get("name"),
            "description": source.get("description") or "",
            "severity": issue.get("severity"),
            "risks": [],
        },
    }
