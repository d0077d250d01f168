"""The GraphQL queries Wizwatch sends to Wiz, one per API log type.

These strings are a contract with two sides: the Wiz API, and the simulator's SDL in
``tools/wizwatch_tools/simulator`` which must accept them unchanged (a test validates every
query here against it). Keep ``filterBy`` identical across the pages of one window and ask for
``totalCount`` only on the first page (``$withCount``): counting is expensive for Wiz.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizwatch.logtypes import AUDIT, ISSUES, VULNERABILITY_FINDING

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

ISSUE_STATUSES = ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"]
FINDING_STATUSES = ["OPEN", "RESOLVED", "IN_PROGRESS", "REJECTED"]


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
    #: filterBy key used for WIZ_PROJECT_IDS (not publicly confirmed; overridable).
    project_filter_key: str | None = None


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
}
