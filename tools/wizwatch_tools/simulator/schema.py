"""The SDL of the parts of Wiz's GraphQL API that Wizwatch reads, as a real graphql-core schema.

Field and type names follow what public Wiz clients send (the poller's queries in
``wizwatch/poll/queries.py`` must validate unchanged), so a misspelled field, an unknown fragment
type or a wrong filter key fails validation here exactly as it would at Wiz. Node fields that
Wiz documents as nullable are nullable; the enums are the values seen in real payloads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, build_schema
from graphql.language import ast

from wizwatch_tools.simulator.timestamps import format_datetime, parse_datetime

SDL = """
scalar DateTime
scalar JSON

enum OrderDirection { ASC DESC }

input DateFilter {
  "Inclusive lower bound (records at exactly this instant match)."
  after: DateTime
  "Exclusive upper bound."
  before: DateTime
}

type PageInfo {
  hasNextPage: Boolean!
  endCursor: String
}

type Query {
  auditLogEntries(first: Int, after: String, filterBy: AuditLogEntryFilters): AuditLogEntryConnection!
  issuesV2(first: Int, after: String, filterBy: IssueFilters, orderBy: IssueOrder): IssueConnection!
  vulnerabilityFindings(
    first: Int, after: String, filterBy: VulnerabilityFindingFilters, orderBy: VulnerabilityFindingOrder
  ): VulnerabilityFindingConnection!
  detections(
    first: Int, after: String, filterBy: DetectionFilters, orderBy: DetectionOrder
  ): DetectionConnection!
  configurationFindings(
    first: Int, after: String, filterBy: ConfigurationFindingFilters, orderBy: ConfigurationFindingOrder
  ): ConfigurationFindingConnection!
}

# --- users, projects ---------------------------------------------------------------------

type User { id: ID! name: String email: String }
type ServiceAccount { id: ID! name: String }
type ProjectRiskProfile { businessImpact: String }
type Project { id: ID! name: String slug: String businessUnit: String riskProfile: ProjectRiskProfile }

# --- audit log -----------------------------------------------------------------------------

enum AuditLogEntryStatus { SUCCESS FAILED INVALID ACCESS_DENIED }

input AuditLogEntryFilters {
  timestamp: DateFilter
  user: [String!]
  serviceAccount: [String!]
  action: [String!]
  status: [AuditLogEntryStatus!]
}

type AuditLogEntry {
  id: ID!
  action: String!
  requestId: String
  status: AuditLogEntryStatus!
  timestamp: DateTime!
  actionParameters: JSON
  userAgent: String
  sourceIP: String
  serviceAccount: ServiceAccount
  user: User
}

type AuditLogEntryConnection {
  nodes: [AuditLogEntry!]
  pageInfo: PageInfo!
  totalCount: Int!
}

# --- issues --------------------------------------------------------------------------------

enum IssueStatus { OPEN IN_PROGRESS RESOLVED REJECTED }
enum IssueSeverity { INFORMATIONAL LOW MEDIUM HIGH CRITICAL }
enum IssueType { TOXIC_COMBINATION THREAT_DETECTION CLOUD_CONFIGURATION }
enum IssueOrderField { CREATED_AT SEVERITY RESOLVED_AT }

input IssueFilters {
  id: [String!]
  status: [IssueStatus!]
  severity: [IssueSeverity!]
  type: [IssueType!]
  createdAt: DateFilter
  resolvedAt: DateFilter
  statusChangedAt: DateFilter
  "Project ids (the key Wiz really uses is unconfirmed: project and projectId both work)."
  project: [String!]
  projectId: [String!]
}

input IssueOrder { direction: OrderDirection! field: IssueOrderField! }

type SecurityFramework { id: ID name: String }
type SecurityCategory { id: ID name: String framework: SecurityFramework }
type SecuritySubCategory { id: ID title: String category: SecurityCategory }

type Control {
  id: ID!
  name: String
  description: String
  resolutionRecommendation: String
  securitySubCategories: [SecuritySubCategory!]
}

type CloudEventRule {
  id: ID!
  name: String
  description: String
  sourceType: String
  type: String
  securitySubCategories: [SecuritySubCategory!]
}

type CloudConfigurationRule {
  id: ID!
  name: String
  description: String
  remediationInstructions: String
  serviceType: String
  securitySubCategories: [SecuritySubCategory!]
}

