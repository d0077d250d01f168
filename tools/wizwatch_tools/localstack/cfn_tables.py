"""Translator of ``AWS::DynamoDB::Table`` to the DynamoDB API (keys, indexes, billing, TTL)."""

from __future__ import annotations

from typing import Any

from wizwatch_tools.localstack.cfn import Provisioner


def create_table(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    name = prov.physical_name(lid, p.get("TableName"))
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": p["AttributeDefinitions"],
        "KeySchema": p["KeySchema"],
        "BillingMode": p.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = p.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in p:
            args[key] = p[key]
    ddb = prov.client("dynamodb")
    desc = ddb.create_table(**args)["TableDescription"]
    ttl = p.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    prov.resolver.refs[lid] = name
    prov.resolver.attrs[(lid, "Arn")] = desc["TableArn"]
    prov.resolver.attrs[(lid, "StreamArn")] = desc.get("LatestStreamArn", "")
