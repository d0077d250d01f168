"""Create template.yaml's resources on an AWS endpoint (the moto server) from their definitions.

moto's CloudFormation skips or ignores several resource types, and SAM's transform is not run at
all, so each resource type the handlers touch has a small translator here from its CloudFormation
properties to the service API. Nothing is listed twice: tables, queues, bucket notifications and
function environments all come from the template; IAM roles and policies too
(:mod:`wizwatch_tools.localstack.roles`: the handlers run under them when the server enforces IAM).
Types without a translator (layers, log groups, alarms, dashboards) are reported as skipped and
get a placeholder for ``Ref``/``GetAtt``.
A layer the template ships unbuilt (no ``BuildMethod``, e.g. the config layer) is mounted at
``/opt`` in Lambda: environment values under ``/opt/`` are pointed at its local folder instead.
"""

from __future__ import annotations

import functools
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from wizwatch_tools.localstack import roles
from wizwatch_tools.localstack.cfn import Resolver, TemplateError, load_template, references

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
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


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source of a function, as Lambda's event source mapping would poll it."""

    queue_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Schedule:
    """One EventBridge schedule of a function: the constant input it sends."""

    name: str
    expression: str
    input: dict[str, Any]
    enabled: bool


@dataclass
class FunctionSpec:
    """What Lambda would know about a function: code, handler, limits, environment, triggers."""

    logical_id: str
    name: str  # short name: poller | detector | notifier
    function_name: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    schedules: list[Schedule] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    #: ReservedConcurrentExecutions (None: unreserved); the local webhook URL throttles beyond it.
    reserved_concurrency: int | None = None
    #: The execution role's ARN (its ``Role`` property); "" when the template gives none.
    role_arn: str = ""


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