union IssueSourceRule = Control | CloudEventRule | CloudConfigurationRule

type IssueEntitySnapshot {
  id: ID
  type: String
  nativeType: String
  name: String
  status: String
  cloudPlatform: String
  cloudProviderURL: String
  providerId: String
  region: String
  resourceGroupExternalId: String
  subscriptionExternalId: String
  subscriptionName: String
  subscriptionTags: JSON
  tags: JSON
  externalId: String
}

type ServiceTicket { id: ID externalId: String name: String url: String }
type IssueNote {
  id: ID
  createdAt: DateTime
  updatedAt: DateTime
  text: String
  user: User
  serviceAccount: ServiceAccount
}

type Issue {
  id: ID!
  sourceRule: IssueSourceRule @deprecated(reason: "Use sourceRules")
  sourceRules: [IssueSourceRule!]
  createdAt: DateTime!
  updatedAt: DateTime!
  dueAt: DateTime
  type: IssueType
  resolvedAt: DateTime
  statusChangedAt: DateTime
  projects: [Project!]
  status: IssueStatus!
  severity: IssueSeverity!
  entitySnapshot: IssueEntitySnapshot
  serviceTickets: [ServiceTicket!]
  notes: [IssueNote!]
}

type IssueConnection {
  nodes: [Issue!]
  pageInfo: PageInfo!
  totalCount: Int!
}

# --- vulnerability findings ------------------------------------------------------------------

enum VulnerabilityFindingStatus { OPEN IN_PROGRESS RESOLVED REJECTED }
enum VulnerabilityFindingOrderField { FIRST_DETECTED_AT UPDATED_AT SEVERITY }

input VulnerabilityFindingFilters {
  id: [String!]
  status: [VulnerabilityFindingStatus!]
  severity: [String!]
  firstSeenAt: DateFilter
  updatedAt: DateFilter
  resolvedAt: DateFilter
  "Project ids (project and projectId both work; the real key is unconfirmed)."
  projectId: [String!]
  project: [String!]
}

input VulnerabilityFindingOrder { direction: OrderDirection! field: VulnerabilityFindingOrderField! }

type LayerMetadata { id: ID details: String isBaseLayer: Boolean }
type IgnoreRule { id: ID! name: String enabled: Boolean expiredAt: DateTime }

"""

_ASSET_BASE_FIELDS = """
  id: ID!
  type: String
  name: String
  region: String
  providerUniqueId: String
  cloudProviderURL: String
  cloudPlatform: String
  status: String
  subscriptionName: String
  subscriptionExternalId: String
  subscriptionId: String
  tags: JSON
  hasLimitedInternetExposure: Boolean
  hasWideInternetExposure: Boolean
  isAccessibleFromVPN: Boolean
  isAccessibleFromOtherVnets: Boolean
  isAccessibleFromOtherSubscriptions: Boolean
"""

SDL += f"\ninterface VulnerableAssetBase {{{_ASSET_BASE_FIELDS}}}\n"


#: The concrete vulnerable-asset types (the members of the ``VulnerableAsset`` union) with
#: their own fields; every one also implements ``VulnerableAssetBase``.
ASSET_TYPES: dict[str, str] = {
    "VulnerableAssetVirtualMachine": "operatingSystem: String ipAddresses: [String!] imageName: String",
    "VulnerableAssetServerless": "runtime: String",
    "VulnerableAssetContainerImage": "imageId: String",
    "VulnerableAssetContainer": (
        "ImageExternalId: String VmExternalId: String ServerlessContainer: Boolean "
        "PodNamespace: String PodName: String NodeName: String"
    ),
    "VulnerableAssetRepositoryBranch": "repositoryId: String repositoryName: String",
}

SDL += "".join(
    f"\ntype {name} implements VulnerableAssetBase {{{_ASSET_BASE_FIELDS}  {extra}\n}}\n"
    for name, extra in ASSET_TYPES.items()
)
SDL += f"\nunion VulnerableAsset = {' | '.join(ASSET_TYPES)}\n"
SDL += """
type VulnerabilityFinding {
  id: ID!
  portalUrl: String
  name: String
  CVEDescription: String
  CVSSSeverity: String
  score: Float
  exploitabilityScore: Float
  impactScore: Float
  dataSourceName: String
  hasExploit: Boolean
  hasCisaKevExploit: Boolean
  status: VulnerabilityFindingStatus!
  vendorSeverity: String
  firstDetectedAt: DateTime
  lastDetectedAt: DateTime
  updatedAt: DateTime
  resolvedAt: DateTime
  description: String
  remediation: String
  detailedName: String
  version: String
  fixedVersion: String
  detectionMethod: String
  link: String
  locationPath: String
  resolutionReason: String
  epssSeverity: String
  epssPercentile: Float
  epssProbability: Float
  validatedInRuntime: Boolean
  layerMetadata: LayerMetadata
  projects: [Project!]
  ignoreRules: [IgnoreRule!]
  vulnerableAsset: VulnerableAsset
}

