"""Issues (``Wiz.Issues``): source rules, security sub-categories and entity snapshots."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from wizwatch_tools.simulator.datagen.actors import PROJECTS, USERS, rand_token, rand_uuid
from wizwatch_tools.simulator.timestamps import format_datetime

_SUBCATS = [
    ("Privileged principal", "Identity Management", "Wiz for Risk Assessment"),
    ("T1190 Exploit Public-Facing Application", "TA0001 Initial Access", "MITRE ATT&CK Matrix"),
    ("High-profile vulnerability exploited in the wild", "High Profile Threats", "Wiz for Risk Assessment"),
    ("Remote Services: SSH", "Lateral Movement", "MITRE ATT&CK Matrix"),
    ("Data Security", "8 Data Security", "Wiz"),
]

SOURCE_RULES: list[dict[str, Any]] = [
    {
        "__typename": "Control",
        "id": "wc-id-1335",
        "name": "EKS principals assume roles that provide bind, escalate and impersonate permissions",
        "description": "These EKS principals assume roles that provide bind, escalate and impersonate "
        "permissions.",
        "resolutionRecommendation": "Do not grant `bind`, `escalate` or `impersonate` permissions.",
    },
    {
        "__typename": "Control",
        "id": "wc-id-1741",
        "name": "Publicly exposed VM with a high-profile vulnerability",
        "description": "A VM reachable from the internet runs software with a known exploited CVE.",
        "resolutionRecommendation": "Patch the vulnerable package or restrict network exposure.",
    },
    {
        "__typename": "CloudEventRule",
        "id": "cer-sen-id-001",
        "name": "SSH server was executed",
        "description": "SSH server was executed. This could indicate a threat actor setting up a backdoor.",
        "sourceType": "WIZ_SENSOR",
        "type": "WORKLOAD_RUNTIME_RULE",
    },
    {
        "__typename": "CloudEventRule",
        "id": "cer-aws-id-042",
        "name": "Root account console login",
        "description": "The AWS root user signed in to the console.",
        "sourceType": "CLOUD_EVENTS",
        "type": "THREAT_DETECTION",
    },
    {
        "__typename": "CloudConfigurationRule",
        "id": "c5c7e5b9-0d61-4bd2-8d4a-1a3b0a1c2d3e",
        "name": "S3 Bucket should not allow public read access",
        "description": "The bucket policy or ACL grants public read access.",
        "remediationInstructions": "Remove the public grant from the bucket ACL and policy.",
        "serviceType": "AWS",
    },
]

ISSUE_TYPE_BY_RULE = {
    "Control": "TOXIC_COMBINATION",
    "CloudEventRule": "THREAT_DETECTION",
    "CloudConfigurationRule": "CLOUD_CONFIGURATION",
}
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def _source_rule(rng: random.Random) -> dict[str, Any]:
    rule = dict(rng.choice(SOURCE_RULES))
    rule["securitySubCategories"] = [
        {"title": t, "category": {"name": c, "framework": {"name": f}}}
        for t, c, f in rng.sample(_SUBCATS, rng.randint(1, 3))
    ]
    return rule


def _entity(rng: random.Random) -> dict[str, Any]:
    account = f"{rng.randint(10**11, 10**12 - 1)}"
    kind = rng.choice(["VIRTUAL_MACHINE", "BUCKET", "ACCESS_ROLE", "DATA_FINDING", "CONTAINER"])
    name = f"{kind.lower().replace('_', '-')}-{rand_token(rng, 6)}"
    region = rng.choice(["us-east-1", "eu-west-1", "us-west-2", ""])
    return {
        "id": rand_uuid(rng),
        "type": kind,
        "nativeType": {"VIRTUAL_MACHINE": "virtualMachine", "BUCKET": "bucket"}.get(kind, ""),
        "name": name,
        "status": rng.choice(["Active", None]),
        "cloudPlatform": rng.choice(["AWS", "Azure", "GCP", "Kubernetes", None]),
        "cloudProviderURL": f"https://console.aws.amazon.com/go/{name}" if rng.random() < 0.7 else "",
        "providerId": f"arn:aws:::{account}:{name}",
        "region": region,
        "resourceGroupExternalId": "",
        "subscriptionExternalId": account,
        "subscriptionName": rng.choice(["prod", "staging", "demo-integrations"]),
        "subscriptionTags": {},
        "tags": {"Name": name} if rng.random() < 0.6 else {},
        "externalId": f"{kind.lower()}/{rand_token(rng, 16)}",
    }


def issue(rng: random.Random, created: datetime, status: str = "OPEN") -> dict[str, Any]:
    """A new issue created at ``created`` (statusChangedAt = createdAt until its first change)."""
    rule = _source_rule(rng)
    extra_rules = [_source_rule(rng)] if rng.random() < 0.1 else []
    ts = format_datetime(created)
    notes: list[dict[str, Any]] = []
    if rng.random() < 0.2:
        who = rng.choice(USERS)
        notes.append(
            {
                "createdAt": ts,
                "updatedAt": ts,
                "text": rng.choice(["triaged", "owner notified", "accepted risk pending review"]),
                "user": {"name": who[1], "email": who[0]},
                "serviceAccount": None,
            }
        )
    tickets: list[dict[str, Any]] | None = rng.choice([None, [], []])
    if rng.random() < 0.1:
        tickets = [
            {
                "externalId": rand_token(rng, 32, "0123456789abcdef"),
                "name": f"SIR{rng.randint(10000, 99999)}",
                "url": "https://tickets.example.com/browse/SIR",
            }
        ]
    return {
        "id": rand_uuid(rng),
        "sourceRule": rule,
        "sourceRules": [rule, *extra_rules],
        "createdAt": ts,
        "updatedAt": ts,
        "dueAt": format_datetime(created + timedelta(days=7)) if rng.random() < 0.5 else None,
        "type": ISSUE_TYPE_BY_RULE[rule["__typename"]],
        "resolvedAt": ts if status == "RESOLVED" else None,
        "statusChangedAt": ts,
        "projects": rng.sample(PROJECTS, rng.randint(1, 2)),
        "status": status,
        "severity": rng.choices(SEVERITIES, [10, 25, 35, 20, 10])[0],
        "entitySnapshot": _entity(rng),
        "serviceTickets": tickets,
        "notes": notes,
    }
