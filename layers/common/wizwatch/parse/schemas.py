"""Pydantic models of the Wiz log types: the reference definition of a valid record.

Field lists follow Panther's schemas (Wiz.Audit, Wiz.Issues, Wiz.VulnerabilityFinding) plus the
push types (Wiz.IssuesWebhook, Wiz.Detections) as seen in Panther's own rule tests, Wiz's webhook
documentation and the peers' ``detections`` queries. Wiz is loose: unknown fields are kept
(``extra="allow"``), nearly everything may be null, and lists sometimes arrive as objects. These
models *validate*; the event a rule sees is the original record (no keys invented), except that a
Wiz.Detections event is given the webhook's shape (see ``parse.detections``).

Required fields are exactly Panther's (the project's seed schema is its copy), never more: a
record Panther ingests and alerts on must not be quarantined here.

* Wiz.Audit: ``id``, ``action``, ``timestamp``. ``status`` is optional, as in Panther; the 16
  Panther audit rules test ``status == "SUCCESS"`` and simply do not fire without it.
* Wiz.Issues: ``id``, ``createdAt``. ``status`` and ``severity`` are optional: Panther's own
  engine fires ``Wiz.Alert.Passthrough`` (``status == "OPEN" and severity != "INFORMATIONAL"``) on
  an OPEN issue without severity, so the event must reach the rule. Every issue in Panther's tests
  (panther-analysis ``rules/wiz_rules/wiz_alert_passthrough.yml``) and in the peers' samples
  (Elastic ``packages/wiz`` issue pipeline test, SEKOIA ``Wiz/wiz-issues``) carries ``createdAt``.
* Wiz.VulnerabilityFinding: ``id`` only.
* Wiz.IssuesWebhook: ``issue.id`` (the event's identity). The body is an operator-editable
  template (``../shared/wiz-api.md``), so every other field is optional, status/severity/trigger
  casing is free (``"OPEN"``, ``"Resolved"``, ``"Open"``), ``issue.projects`` may be ``""``, a list
  of names or of objects, and an ``issue.created`` that is not a timestamp does not quarantine
  the record (its event time falls back to the parse time).
* Wiz.Detections: ``id``; ``triggeringEvents`` a list, a connection object ``{nodes: [...]}`` or
  absent beside a single ``triggeringEvent`` object (every shape in ``../shared/wiz-api.md``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from wizwatch import logtypes
from wizwatch.parse import timestamps


def _timestamp(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    try:
        timestamps.to_panther(value)
    except timestamps.TimestampError as exc:
        raise ValueError(str(exc)) from None
    return value


#: A timestamp in any accepted format, kept as the original string.
Timestamp = Annotated[str, BeforeValidator(_timestamp)]
OptTimestamp = Annotated[str | None, BeforeValidator(_timestamp)]


class _Loose(BaseModel):
    # defer_build: pydantic builds a model's validator on its first validation, not at import.
    # Most records are accepted by the compiled plan (wizwatch.parse.plan, which reads only
    # ``model_fields``, collected at class creation either way), so a detector container often
    # never validates with pydantic; building the 19 validators at import cost ~12 ms of the
    # cold start (measured, issue 14). The first fallback of a type pays its own (~6 ms).
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class Principal(_Loose):
    id: str | None = None
    name: str | None = None


# --- Wiz.Audit ---------------------------------------------------------------------------------


class AuditEntry(_Loose):
    id: str
    action: str
    timestamp: Timestamp
    status: str | None = None
    requestId: str | None = None
    actionParameters: Any = None
    userAgent: str | None = None
    sourceIP: str | None = None
    serviceAccount: Principal | None = None
    user: Principal | None = None


# --- Wiz.Issues --------------------------------------------------------------------------------


class Project(_Loose):
    id: str | None = None
    name: str | None = None
    slug: str | None = None
    businessUnit: str | None = None
    riskProfile: dict[str, Any] | None = None


class SourceRule(_Loose):
    id: str | None = None
    name: str | None = None
    controlDescription: str | None = None
    resolutionRecommendation: str | None = None
    securitySubCategories: list[Any] | None = None


class EntitySnapshot(_Loose):
    id: str | None = None
    type: str | None = None
    nativeType: str | None = None
    name: str | None = None
    status: str | None = None
    cloudPlatform: str | None = None
    cloudProviderURL: str | None = None
    providerId: str | None = None
    region: str | None = None
    resourceGroupExternalId: str | None = None
    subscriptionExternalId: str | None = None
    subscriptionName: str | None = None
    subscriptionTags: Any = None
    tags: Any = None
    externalId: str | None = None


class Issue(_Loose):
    id: str
    createdAt: Timestamp
    status: str | None = None
    severity: str | None = None
    type: str | None = None
    updatedAt: OptTimestamp = None
    statusChangedAt: OptTimestamp = None
    dueAt: OptTimestamp = None
    resolvedAt: OptTimestamp = None
    sourceRule: SourceRule | None = None
    sourceRules: list[SourceRule] | None = None
    control: Any = None
    projects: list[Project] | None = None
    entitySnapshot: EntitySnapshot | None = None
    serviceTickets: list[Any] | None = None
    notes: list[Any] | None = None


# --- Wiz.VulnerabilityFinding ------------------------------------------------------------------


class VulnerableAsset(_Loose):
    id: str | None = None
    type: str | None = None
    name: str | None = None
    region: str | None = None
    providerUniqueId: str | None = None
    cloudProviderURL: str | None = None
    cloudPlatform: str | None = None
    status: str | None = None
    subscriptionName: str | None = None
    subscriptionExternalId: str | None = None
    subscriptionId: str | None = None
    tags: Any = None
    hasLimitedInternetExposure: bool | None = None
    hasWideInternetExposure: bool | None = None
    isAccessibleFromVPN: bool | None = None
    isAccessibleFromOtherVnets: bool | None = None
    isAccessibleFromOtherSubscriptions: bool | None = None
    operatingSystem: str | None = None
    ipAddresses: list[str] | None = None


class VulnerabilityFinding(_Loose):
    id: str
    name: str | None = None
    status: str | None = None
    portalUrl: str | None = None
    CVEDescription: str | None = None
    CVSSSeverity: str | None = None
    score: float | None = None
    exploitabilityScore: float | None = None
    impactScore: float | None = None
    dataSourceName: str | None = None
    hasExploit: bool | None = None
    hasCisaKevExploit: bool | None = None
    vendorSeverity: str | None = None
    firstDetectedAt: OptTimestamp = None
    lastDetectedAt: OptTimestamp = None
    updatedAt: OptTimestamp = None
    resolvedAt: OptTimestamp = None
    description: str | None = None
    remediation: str | None = None
    detailedName: str | None = None
    version: str | None = None
    fixedVersion: str | None = None
    detectionMethod: str | None = None
    link: str | None = None
    locationPath: str | None = None
    resolutionReason: str | None = None
    epssSeverity: str | None = None
    epssPercentile: float | None = None
    epssProbability: float | None = None
    validatedInRuntime: Any = None
    layerMetadata: Any = None
    projects: list[Project] | None = None
    ignoreRules: Any = None  # a list in the schema, an object in some test data
    vulnerableAsset: VulnerableAsset | None = None


# --- Wiz.IssuesWebhook (push) ------------------------------------------------------------------


class WebhookTrigger(_Loose):
    type: str | None = None
    source: str | None = None
    ruleId: str | None = None
    ruleName: str | None = None


class WebhookIssue(_Loose):
    id: str
    status: str | None = None
    severity: str | None = None
    created: Any = None  # an edited template may hold any text; see the module docstring
    projects: Any = None  # "" in Panther's samples


class IssuesWebhook(_Loose):
    trigger: WebhookTrigger | None = None
    issue: WebhookIssue
    control: Any = None  # {id, name, description, severity, risks[]} when the template keeps it
    resource: Any = None  # {id, name, type, cloudPlatform, region, subscription..., status}


# --- Wiz.Detections (pushed and polled) ---------------------------------------------------------
# Every shape in ../shared/wiz-api.md: the webhook (``triggeringEvents`` a list, or one
# ``triggeringEvent`` object) and the ``detections`` connection (``triggeringEvents`` a connection
# object ``{nodes: [...], totalCount}``, ``actors: null``, ``issue``/``ruleMatch``). Triggering events
# stay plain objects: their fields differ by origin and one odd event must not cost the detection.


class TriggeringEventConnection(_Loose):
    nodes: list[dict[str, Any]] | None = None
    totalCount: int | None = None
    totalCountV2: int | None = None


class Detection(_Loose):
    id: str
    title: str | None = None
    description: str | None = None
    severity: str | None = None
    createdAt: OptTimestamp = None
    updatedAt: OptTimestamp = None
    type: str | None = None
    origins: list[str] | None = None
    tdrId: str | None = None
    tdrSource: str | None = None
    threatId: str | None = None
    threatURL: str | None = None
    actors: list[dict[str, Any]] | None = None
    primaryActor: dict[str, Any] | None = None
    resources: list[dict[str, Any]] | None = None
    primaryResource: dict[str, Any] | None = None
    cloudAccounts: list[dict[str, Any]] | None = None
    cloudOrganizations: list[dict[str, Any]] | None = None
    issue: dict[str, Any] | None = None
    ruleMatch: dict[str, Any] | None = None
    mitreTactics: list[str] | str | None = None
    mitreTechniques: list[str] | str | None = None
    timeframe: dict[str, Any] | None = None
    trigger: WebhookTrigger | None = None
    triggeringEvents: list[dict[str, Any]] | TriggeringEventConnection | None = None
    triggeringEvent: dict[str, Any] | None = None
    triggeringEventsCount: int | None = None


# --- Wiz.CloudConfigurationFinding -------------------------------------------------------------
# Fields as in peers' queries and test events (SEKOIA intake-formats Wiz/wiz-cloud-configuration-
# findings, Elastic cloud_configuration_finding[_full_posture] pipeline tests). Only ``id`` is
# required: SEKOIA's shape lacks updatedAt/name/evidence, Elastic's lacks status/deleted.


class ConfigurationSubscription(_Loose):
    id: str | None = None
    name: str | None = None
    externalId: str | None = None
    cloudProvider: str | None = None


class ConfigurationResource(_Loose):
    id: str | None = None
    providerId: str | None = None
    name: str | None = None
    nativeType: str | None = None
    type: str | None = None
    region: str | None = None
    cloudPlatform: str | None = None
    subscription: ConfigurationSubscription | None = None
    projects: list[Project] | None = None
    tags: Any = None  # [{key, value}] from the API; tolerate a {key: value} object


class ConfigurationRule(_Loose):
    id: str | None = None
    shortId: str | None = None
    graphId: str | None = None
    name: str | None = None
    description: str | None = None
    remediationInstructions: str | None = None
    functionAsControl: bool | None = None


class ConfigurationFinding(_Loose):
    id: str
    name: str | None = None
    targetExternalId: str | None = None
    targetObjectProviderUniqueId: str | None = None
    deleted: bool | None = None
    firstSeenAt: OptTimestamp = None
    analyzedAt: OptTimestamp = None
    updatedAt: OptTimestamp = None
    severity: str | None = None
    result: str | None = None
    status: str | None = None
    remediation: str | None = None
    resource: ConfigurationResource | None = None
    rule: ConfigurationRule | None = None
    evidence: dict[str, Any] | None = None
    securitySubCategories: list[Any] | None = None
    ignoreRules: Any = None


MODELS: dict[str, type[BaseModel]] = {
    logtypes.AUDIT: AuditEntry,
    logtypes.ISSUES: Issue,
    logtypes.VULNERABILITY_FINDING: VulnerabilityFinding,
    logtypes.ISSUES_WEBHOOK: IssuesWebhook,
    logtypes.DETECTIONS: Detection,
    logtypes.CLOUD_CONFIGURATION_FINDING: ConfigurationFinding,
}
