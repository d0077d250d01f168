"""The Glue tables of template.yaml, generated from :mod:`tables` (so Athena and DuckDB agree).

``python -m wizwatch_tools.lake.glue`` prints the block; ``--write`` replaces it in template.yaml
between its BEGIN/END marker lines. ``tests/unit/lake/test_athena_template.py`` fails when the
template's tables differ from what this module generates (a schema or table added since).

Each table: JSON lines (OpenX SerDe: nested values come back as JSON text, keys matched
case-insensitively), gzip, partition projection on ``dt`` (a date from 2020-01-01 to tomorrow, one
day per partition, at ``lake/<table>/dt=<day>/``): no crawler, no partition to add or repair.

Contract extensions, same style: ``deliveries`` over ``deliveries/dt=<day>/`` (one delivery
record per object, in a folder per alert: Athena reads every object under a partition's prefix),
and ``wiz_cloud_configuration_snapshots`` over ``snapshots/Wiz.CloudConfigurationFinding/dt=<day>/``:
one row per raw page (the GraphQL answer, ``data.configurationfindings.nodes`` typed down to the
findings' fields) or per line of a snapshot's pretty-printed ``manifest.json`` (malformed JSON to
the SerDe, so ``ignore.malformed.json`` makes those all-NULL rows whose ``"$path"`` still says a
manifest is there). The posture view over it (newest snapshot with a manifest, ``p_snapshot_id``
from the folder name) is a saved query generated here too, since its columns are the findings'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wizwatch_tools.lake import tables

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
BEGIN = "  # BEGIN lake tables (generated: python -m wizwatch_tools.lake.glue --write; do not edit)"
END = "  # END lake tables"
PROJECTION_RANGE = "2020-01-01,NOW+1DAYS"


def logical_id(table: str) -> str:
    return "LakeTable" + "".join(part.capitalize() for part in table.split("_"))


DESCRIPTIONS = {
    tables.DELIVERIES: (
        "Wizwatch delivery records: one row per (alert, destination), dt = the alert's day (see README)"
    ),
    tables.SNAPSHOTS: (
        "Wizwatch posture snapshot pages: one row per raw page, dt = the snapshot's day (see README)"
    ),
}
#: Days a posture view looks back for the newest complete snapshot (one is taken every day).
POSTURE_LOOKBACK_DAYS = 7


def table_yaml(table: str) -> str:
    cols = "\n".join(
        f'            - {{ Name: {name.lower()}, Type: "{kind}" }}' for name, kind in tables.columns(table)
    )
    where = tables.prefix(table)
    description = DESCRIPTIONS.get(
        table, f"Wizwatch lake table {table} (one normalised record per line, see README)"
    )
    serde = (
        '\n            Parameters:\n              ignore.malformed.json: "true"'
        if table == tables.SNAPSHOTS
        else ""
    )
    return f"""  {logical_id(table)}:
    Type: AWS::Glue::Table
    Properties:
      CatalogId: !Ref AWS::AccountId
      DatabaseName: !Ref LakeDatabase
      TableInput:
        Name: {table}
        Description: "{description}"
        TableType: EXTERNAL_TABLE
        Parameters:
          classification: json
          compressionType: gzip
          projection.enabled: "true"
          projection.dt.type: date
          projection.dt.format: yyyy-MM-dd
          projection.dt.range: "{PROJECTION_RANGE}"
          projection.dt.interval: "1"
          projection.dt.interval.unit: DAYS
          storage.location.template: !Sub "s3://${{RawBucket}}/{where}dt=${{!dt}}/"
        PartitionKeys:
          - {{ Name: dt, Type: string }}
        StorageDescriptor:
          Location: !Sub "s3://${{RawBucket}}/{where}"
          InputFormat: org.apache.hadoop.mapred.TextInputFormat
          OutputFormat: org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat
          SerdeInfo:
            SerializationLibrary: org.openx.data.jsonserde.JsonSerDe{serde}
          Columns:
{cols}
"""


def posture_view_sql() -> str:
    """``CREATE OR REPLACE VIEW wiz_cloud_configuration_posture``: the findings of the newest
    snapshot folder holding a ``manifest.json`` (written after the last page) in the last
    :data:`POSTURE_LOOKBACK_DAYS` days; the same columns as ``wizwatch query``'s table."""
    names = [name.lower() for name, _ in tables.record_columns(tables.POSTURE_LOG_TYPE)]
    since = f"date_format(current_date - interval '{POSTURE_LOOKBACK_DAYS}' day, '%Y-%m-%d')"
    folder = "regexp_extract(p.path, '/dt=[^/]+/([^/]+)/[^/]+$', 1)"
    return f"""CREATE OR REPLACE VIEW {tables.POSTURE} AS
WITH pages AS (
  SELECT "$path" AS path, dt, data FROM {tables.SNAPSHOTS}
  WHERE dt >= {since}
), latest AS (
  SELECT max(regexp_extract(path, '/dt=[^/]+/([^/]+)/manifest[.]json$', 1)) AS p_snapshot_id
  FROM pages WHERE path LIKE '%/manifest.json'
)
SELECT {", ".join("f." + n for n in names)},
       l.p_snapshot_id, regexp_replace(p.path, '^s3://[^/]+/', '') AS p_source_key, p.dt
FROM pages p
JOIN latest l ON {folder} = l.p_snapshot_id
CROSS JOIN UNNEST(p.data.configurationfindings.nodes) AS f({", ".join(names)})"""


def posture_query_yaml() -> str:
    sql = "\n".join("        " + line for line in posture_view_sql().splitlines())
    view_description = (
        f"Run once: creates the view {tables.POSTURE}, the findings of the newest posture snapshot "
        f"with a manifest.json in the last {POSTURE_LOOKBACK_DAYS} days (see README)."
    )
    return f"""  LakeQueryPostureView:
    Type: AWS::Athena::NamedQuery
    Properties:
      Name: Wizwatch - create the posture view (newest complete snapshot)
      Description: "{view_description}"
      Database: !Ref LakeDatabase
      WorkGroup: !Ref LakeWorkGroup
      QueryString: |
{sql}
"""


def block() -> str:
    return "\n".join([BEGIN, *(table_yaml(t) for t in tables.GLUE_TABLES), posture_query_yaml(), END])


def current_block(template: str) -> str:
    start, end = template.index(BEGIN), template.index(END)
    return template[start : end + len(END)]


def write(path: Path = TEMPLATE) -> bool:
    text = path.read_text()
    new = text.replace(current_block(text), block())
    if new != text:
        path.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--write", action="store_true", help=f"replace the block in {TEMPLATE}")
    args = ap.parse_args(argv)
    if args.write:
        print("updated" if write() else "already up to date")
    else:
        print(block())
    return 0


if __name__ == "__main__":
    sys.exit(main())
