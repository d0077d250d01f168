"""The lake's tables: names, columns, and how DuckDB sees them.

One row per record with the record's own top-level fields, the ``p_`` fields the detector added
and ``dt`` (the partition: the UTC date of ``p_event_time``). The table names and their log types
come from :data:`wizwatch.archive.lake.TABLES` (shared with the detector that writes the lake).

Columns are declared for Athena (the Glue tables in template.yaml, generated from here by
``python -m wizwatch_tools.lake.glue``): top-level scalars with their type from the log type's
pydantic model, nested objects and lists as ``string`` (the OpenX SerDe hands them over as JSON
text: ``json_extract_scalar(user, '$.name')``), ``p_event_time``/``p_parse_time`` as
``timestamp`` (Panther's ``YYYY-MM-DD HH:MM:SS.fffffffff`` is Hive's timestamp text). DuckDB
instead infers the columns from the files themselves (every top-level key, nested values as
STRUCT/LIST: ``user.name``), so a field Wiz adds tomorrow is queryable locally at once.

Contract extensions (README "Deliveries and the posture"): ``deliveries`` (columns = the fields of
the notifier's :class:`~wizwatch.notify.records.DeliveryRecord`, declared in both engines), and
the posture: ``wiz_cloud_configuration_posture`` locally (:mod:`posture`), over the Glue table
``wiz_cloud_configuration_snapshots`` (one row per raw snapshot page) in Athena.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from wizwatch.archive import lake
from wizwatch.archive.keys import DELIVERIES_PREFIX, SNAPSHOT_PREFIX
from wizwatch.logtypes import CLOUD_CONFIGURATION_FINDING
from wizwatch.notify.records import DeliveryRecord
from wizwatch.parse.schemas import MODELS

#: table -> log type (the inverse of the detector's mapping).
LOG_TYPE_OF: dict[str, str] = {table: log_type for log_type, table in lake.TABLES.items()}
ALERTS = lake.ALERTS_TABLE
#: Contract extensions (README): the notifier's delivery records, one row per (alert, destination),
#: partitioned by the alert's ``created_at`` date; ...
DELIVERIES = "deliveries"
#: ... the findings of the newest complete posture snapshot (DuckDB; in Athena a view over ...
POSTURE = "wiz_cloud_configuration_posture"
#: ... the Glue table of every snapshot page, one row per raw page or manifest line).
SNAPSHOTS = "wiz_cloud_configuration_snapshots"
POSTURE_LOG_TYPE = CLOUD_CONFIGURATION_FINDING
#: Where each non-lake table lives in the bucket (``dt=`` folders below).
PREFIXES: dict[str, str] = {
    DELIVERIES: DELIVERIES_PREFIX,
    SNAPSHOTS: f"{SNAPSHOT_PREFIX}{POSTURE_LOG_TYPE}/",
    POSTURE: f"{SNAPSHOT_PREFIX}{POSTURE_LOG_TYPE}/",
}
#: The tables ``wizwatch query`` knows.
ALL_TABLES: tuple[str, ...] = (*lake.TABLES.values(), ALERTS, DELIVERIES, POSTURE)
#: The Glue tables of template.yaml (the posture is a view over SNAPSHOTS there).
GLUE_TABLES: tuple[str, ...] = (*lake.TABLES.values(), ALERTS, DELIVERIES, SNAPSHOTS)

#: Fields of log types whose schema module has no model yet (seen in peers' records, wiz-api.md).
FIELDS_WITHOUT_MODEL: dict[str, tuple[tuple[str, str], ...]] = {
    "Wiz.CloudConfigurationFinding": (
        ("id", "string"),
        ("targetExternalId", "string"),
        ("targetObjectProviderUniqueId", "string"),
        ("deleted", "boolean"),
        ("analyzedAt", "string"),
        ("firstSeenAt", "string"),
        ("severity", "string"),
        ("result", "string"),
        ("status", "string"),
        ("remediation", "string"),
        ("resource", "string"),
        ("rule", "string"),
        ("securitySubCategories", "string"),
    ),
}

_ARRAY = "array<string>"
#: The p_ fields of every lake row, in Panther's order (``p_source_key``: the raw object).
P_COLUMNS: tuple[tuple[str, str], ...] = (
    ("p_log_type", "string"),
    ("p_event_time", "timestamp"),
    ("p_parse_time", "timestamp"),
    ("p_row_id", "string"),
    ("p_source_id", "string"),
    ("p_source_label", "string"),
    ("p_source_key", "string"),
    ("p_any_ip_addresses", _ARRAY),
    ("p_any_domain_names", _ARRAY),
    ("p_any_actor_ids", _ARRAY),
    ("p_any_usernames", _ARRAY),
    ("p_any_emails", _ARRAY),
)
#: What a matched event carries in addition (``alerts`` table).
ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("p_rule_id", "string"),
    ("p_alert_id", "string"),
    ("p_alert_type", "string"),
)
#: The partition column (not stored in the rows: it is the ``dt=`` folder).
PARTITION = ("dt", "string")

_SCALARS: dict[Any, str] = {str: "string", bool: "boolean", int: "bigint", float: "double"}
#: Hive type -> DuckDB type (for the typed empty table of a query that selects no partition).
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMP",
    _ARRAY: "VARCHAR[]",
}


def _hive_type(annotation: Any) -> str:
    """str/bool/int/float (optional or not) -> their Hive type; anything nested -> string."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        return _hive_type(typing.get_args(annotation)[0])
    return _SCALARS.get(annotation, "string")


