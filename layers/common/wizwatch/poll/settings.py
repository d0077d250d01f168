"""The poller's configuration, read once per container from the Lambda environment.

Every problem is reported together at start-up (see :func:`wizwatch.config.load`) so a bad
deployment fails on its first invocation with a message naming each variable to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wizwatch.config import csv_list, load, setting
from wizwatch.errors import ConfigError
from wizwatch.logtypes import API_LOG_TYPES, CLOUD_CONFIGURATION_FINDING, DEFAULT_POLLED_LOG_TYPES
from wizwatch.poll.queries import CONFIGURATION_DELTA_FIELDS, QuerySpec, spec_for

#: Log types with a daily full-posture snapshot (wizwatch.poll.snapshot).
SNAPSHOT_LOG_TYPES = (CLOUD_CONFIGURATION_FINDING,)

#: Wiz keeps audit entries for 180 days; asking further back returns nothing or errors.
AUDIT_RETENTION_SECONDS = 180 * 24 * 3600

#: Token URL host -> OAuth audience, as Wiz's own clients map them.
COGNITO_HOSTS = frozenset(
    {"auth.app.wiz.io", "auth.gov.wiz.io", "auth.app.wiz.us", "auth.test.wiz.io", "auth.demo.wiz.io"}
)
AUTH0_HOSTS = frozenset({"auth.wiz.io", "auth0.gov.wiz.io"})


def normalise_api_url(url: str) -> str:
    """Accept the endpoint pasted with or without ``/graphql`` and a trailing slash."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("expected an URL like https://api.us17.app.wiz.io/graphql")
    if not url.endswith("/graphql"):
        url += "/graphql"
    return url


def _url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("expected an URL like https://auth.app.wiz.io/oauth/token")
    return value.strip()


def audience_for(token_url: str, override: str | None) -> str:
    """The OAuth audience for ``token_url``; unknown hosts need an explicit WIZ_AUDIENCE."""
    if override:
        return override
    host = (urlsplit(token_url).hostname or "").lower()
    if host in COGNITO_HOSTS:
        return "wiz-api"
    if host in AUTH0_HOSTS:
        return "beyond-api"
    raise ConfigError(
        f"WIZ_AUDIENCE is required: the token URL host {host!r} is not a known Wiz auth host "
        f"(Cognito: {', '.join(sorted(COGNITO_HOSTS))} -> wiz-api; legacy Auth0: "
        f"{', '.join(sorted(AUTH0_HOSTS))} -> beyond-api); set WIZ_AUDIENCE to the audience your "
        "token endpoint expects"
    )


def _log_types(value: str) -> list[str]:
    types = csv_list(value)
    unknown = [t for t in types if t not in API_LOG_TYPES]
    if unknown:
        raise ValueError(f"unknown log type(s) {unknown}; choose from {', '.join(API_LOG_TYPES)}")
    if not types:
        raise ValueError("no log type selected")
    return types


