"""Wiz Defend detections in every shape Wiz delivers them, transcribed from public sources (data).

- ``WEBHOOK``: Wiz's documented Detections webhook example ("Default request body" of the
  Detections Webhook Reference, mirrored in public docs), trimmed to one triggering event.
- ``WEBHOOK_SINGLE``: elastic/integrations ``packages/wiz/data_stream/defend/_dev/test/pipeline/
  test-defend.json``: a single ``triggeringEvent`` object (Elastic's receiver output shape).
- ``API``: elastic/integrations ``packages/wiz/data_stream/defend_v2/_dev/test/pipeline/
  test-defend-v2.log`` (first record): the ``detections`` connection's node, ``triggeringEvents``
  as a connection object. ``API_LINKED`` is the same detection with a threat (``issue``).

``API`` and ``WEBHOOK_OF_API`` are one detection as the API and as Wiz's webhook template would
render it (``threatId`` = ``issue.id``, ``title`` = rule name, ``tdrId`` = rule id).
"""

from __future__ import annotations

import copy
from typing import Any

WEBHOOK: dict[str, Any] = {
    "trigger": {
        "source": "DETECTIONS",
        "type": "Created",
        "ruleId": "a08fe977-3f54-48bf-adcf-f76994739c1f",
        "ruleName": "Detections Webhook Test Rule",
    },
    "id": "6a440e9b-c8d8-5482-a0e9-da714359aecf",
    "threatId": "733edfe5-db25-5b14-ac58-dc69d6005c81",
    "threatURL": "https://test.wiz.io/issues#~(issue~'733edfe5-db25-5b14-ac58-dc69d6005c81)",
    "title": "Timestomping technique was detected",
    "description": "Process executed the touch binary with a command line flag that modifies file dates.",
    "severity": "MEDIUM",
    "createdAt": "2025-01-21T18:52:16.819883668Z",
    "tdrId": "46fd0cdc-252e-5e69-be6e-66e4851d7ae4",
    "tdrSource": "WIZ_SENSOR",
    "mitreTactics": ["TA0005"],
    "mitreTechniques": ["T1070.006"],
    "cloudAccounts": [
        {"cloudPlatform": "AWS", "externalId": "134653897021", "id": "5d67ed02-738e-5217-b065-d93642dd2629"}
    ],
    "cloudOrganizations": [],
    "timeframe": {"start": "2025-01-21T18:52:15.838Z", "end": "2025-01-21T18:52:15.838Z"},
    "actors": [
        {
            "externalId": "test-actor",
            "id": "4e1bd57f-49b2-47a8-a4a7-0e66fe0b770e",
            "name": "test-actor",
            "nativeType": "Microsoft Entra ID Application Service Principal",
            "type": "SERVICE_ACCOUNT",
        }
    ],
    "resources": [
        {
            "cloudAccount": {
                "cloudPlatform": "AWS",
                "externalId": "134653897021",
                "id": "5d67ed02-738e-5217-b065-d93642dd2629",
            },
            "externalId": "test-container",
            "id": "da259b23-de77-5adb-8336-8c4071696305",
            "name": "test-container",
            "nativeType": "ecs#containerinstance",
            "region": "us-east-1",
            "type": "CONTAINER",
        }
    ],
    "primaryResource": {
        "externalId": "test-container",
        "id": "da259b23-de77-5adb-8336-8c4071696305",
        "name": "test-container",
        "nativeType": "ecs#containerinstance",
        "region": "us-east-1",
        "type": "CONTAINER",
    },
    "triggeringEventsCount": 1,
    "triggeringEvents": [
        {
            "actor": {"id": "4e1bd57f-49b2-47a8-a4a7-0e66fe0b770e"},
            "actorIP": "168.1.1.1",
            "actorIPMeta": {
                "autonomousSystemNumber": 8075,
                "autonomousSystemOrganization": "MICROSOFT-CORP-MSN-AS-BLOCK",
                "country": "United States",
                "isForeign": True,
                "reputation": "Benign",
                "reputationSource": "Recorded Future",
            },
            "category": "Detection",
            "cloudPlatform": "AWS",
            "cloudProviderUrl": "https://console.aws.amazon.com/cloudtrail/home?region=us-east-1#/events/Ptrace",
            "description": "The program /usr/bin/bash executed /usr/bin/touch on container test-container",
            "eventTime": "2025-01-21T18:52:15.838Z",
            "externalId": "Ptrace##test-container-SensorRuleEngine##sen-id-142",
            "id": "2b46aa0d-9f46-5cb9-a6ae-e83ca514144a",
            "name": "Timestomping technique was detected",
            "origin": "WIZ_SENSOR",
            "source": "WizSensorAlert##RuleEngine",
            "status": "Success",
        }
    ],
}

WEBHOOK_SINGLE: dict[str, Any] = {
    **{k: v for k, v in WEBHOOK.items() if k not in ("triggeringEvents", "actors", "resources")},
    "source": "DETECTIONS",
    "detectionUrl": "https://test.wiz.io/detection",
    "cloudOrganizations": [{"cloudProvider": "AWS", "externalId": "o-1234567890", "name": "AcmeCloudOrg"}],
    "primaryResource": {
        **WEBHOOK["primaryResource"],
        "kubernetesNamespaceName": "production",
        "kubernetesClusterName": "prod-cluster",
    },
    "triggeringEvent": {
        **WEBHOOK["triggeringEvents"][0],
        "actorIP": "81.2.69.192",
        "runtimeDetails": {
            "processTree": [
                {"command": "touch -r /usr/bin /tmp/uga", "path": "/usr/bin/touch", "username": "root"}
            ]
        },
    },
}