def record_columns(log_type: str) -> list[tuple[str, str]]:
    """The record's own top-level fields (as Wiz spells them) with their Hive types."""
    model = MODELS.get(log_type)
    if model is None:
        return list(FIELDS_WITHOUT_MODEL.get(log_type, (("id", "string"),)))
    out = []
    for name, info in model.model_fields.items():
        out.append((info.alias or name, _hive_type(info.annotation)))
    return out


def prefix(table: str) -> str:
    """Where a table's ``dt=`` folders are: ``lake/<table>/``, ``deliveries/``, ``snapshots/<T>/``."""
    return PREFIXES.get(table) or lake.table_prefix(table)


#: Delivery-record fields the engines read as timestamps (ISO 8601 text with ``Z`` in the records).
DELIVERY_TIMES = ("updated_at", "delivered_at")
#: Columns of the posture (DuckDB table and Athena view) after the finding's own fields.
POSTURE_COLUMNS: tuple[tuple[str, str], ...] = (("p_snapshot_id", "string"), ("p_source_key", "string"))


def delivery_columns() -> list[tuple[str, str]]:
    """The fields of :class:`~wizwatch.notify.records.DeliveryRecord`, in its order."""
    hints = typing.get_type_hints(DeliveryRecord)
    return [(f.name, _hive_type(hints[f.name])) for f in dataclasses.fields(DeliveryRecord)]


def snapshot_page_type() -> str:
    """The Hive type of a raw snapshot page's ``data`` (the GraphQL answer), down to the findings."""
    fields = ",".join(f"{name.lower()}:{kind}" for name, kind in record_columns(POSTURE_LOG_TYPE))
    return f"struct<configurationfindings:struct<nodes:array<struct<{fields}>>>>"


def columns(table: str) -> list[tuple[str, str]]:
    """Every column of a table, partition excluded, in declaration order."""
    if table == DELIVERIES:
        return delivery_columns()
    if table == POSTURE:
        return [*record_columns(POSTURE_LOG_TYPE), *POSTURE_COLUMNS]
    if table == SNAPSHOTS:
        return [("data", snapshot_page_type())]
    if table == ALERTS:
        # Every log type's fields (a name two types give different types becomes string).
        merged: dict[str, tuple[str, str]] = {}  # lower-case name -> (name, type)
        for log_type in lake.TABLES:
            for name, kind in record_columns(log_type):
                seen = merged.get(name.lower())
                merged[name.lower()] = (
                    (name, kind) if seen is None or seen[1] == kind else (seen[0], "string")
                )
        return [*ALERT_COLUMNS, *merged.values(), *P_COLUMNS]
    if table not in LOG_TYPE_OF:
        raise ValueError(f"unknown table {table!r}; known: {', '.join(sorted({*ALL_TABLES, *GLUE_TABLES}))}")
    return [*record_columns(LOG_TYPE_OF[table]), *P_COLUMNS]


def duckdb_type(table: str, name: str, kind: str) -> str:
    """The DuckDB type of a declared column (delivery times are TIMESTAMP locally, text in Athena)."""
    if table == DELIVERIES and name in DELIVERY_TIMES:
        return "TIMESTAMP"
    return DUCKDB_TYPES.get(kind, "JSON")


def empty_select(table: str) -> str:
    """A typed, empty SELECT with the table's declared columns (no partition matched)."""
    cols = [f'CAST(NULL AS {duckdb_type(table, name, kind)}) AS "{name}"' for name, kind in columns(table)]
    cols.append(f'CAST(NULL AS VARCHAR) AS "{PARTITION[0]}"')
    return f"SELECT {', '.join(cols)} WHERE false"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def files_select(paths: list[str]) -> str:
    """A SELECT over lake JSON-lines files (gzip or not) with ``dt`` from their folders."""
    listing = "[" + ", ".join(_quote(p) for p in paths) + "]"
    return (
        "SELECT * REPLACE (CAST(p_event_time AS TIMESTAMP) AS p_event_time, "
        "CAST(p_parse_time AS TIMESTAMP) AS p_parse_time) "
        f"FROM read_json({listing}, format = 'newline_delimited', union_by_name = true, "
        "hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}, "
        "maximum_object_size = 67108864)"
    )


def deliveries_select(paths: list[str]) -> str:
    """A SELECT over delivery records (one JSON line per object) with ``dt`` from their folders.
    The columns are the record's fields, declared: a record written before a field existed reads
    it as NULL, and the two times are TIMESTAMP (UTC)."""
    listing = "[" + ", ".join(_quote(p) for p in paths) + "]"
    declared = ", ".join(
        f"{_quote(name)}: {_quote(duckdb_type(DELIVERIES, name, kind))}" for name, kind in columns(DELIVERIES)
    )
    return (
        f"SELECT * FROM read_json({listing}, format = 'newline_delimited', columns = {{{declared}}}, "
        "hive_partitioning = true, hive_types = {'dt': 'VARCHAR'})"
    )