@functools.lru_cache(maxsize=64)
def aws_client(service: str, endpoint: str, credentials: roles.Credentials | None = None) -> Any:
    """A boto3 client on ``endpoint`` with the local stack's fixed region; signed with
    ``credentials`` (e.g. a function's role) or else the dummy credentials, which on an
    IAM-enforcing local server are the administrator's.

    Cached: creating a client loads botocore's service model (tens of milliseconds), and clients
    are thread-safe, so every stack on the same endpoint shares them.
    """
    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id
        if credentials
        else DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=(
            credentials.secret_access_key if credentials else DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        ),
        aws_session_token=credentials.session_token if credentials else None,
        region_name=REGION,
    ).client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def _short_name(logical_id: str) -> str:
    return logical_id.removesuffix("Function").lower()


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

    def _name(self, logical_id: str, given: Any, suffix: str = "") -> str:
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

    # ---- translators -----------------------------------------------------------------------
    def table(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        name = self._name(lid, p.get("TableName"))
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
        ddb = self.client("dynamodb")
        desc = ddb.create_table(**args)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        self.resolver.refs[lid] = name
        self.resolver.attrs[(lid, "Arn")] = desc["TableArn"]
        self.resolver.attrs[(lid, "StreamArn")] = desc.get("LatestStreamArn", "")

    def bucket(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        name = self._name(lid, p.get("BucketName")).lower()
        s3 = self.client("s3")
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
                            **(
                                {"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}
                            ),
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
        self.resolver.refs[lid] = name
        self.resolver.attrs[(lid, "Arn")] = f"arn:aws:s3:::{name}"
        self.resolver.attrs[(lid, "DomainName")] = f"{name}.s3.amazonaws.com"

    def bucket_policy(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        doc = dict(p["PolicyDocument"])
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        # The local endpoint is plain HTTP, and moto enforces bucket policies: a TLS-only deny
        # would refuse every call. It is reported as skipped rather than silently dropped.
        kept = [st for st in statements if not _denies_plain_http(st)]
        if len(kept) < len(statements):
            self.skipped[f"{lid}.TLS-only"] = "deny without aws:SecureTransport (the local endpoint is HTTP)"
        if kept:
            doc["Statement"] = kept
            self.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(doc))
        self.resolver.refs[lid] = p["Bucket"]

    def queue(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        fifo = bool(p.get("FifoQueue"))
        name = self._name(lid, p.pop("QueueName", None), ".fifo" if fifo else "")
        p.pop("Tags", None)
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=_str_attributes(p))["QueueUrl"]
        self.resolver.refs[lid] = url
        self.resolver.attrs[(lid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        self.resolver.attrs[(lid, "QueueName")] = name
        self.resolver.attrs[(lid, "QueueUrl")] = url

    def queue_policy(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        for url in p["Queues"]:
            self.client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])}
            )
        self.resolver.refs[lid] = lid

    def topic(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        name = self._name(lid, p.get("TopicName"))
        attrs = {k: p[k] for k in ("DisplayName", "KmsMasterKeyId") if k in p}
        arn = self.client("sns").create_topic(Name=name, Attributes=_str_attributes(attrs))["TopicArn"]
        for sub in p.get("Subscription", []):
            self.client("sns").subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        self.resolver.refs[lid] = arn
        self.resolver.attrs[(lid, "TopicArn")] = arn
        self.resolver.attrs[(lid, "TopicName")] = name

    def topic_policy(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        for arn in p["Topics"]:
            self.client("sns").set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(p["PolicyDocument"])
            )
        self.resolver.refs[lid] = lid

    def subscription(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        attrs = {k: p[k] for k in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy") if k in p}
        arn = self.client("sns").subscribe(
            TopicArn=p["TopicArn"],
            Protocol=p["Protocol"],
            Endpoint=p["Endpoint"],
            Attributes=_str_attributes(attrs),
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self.resolver.refs[lid] = arn

    def secret(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        name = self._name(lid, p.get("Name"))
        value = self.secret_values.get(lid) or p.get("SecretString")
        if value is None:
            gen = p.get("GenerateSecretString", {})
            generated = secrets.token_hex(max(8, int(gen.get("PasswordLength", 32)) // 2))
            if "SecretStringTemplate" in gen:
                doc = json.loads(gen["SecretStringTemplate"])
                doc[gen["GenerateStringKey"]] = generated
                value = json.dumps(doc)
            else:
                value = generated
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        self.resolver.refs[lid] = arn
        self.resolver.attrs[(lid, "Id")] = arn

    def kms_key(self, lid: str, props: dict[str, Any]) -> None:
        p = self.resolver.resolve(props)
        meta = self.client("kms").create_key(
            Description=str(p.get("Description", lid)), Policy=json.dumps(p["KeyPolicy"])
        )["KeyMetadata"]
        self.resolver.refs[lid] = meta["KeyId"]
        self.resolver.attrs[(lid, "Arn")] = meta["Arn"]
        self.resolver.attrs[(lid, "KeyId")] = meta["KeyId"]

    def function(self, lid: str, props: dict[str, Any]) -> None:
        glob = (self.template.get("Globals") or {}).get("Function", {}) or {}
        r = self.resolver.resolve

        def prop(key: str, default: Any) -> Any:
            return r(props[key]) if key in props else r(glob.get(key, default))

        env = dict(r(glob.get("Environment", {}).get("Variables", {})))
        env.update(r(props.get("Environment", {}).get("Variables", {})))
        env = self._mount_layers(env, [*glob.get("Layers", []), *props.get("Layers", [])])
        name = str(r(props["FunctionName"])) if "FunctionName" in props else f"{self.stack_name}-{lid}"
        spec = FunctionSpec(
            logical_id=lid,
            name=_short_name(lid),
            function_name=name,
            code_dir=(self.template_path.parent / str(prop("CodeUri", "."))).resolve(),
            handler=str(prop("Handler", "app.handler")),
            timeout=int(prop("Timeout", 3)),
            memory=int(prop("MemorySize", 128)),
            environment={k: _env_str(v) for k, v in env.items()},
            role_arn=str(r(props["Role"])) if "Role" in props else "",
        )
        reserved = (
            r(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
        )
        spec.reserved_concurrency = (
            int(reserved) if isinstance(reserved, int | str) and str(reserved) else None
        )
        for ev_name, ev in (props.get("Events") or {}).items():
            ev_props = ev.get("Properties", {})
            if ev["Type"] in ("Schedule", "ScheduleV2"):
                enabled = r(ev_props.get("Enabled", True))
                if "State" in ev_props:
                    enabled = r(ev_props["State"]) == "ENABLED"
                spec.schedules.append(
                    Schedule(
                        name=ev_name,
                        expression=str(r(ev_props.get("Schedule", ev_props.get("ScheduleExpression")))),
                        input=json.loads(r(ev_props.get("Input", "{}"))),
                        enabled=str(enabled).lower() == "true",
                    )
                )
            elif ev["Type"] == "SQS":
                arn = r(ev_props["Queue"])
                queue_id = next(q for (q, att), v in self.resolver.attrs.items() if att == "Arn" and v == arn)
                spec.queue_sources.append(
                    QueueSource(
                        queue_id=queue_id,
                        queue_url=self.resolver.refs[queue_id],
                        queue_arn=arn,
                        batch_size=int(r(ev_props.get("BatchSize", 10))),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in r(ev_props.get("FunctionResponseTypes", [])),
                    )
                )
        self.functions[spec.name] = spec
        self.resolver.refs[lid] = name
        self.resolver.attrs[(lid, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"

    def _mount_layers(self, env: dict[str, Any], layers: list[Any]) -> dict[str, Any]:
        """``/opt/<path>`` values -> the local folder of the unbuilt layer that holds ``<path>``
        (SAM merges the global and the function's ``Layers``; Lambda extracts them to /opt)."""
        folders = []
        for ref in layers:
            lid = ref.get("Ref") if isinstance(ref, dict) else None
            res = self.template["Resources"].get(lid or "", {})
            if res.get("Type") == "AWS::Serverless::LayerVersion" and "BuildMethod" not in res.get(
                "Metadata", {}
            ):
                folders.append(self.template_path.parent / str(res["Properties"]["ContentUri"]))
        out = dict(env)
        for key, value in env.items():
            if isinstance(value, str) and value.startswith("/opt/"):
                rest = value[len("/opt/") :]
                found = next((f / rest for f in folders if (f / rest).exists()), None)
                if found is not None:
                    out[key] = str(found.resolve())
        return out


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    cond = statement.get("Condition", {}).get("Bool", {})
    return statement.get("Effect") == "Deny" and str(cond.get("aws:SecureTransport", "")).lower() == "false"


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


_TRANSLATORS: dict[str, Callable[[_Provisioner, str, dict[str, Any]], None]] = {
    "AWS::DynamoDB::Table": _Provisioner.table,
    "AWS::S3::Bucket": _Provisioner.bucket,
    "AWS::S3::BucketPolicy": _Provisioner.bucket_policy,
    "AWS::SQS::Queue": _Provisioner.queue,
    "AWS::SQS::QueuePolicy": _Provisioner.queue_policy,
    "AWS::SNS::Topic": _Provisioner.topic,
    "AWS::SNS::TopicPolicy": _Provisioner.topic_policy,
    "AWS::SNS::Subscription": _Provisioner.subscription,
    "AWS::SecretsManager::Secret": _Provisioner.secret,
    "AWS::KMS::Key": _Provisioner.kms_key,
    "AWS::IAM::Role": roles.create_role,
    "AWS::IAM::Policy": roles.put_policy,
    "AWS::Serverless::Function": _Provisioner.function,
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
