"""Helpers of Wizwatch's Wiz.VulnerabilityFinding rules."""

from panther_base_helpers import resolve_timestamp_string


def finding_time(event, field):
    """A finding timestamp as an aware datetime (None when absent or unparseable)."""
    return resolve_timestamp_string(event.get(field))


def asset_label(event):
    asset = event.get("vulnerableAsset") or {}
    return asset.get("name") or asset.get("providerUniqueId") or asset.get("id") or "<unknown asset>"


def is_internet_exposed(event):
    asset = event.get("vulnerableAsset") or {}
    return bool(asset.get("hasWideInternetExposure") or asset.get("hasLimitedInternetExposure"))


def finding_context(event):
    asset = event.get("vulnerableAsset") or {}
    return {
        "finding_id": event.get("id"),
        "cve": event.get("name"),
        "package": event.get("detailedName"),
        "version": event.get("version"),
        "fixed_version": event.get("fixedVersion"),
        "cvss_severity": event.get("CVSSSeverity"),
        "score": event.get("score"),
        "epss_percentile": event.get("epssPercentile"),
        "has_exploit": event.get("hasExploit"),
        "has_cisa_kev_exploit": event.get("hasCisaKevExploit"),
        "asset_id": asset.get("id"),
        "asset_name": asset.get("name"),
        "asset_type": asset.get("type"),
        "asset_provider_id": asset.get("providerUniqueId"),
        "subscription": asset.get("subscriptionExternalId"),
        "wide_internet_exposure": asset.get("hasWideInternetExposure"),
        "limited_internet_exposure": asset.get("hasLimitedInternetExposure"),
        "first_detected_at": event.get("firstDetectedAt"),
        "portal_url": event.get("portalUrl"),
    }
