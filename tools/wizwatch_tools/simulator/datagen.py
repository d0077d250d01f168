"""Realistic Wiz records, deterministic for a seed.

Shapes follow ``shared/samples/wiz``: audit entries with exactly one of ``user`` /
``serviceAccount`` set (Logins of service accounts carry ``clientID``/``scopes``/``userpoolID``),
``sourceIP``/``userAgent`` sometimes null; issues with both ``sourceRule`` and ``sourceRules``;
findings whose ``vulnerableAsset`` is typed by ``__typename`` so union fragments resolve.
The builders only make records; the store decides when they become visible.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import datetime, timedelta
from typing import Any

from wizwatch_tools.simulator.schema import format_datetime

# --- actors --------------------------------------------------------------------------------

USERS = [
    ("alice.martin@example.com", "Alice Martin"),
    ("bob.chen@example.com", "Bob Chen"),
    ("carol.diaz@example.com", "Carol Diaz"),
    ("dan.okafor@example.com", "Dan Okafor"),
    ("erin.walsh@example.com", "Erin Walsh"),
    ("secops-oncall@example.com", "secops-oncall@example.com"),
]

BROWSER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
]
SERVICE_AGENTS = [
    "python-requests/2.31.0",
    "Wiz-Terraform-Provider/1.13.3433",
    "wiz-sensor/1.0.6349",
    "node",
    "wizwatch/0.1.0",
]

PROJECTS = [
    {
        "id": "83b76efe-a7b6-5762-8a53-8e8f59e68bd8",
        "name": "Project 2",
        "slug": "project-2",
        "businessUnit": "",
        "riskProfile": {"businessImpact": "MBI"},
    },
    {
        "id": "af52828c-4eb1-5c4e-847c-ebc3a5ead531",
        "name": "Payments",
        "slug": "payments",
        "businessUnit": "Dev",
        "riskProfile": {"businessImpact": "HBI"},
    },
    {
        "id": "d6ac50bb-aec0-52fc-80ab-bacd7b02f178",
        "name": "Data Platform",
        "slug": "data-platform",
        "businessUnit": "Data",
        "riskProfile": {"businessImpact": "LBI"},
    },
]

USERPOOL_ID = "us-east-2_GQ3gwvxsQ"


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rand_token(rng: random.Random, n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def rand_ip(rng: random.Random) -> str:
    net = rng.choice(["203.0.113", "198.51.100", "192.0.2"])
    return f"{net}.{rng.randint(1, 254)}"


class Actors:
    """The tenant's people and service accounts (service-account ids look like Wiz's 52-char ids)."""

    def __init__(self, rng: random.Random) -> None:
        self.users = [{"id": uid, "name": name} for uid, name in USERS]
        self.service_accounts = [
            {"id": rand_token(rng, 52), "name": name}
            for name in ("sentinel-connector", "terraform-ci", "wiz-sensor-deploy", "reporting")
        ]


# --- audit ---------------------------------------------------------------------------------

#: (action, weight, actor kind) for ordinary traffic.
AUDIT_ACTIONS: list[tuple[str, int, str]] = [
    ("Login", 30, "any"),
    ("Reports", 12, "sa"),
    ("Issues", 10, "sa"),
    ("VulnerabilityFindings", 6, "sa"),
    ("GraphSearch", 8, "user"),
    ("UpdateIssue", 6, "user"),
    ("CreateSavedGraphQuery", 2, "user"),
    ("UpdateCloudConfigurationRule", 2, "user"),
    ("DeleteCloudConfigurationRule", 1, "user"),
    ("CreateUser", 1, "user"),
    ("UpdateUser", 2, "user"),
    ("DeleteUser", 1, "user"),
    ("CreateServiceAccount", 1, "user"),
    ("RotateServiceAccountSecret", 1, "user"),
    ("CreateIntegration", 1, "user"),
    ("CreateProject", 1, "user"),
    ("UpdateProject", 1, "user"),
    ("CreateAutomationRule", 1, "user"),
    ("DeleteSAMLIdentityProvider", 1, "sa"),
]
_ACTION_NAMES = [a for a, _, _ in AUDIT_ACTIONS]
_ACTION_WEIGHTS = [w for _, w, _ in AUDIT_ACTIONS]
_ACTION_ACTOR = {a: k for a, _, k in AUDIT_ACTIONS}

#: Actions the two seed rules look for (with status SUCCESS).
INTEGRATION_ACTIONS = ("DeleteIntegration", "UpdateIntegration")
REVOKE_ACTION = "RevokeUserSessions"

STATUS_WEIGHTS = (("SUCCESS", 90), ("FAILED", 5), ("ACCESS_DENIED", 3), ("INVALID", 2))


def _selection(kind: str) -> list[Any]:
    if kind == "stub":
        return ["__typename", "_stub"]
    return ["__typename", {kind: ["__typename", "id"]}]


def action_parameters(rng: random.Random, action: str, actor: dict[str, Any], is_sa: bool) -> dict[str, Any]:
    if action == "Login":
        return {
            "clientID": rand_token(rng, 26) if is_sa else "",
            "groups": None,
            "name": actor["name"],
            "products": ["*"],
            "role": "" if is_sa else "GLOBAL_READER",
            "scopes": ["read:issues", "read:vulnerabilities", "admin:audit"] if is_sa else None,
            "userEmail": "" if is_sa else actor["id"],
            "userID": actor["id"],
            "userpoolID": USERPOOL_ID,
        }
    if action in ("Reports", "Issues", "VulnerabilityFindings", "GraphSearch"):
        return {
            "after": None,
            "filterBy": {"search": rand_token(rng, 8)} if action == "Reports" else {},
            "first": rng.choice([100, 500]),
            "selection": [{"nodes": ["id", "name"]}, {"pageInfo": ["hasNextPage", "endCursor"]}],
        }
    if action in ("CreateUser", "UpdateUser"):
        return {
            "input": {
                "assignedProjectIds": None,
                "email": f"{rand_token(rng, 6)}@example.com",
                "expiresAt": None,
                "name": "New User",
                "role": rng.choice(["GLOBAL_ADMIN", "GLOBAL_READER", "PROJECT_MEMBER"]),
            },
            "selection": _selection("user"),
        }
    if action == "RotateServiceAccountSecret":
        return {"ID": rand_token(rng, 20), "selection": _selection("serviceAccount")}
    if action == REVOKE_ACTION:
        return {"input": {"userId": rng.choice(USERS)[0]}, "selection": _selection("stub")}
    if action in INTEGRATION_ACTIONS or action == "CreateIntegration":
        params: dict[str, Any] = {"input": {"id": rand_uuid(rng)}, "selection": _selection("stub")}
        if action != "DeleteIntegration":
            params["input"]["patch" if action == "UpdateIntegration" else "params"] = {
                "name": rng.choice(["Jira", "Slack #secops", "ServiceNow", "PagerDuty"]),
            }
        return params
    return {"input": {"id": rand_uuid(rng)}, "selection": _selection("stub")}


def audit_entry(
    rng: random.Random,
    actors: Actors,
    ts: datetime,
    action: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """One audit entry at ``ts``; ``action``/``status`` are drawn when not given."""
    if action is None:
        action = rng.choices(_ACTION_NAMES, _ACTION_WEIGHTS)[0]
    if status is None:
        status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
    kind = _ACTION_ACTOR.get(action, "user")
    is_sa = kind == "sa" or (kind == "any" and rng.random() < 0.6)
    actor = rng.choice(actors.service_accounts if is_sa else actors.users)
    params = action_parameters(rng, action, actor, is_sa)
    if status != "SUCCESS" and action == "Login":
        params["error"] = "failed authenticating service account" if is_sa else "wrong password"
    entry_id = rand_uuid(rng)
    if is_sa:
        agent: str | None = rng.choice(SERVICE_AGENTS)
    else:
        agent = rng.choice(BROWSER_AGENTS)
    if rng.random() < 0.04:
        agent = None
    return {
        "id": entry_id,
        "action": action,
        # Logins reuse the entry id as request id, as in Wiz's samples.
        "requestId": entry_id if action == "Login" else rand_uuid(rng),
        "status": status,
        "timestamp": format_datetime(ts),
        "actionParameters": params,
        "userAgent": agent,
        "sourceIP": None if rng.random() < 0.05 else rand_ip(rng),
        "serviceAccount": dict(actor) if is_sa else None,
        "user": None if is_sa else dict(actor),
    }


# --- issues --------------------------------------------------------------------------------

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


# --- vulnerability findings ------------------------------------------------------------------

_PACKAGES = [
    ("libtiff", "4.0.3-35.amzn2", "4.0.3-35.amzn2.0.1", "Amazon Linux 2"),
    ("openjdk-11-jdk", "11.0.25+9-1ubuntu1~22.04", None, "Ubuntu 22.04.3"),
    ("openssl", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.15", "Ubuntu 22.04.3"),
    ("log4j-core", "2.14.1", "2.17.1", "Java"),
    ("glibc", "2.26-62.amzn2", "2.26-64.amzn2", "Amazon Linux 2"),
]
_CVSS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def _asset(rng: random.Random) -> dict[str, Any]:
    typename = rng.choices(
        [
            "VulnerableAssetVirtualMachine",
            "VulnerableAssetContainerImage",
            "VulnerableAssetServerless",
            "VulnerableAssetContainer",
        ],
        [50, 25, 10, 15],
    )[0]
    account = f"{rng.randint(10**11, 10**12 - 1)}"
    region = rng.choice(["us-east-1", "eu-west-1", "us-west-2"])
    instance = f"i-{rand_token(rng, 17, '0123456789abcdef')}"
    asset: dict[str, Any] = {
        "__typename": typename,
        "id": rand_uuid(rng),
        "type": {
            "VulnerableAssetVirtualMachine": "VIRTUAL_MACHINE",
            "VulnerableAssetContainerImage": "CONTAINER_IMAGE",
            "VulnerableAssetServerless": "SERVERLESS",
            "VulnerableAssetContainer": "CONTAINER",
        }[typename],
        "name": f"asset-{rand_token(rng, 6)}",
        "region": region,
        "providerUniqueId": f"arn:aws:ec2:{region}:{account}:instance/{instance}",
        "cloudProviderURL": f"https://{region}.console.aws.amazon.com/ec2/v2/home?region={region}",
        "cloudPlatform": "AWS",
        "status": "Active",
        "subscriptionName": rng.choice(["prod", "staging", "wiz-integrations"]),
        "subscriptionExternalId": account,
        "subscriptionId": rand_uuid(rng),
        "tags": {"Name": f"asset-{rand_token(rng, 4)}"},
        "hasLimitedInternetExposure": rng.random() < 0.3,
        "hasWideInternetExposure": rng.random() < 0.2,
        "isAccessibleFromVPN": rng.choice([False, None]),
        "isAccessibleFromOtherVnets": rng.choice([False, None]),
        "isAccessibleFromOtherSubscriptions": rng.choice([False, None]),
    }
    if typename == "VulnerableAssetVirtualMachine":
        asset.update(operatingSystem="Linux", ipAddresses=[rand_ip(rng)], imageName="ubuntu-jammy-22.04")
    elif typename == "VulnerableAssetContainerImage":
        asset["imageId"] = "sha256:" + rand_token(rng, 64, "0123456789abcdef")
    elif typename == "VulnerableAssetServerless":
        asset["runtime"] = rng.choice(["python3.12", "nodejs20.x", "java21"])
    else:
        asset.update(
            ImageExternalId="sha256:" + rand_token(rng, 64, "0123456789abcdef"),
            VmExternalId=instance,
            ServerlessContainer=False,
            PodNamespace=rng.choice(["default", "payments", "kube-system"]),
            PodName=f"api-{rand_token(rng, 5)}",
            NodeName=f"ip-10-0-{rng.randint(0, 255)}-{rng.randint(0, 255)}.ec2.internal",
        )
    return asset


def finding(rng: random.Random, detected: datetime, status: str = "OPEN") -> dict[str, Any]:
    """A new vulnerability finding first detected at ``detected`` (updatedAt = firstDetectedAt)."""
    pkg, version, fixed, os_name = rng.choice(_PACKAGES)
    cve = f"CVE-{rng.randint(2019, 2025)}-{rng.randint(1000, 49999)}"
    sev = rng.choice(_CVSS)
    fid = rand_uuid(rng)
    ts = format_datetime(detected)
    score = round(rng.uniform(2.0, 10.0), 1)
    return {
        "id": fid,
        "portalUrl": f"https://app.wiz.io/explorer/vulnerability-findings#~(entity~(~'{fid}*2cSECURITY_TOOL_FINDING))",
        "name": cve,
        "CVEDescription": f"A flaw in {pkg} allows a crafted input to cause a denial of service.",
        "CVSSSeverity": sev,
        "score": score,
        "exploitabilityScore": round(rng.uniform(0.5, 3.9), 1),
        "impactScore": round(rng.uniform(1.0, 6.0), 1),
        "dataSourceName": rng.choice([None, "Wiz Agentless"]),
        "hasExploit": rng.random() < 0.2,
        "hasCisaKevExploit": rng.random() < 0.05,
        "status": status,
        "vendorSeverity": sev,
        "firstDetectedAt": ts,
        "lastDetectedAt": ts,
        "updatedAt": ts,
        "resolvedAt": ts if status == "RESOLVED" else None,
        "description": f"The package `{pkg}` version `{version}` was detected on a machine running "
        f"`{os_name}` and is vulnerable to `{cve}`.",
        "remediation": f"Update {pkg} to {fixed}" if fixed else None,
        "detailedName": pkg,
        "version": version,
        "fixedVersion": fixed,
        "detectionMethod": "PACKAGE",
        "link": f"https://nvd.nist.gov/vuln/detail/{cve}",
        "locationPath": rng.choice([None, f"/usr/lib/{pkg}"]),
        "resolutionReason": None,
        "epssSeverity": rng.choice(["LOW", "MEDIUM", "HIGH"]),
        "epssPercentile": round(rng.uniform(0, 100), 1),
        "epssProbability": round(rng.uniform(0, 1), 3),
        "validatedInRuntime": rng.choice([None, True, False]),
        "layerMetadata": None
        if rng.random() < 0.6
        else {"id": rand_uuid(rng), "details": "RUN yum install", "isBaseLayer": rng.random() < 0.5},
        "projects": rng.choice([None, rng.sample(PROJECTS, rng.randint(1, 2))]),
        "ignoreRules": None,
        "vulnerableAsset": _asset(rng),
    }


# --- cloud configuration findings ------------------------------------------------------------

#: Cloud configuration rules as Wiz names them (the first four from peers' test events: SEKOIA's
#: intake-formats and Elastic's cloud_configuration_finding pipeline tests), with the kind of
#: resource they assess and whether they are about exposure to the internet.
CONFIG_RULES: list[dict[str, Any]] = [
    {
        "shortId": "IAM-006",
        "name": "Root account access keys should not exist",
        "findingName": "Root account access keys exist",
        "severity": "MEDIUM",
        "resource": ("USER_ACCOUNT", "rootUser", "AWS"),
        "subcats": [("Identity Management", "1 Identity Management", "Wiz")],
    },
    {
        "shortId": "VirtualMachines-021",
        "name": "Virtual Machine should not be stopped (allocated) for more than a week",
        "findingName": "Virtual Machine stays allocated for more than a week",
        "severity": "LOW",
        "resource": ("VIRTUAL_MACHINE", "Microsoft.Compute/virtualMachines", "Azure"),
        "subcats": [("Cost optimization", "10 Cost", "Wiz")],
    },
    {
        "shortId": "Pod-32",
        "name": "Pod should run containers with authorized additional capabilities (PSS Restricted)",
        "findingName": "Pod does not run containers with authorized additional capabilities (PSS Restricted)",
        "severity": "LOW",
        "resource": ("POD", "Pod", "Kubernetes"),
        "subcats": [("Container Security", "9 Container Security", "Wiz")],
    },
    {
        "shortId": "ResourcePolicy-001",
        "name": "Resource policy should not allow all principals with a condition of ForAllValues and "
        "PrincipalArn",
        "findingName": "Resource policy allows all principals",
        "severity": "HIGH",
        "resource": ("RAW_ACCESS_POLICY", "resourcePolicy", "AWS"),
        "subcats": [("AC.L1-3.1.1 Authorized Access Control - Level 1", "Access Control", "CMMC v2.0")],
    },
    {
        "shortId": "S3-003",
        "name": "S3 Bucket should not allow public read access",
        "findingName": "S3 Bucket allows public read access",
        "severity": "CRITICAL",
        "resource": ("BUCKET", "bucket", "AWS"),
        "subcats": [("External exposure", "2 Network Security", "Wiz")],
        "evidence": ("Block public access: off; ACL grants AllUsers READ", "No public grants"),
    },
    {
        "shortId": "SecurityGroup-004",
        "name": "Security Group should not allow unrestricted ingress to SSH (0.0.0.0/0 port 22)",
        "findingName": "Security Group allows SSH from the internet",
        "severity": "HIGH",
        "resource": ("FIREWALL", "securityGroup", "AWS"),
        "subcats": [("Network exposure", "2 Network Security", "Wiz")],
        "evidence": ("Ingress 0.0.0.0/0 tcp/22", "No ingress from 0.0.0.0/0 to port 22"),
    },
    {
        "shortId": "RDS-012",
        "name": "RDS instance should not be publicly accessible",
        "findingName": "RDS instance is publicly accessible",
        "severity": "CRITICAL",
        "resource": ("DATABASE", "rdsInstance", "AWS"),
        "subcats": [("External exposure", "2 Network Security", "Wiz")],
        "evidence": ("PubliclyAccessible: true", "PubliclyAccessible: false"),
    },
    {
        "shortId": "CloudTrail-002",
        "name": "CloudTrail trail should have log file validation enabled",
        "findingName": "CloudTrail log file validation is disabled",
        "severity": "MEDIUM",
        "resource": ("CLOUD_LOG_CONFIGURATION", "trail", "AWS"),
        "subcats": [("Logging & Monitoring", "4 Logging & Monitoring", "Wiz")],
    },
    {
        "shortId": "KMS-004",
        "name": "KMS key rotation should be enabled",
        "findingName": "KMS key rotation is disabled",
        "severity": "HIGH",
        "resource": ("ENCRYPTION_KEY", "kmsKey", "AWS"),
        "subcats": [("Data Protection", "3 Data Protection", "Wiz")],
    },
]
CONFIG_RESULT_WEIGHTS = (("FAIL", 45), ("PASS", 50), ("ERROR", 3), ("NOT_ASSESSED", 2))
_ENVIRONMENTS = ("production", "prod", "staging", "dev", None)
_CONFIG_NAMESPACE = uuid.UUID("6f1c2b1e-8d0a-4c0e-9a55-0b0f3c8e7d11")


def _config_tags(rng: random.Random, name: str) -> list[dict[str, str]] | None:
    env = rng.choice(_ENVIRONMENTS)
    tags = [{"key": "Name", "value": name}]
    if env is not None:
        tags.append({"key": rng.choice(["Environment", "env", "Stage"]), "value": env})
    if rng.random() < 0.3:
        tags.append({"key": "Owner", "value": rng.choice(USERS)[0]})
    return rng.choice([tags, tags, tags, [], None])


def _config_resource(rng: random.Random, rule: dict[str, Any]) -> dict[str, Any]:
    kind, native, cloud = rule["resource"]
    account = f"{rng.randint(10**11, 10**12 - 1)}"
    region = {"AWS": rng.choice(["us-east-1", "eu-west-1"]), "Azure": "eastus", "Kubernetes": None}[cloud]
    name = f"{native.split('/')[-1].lower()}-{rand_token(rng, 6)}"
    group = "sg-" + rand_token(rng, 17, "0123456789abcdef")
    provider_id = {
        "BUCKET": f"arn:aws:s3:::{name}",
        "FIREWALL": f"arn:aws:ec2:{region}:{account}:security-group/{group}",
        "DATABASE": f"arn:aws:rds:{region}:{account}:db:{name}",
        "USER_ACCOUNT": f"arn:aws:iam::{account}:root",
        "ENCRYPTION_KEY": f"arn:aws:kms:{region}:{account}:key/{rand_uuid(rng)}",
        "CLOUD_LOG_CONFIGURATION": f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
        "RAW_ACCESS_POLICY": f"arn:aws:sqs:{region}:{account}:{name}",
    }.get(kind, rand_uuid(rng))
    subscription = {
        "AWS": {
            "id": rand_uuid(rng),
            "name": rng.choice(["prod", "wiz-integrations"]),
            "externalId": account,
        },
        "Azure": {"id": rand_uuid(rng), "name": "partner integrations", "externalId": rand_uuid(rng)},
        "Kubernetes": {"id": rand_uuid(rng), "name": "Wiz - DEV Outpost", "externalId": rand_uuid(rng)},
    }[cloud]
    subscription["cloudProvider"] = "Azure" if cloud == "Kubernetes" else cloud
    return {
        "id": rand_uuid(rng),
        "providerId": provider_id,
        "name": name,
        "nativeType": native,
        "type": kind,
        "region": region,
        "cloudPlatform": {"AWS": "AWS", "Azure": "Azure", "Kubernetes": "AKS"}[cloud],
        "subscription": subscription,
        "projects": rng.choice([None, [{**p} for p in rng.sample(PROJECTS, rng.randint(1, 2))]]),
        "tags": _config_tags(rng, name),
    }


def configuration_finding(
    rng: random.Random,
    at: datetime,
    status: str | None = None,
    result: str | None = None,
    rule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cloud configuration finding first seen (and analysed) at ``at``.

    Ids are UUIDv5 like Wiz's (deterministic per rule and resource). A PASS result is RESOLVED,
    anything else OPEN unless ``status`` says otherwise.
    """
    rule = rule or rng.choice(CONFIG_RULES)
    if result is None:
        result = rng.choices([r for r, _ in CONFIG_RESULT_WEIGHTS], [w for _, w in CONFIG_RESULT_WEIGHTS])[0]
    if status is None:
        status = "RESOLVED" if result == "PASS" else "OPEN"
    resource = _config_resource(rng, rule)
    rule_id = str(uuid.uuid5(_CONFIG_NAMESPACE, rule["shortId"]))
    ts = format_datetime(at)
    evidence = rule.get("evidence")
    return {
        "id": str(uuid.uuid5(_CONFIG_NAMESPACE, f"{rule_id}/{resource['id']}")),
        "name": rule["findingName"],
        "targetExternalId": f"{resource['type'].title().replace('_', '')}##{resource['providerId']}",
        "targetObjectProviderUniqueId": rng.choice([None, resource["providerId"]]),
        "deleted": False,
        "firstSeenAt": ts,
        "analyzedAt": ts,
        "updatedAt": ts,
        "severity": rule["severity"],
        "result": result,
        "status": status,
        "remediation": None,
        "resource": resource,
        "rule": {
            "id": rule_id,
            "shortId": rule["shortId"],
            "graphId": str(uuid.uuid5(_CONFIG_NAMESPACE, "graph/" + rule["shortId"])),
            "name": rule["name"],
            "description": f"This rule checks that: {rule['name'].lower()}.",
            "remediationInstructions": f"Fix the resource so that: {rule['name'].lower()}.",
            "functionAsControl": False,
        },
        "evidence": {
            "currentValue": evidence[0],
            "expectedValue": evidence[1],
            "configurationPath": None,
            "cloudConfigurationLink": "https://docs.aws.amazon.com/",
        }
        if evidence and result == "FAIL"
        else None,
        "securitySubCategories": [
            {
                "id": f"wsct-id-{rng.randint(1000, 9999)}",
                "title": title,
                "category": {
                    "id": f"wct-id-{rng.randint(100, 999)}",
                    "name": category,
                    "framework": {"id": f"wf-id-{rng.randint(1, 99)}", "name": framework},
                },
            }
            for title, category, framework in rule["subcats"]
        ],
        "ignoreRules": None,
    }
