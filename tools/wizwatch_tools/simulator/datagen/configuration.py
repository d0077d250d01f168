"""Cloud configuration findings (``Wiz.CloudConfigurationFinding``): rules, resources, results."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

from wizwatch_tools.simulator.datagen.actors import PROJECTS, USERS, rand_token, rand_uuid
from wizwatch_tools.simulator.timestamps import format_datetime

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
