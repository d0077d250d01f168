"""Create template.yaml's resources on an AWS endpoint (the moto server) from their definitions.

moto's CloudFormation skips or ignores several resource types, and SAM's transform is not run at
all, so each resource type the handlers touch has a small translator from its CloudFormation
properties to the service API: S3 (:mod:`.cfn_buckets`), DynamoDB (:mod:`.cfn_tables`), SQS and
SNS (:mod:`.cfn_messaging`), Secrets Manager and KMS (:mod:`.cfn_secrets`), IAM
(:mod:`.roles`: the handlers run under the roles when the server enforces IAM) and functions
(:mod:`.cfn_functions`). This module orders the resources by their references, runs the
translators and collects what was made. Nothing is listed twice: tables, queues, bucket
notifications and function environments all come from the template.
Types without a translator (layers, log groups, alarms, dashboards) are reported as skipped and
get a placeholder for ``Ref``/``GetAtt``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from wizwatch_tools.localstack import cfn_buckets, cfn_messaging, cfn_secrets, cfn_tables, roles
from wizwatch_tools.localstack.cfn import Resolver, TemplateError, load_template, references
from wizwatch_tools.localstack.cfn_functions import FunctionSpec, read_function
from wizwatch_tools.localstack.clients import ACCOUNT_ID, DUMMY_CREDENTIALS, REGION, aws_client

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

#: Friendly names of the resources tests and the demo look up (logical IDs from ARCHITECTURE.md).
FRIENDLY_NAMES = {
    "RawBucket": "bucket",
    "StateTable": "state_table",
    "DedupTable": "dedup_table",
    "RawObjectQueue": "raw_queue_url",
    "RawObjectDLQ": "raw_dlq_url",
    "AlertQueue": "alert_queue_url",
    "AlertDLQ": "alert_dlq_url",
    "AlertTopic": "alert_topic_arn",
    "WizCredentialsSecret": "secret_id",
    "OpsTopic": "ops_topic_arn",
    "DeliveryQueue": "delivery_queue_url",
    "DeliveryDLQ": "delivery_dlq_url",
    "DestinationsSecret": "destinations_secret_id",
    "WebhookAuthSecret": "webhook_secret_id",
}
ALERT_TOPIC = "AlertTopic"


@dataclass
class Provisioned:
    """The outcome of provisioning: physical IDs, friendly resource names and the functions."""

    endpoint: str
    stack_name: str
    region: str
    template_path: Path
    physical: dict[str, Any]
    resources: dict[str, str]
    functions: dict[str, FunctionSpec]
    skipped: dict[str, str]
    #: Resolves intrinsics of any part of the template against what was created (e.g. IAM policies).
    resolver: Resolver

    def summary(self) -> dict[str, Any]:
        """The JSON printed by ``wizwatch local provision``."""
        return {
            "functions": {name: fn.environment for name, fn in self.functions.items()},
            "resources": self.resources,
            "physical": self.physical,
            "skipped": self.skipped,
            "endpoint": self.endpoint,
            "region": self.region,
            "stack_name": self.stack_name,
        }


class _Provisioner:
    def __init__(
        self,
        endpoint: str,
        template_path: Path,
        parameters: Mapping[str, str],
        stack_name: str,
        secret_values: Mapping[str, str],
    ) -> None:
        self.endpoint = endpoint
        self.template_path = template_path
        self.template = load_template(template_path)
        self.stack_name = stack_name
        stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"wizwatch-local/{stack_name}")
        pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/{stack_uuid}",
        }
        self.resolver = Resolver(self.template, parameters, pseudo)
        self.secret_values = dict(secret_values)
        self.skipped: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}

    def client(self, service: str) -> Any:
        return aws_client(service, self.endpoint)

    def physical_name(self, logical_id: str, given: Any, suffix: str = "") -> str:
        return str(given) if given else f"{self.stack_name}-{logical_id}{suffix}"

    # ---- ordering ------------------------------------------------------------------------
    def order(self) -> list[str]:
        resources = self.template["Resources"]
        deps: dict[str, set[str]] = {}
        for lid, spec in resources.items():
            depends = spec.get("DependsOn", [])
            depends = [depends] if isinstance(depends, str) else list(depends)
            deps[lid] = (references(spec.get("Properties", {})) | set(depends)) & set(resources)
        done: list[str] = []
        visiting: set[str] = set()

        def visit(lid: str) -> None:
            if lid in done:
                return
            if lid in visiting:
                raise TemplateError(f"circular dependency through {lid}")
            visiting.add(lid)
            for dep in sorted(deps[lid]):
                visit(dep)
            visiting.discard(lid)
            done.append(lid)

        for lid in resources:
            visit(lid)
        return done

    def run(self) -> Provisioned:
        resources = self.template["Resources"]
        for lid in self.order():
            spec = resources[lid]
            if "Condition" in spec and not self.resolver.condition(spec["Condition"]):
                self.skipped[lid] = f"{spec['Type']} (condition {spec['Condition']} is false)"
                continue
            translator = _TRANSLATORS.get(spec["Type"])
            if translator is None:
                self.skipped[lid] = spec["Type"]
                self.resolver.refs[lid] = f"local-placeholder-{lid}"
                continue
            try:
                translator(self, lid, spec.get("Properties", {}) or {})
            except (ClientError, BotoCoreError) as exc:
                raise TemplateError(f"creating {lid} ({spec['Type']}) failed: {exc}") from exc
        physical = dict(self.resolver.refs)
        for lid in self.skipped:
            physical.pop(lid, None)
        friendly = {FRIENDLY_NAMES[lid]: str(v) for lid, v in physical.items() if lid in FRIENDLY_NAMES}
        return Provisioned(
            endpoint=self.endpoint,
            stack_name=self.stack_name,
            region=REGION,
            template_path=self.template_path,
            physical=physical,
            resources=friendly,
            functions=self.functions,
            skipped=self.skipped,
            resolver=self.resolver,
        )


_TRANSLATORS: dict[str, Callable[[_Provisioner, str, dict[str, Any]], None]] = {
    "AWS::DynamoDB::Table": cfn_tables.create_table,
    "AWS::S3::Bucket": cfn_buckets.create_bucket,
    "AWS::S3::BucketPolicy": cfn_buckets.put_bucket_policy,
    "AWS::SQS::Queue": cfn_messaging.create_queue,
    "AWS::SQS::QueuePolicy": cfn_messaging.put_queue_policy,
    "AWS::SNS::Topic": cfn_messaging.create_topic,
    "AWS::SNS::TopicPolicy": cfn_messaging.put_topic_policy,
    "AWS::SNS::Subscription": cfn_messaging.subscribe,
    "AWS::SecretsManager::Secret": cfn_secrets.create_secret,
    "AWS::KMS::Key": cfn_secrets.create_kms_key,
    "AWS::IAM::Role": roles.create_role,
    "AWS::IAM::Policy": roles.put_policy,
    "AWS::Serverless::Function": read_function,
}


def provision(
    endpoint: str,
    *,
    template_path: str | Path = DEFAULT_TEMPLATE,
    parameters: Mapping[str, str] | None = None,
    stack_name: str = "wizwatch",
    secret_values: Mapping[str, str] | None = None,
    subscribe_alerts: bool = True,
) -> Provisioned:
    """Create the template's resources on ``endpoint``; return what was made.

    ``secret_values`` maps a secret's logical ID to its secret string (e.g. the simulator's
    client credentials). ``subscribe_alerts`` adds a local-only SQS queue subscribed to the
    alert topic, so the demo and tests can read what SNS delivered.
    """
    if roles.enforcing(endpoint):
        # Provisioning runs as the administrator, whose key is the one these clients sign with.
        roles.ensure_admin(
            endpoint, DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"], DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        )
    prov = _Provisioner(
        endpoint, Path(template_path).resolve(), parameters or {}, stack_name, secret_values or {}
    )
    result = prov.run()
    if subscribe_alerts and ALERT_TOPIC in result.physical:
        sqs, sns = prov.client("sqs"), prov.client("sns")
        name = f"{stack_name}-alerts-subscription"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        sns.subscribe(
            TopicArn=result.physical[ALERT_TOPIC],
            Protocol="sqs",
            Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}",
        )
        result.resources["alerts_subscription_queue_url"] = url
    return result