type VulnerabilityFindingConnection {
  nodes: [VulnerabilityFinding!]
  pageInfo: PageInfo!
  totalCount: Int!
}
"""


# Wiz Defend detections: the fields the Elastic and SEKOIA collectors select (see
# wizwatch/poll/queries.py), typed as their test data shows them.
SDL += """
enum DetectionType { GENERATED_THREAT MATCH_ONLY }
enum DetectionSeverity { INFORMATIONAL LOW MEDIUM HIGH CRITICAL }
enum DetectionOrderField { CREATED_AT UPDATED_AT SEVERITY }
enum DescriptionFormat { MARKDOWN PLAIN_TEXT }

input DetectionTypeFilter { equals: [DetectionType!] }
input DetectionSeverityFilter { equals: [DetectionSeverity!] }
input DetectionFilters {
  id: [String!]
  createdAt: DateFilter
  updatedAt: DateFilter
  "Without it, Wiz serves only GENERATED_THREAT whenever any filterBy is sent."
  type: DetectionTypeFilter
  severity: DetectionSeverityFilter
}
input DetectionOrder { direction: OrderDirection! field: DetectionOrderField! }

type CloudAccountRef { id: ID externalId: String name: String cloudProvider: String }
type CloudOrganizationRef { id: ID externalId: String name: String cloudProvider: String }

type DetectionActor {
  id: ID
  name: String
  type: String
  nativeType: String
  email: String
  userAgent: String
  MFA: Boolean
  federated: Boolean
  friendlyName: String
  accessKeyId: String
  externalId: String
  providerUniqueId: String
  hasHighPrivileges: Boolean
  hasAdminPrivileges: Boolean
  hasHighKubernetesPrivileges: Boolean
  hasAdminKubernetesPrivileges: Boolean
  inactiveInLast90Days: Boolean
  actingAs: DetectionActor
  cloudAccount: CloudAccountRef
}

type DetectionResource {
  id: ID
  name: String
  externalId: String
  providerUniqueId: String
  type: String
  nativeType: String
  region: String
}

type RuntimeProgram { name: String }

type CloudEvent {
  id: ID!
  name: String
  description: String
  actorIP: String
  timestamp: DateTime
  rawAuditLogRecord: JSON
  commandLine: String
  runtimeProgram: RuntimeProgram
  parentRuntimeProgram: RuntimeProgram
}

union CloudEventSearchResult = CloudEvent

type CloudEventSearchResultConnection {
  nodes: [CloudEventSearchResult!]
  pageInfo: PageInfo
  totalCount: Int
  totalCountV2: Int
}

type DetectionRule {
  id: ID!
  name: String
  builtin: Boolean
  sourceType: String
  securitySubCategories: [SecuritySubCategory!]
}

type DetectionRuleMatch { rule: DetectionRule }

type Detection {
  id: ID!
  type: DetectionType!
  origins: [String!]
  createdAt: DateTime!
  updatedAt: DateTime!
  severity: DetectionSeverity!
  description(format: DescriptionFormat): String
  actors: [DetectionActor!]
  resources: [DetectionResource!]
  cloudAccounts: [CloudAccountRef!]
  cloudOrganizations: [CloudOrganizationRef!]
  primaryResource: DetectionResource
  primaryActor: DetectionActor
  issue: Issue
  triggeringEvents(first: Int): CloudEventSearchResultConnection
  ruleMatch: DetectionRuleMatch
}

type DetectionConnection {
  nodes: [Detection!]
  pageInfo: PageInfo!
  totalCount: Int!
}
"""

SDL += """
# --- cloud configuration findings ------------------------------------------------------------
# Fields: the union of what SEKOIA's, Elastic's, Cribl's and Cartography's queries select.

