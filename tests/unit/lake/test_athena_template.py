"""The Athena side of template.yaml: the Glue tables are the lake's, projected on dt; the workgroup
encrypts and caps; the saved queries name real tables and columns and filter on dt."""

from __future__ import annotations

import re
from typing import Any

from wizwatch.archive import lake
from wizwatch_tools.lake import glue, tables
from wizwatch_tools.localstack.cfn import load_template
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE

T = load_template(DEFAULT_TEMPLATE)
R = T["Resources"]


def of_type(kind: str) -> dict[str, Any]:
    return {lid: res["Properties"] for lid, res in R.items() if res["Type"] == kind}


def test_the_glue_tables_are_the_generated_ones() -> None:
    text = DEFAULT_TEMPLATE.read_text()
    assert glue.current_block(text) == glue.block(), "run: python -m wizwatch_tools.lake.glue --write"


def test_one_projected_table_per_contract_table_over_the_detectors_prefix() -> None:
    glue_tables = {p["TableInput"]["Name"]: p["TableInput"] for p in of_type("AWS::Glue::Table").values()}
    assert set(glue_tables) == set(tables.GLUE_TABLES) == {
        "wiz_audit", "wiz_issues", "wiz_vulnerability_findings", "wiz_detections", "wiz_issues_webhook",
        "wiz_cloud_configuration_findings", "alerts", "deliveries", "wiz_cloud_configuration_snapshots",
    }  # fmt: skip
    for name, t in glue_tables.items():
        if name in (tables.DELIVERIES, tables.SNAPSHOTS):
            continue
        params = t["Parameters"]
        assert params["projection.enabled"] == "true" and params["projection.dt.type"] == "date"
        assert params["projection.dt.format"] == "yyyy-MM-dd"
        template = params["storage.location.template"]["Fn::Sub"]
        folder = lake.lake_key(name, "DAY", "raw/Wiz.Audit/x.json.gz").rsplit("/", 1)[0]
        assert template == "s3://${RawBucket}/" + folder.replace("DAY", "${!dt}") + "/"
        assert t["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        sd = t["StorageDescriptor"]
        assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        columns = {c["Name"]: c["Type"] for c in sd["Columns"]}
        assert columns["p_event_time"] == "timestamp" and columns["p_source_key"] == "string"
        assert "dt" not in columns and all(n == n.lower() for n in columns)
    assert {"p_rule_id", "p_alert_id", "action", "severity"} <= {
        c["Name"] for c in glue_tables["alerts"]["StorageDescriptor"]["Columns"]
    }
    assert not of_type("AWS::Glue::Crawler") and not of_type("AWS::Glue::Partition")


def test_deliveries_and_snapshots_are_projected_over_their_own_prefixes() -> None:
    glue_tables = {p["TableInput"]["Name"]: p["TableInput"] for p in of_type("AWS::Glue::Table").values()}
    where = {
        tables.DELIVERIES: "s3://${RawBucket}/deliveries/dt=${!dt}/",
        tables.SNAPSHOTS: "s3://${RawBucket}/snapshots/Wiz.CloudConfigurationFinding/dt=${!dt}/",
    }
    for name, location in where.items():
        t = glue_tables[name]
        assert t["Parameters"]["projection.dt.type"] == "date"
        assert t["Parameters"]["storage.location.template"]["Fn::Sub"] == location
        assert t["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    # the delivery record's own fields (what the notifier writes), typed
    columns = {c["Name"]: c["Type"] for c in glue_tables["deliveries"]["StorageDescriptor"]["Columns"]}
    assert {"p_alert_id", "destination", "destination_type", "status", "error", "delivered_at"} <= set(
        columns
    )
    assert columns["attempts"] == columns["http_status"] == "bigint"
    # a snapshot folder's manifest.json is pretty-printed: its lines must read as NULL rows, not fail
    serde = glue_tables[tables.SNAPSHOTS]["StorageDescriptor"]["SerdeInfo"]
    assert serde["Parameters"] == {"ignore.malformed.json": "true"}
    [data] = glue_tables[tables.SNAPSHOTS]["StorageDescriptor"]["Columns"]
    assert data["Name"] == "data" and "nodes:array<struct<id:string," in data["Type"]
    # the posture view: the newest folder with a manifest, the same columns as wizwatch query's table
    view = R["LakeQueryPostureView"]["Properties"]["QueryString"]
    assert view.startswith(f"CREATE OR REPLACE VIEW {tables.POSTURE} AS")
    assert "manifest[.]json" in view and "max(" in view
    for name, _ in tables.columns(tables.POSTURE):
        assert re.search(rf"\b{name.lower()}\b", view), name


def test_the_workgroup_encrypts_results_and_caps_bytes_scanned() -> None:
    ((_, wg),) = of_type("AWS::Athena::WorkGroup").items()
    conf = wg["WorkGroupConfiguration"]
    assert conf["EnforceWorkGroupConfiguration"] is True
    assert conf["BytesScannedCutoffPerQuery"] == {"Ref": "LakeBytesScannedCutoff"}
    assert conf["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] in ("SSE_S3", "SSE_KMS")
    results = R["LakeResultsBucket"]["Properties"]
    assert results["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]
    assert all(results["PublicAccessBlockConfiguration"].values())


def test_no_role_gains_access_to_the_lake_beyond_the_detectors_writes() -> None:
    for lid, res in R.items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        text = str(res["Properties"])
        assert "athena:" not in text and "glue:" not in text, lid
        if "lake/" in text:
            assert lid == "DetectorRole"


#: query -> (table, columns it uses)
QUERIES = {
    "LakeQueryActionsByPrincipal": (
        "wiz_audit",
        {
            "action",
            "status",
            "sourceip",
            "user",
            "serviceaccount",
            "p_any_actor_ids",
            "p_any_usernames",
            "p_any_emails",
        },
    ),
    "LakeQueryLoginsFromIp": (
        "wiz_audit",
        {"action", "status", "sourceip", "user", "serviceaccount", "useragent"},
    ),
    "LakeQueryIssuesOnResource": (
        "wiz_issues",
        {"id", "severity", "status", "createdat", "sourcerule", "entitysnapshot"},
    ),
    "LakeQueryAlertsByRuleLastWeek": ("alerts", {"p_rule_id", "p_alert_type", "p_alert_id"}),
    "LakeQueryAlertsNotDelivered": ("alerts", {"p_rule_id", "p_alert_id"}),
    "LakeQueryPostureView": (tables.SNAPSHOTS, {"data"}),
}
#: Queries over a second table: (table, columns it uses there).
SECOND = {
    "LakeQueryAlertsNotDelivered": (
        "deliveries",
        {"p_alert_id", "destination", "status", "attempts", "error"},
    )
}


def test_saved_queries_use_real_columns_and_prune_on_dt() -> None:
    assert set(of_type("AWS::Athena::NamedQuery")) == set(QUERIES)
    for lid, (table, used) in QUERIES.items():
        q = R[lid]["Properties"]
        sql = q["QueryString"]
        assert re.search(rf"\bFROM {table}\b", sql), lid
        assert re.search(r"\bWHERE dt (BETWEEN|>=)", sql), lid  # projection prunes on dt
        columns = {name.lower() for name, _ in tables.columns(table)} | {"p_event_time"}
        assert used <= columns, (lid, used - columns)
        for word in used:
            assert re.search(rf'(\b|"){word}(\b|")', sql), (lid, word)
        assert q["Database"] == {"Ref": "LakeDatabase"} and q["WorkGroup"] == {"Ref": "LakeWorkGroup"}
        if lid in SECOND:
            other, used = SECOND[lid]
            assert re.search(rf"\bFROM {other}\s+WHERE dt >=", sql), lid
            assert used <= {name.lower() for name, _ in tables.columns(other)}