API: dict[str, Any] = {
    "type": "MATCH_ONLY",
    "origins": ["AWS_GUARD_DUTY"],
    "actors": [
        {
            "id": "7b6ce9df-40e3-4b6f-a0a0-1238986a32a5",
            "name": "192.0.2.10",
            "externalId": "192.0.2.10",
            "providerUniqueId": None,
            "type": "NETWORK_ADDRESS",
        }
    ],
    "resources": [
        {
            "id": "afd6a19a-3f4e-4a69-9faf-4c313217b0e2",
            "name": "example-vm-1",
            "externalId": "i-0000000000000001",
            "providerUniqueId": None,
            "type": "VIRTUAL_MACHINE",
        }
    ],
    "cloudAccounts": [
        {
            "id": "32a7e699-c09f-4afc-abf2-1e00e2998350",
            "name": "example-cloud-account",
            "externalId": "100000000001",
            "cloudProvider": "AWS",
        }
    ],
    "cloudOrganizations": None,
    "createdAt": "2026-07-01T15:12:18.1559021Z",
    "updatedAt": "2026-07-01T15:13:36.3181301Z",
    "id": "edb74e2d-e1bd-49a6-bcd7-ec6b2f5e4980",
    "severity": "LOW",
    "description": "An EC2 instance has been involved in SSH brute force attacks.",
    "primaryResource": {
        "type": "VIRTUAL_MACHINE",
        "name": "example-vm-1",
        "externalId": "i-0000000000000001",
        "region": "us-east-2",
        "id": "afd6a19a-3f4e-4a69-9faf-4c313217b0e2",
    },
    "issue": None,
    "primaryActor": {
        "id": "7b6ce9df-40e3-4b6f-a0a0-1238986a32a5",
        "name": "192.0.2.10",
        "type": "NETWORK_ADDRESS",
        "externalId": "192.0.2.10",
        "federated": False,
        "actingAs": None,
        "cloudAccount": None,
    },
    "triggeringEvents": {
        "totalCountV2": 1,
        "nodes": [
            {
                "id": "031e0c27-55c2-4496-92d9-4b7a97324515",
                "description": "192.0.2.10 is performing SSH brute force attacks against i-0000000000000001.",
                "actorIP": "192.0.2.10",
                "timestamp": "2026-07-01T15:05:03.533Z",
                "rawAuditLogRecord": {},
                "commandLine": None,
                "runtimeProgram": {"name": None},
                "parentRuntimeProgram": {"name": None},
            }
        ],
    },
    "ruleMatch": {
        "rule": {
            "id": "f0568339-eb51-486b-bac1-7a835689f051",
            "name": "UnauthorizedAccess:EC2/SSHBruteForce",
            "builtin": True,
            "securitySubCategories": [
                {
                    "id": "wsct-id-3522",
                    "title": "Brute Force",
                    "category": {
                        "id": "wct-id-822",
                        "name": "Credential Access",
                        "framework": {"id": "wf-id-34"},
                    },
                },
                {
                    "id": "wsct-id-10678",
                    "title": "Credentials guessing",
                    "category": {
                        "id": "wct-id-1854",
                        "name": "Initial Access",
                        "framework": {"id": "wf-id-83"},
                    },
                },
            ],
        }
    },
}


def api_linked(severity: str = "HIGH") -> dict[str, Any]:
    """``API`` once Wiz linked it to a threat (a later version: updatedAt moved)."""
    record = copy.deepcopy(API)
    record.update(
        type="GENERATED_THREAT",
        severity=severity,
        updatedAt="2026-07-01T16:00:00.0000001Z",
        issue={"id": "e0321809-7913-4693-aa03-7dad19d38d65"},
    )
    return record


def webhook_of(api: dict[str, Any]) -> dict[str, Any]:
    """The webhook body Wiz's documented template renders for an API detection."""
    rule = api["ruleMatch"]["rule"]
    issue_id = (api.get("issue") or {}).get("id")
    nodes = api["triggeringEvents"]["nodes"]
    return {
        "trigger": {"source": "DETECTIONS", "type": "Created", "ruleId": "rule-1", "ruleName": "defend"},
        "id": api["id"],
        "threatId": issue_id or "",
        "threatURL": f"https://app.wiz.io/issues#~(issue~'{issue_id})" if issue_id else None,
        "title": rule["name"],
        "description": api["description"],
        "severity": api["severity"],
        "createdAt": api["createdAt"],
        "tdrId": rule["id"],
        "tdrSource": "GUARD_DUTY",
        "mitreTactics": ["TA0006"],
        "mitreTechniques": ["T1110"],
        "cloudAccounts": [{"cloudPlatform": "AWS", "externalId": "100000000001", "id": "32a7e699"}],
        "actors": api["actors"],
        "resources": api["resources"],
        "primaryResource": {**api["primaryResource"], "nativeType": "virtualMachine"},
        "triggeringEventsCount": len(nodes),
        "triggeringEvents": [
            {
                "actor": {"id": api["actors"][0]["id"]},
                "actorIP": n["actorIP"],
                "actorIPMeta": {"reputation": "Malicious", "reputationSource": "Recorded Future"},
                "eventTime": n["timestamp"],
                "id": n["id"],
                "description": n["description"],
            }
            for n in nodes
        ],
    }
