"""Translators of SQS and SNS resources: queues, topics, subscriptions and their policies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from wizwatch_tools.localstack.cfn import Provisioner
from wizwatch_tools.localstack.clients import ACCOUNT_ID, REGION


def _str_attributes(attrs: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


def create_queue(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    fifo = bool(p.get("FifoQueue"))
    name = prov.physical_name(lid, p.pop("QueueName", None), ".fifo" if fifo else "")
    p.pop("Tags", None)
    sqs = prov.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=_str_attributes(p))["QueueUrl"]
    prov.resolver.refs[lid] = url
    prov.resolver.attrs[(lid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    prov.resolver.attrs[(lid, "QueueName")] = name
    prov.resolver.attrs[(lid, "QueueUrl")] = url


def put_queue_policy(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    for url in p["Queues"]:
        prov.client("sqs").set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])}
        )
    prov.resolver.refs[lid] = lid


def create_topic(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    name = prov.physical_name(lid, p.get("TopicName"))
    attrs = {k: p[k] for k in ("DisplayName", "KmsMasterKeyId") if k in p}
    arn = prov.client("sns").create_topic(Name=name, Attributes=_str_attributes(attrs))["TopicArn"]
    for sub in p.get("Subscription", []):
        prov.client("sns").subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
    prov.resolver.refs[lid] = arn
    prov.resolver.attrs[(lid, "TopicArn")] = arn
    prov.resolver.attrs[(lid, "TopicName")] = name


def put_topic_policy(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    for arn in p["Topics"]:
        prov.client("sns").set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(p["PolicyDocument"])
        )
    prov.resolver.refs[lid] = lid


def subscribe(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    p = prov.resolver.resolve(props)
    attrs = {k: p[k] for k in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy") if k in p}
    arn = prov.client("sns").subscribe(
        TopicArn=p["TopicArn"],
        Protocol=p["Protocol"],
        Endpoint=p["Endpoint"],
        Attributes=_str_attributes(attrs),
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    prov.resolver.refs[lid] = arn
