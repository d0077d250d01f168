"""Audit log entries (``Wiz.Audit``): weighted actions, their parameters and actors."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from wizwatch_tools.simulator.datagen.actors import (
    BROWSER_AGENTS,
    SERVICE_AGENTS,
    USERPOOL_ID,
    USERS,
    Actors,
    rand_ip,
    rand_token,
    rand_uuid,
)
from wizwatch_tools.simulator.timestamps import format_datetime

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
