"""Vulnerability findings (``Wiz.VulnerabilityFinding``), each on a ``__typename``-tagged asset."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from wizwatch_tools.simulator.datagen.actors import PROJECTS, rand_ip, rand_token, rand_uuid
from wizwatch_tools.simulator.timestamps import format_datetime

_PACKAGES = [
    ("libtiff", "4.0.3-35.amzn2", "4.0.3-35.amzn2.0.1", "Amazon Linux 2"),
    ("openjdk-11-jdk", "11.0.25+9-1ubuntu1~22.04", None, "Ubuntu 22.04.3"),
    ("openssl", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.15", "Ubuntu 22.04.3"),
    ("log4j-core", "2.14.1", "2.17.1", "Java"),
    ("glibc", "2.26-62.amzn2", "2.26-64.amzn2", "Amazon Linux 2"),
]
_CVSS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def _asset(rng: random.Random) -> dict[str, Any]:
    typename = rng.choices(
        [
            "VulnerableAssetVirtualMachine",
            "VulnerableAssetContainerImage",
            "VulnerableAssetServerless",
            "VulnerableAssetContainer",
        ],
        [50, 25, 10, 15],
    )[0]
    account = f"{rng.randint(10**11, 10**12 - 1)}"
    region = rng.choice(["us-east-1", "eu-west-1", "us-west-2"])
    instance = f"i-{rand_token(rng, 17, '0123456789abcdef')}"
    asset: dict[str, Any] = {
        "__typename": typename,
        "id": rand_uuid(rng),
        "type": {
            "VulnerableAssetVirtualMachine": "VIRTUAL_MACHINE",
            "VulnerableAssetContainerImage": "CONTAINER_IMAGE",
            "VulnerableAssetServerless": "SERVERLESS",
            "VulnerableAssetContainer": "CONTAINER",
        }[typename],
        "name": f"asset-{rand_token(rng, 6)}",
        "region": region,
        "providerUniqueId": f"arn:aws:ec2:{region}:{account}:instance/{instance}",
        "cloudProviderURL": f"https://{region}.console.aws.amazon.com/ec2/v2/home?region={region}",
        "cloudPlatform": "AWS",
        "status": "Active",
        "subscriptionName": rng.choice(["prod", "staging", "wiz-integrations"]),
        "subscriptionExternalId": account,
        "subscriptionId": rand_uuid(rng),
        "tags": {"Name": f"asset-{rand_token(rng, 4)}"},
        "hasLimitedInternetExposure": rng.random() < 0.3,
        "hasWideInternetExposure": rng.random() < 0.2,
        "isAccessibleFromVPN": rng.choice([False, None]),
        "isAccessibleFromOtherVnets": rng.choice([False, None]),
        "isAccessibleFromOtherSubscriptions": rng.choice([False, None]),
    }
    if typename == "VulnerableAssetVirtualMachine":
        asset.update(operatingSystem="Linux", ipAddresses=[rand_ip(rng)], imageName="ubuntu-jammy-22.04")
    elif typename == "VulnerableAssetContainerImage":
        asset["imageId"] = "sha256:" + rand_token(rng, 64, "0123456789abcdef")
    elif typename == "VulnerableAssetServerless":
        asset["runtime"] = rng.choice(["python3.12", "nodejs20.x", "java21"])
    else:
        asset.update(
            ImageExternalId="sha256:" + rand_token(rng, 64, "0123456789abcdef"),
            VmExternalId=instance,
            ServerlessContainer=False,
            PodNamespace=rng.choice(["default", "payments", "kube-system"]),
            PodName=f"api-{rand_token(rng, 5)}",
            NodeName=f"ip-10-0-{rng.randint(0, 255)}-{rng.randint(0, 255)}.ec2.internal",
        )
    return asset


def finding(rng: random.Random, detected: datetime, status: str = "OPEN") -> dict[str, Any]:
    """A new vulnerability finding first detected at ``detected`` (updatedAt = firstDetectedAt)."""
    pkg, version, fixed, os_name = rng.choice(_PACKAGES)
    cve = f"CVE-{rng.randint(2019, 2025)}-{rng.randint(1000, 49999)}"
    sev = rng.choice(_CVSS)
    fid = rand_uuid(rng)
    ts = format_datetime(detected)
    score = round(rng.uniform(2.0, 10.0), 1)
    return {
        "id": fid,
        "portalUrl": f"https://app.wiz.io/explorer/vulnerability-findings#~(entity~(~'{fid}*2cSECURITY_TOOL_FINDING))",
        "name": cve,
        "CVEDescription": f"A flaw in {pkg} allows a crafted input to cause a denial of service.",
        "CVSSSeverity": sev,
        "score": score,
        "exploitabilityScore": round(rng.uniform(0.5, 3.9), 1),
        "impactScore": round(rng.uniform(1.0, 6.0), 1),
        "dataSourceName": rng.choice([None, "Wiz Agentless"]),
        "hasExploit": rng.random() < 0.2,
        "hasCisaKevExploit": rng.random() < 0.05,
        "status": status,
        "vendorSeverity": sev,
        "firstDetectedAt": ts,
        "lastDetectedAt": ts,
        "updatedAt": ts,
        "resolvedAt": ts if status == "RESOLVED" else None,
        "description": f"The package `{pkg}` version `{version}` was detected on a machine running "
        f"`{os_name}` and is vulnerable to `{cve}`.",
        "remediation": f"Update {pkg} to {fixed}" if fixed else None,
        "detailedName": pkg,
        "version": version,
        "fixedVersion": fixed,
        "detectionMethod": "PACKAGE",
        "link": f"https://nvd.nist.gov/vuln/detail/{cve}",
        "locationPath": rng.choice([None, f"/usr/lib/{pkg}"]),
        "resolutionReason": None,
        "epssSeverity": rng.choice(["LOW", "MEDIUM", "HIGH"]),
        "epssPercentile": round(rng.uniform(0, 100), 1),
        "epssProbability": round(rng.uniform(0, 1), 3),
        "validatedInRuntime": rng.choice([None, True, False]),
        "layerMetadata": None
        if rng.random() < 0.6
        else {"id": rand_uuid(rng), "details": "RUN yum install", "isBaseLayer": rng.random() < 0.5},
        "projects": rng.choice([None, rng.sample(PROJECTS, rng.randint(1, 2))]),
        "ignoreRules": None,
        "vulnerableAsset": _asset(rng),
    }
