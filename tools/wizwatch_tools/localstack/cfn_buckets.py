"""Translators of S3 resources to the S3 API: buckets (versioning, encryption, public access
block, lifecycle, event notifications) and bucket policies."""

from __future__ import annotations

import json
from typing import Any

from wizwatch_tools.localstack.cfn import Provisioner


def create_bucket(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    name = prov.physical_name(lid, p.get("BucketName")).lower()
    s3 = prov.client("s3")
    s3.create_bucket(Bucket=name)
    if p.get("VersioningConfiguration"):
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": p["VersioningConfiguration"]["Status"]}
        )
    if p.get("BucketEncryption"):
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                        **({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}),
                    }
                    for r in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if p.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"]
        )
    if p.get("LifecycleConfiguration"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": _lifecycle_rules(p["LifecycleConfiguration"])}
        )
    if p.get("NotificationConfiguration"):
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=_notifications(p["NotificationConfiguration"])
        )
    prov.resolver.refs[lid] = name
    prov.resolver.attrs[(lid, "Arn")] = f"arn:aws:s3:::{name}"
    prov.resolver.attrs[(lid, "DomainName")] = f"{name}.s3.amazonaws.com"


def put_bucket_policy(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    doc = dict(p["PolicyDocument"])
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    # The local endpoint is plain HTTP, and moto enforces bucket policies: a TLS-only deny
    # would refuse every call. It is reported as skipped rather than silently dropped.
    kept = [st for st in statements if not _denies_plain_http(st)]
    if len(kept) < len(statements):
        prov.skipped[f"{lid}.TLS-only"] = "deny without aws:SecureTransport (the local endpoint is HTTP)"
    if kept:
        doc["Statement"] = kept
        prov.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(doc))
    prov.resolver.refs[lid] = p["Bucket"]


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    cond = statement.get("Condition", {}).get("Bool", {})
    return statement.get("Effect") == "Deny" and str(cond.get("aws:SecureTransport", "")).lower() == "false"


def _notifications(cfg: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration -> the S3 API's shape."""

    def filt(c: dict[str, Any]) -> dict[str, Any]:
        rules = c.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        return {"Filter": {"Key": {"FilterRules": rules}}} if rules else {}

    out: dict[str, Any] = {}
    for cfn_key, api_key, arn_key, target in (
        ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
        ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
    ):
        if cfg.get(cfn_key):
            out[api_key] = [{arn_key: c[target], "Events": [c["Event"]], **filt(c)} for c in cfg[cfn_key]]
    if cfg.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        out["EventBridgeConfiguration"] = {}
    return out


def _lifecycle_rules(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudFormation's LifecycleConfiguration.Rules -> the S3 API's rules."""
    rules = []
    for i, rule in enumerate(cfg.get("Rules", [])):
        out: dict[str, Any] = {"ID": rule.get("Id", f"rule-{i}"), "Status": rule["Status"]}
        out["Filter"] = {"Prefix": rule.get("Prefix", "")}
        if "Transitions" in rule:
            out["Transitions"] = [
                {"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
                for t in rule["Transitions"]
            ]
        if "ExpirationInDays" in rule:
            out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "NoncurrentVersionExpiration" in rule:
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
            }
        if "AbortIncompleteMultipartUpload" in rule:
            out["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            }
        rules.append(out)
    return rules
