"""The GraphQL queries Wizwatch sends to Wiz, one per API log type.

These strings are a contract with two sides: the Wiz API, and the simulator's SDL in
``tools/wizwatch_tools/simulator`` which must accept them unchanged (a test validates every
query here against it). Keep ``filterBy`` identical across the pages of one window and ask for
``totalCount`` only on the first page (``$withCount``): counting is expensive for Wiz.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, DETECTIONS, ISSUES, VULNERABILITY_FINDING

AUDIT_QUERY = """
query WizwatchAuditLog($first: Int, $after: String, $filterBy: AuditLogEntryFilters, $withCount: Boolean!) {
  auditLogEntries(first: $first, after: $after, filterBy: $filterBy) {
    nodes {
      id
      action
      requestId
      status
      timestamp
      actionParameters
      userAgent
      sourceIP
      serviceAccount { id name }
      user { id name }
    }
    pageInfo { hasNextPage endCursor }
    totalCount @include(if: $withCount)
  }
}
"""

ISSUES_QUERY = """
query WizwatchIssues(
  $first: Int, $after: String, $filterBy: IssueFilters, $orderBy: IssueOrder, $withCount: Boolean!
) {
  issues: issuesV2(first: $first, after: $after, filterBy: $filterBy, orderBy: $orderBy) {
    nodes {
      id
      sourceRule {
        __typename
        ... on Control {
          id
          name
          controlDescription: description
          resolutionRecommendation
          securitySubCategories { title category { name framework { name } } }
        }
        ... on CloudEventRule {
          id
          name
          cloudEventRuleDescription: description
          sourceType
          type
        }
        ... on CloudConfigurationRule {
          id
          name
          cloudConfigurationRuleDescription: description
          remediationInstructions
          serviceType
        }
      }
      sourceRules {
        __typename
        ... on Control {
          id
          name
          controlDescription: description
          resolutionRecommendation
          securitySubCategories { title category { name framework { name } } }
        }
        ... on CloudEventRule {
          id
          name
          cloudEventRuleDescription: description
          sourceType
          type
        }
        ... on CloudConfigurationRule {
          id
          name
          cloudConfigurationRuleDescription: description
          remediationInstructions
          serviceType
        }
      }
      createdAt
      updatedAt
      dueAt
      type
      resolvedAt
      statusChangedAt
      projects { id name slug businessUnit riskProfile { businessImpact } }
      status
      severity
      entitySnapshot {
        id
        type
        nativeType
        name
        status
        cloudPlatform
        cloudProviderURL
        providerId
        region
        resourceGroupExternalId
        subscriptionExternalId
        subscriptionName
        subscriptionTags
        tags
        externalId
      }
      serviceTickets { externalId name url }
      notes { createdAt updatedAt text user { name email } serviceAccount { name } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount @include(if: $withCount)
  }
}
"""

VULNERABILITY_QUERY = """
query WizwatchVulnerabilityFindings(
  $first: Int, $after: String, $filterBy: VulnerabilityFindingFilters, $withCount: Boolean!
) {
  vulnerabilityFindings(first: $first, after: $after, filterBy: $filterBy) {
    nodes {
      id
      portalUrl
      name
      CVEDescription
      CVSSSeverity
      score
      exploitabilityScore
      impactScore
      dataSourceName
      hasExploit
      hasCisaKevExploit
      status
      vendorSeverity
      firstDetectedAt
      lastDetectedAt
      updatedAt
      resolvedAt
      description
      remediation
      detailedName
      version
      fixedVersion
      detectionMethod
      link
      locationPath
      resolutionReason
      epssSeverity
      epssPercentile
      epssProbability
      validatedInRuntime
      layerMetadata { id details isBaseLayer }
      projects { id name slug businessUnit riskProfile { businessImpact } }
      ignoreRules { id }
      vulnerableAsset {
        ... on VulnerableAssetBase {
          id
          type
          name
          region
          providerUniqueId
          cloudProviderURL
          cloudPlatform
          status
          subscriptionName
          subscriptionExternalId
          subscriptionId
          tags
          hasLimitedInternetExposure
          hasWideInternetExposure
          isAccessibleFromVPN
          isAccessibleFromOtherVnets
          isAccessibleFromOtherSubscriptions
        }
        ... on VulnerableAssetVirtualMachine {
          operatingSystem
          ipAddresses
        }
        ... on VulnerableAssetServerless {
          runtime
        }
        ... on VulnerableAssetContainerImage {
          imageId
        }
        ... on VulnerableAssetContainer {
          ImageExternalId
          VmExternalId
          ServerlessContainer
          PodNamespace
          PodName
          NodeName
        }
      }
    }
    pageInfo { hasNextPage endCursor }
    totalCount @include(if: $withCount)
  }
}
"""

#: Wiz Defend detections. Every field below is selected by a peer's production query: Elastic
#: integrations ``packages/wiz/data_stream/defend_v2/agent/stream/cel.yml.hbs`` (all of it) and
#: SEKOIA-IO automation-library ``Wiz/wiz/client/gql_client.py`` (all but ``issue``). Left out
#: on purpose: the triggering-event count (Elastic asks ``totalCountV2``, SEKOIA ``totalCount``:
#: one of them is likely gone, and a field the tenant lacks fails the whole query); the record
#: count is taken from the nodes instead. ``issue { id }`` is the threat a detection belongs to
#: (the webhook's ``threatId``); only Elastic selects it.
DETECTIONS_QUERY = """
query WizwatchDetections(
  $first: Int, $after: String, $filterBy: DetectionFilters, $withCount: Boolean!
) {
  detections(first: $first, after: $after, filterBy: $filterBy) {
    nodes {
      id
      type
      origins
      createdAt
      updatedAt
      severity
      description(format: MARKDOWN)
      actors { id name externalId providerUniqueId type }
      resources { id name externalId providerUniqueId type }
      cloudAccounts { id name externalId cloudProvider }
      cloudOrganizations { id name externalId cloudProvider }
      primaryResource { type name externalId region id }
      issue { id }
      primaryActor {
        id
        name
        type
        nativeType
        email
        userAgent
        MFA
        federated
        friendlyName
        accessKeyId
        externalId
        providerUniqueId
        hasHighPrivileges
        hasAdminPrivileges
        hasHighKubernetesPrivileges
        hasAdminKubernetesPrivileges
        inactiveInLast90Days
        actingAs { id name type friendlyName accessKeyId externalId providerUniqueId }
        cloudAccount { id externalId name cloudProvider }
      }
      triggeringEvents(first: 50) {
        nodes {
          ... on CloudEvent {
            id
            description
            actorIP
            timestamp
            rawAuditLogRecord
            commandLine
            runtimeProgram { name }
            parentRuntimeProgram { name }
          }
        }
      }
      ruleMatch {
        rule {
          id
          name
          builtin
          securitySubCategories { id title category { id name framework { id } } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
    totalCount @include(if: $withCount)
  }
}
"""

#: Cloud configuration findings (``configurationFindings``). Every field is one a peer's query
#: sends to real tenants: SEKOIA automation-library ``get_cloud_configuration_findings``
#: (targetExternalId, deleted, targetObjectProviderUniqueId, firstSeenAt, analyzedAt,
#: resource.projects, rule.graphId/functionAsControl, securitySubCategories, ignoreRules);
#: Elastic ``cloud_configuration_finding`` >= 4.3.0 and Cartography (updatedAt); Elastic
#: (name, resource.cloudPlatform, rule.shortId, evidence). Nothing else: an unknown field fails
#: the whole query on a real tenant.
CONFIGURATION_FINDINGS_QUERY = """
query WizwatchConfigurationFindings(
  $first: Int, $after: String, $filterBy: ConfigurationFindingFilters, $withCount: Boolean!
) {
  configurationFindings(first: $first, after: $after, filterBy: $filterBy) {
    nodes {
      id
      name
      targetExternalId
      targetObjectProviderUniqueId
      deleted
      firstSeenAt
      analyzedAt
      updatedAt
      severity
      result
      status
      remediation
      resource {
        id
        providerId
        name
        nativeType
        type
        region
        cloudPlatform
        subscription { id name externalId cloudProvider }
        projects { id name riskProfile { businessImpact } }
        tags { key value }
      }
      rule {
        id
        shortId
        graphId
        name
        description
        remediationInstructions
        functionAsControl
      }
      evidence { currentValue expectedValue configurationPath cloudConfigurationLink }
      securitySubCategories { id title category { id name framework { id name } } }
      ignoreRules { id name enabled expiredAt }
    }
    pageInfo { hasNextPage endCursor }
    totalCount @include(if: $withCount)
  }
}
"""

#: Wiz applies a GENERATED_THREAT-only type filter whenever any filterBy is sent (Elastic's
#: defend_v2 found it): MATCH_ONLY detections are dropped unless both types are named.
DETECTION_TYPES = ["GENERATED_THREAT", "MATCH_ONLY"]

ISSUE_STATUSES = ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"]
FINDING_STATUSES = ["OPEN", "RESOLVED", "IN_PROGRESS", "REJECTED"]
#: The full-posture snapshot: every finding that still exists in any workflow state (Elastic's
#: full-posture stream sends OPEN and RESOLVED; IN_PROGRESS and REJECTED findings still fail, so
#: "what is misconfigured right now" needs them too). ``includeDeleted: false`` as Elastic sends.
SNAPSHOT_STATUSES = ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"]
#: The delta fields configurationFindings can be windowed on (WIZ_CONFIGURATION_DELTA_FIELD):
#: updatedAt changes when a finding changes (Elastic >= 4.3.0 moved to it from analyzedAt as a
#: fix; Cartography uses it); analyzedAt moves on every re-assessment (SEKOIA, Steampipe).
CONFIGURATION_DELTA_FIELDS = ("updatedAt", "analyzedAt")


@dataclass(frozen=True)
class QuerySpec:
    """How one log type is pulled: query text, response key, page size and delta filter."""

    log_type: str
    query: str
    connection: str  # key under ``data`` in the response (aliased for issues)
    page_size: int
    delta_field: str  # filterBy key of the time window
    record_time_field: str  # node field that carries the delta time
    statuses: tuple[str, ...] = ()
    #: filterBy key used for WIZ_PROJECT_IDS (not publicly confirmed; overridable); a dotted key
    #: nests (``resource.projectId`` -> ``{"resource": {"projectId": [...]}}``).
    project_filter_key: str | None = None
    #: filterBy entries sent with every page, beside the window and statuses.
    static_filter: dict[str, Any] = field(default_factory=dict)


SPECS: dict[str, QuerySpec] = {
    AUDIT: QuerySpec(AUDIT, AUDIT_QUERY, "auditLogEntries", 500, "timestamp", "timestamp"),
    ISSUES: QuerySpec(
        ISSUES,
        ISSUES_QUERY,
        "issues",
        500,
        "statusChangedAt",
        "statusChangedAt",
        tuple(ISSUE_STATUSES),
        "project",
    ),
    VULNERABILITY_FINDING: QuerySpec(
        VULNERABILITY_FINDING,
        VULNERABILITY_QUERY,
        "vulnerabilityFindings",
        500,
        "updatedAt",
        "updatedAt",
        tuple(FINDING_STATUSES),
        "projectId",
    ),
    DETECTIONS: QuerySpec(
        DETECTIONS,
        DETECTIONS_QUERY,
        "detections",
        # Each detection carries up to 50 triggering events: SEKOIA pages by 100.
        100,
        "updatedAt",
        "updatedAt",
        static_filter={"type": {"equals": list(DETECTION_TYPES)}},
    ),
    CLOUD_CONFIGURATION_FINDING: QuerySpec(
        CLOUD_CONFIGURATION_FINDING,
        CONFIGURATION_FINDINGS_QUERY,
        "configurationFindings",
        500,  # Steampipe's client: "Maximum limit is 500"
        "updatedAt",
        "updatedAt",
        tuple(FINDING_STATUSES),
        "resource.projectId",
    ),
}


def spec_for(log_type: str, delta_field: str | None = None) -> QuerySpec:
    """The spec of ``log_type``, windowed on ``delta_field`` where the type allows a choice."""
    spec = SPECS[log_type]
    if delta_field and delta_field != spec.delta_field:
        if log_type != CLOUD_CONFIGURATION_FINDING or delta_field not in CONFIGURATION_DELTA_FIELDS:
            raise ValueError(f"{log_type} cannot be windowed on {delta_field!r}")
        spec = dataclasses.replace(spec, delta_field=delta_field, record_time_field=delta_field)
    return spec