enum ConfigurationFindingStatus { OPEN IN_PROGRESS RESOLVED REJECTED }
enum CloudConfigurationRuleMatcherResult { PASS FAIL ERROR NOT_ASSESSED }
enum Severity { NONE INFORMATIONAL LOW MEDIUM HIGH CRITICAL }
enum ConfigurationFindingOrderField { FIRST_SEEN_AT ANALYZED_AT SEVERITY }

input ConfigurationFindingResourceFilters {
  id: [String!]
  "Project ids (the key Wiz really uses is unconfirmed; RegScale sends resource.projectId)."
  projectId: [String!]
}

input ConfigurationFindingFilters {
  id: [String!]
  status: [ConfigurationFindingStatus!]
  result: [CloudConfigurationRuleMatcherResult!]
  severity: [Severity!]
  analyzedAt: DateFilter
  updatedAt: DateFilter
  firstSeenAt: DateFilter
  includeDeleted: Boolean
  resource: ConfigurationFindingResourceFilters
  projectId: [String!]
}

input ConfigurationFindingOrder { direction: OrderDirection! field: ConfigurationFindingOrderField! }

type ResourceTag { key: String! value: String }
type CloudAccount { id: ID! name: String externalId: String cloudProvider: String }

type ConfigurationFindingResource {
  id: ID!
  providerId: String
  name: String
  nativeType: String
  type: String
  region: String
  cloudPlatform: String
  status: String
  subscription: CloudAccount
  projects: [Project!]
  tags: [ResourceTag!]
}

type CloudConfigurationFindingRule {
  id: ID!
  shortId: String
  graphId: String
  name: String
  description: String
  remediationInstructions: String
  functionAsControl: Boolean
}

type ConfigurationFindingEvidence {
  currentValue: String
  expectedValue: String
  configurationPath: String
  cloudConfigurationLink: String
}

type ConfigurationFinding {
  id: ID!
  name: String
  targetExternalId: String
  targetObjectProviderUniqueId: String
  deleted: Boolean
  firstSeenAt: DateTime
  analyzedAt: DateTime!
  updatedAt: DateTime
  severity: Severity
  result: CloudConfigurationRuleMatcherResult!
  status: ConfigurationFindingStatus
  remediation: String
  resource: ConfigurationFindingResource
  rule: CloudConfigurationFindingRule
  evidence: ConfigurationFindingEvidence
  securitySubCategories: [SecuritySubCategory!]
  ignoreRules: [IgnoreRule!]
}

type ConfigurationFindingConnection {
  nodes: [ConfigurationFinding!]
  pageInfo: PageInfo!
  totalCount: Int!
}
"""


def _parse_datetime_value(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime cannot represent a non string value: {value!r}")
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise GraphQLError(f"DateTime cannot represent an invalid date-time-string {value!r}.") from exc


def _parse_datetime_literal(node: ast.ValueNode, _variables: Any = None) -> datetime:
    if not isinstance(node, ast.StringValueNode):
        raise GraphQLError("DateTime cannot represent a non string value.", node)
    return _parse_datetime_value(node.value)


def _serialize_datetime(value: Any) -> str:
    return format_datetime(value) if isinstance(value, datetime) else str(value)


def _identity(value: Any) -> Any:
    return value


def _parse_json_literal(node: ast.ValueNode, variables: Any = None) -> Any:
    from graphql.utilities import value_from_ast_untyped

    return value_from_ast_untyped(node, variables)


def _customise(scalar: Any, serialize: Any, parse_value: Any, parse_literal: Any) -> None:
    """Give a built scalar its behaviour under both graphql-core 3.2 and 3.3 attribute names."""
    scalar.serialize = serialize
    scalar.parse_value = parse_value
    scalar.parse_literal = parse_literal
    if hasattr(scalar, "coerce_input_value"):  # graphql-core >= 3.3
        scalar.coerce_output_value = serialize
        scalar.coerce_input_value = parse_value


@lru_cache(maxsize=1)
def build() -> GraphQLSchema:
    """The schema, built once per process (building takes a few milliseconds)."""
    schema = build_schema(SDL)
    dt = schema.type_map["DateTime"]
    js = schema.type_map["JSON"]
    assert isinstance(dt, GraphQLScalarType) and isinstance(js, GraphQLScalarType)
    _customise(dt, _serialize_datetime, _parse_datetime_value, _parse_datetime_literal)
    _customise(js, _identity, _identity, _parse_json_literal)
    return schema
