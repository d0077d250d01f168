"""template.yaml's shape: resources and environments as documented, alarms that fit the
functions, encryption everywhere, suppressions with reasons, every parameter documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wizwatch.alerts.config import DetectorConfig
from wizwatch.config import describe
from wizwatch.logtypes import API_LOG_TYPES, DETECTIONS
from wizwatch.notify.handler import NotifierConfig
from wizwatch.poll.settings import PollerSettings
from wizwatch.webhook.config import WebhookConfig
from wizwatch_tools.localstack.cfn import Resolver, load_template
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE, REPO_ROOT

T = load_template(DEFAULT_TEMPLATE)
R = T["Resources"]
COMMON_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
CONTRACT_ENV = {
    "PollerFunction": {
        "WIZ_API_URL", "WIZ_TOKEN_URL", "WIZ_CREDENTIALS_SECRET", "WIZ_LOG_TYPES", "WIZ_PROJECT_IDS",
        "WIZ_INITIAL_LOOKBACK_HOURS", "WIZ_SETTLE_SECONDS", "WIZ_OVERLAP_SECONDS", "STATE_TABLE",
        "RAW_BUCKET",
        "WIZ_AUDIENCE",
        "WIZ_SNAPSHOT_LOG_TYPES", "WIZ_SNAPSHOT_HOUR_UTC",
    },
    "DetectorFunction": {"DEDUP_TABLE", "ALERT_QUEUE_URL", "RAW_BUCKET", "DESTINATIONS_FILE"},
    "NotifierFunction": {
        "ALERT_TOPIC_ARN", "DEDUP_TABLE", "DESTINATIONS_FILE", "DESTINATIONS_SECRET", "DELIVERY_QUEUE_URL",
        "DELIVERY_MAX_ATTEMPTS", "RAW_BUCKET",
    },
    "WebhookFunction": {"WEBHOOK_AUTH_SECRET", "RAW_BUCKET"},
}  # fmt: skip
SHORT = {"PollerFunction": "Poller", "DetectorFunction": "Detector", "NotifierFunction": "Notifier"}


def of_type(kind: str) -> dict[str, Any]:
    return {lid: res for lid, res in R.items() if res["Type"] == kind}


def test_cfn_lint_is_clean() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(DEFAULT_TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_logical_ids_and_types_are_the_documented_ones() -> None:
    expected = {
        "WizCredentialsSecret": "AWS::SecretsManager::Secret",
        "StateTable": "AWS::DynamoDB::Table",
        "RawBucket": "AWS::S3::Bucket",
        "RawObjectQueue": "AWS::SQS::Queue",
        "RawObjectDLQ": "AWS::SQS::Queue",
        "DedupTable": "AWS::DynamoDB::Table",
        "AlertQueue": "AWS::SQS::Queue",
        "AlertDLQ": "AWS::SQS::Queue",
        "AlertTopic": "AWS::SNS::Topic",
        "PollerFunction": "AWS::Serverless::Function",
        "DetectorFunction": "AWS::Serverless::Function",
        "NotifierFunction": "AWS::Serverless::Function",
        "CommonLayer": "AWS::Serverless::LayerVersion",
        "ConfigLayer": "AWS::Serverless::LayerVersion",
        "DestinationsSecret": "AWS::SecretsManager::Secret",
        "DeliveryQueue": "AWS::SQS::Queue",
        "DeliveryDLQ": "AWS::SQS::Queue",
    }
    assert {lid: R[lid]["Type"] for lid in expected} == expected
    dedup = R["DedupTable"]["Properties"]
    assert dedup["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert dedup["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert R["StateTable"]["Properties"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert R["CommonLayer"]["Metadata"]["BuildMethod"] == "python3.12"


@pytest.mark.parametrize("fn", sorted(CONTRACT_ENV))
def test_function_environment_is_the_contracts(fn: str) -> None:
    env = set(T["Globals"]["Function"]["Environment"]["Variables"]) | set(
        R[fn]["Properties"]["Environment"]["Variables"]
    )
    assert env == CONTRACT_ENV[fn] | COMMON_ENV


def test_every_config_variable_has_a_template_value_or_a_default() -> None:
    for fn, cls in (
        ("PollerFunction", PollerSettings),
        ("DetectorFunction", DetectorConfig),
        ("NotifierFunction", NotifierConfig),
        ("WebhookFunction", WebhookConfig),
    ):
        for env, default, _ in describe(cls):
            if default == "(required)":
                assert env in CONTRACT_ENV[fn], f"{fn} lacks required {env}"


def test_schedules_one_per_log_type_with_its_input() -> None:
    events = R["PollerFunction"]["Properties"]["Events"]
    inputs = {e["Properties"]["Input"] for e in events.values() if e["Type"] == "Schedule"}
    assert inputs == {f'{{"log_type": "{lt}"}}' for lt in API_LOG_TYPES} | {
        '{"log_type": "Wiz.CloudConfigurationFinding", "snapshot": true}'
    }


@pytest.mark.parametrize(
    ("params", "snapshot"),
    [
        ({}, True),
        ({"PostureSnapshot": "Disabled"}, False),
        ({"WizLogTypes": "Wiz.Audit,Wiz.Issues"}, False),  # no configuration findings, no snapshot
    ],
)
def test_posture_snapshot_schedule_env_and_alarm_follow_the_parameters(
    params: dict[str, str], snapshot: bool
) -> None:
    r = Resolver(T, {"WizApiUrl": "https://x/graphql", **params}, {})
    assert r.condition("TakePostureSnapshot") is snapshot
    sched = R["PollerFunction"]["Properties"]["Events"]["CloudConfigurationSnapshotSchedule"]["Properties"]
    assert r.resolve(sched["Enabled"]) is snapshot
    env = R["PollerFunction"]["Properties"]["Environment"]["Variables"]
    assert r.resolve(env["WIZ_SNAPSHOT_LOG_TYPES"]) == ("Wiz.CloudConfigurationFinding" if snapshot else "")
    assert R["PostureSnapshotStaleAlarm"]["Condition"] == "TakePostureSnapshot"


def test_snapshots_are_outside_raw_so_the_detector_never_sees_them() -> None:
    b = R["RawBucket"]["Properties"]
    rules = b["NotificationConfiguration"]["QueueConfigurations"][0]["Filter"]["S3Key"]["Rules"]
    assert rules == [{"Name": "prefix", "Value": "raw/"}]
    [expire] = [x for x in b["LifecycleConfiguration"]["Rules"] if x.get("Prefix") == "snapshots/"]
    assert expire["ExpirationInDays"] == {"Ref": "PostureSnapshotRetentionDays"}
    statements = R["PollerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [put] = [st for st in statements if st["Action"] == "s3:PutObject"]
    assert {"Fn::Sub": "${RawBucket.Arn}/snapshots/*"} in put["Resource"]


@pytest.mark.parametrize(
    ("log_types", "expected"),
    [
        (
            "Wiz.Audit,Wiz.Issues,Wiz.VulnerabilityFinding,Wiz.CloudConfigurationFinding",
            {"PollAudit", "PollIssues", "PollVulnerabilityFindings", "PollCloudConfigurationFindings"},
        ),
        ("Wiz.Audit", {"PollAudit"}),
        ("Wiz.VulnerabilityFinding,Wiz.Issues", {"PollIssues", "PollVulnerabilityFindings"}),
    ],
)
def test_log_type_conditions(log_types: str, expected: set[str]) -> None:
    r = Resolver(T, {"WizApiUrl": "https://x/graphql", "WizLogTypes": log_types}, {})
    names = ("PollAudit", "PollIssues", "PollVulnerabilityFindings", "PollCloudConfigurationFindings")
    assert {n for n in names if r.condition(n)} == expected


def test_queues_give_consumers_six_timeouts_of_visibility_and_a_dlq() -> None:
    for fn in SHORT:
        for event in R[fn]["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            props = R[queue]["Properties"]
            assert props["VisibilityTimeout"] >= 6 * R[fn]["Properties"]["Timeout"], queue
            assert "RedrivePolicy" in props, queue
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_each_function_has_a_composite_alarm_over_errors_throttles_and_duration() -> None:
    for fn, short in SHORT.items():
        composite = R[f"{short}HealthAlarm"]
        assert composite["Type"] == "AWS::CloudWatch::CompositeAlarm"
        rule = composite["Properties"]["AlarmRule"]["Fn::Sub"]
        for part in ("Errors", "Throttles", "Duration"):
            assert f'ALARM("${{{short}{part}Alarm}}")' in rule
        assert len(composite["Properties"]["AlarmDescription"]) > 80  # says what to do
        duration = R[f"{short}DurationAlarm"]["Properties"]
        assert duration["Threshold"] == int(R[fn]["Properties"]["Timeout"] * 1000 * 0.9)
        assert duration["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": fn}}]


def test_ingestion_alarms_per_log_type_treat_missing_data_as_breaching() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    for metric, missing in (
        ("RecordsArchived", "breaching"),
        ("PollHeartbeat", "breaching"),
        ("IngestionLagSeconds", "notBreaching"),
    ):
        watched = {
            next(d["Value"] for d in a["Properties"]["Dimensions"] if d["Name"] == "LogType"): a
            for a in alarms.values()
            if a["Properties"].get("MetricName") == metric
        }
        snapshot = {"Wiz.CloudConfigurationFinding/snapshot"} if metric == "IngestionLagSeconds" else set()
        # No stalled-ingestion alarm for Wiz.Detections: a day without a threat is normal.
        quiet = {DETECTIONS} if metric == "RecordsArchived" else set()
        assert set(watched) == (set(API_LOG_TYPES) | snapshot) - quiet, metric
        for alarm in watched.values():
            if alarm["Condition"] == "TakePostureSnapshot":
                continue  # the snapshot's age: missing data means the ticks stopped (breaching)
            assert alarm["Properties"]["TreatMissingData"] == missing
            assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}]
            assert alarm["Condition"].startswith("Poll")


def test_quarantined_records_of_every_log_type_are_watched() -> None:
    [alarm] = [
        a["Properties"]
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "RecordsQuarantined"
    ]
    # The detector's total (service only: no LogType), so a pushed or future type is watched too.
    assert alarm["Namespace"] == "Wizwatch"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "detector"}]
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "OpsTopic"}]
    for words in ("quarantine/<LogType>/", "reason", "raw object", "MAX_PAGE_MB", "wizwatch eval"):
        assert words in alarm["AlarmDescription"], words  # a runbook, not a label
    body = R["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert '"RecordsQuarantined"' in body and 'MetricName=\\"RecordsQuarantined\\"' in body


def test_dead_letter_queues_and_alert_age_are_watched() -> None:
    watched = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert watched == {
        ("ApproximateNumberOfMessagesVisible", "RawObjectDLQ"),
        ("ApproximateNumberOfMessagesVisible", "AlertDLQ"),
        ("ApproximateNumberOfMessagesVisible", "DeliveryDLQ"),
        ("ApproximateAgeOfOldestMessage", "AlertQueue"),
    }


def test_everything_at_rest_is_encrypted() -> None:
    for lid, q in of_type("AWS::SQS::Queue").items():
        assert q["Properties"].get("SqsManagedSseEnabled") or q["Properties"].get("KmsMasterKeyId"), lid
    for lid, t in of_type("AWS::SNS::Topic").items():
        assert t["Properties"].get("KmsMasterKeyId"), lid
    for lid, t in of_type("AWS::DynamoDB::Table").items():
        assert t["Properties"]["SSESpecification"]["SSEEnabled"] is True, lid


def test_bucket_is_private_versioned_tls_only_and_tiers_raw_pages() -> None:
    b = R["RawBucket"]["Properties"]
    assert b["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(b["PublicAccessBlockConfiguration"].values()) and len(b["PublicAccessBlockConfiguration"]) == 4
    assert b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    [raw_rule] = [r for r in b["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "raw/"]
    assert raw_rule["Transitions"][0]["TransitionInDays"] == {"Ref": "ArchiveTransitionDays"}
    [deny] = R["RawBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_checkov_suppression_gives_a_reason() -> None:
    skips = [
        (lid, s) for lid, res in R.items() for s in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for lid, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (lid, skip)
        assert len(skip.get("comment", "")) >= 30, (lid, skip)


def test_readme_documents_every_parameter_and_variable() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for name in T["Parameters"]:
        assert f"`{name}`" in readme, name
    for cls in (PollerSettings, DetectorConfig, NotifierConfig, WebhookConfig):
        for env, _, _ in describe(cls):
            assert f"`{env}`" in readme, env


def test_samconfig_example_sets_only_real_parameters() -> None:
    text = (REPO_ROOT / "samconfig.toml.example").read_text()
    names = set(re.findall(r'"(\w+)=', text))
    assert names and names <= set(T["Parameters"])


def test_destinations_are_configured_from_the_config_layer_and_retried_as_the_queue_allows() -> None:
    layer = R["ConfigLayer"]
    assert "BuildMethod" not in layer.get("Metadata", {})  # shipped as is: /opt/<file>
    shipped = REPO_ROOT / layer["Properties"]["ContentUri"] / "destinations.yml"
    assert shipped.is_file()
    assert {"Ref": "ConfigLayer"} in T["Globals"]["Function"]["Layers"]
    for fn in ("DetectorFunction", "NotifierFunction"):
        assert R[fn]["Properties"]["Environment"]["Variables"]["DESTINATIONS_FILE"] == "/opt/destinations.yml"
    notifier = R["NotifierFunction"]["Properties"]
    # the code's last attempt is the redrive's last receive: both come from one parameter
    assert notifier["Environment"]["Variables"]["DELIVERY_MAX_ATTEMPTS"] == {"Ref": "DeliveryMaxAttempts"}
    assert R["DeliveryQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == {
        "Ref": "DeliveryMaxAttempts"
    }
    assert notifier["Events"]["Deliveries"]["Properties"]["BatchSize"] == 1
    # a message's retention counts from its first enqueue, in the DLQ too
    dlq, queue = R["DeliveryDLQ"]["Properties"], R["DeliveryQueue"]["Properties"]
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_the_template_never_allows_plain_http_destinations() -> None:
    text = (REPO_ROOT / "template.yaml").read_text()
    assert "DESTINATIONS_ALLOW_LOOPBACK_HTTP" not in text


def test_each_delivery_failure_class_has_an_alarm() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    rejected = alarms["DeliveryRejectedAlarm"]["Properties"]
    assert rejected["MetricName"] == "DeliveryFailures"
    assert {"Name": "FailureClass", "Value": "rejected"} in rejected["Dimensions"]
    assert alarms["DeliveryDLQAlarm"]["Properties"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["DeliveryDLQ", "QueueName"]
    }
    assert alarms["AlertDLQAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}]


def test_webhook_exists_only_when_switched_on_and_is_least_privilege() -> None:
    webhook = {
        lid for lid, res in R.items() if lid.startswith("Webhook") and res["Type"] != "AWS::CloudWatch::Alarm"
    }
    assert webhook >= {
        "WebhookAuthSecret", "WebhookRole", "WebhookLogGroup", "WebhookFunction", "WebhookFunctionUrl",
        "WebhookUrlInvokePermission", "WebhookFunctionInvokePermission",
    }  # fmt: skip
    for lid in webhook:
        assert R[lid]["Condition"] == "WebhookEnabled", lid
    for value, enabled in (("None", False), ("FunctionUrl", True)):
        r = Resolver(T, {"WizApiUrl": "https://x/graphql", "WebhookEndpoint": value}, {})
        assert r.condition("WebhookEnabled") is enabled
    url = R["WebhookFunctionUrl"]["Properties"]
    assert url["AuthType"] == "NONE" and url["TargetFunctionArn"] == {
        "Fn::GetAtt": ["WebhookFunction", "Arn"]
    }
    # AWS since October 2025: a NONE-auth URL needs both permissions, both limited to the URL.
    perms = {R[p]["Properties"]["Action"]: R[p]["Properties"] for p in webhook if p.endswith("Permission")}
    assert perms["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    assert perms["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
    statements = R["WebhookRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    code = {st["Sid"]: st for st in statements if st["Sid"].startswith("Code")}
    assert code["CodeReadWebhookCredentials"]["Resource"] == {"Ref": "WebhookAuthSecret"}
    puts = [r["Fn::Sub"] for r in code["CodeArchivePushedBodies"]["Resource"]]
    assert puts == [
        "${RawBucket.Arn}/raw/Wiz.IssuesWebhook/dt=*/pushed/*",
        "${RawBucket.Arn}/raw/Wiz.Detections/dt=*/pushed/*",
    ]


@pytest.mark.parametrize(("reserved", "expected"), [("5", 5), ("0", None)])
def test_webhook_reserved_concurrency_is_a_parameter_and_0_leaves_it_unreserved(
    reserved: str, expected: int | None
) -> None:
    r = Resolver(
        T,
        {"WizApiUrl": "https://x", "WebhookEndpoint": "FunctionUrl", "WebhookReservedConcurrency": reserved},
        {},
    )
    value = r.resolve({"v": R["WebhookFunction"]["Properties"]["ReservedConcurrentExecutions"]})
    assert (int(value["v"]) if "v" in value else None) == expected


def test_webhook_alarms_watch_the_function_url() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    assert alarms["Webhook5xxAlarm"]["Properties"]["MetricName"] == "Url5xxCount"
    assert alarms["Webhook4xxAlarm"]["Properties"]["Threshold"] == {"Ref": "WebhookRefusedAlarmThreshold"}
    assert alarms["WebhookNoTrafficAlarm"]["Condition"] == "WebhookNoTrafficAlarmEnabled"
    assert alarms["WebhookNoTrafficAlarm"]["Properties"]["TreatMissingData"] == "breaching"
