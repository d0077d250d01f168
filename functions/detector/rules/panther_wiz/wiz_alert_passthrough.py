from panther_base_helpers import deep_get

MITRE_FRAMEWORK = "MITRE ATT&CK Matrix"


def rule(event):
    return event.get("status") == "OPEN" and event.get("severity") != "INFORMATIONAL"


def title(event):
    name = event.deep_get("sourceRule", "name", default="ALERT_DESCRIPTION_NOT_FOUND")
    return f"[Wiz Alert]: {name}"


def severity(event):
    return event.get("severity")


def dedup(event):
    # Low-severity issues group per Wiz control, to keep the volume down.
    if event.get("severity") in ("INFO", "LOW"):
        control = str(event.deep_get("sourceRule", "id"))
        if control:
            return control
    # Otherwise one alert per resource and severity.
    resource = event.deep_get("entitySnapshot", "externalId", default="<RESOURCE_NOT_FOUND>")
    return resource + event.get("severity", "<SEVERITY_NOT_FOUND>")


def description(event):
    return event.deep_get("sourceRule", "controlDescription", default="<DESCRIPTION_NOT_FOUND>")


def reference(event):
    return issue_url(event) or "DEFAULT"


def runbook(event):
    return event.deep_get("sourceRule", "resolutionRecommendation", default="<RECOMMENDATION_NOT_FOUND>")


def alert_context(event):
    subcategories = event.deep_get("sourceRule", "securitySubCategories", default=[{}])
    return {
        "id": event.get("id", "<ID_NOT_FOUND>"),
        "type": event.get("type", "<TYPE_NOT_FOUND>"),
        "entity_snapshot": event.get("entitySnapshot", {}),
        "entity_url": entity_url(event),
        "mitre_attack_categories": [
            sub for sub in subcategories if deep_get(sub, "category", "framework", "name") == MITRE_FRAMEWORK
        ],
    }


def issue_url(event):
    issue_id = event.get("id")
    return f"https://app.wiz.io/issues#~(issue~'{issue_id})" if issue_id else None


def entity_url(event):
    entity_id = event.deep_get("entitySnapshot", "id")
    entity_type = event.deep_get("entitySnapshot", "type")
    if entity_id and entity_type:
        return f"https://app.wiz.io/issues#~(entity~(~'{entity_id}*2c{entity_type}))"
    return None
