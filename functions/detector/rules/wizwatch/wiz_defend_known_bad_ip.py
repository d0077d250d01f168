from wizwatch_defend_helpers import (
    actor_ips,
    ci_get,
    detection_context,
    detection_severity,
    detection_title,
    resource_label,
)

#: Reputation verdicts Wiz shows for an actor IP (Recorded Future and others) that mean "bad".
BAD = ("malicious",)
SUSPICIOUS = ("suspicious", "high risk")


def _groups(meta):
    groups = ci_get(meta, "relatedAttackGroupNames")
    if isinstance(groups, str):
        groups = [g.strip() for g in groups.split(",")]
    return [g for g in groups or [] if isinstance(g, str) and g and g.lower() != "none"]


def _bad(event):
    """(ip, reputation, groups, country) of the first actor IP Wiz rates as bad."""
    for ip, meta in actor_ips(event):
        verdict = str(ci_get(meta, "reputation", "")).strip().lower()
        groups = _groups(meta)
        if verdict in BAD or (verdict in SUSPICIOUS and groups):
            return ip, ci_get(meta, "reputation"), groups, ci_get(meta, "country")
    return None


def rule(event):
    return detection_severity(event) != "INFO" and _bad(event) is not None


def title(event):
    ip, reputation, _, country = _bad(event)
    where = f", {country}" if country else ""
    return f"Wiz Defend: {detection_title(event)} from {reputation.lower()} IP {ip}{where} on {resource_label(event)}"


def severity(event):
    _, _, groups, _ = _bad(event)
    # An address tied to a named attack group is a targeted attacker, not background noise.
    return "CRITICAL" if groups else "HIGH"


def dedup(event):
    return f"bad-ip:{_bad(event)[0]}"


def alert_context(event):
    ip, reputation, groups, country = _bad(event)
    meta = next((m for i, m in actor_ips(event) if i == ip), {})
    return {
        **detection_context(event),
        "bad_ip": ip,
        "reputation": reputation,
        "reputation_source": ci_get(meta, "reputationSource"),
        "attack_groups": groups,
        "country": country,
        "asn": ci_get(meta, "autonomousSystemNumber"),
        "as_organization": ci_get(meta, "autonomousSystemOrganization"),
    }