@dataclass(frozen=True)
class PollerSettings:
    """Everything the poller reads from its environment."""

    api_url: str = setting(
        "WIZ_API_URL",
        "the tenant's GraphQL endpoint, e.g. https://api.us17.app.wiz.io/graphql",
        parse=normalise_api_url,
    )
    token_url: str = setting(
        "WIZ_TOKEN_URL", "the OAuth token URL, e.g. https://auth.app.wiz.io/oauth/token", parse=_url
    )
    credentials_secret: str = setting(
        "WIZ_CREDENTIALS_SECRET",
        'Secrets Manager id or ARN of a secret {"client_id": ..., "client_secret": ...}',
    )
    state_table: str = setting("STATE_TABLE", "DynamoDB table holding the token and cursors (HASH pk)")
    raw_bucket: str = setting("RAW_BUCKET", "S3 bucket of the raw archive")
    log_types: list[str] = setting(
        "WIZ_LOG_TYPES",
        "comma list of log types to poll when the event names none",
        default=list(DEFAULT_POLLED_LOG_TYPES),
        parse=_log_types,
    )
    project_ids: list[str] = setting(
        "WIZ_PROJECT_IDS", "comma list of Wiz project ids to restrict issues and findings to", default=[]
    )
    project_filter_key_issues: str = setting(
        "WIZ_PROJECT_FILTER_KEY_ISSUES",
        "filterBy key of issuesV2 used for WIZ_PROJECT_IDS (not publicly confirmed)",
        default="project",
    )
    project_filter_key_findings: str = setting(
        "WIZ_PROJECT_FILTER_KEY_FINDINGS",
        "filterBy key of vulnerabilityFindings used for WIZ_PROJECT_IDS (not publicly confirmed)",
        default="projectId",
    )
    project_filter_key_configuration: str = setting(
        "WIZ_PROJECT_FILTER_KEY_CONFIGURATION",
        "filterBy key of configurationFindings used for WIZ_PROJECT_IDS; dotted keys nest (not publicly"
        " confirmed: RegScale's client sends resource.projectId)",
        default="resource.projectId",
    )
    configuration_delta_field: str = setting(
        "WIZ_CONFIGURATION_DELTA_FIELD",
        "the configurationFindings field incremental windows filter on: updatedAt (changes only; Elastic,"
        " Cartography) or analyzedAt (every re-assessment; SEKOIA)",
        default="updatedAt",
    )
    snapshot_log_types: list[str] = setting(
        "WIZ_SNAPSHOT_LOG_TYPES",
        "comma list of log types that also get a daily full-posture snapshot under snapshots/"
        " (only Wiz.CloudConfigurationFinding supports it; empty: none)",
        default=[],
    )
    snapshot_hour_utc: int = setting(
        "WIZ_SNAPSHOT_HOUR_UTC", "hour of the UTC day from which each day's snapshot is taken", default=2
    )
    initial_lookback_hours: float = setting(
        "WIZ_INITIAL_LOOKBACK_HOURS",
        "how far back the first run of a log type starts (audit is clamped to 180 days)",
        default=24.0,
    )
    settle_seconds: int = setting(
        "WIZ_SETTLE_SECONDS", "how far behind now a window ends, so late records are visible", default=120
    )
    overlap_seconds: int = setting(
        "WIZ_OVERLAP_SECONDS",
        "how far before the last window's end the next window starts; Wiz indexes some records minutes"
        " after their timestamp, and settle + overlap is how late a record may be and still be read",
        default=1200,
    )
    max_window_seconds: int = setting(
        "WIZ_MAX_WINDOW_SECONDS", "longest time window one query covers", default=3600
    )
    audience: str | None = setting(
        "WIZ_AUDIENCE",
        "OAuth audience; derived from WIZ_TOKEN_URL for Wiz's own auth hosts, required otherwise",
        default=None,
    )
    requests_per_second: float = setting(
        "WIZ_REQUESTS_PER_SECOND",
        "API request budget shared by all log types (Wiz asks for fewer than 3/s)",
        default=2.0,
    )
    http_timeout_seconds: float = setting(
        "WIZ_HTTP_TIMEOUT_SECONDS", "longest wait for one API answer", default=60.0
    )
    max_attempts: int = setting(
        "WIZ_MAX_ATTEMPTS", "tries per request on throttling, 5xx, time-outs and INTERNAL", default=6
    )
    retry_base_seconds: float = setting(
        "WIZ_RETRY_BASE_SECONDS", "first back-off delay; doubles per retry, with jitter", default=1.0
    )
    retry_max_seconds: float = setting("WIZ_RETRY_MAX_SECONDS", "longest single back-off", default=30.0)
    token_refresh_seconds: int = setting(
        "WIZ_TOKEN_REFRESH_SECONDS", "refresh the token this long before it expires", default=300
    )
    lease_seconds: int = setting(
        "WIZ_LEASE_SECONDS",
        "cursor lease length, renewed on every page; a crashed run's lease lapses after this",
        default=120,
    )
    time_reserve_seconds: float = setting(
        "WIZ_TIME_RESERVE_SECONDS",
        "Lambda time kept free at the end of a run to save the cursor and flush metrics",
        default=10.0,
    )
    page_size: int = setting("WIZ_PAGE_SIZE", "records per page (Wiz caps issues at 500)", default=500)
    _audience: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        for name, value, low in (
            ("WIZ_SETTLE_SECONDS", self.settle_seconds, 0),
            ("WIZ_OVERLAP_SECONDS", self.overlap_seconds, 0),
            ("WIZ_MAX_WINDOW_SECONDS", self.max_window_seconds, 1),
            ("WIZ_MAX_ATTEMPTS", self.max_attempts, 1),
            ("WIZ_LEASE_SECONDS", self.lease_seconds, 1),
        ):
            if value < low:
                problems.append(f"{name} must be >= {low} (got {value})")
        if self.overlap_seconds >= self.max_window_seconds:
            problems.append(
                "WIZ_OVERLAP_SECONDS must be smaller than WIZ_MAX_WINDOW_SECONDS, or windows never advance"
            )
        if not 0 < self.requests_per_second <= 50:
            problems.append("WIZ_REQUESTS_PER_SECOND must be in (0, 50]; Wiz asks for fewer than 3/s")
        if self.initial_lookback_hours <= 0:
            problems.append("WIZ_INITIAL_LOOKBACK_HOURS must be > 0")
        if not 1 <= self.page_size <= 500:
            problems.append("WIZ_PAGE_SIZE must be between 1 and 500")
        if self.configuration_delta_field not in CONFIGURATION_DELTA_FIELDS:
            problems.append(
                f"WIZ_CONFIGURATION_DELTA_FIELD must be one of {', '.join(CONFIGURATION_DELTA_FIELDS)}"
                f" (got {self.configuration_delta_field!r})"
            )
        unsupported = [t for t in self.snapshot_log_types if t not in SNAPSHOT_LOG_TYPES]
        if unsupported:
            problems.append(
                f"WIZ_SNAPSHOT_LOG_TYPES: no snapshot for {unsupported};"
                f" supported: {', '.join(SNAPSHOT_LOG_TYPES)}"
            )
        if not 0 <= self.snapshot_hour_utc <= 23:
            problems.append(f"WIZ_SNAPSHOT_HOUR_UTC must be 0..23 (got {self.snapshot_hour_utc})")
        if self.http_timeout_seconds <= 0:
            problems.append("WIZ_HTTP_TIMEOUT_SECONDS must be > 0")
        try:
            object.__setattr__(self, "_audience", audience_for(self.token_url, self.audience))
        except ConfigError as exc:
            problems.append(str(exc))
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def oauth_audience(self) -> str:
        """The audience sent with every token request."""
        return self._audience

    def project_filter_key(self, log_type: str) -> str | None:
        """The configured filterBy key for project ids, None where projects do not apply."""
        from wizwatch.logtypes import CLOUD_CONFIGURATION_FINDING, ISSUES, VULNERABILITY_FINDING

        return {
            ISSUES: self.project_filter_key_issues,
            VULNERABILITY_FINDING: self.project_filter_key_findings,
            CLOUD_CONFIGURATION_FINDING: self.project_filter_key_configuration,
        }.get(log_type)

    def query_spec(self, log_type: str) -> QuerySpec:
        """The query spec of ``log_type`` as configured (the configurable delta field applied)."""
        from wizwatch.logtypes import CLOUD_CONFIGURATION_FINDING

        delta = self.configuration_delta_field if log_type == CLOUD_CONFIGURATION_FINDING else None
        return spec_for(log_type, delta)


def load_settings(environ: dict[str, str] | None = None) -> PollerSettings:
    """Read and validate the poller's environment (raises ConfigError listing every problem)."""
    return load(PollerSettings, environ)
