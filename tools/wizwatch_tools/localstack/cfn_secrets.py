"""Translators of ``AWS::SecretsManager::Secret`` (given or generated values) and ``AWS::KMS::Key``."""

from __future__ import annotations

import json
import secrets
from typing import Any

from wizwatch_tools.localstack.cfn import Provisioner


def create_secret(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    name = prov.physical_name(lid, p.get("Name"))
    value = prov.secret_values.get(lid) or p.get("SecretString")
    if value is None:
        gen = p.get("GenerateSecretString", {})
        generated = secrets.token_hex(max(8, int(gen.get("PasswordLength", 32)) // 2))
        if "SecretStringTemplate" in gen:
            doc = json.loads(gen["SecretStringTemplate"])
            doc[gen["GenerateStringKey"]] = generated
            value = json.dumps(doc)
        else:
            value = generated
    arn = prov.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    prov.resolver.refs[lid] = arn
    prov.resolver.attrs[(lid, "Id")] = arn


def create_kms_key(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    meta = prov.client("kms").create_key(
        Description=str(p.get("Description", lid)), Policy=json.dumps(p["KeyPolicy"])
    )["KeyMetadata"]
    prov.resolver.refs[lid] = meta["KeyId"]
    prov.resolver.attrs[(lid, "Arn")] = meta["Arn"]
    prov.resolver.attrs[(lid, "KeyId")] = meta["KeyId"]
