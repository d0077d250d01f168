"""The Glue tables of template.yaml, generated from :mod:`tables` (so Athena and DuckDB agree).

``python -m wizwatch_tools.lake.glue`` prints the block; ``--write`` replaces it in template.yaml
between its BEGIN/END marker lines. ``tests/unit/lake/test_athena_template.py`` fails when the
template's tables differ from what this module generates (a schema or table added since).

Each table: JSON lines (OpenX SerDe: nested values come back as JSON text, keys matched
case-insensitively), gzip, partition projection on ``dt`` (a date from 2020-01-01 to tomorrow, one
day per partition, at ``lake/<table>/dt=<day>/``): no crawler, no partition to add or repair.
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


def table_yaml(table: str) -> str:
    cols = "\n".join(
        f'            - {{ Name: {name.lower()}, Type: "{kind}" }}' for name, kind in tables.columns(table)
    )
    where = f"lake/{table}/"
    return f"""  {logical_id(table)}:
    Type: AWS::Glue::Table
    Properties:
      CatalogId: !Ref AWS::AccountId
      DatabaseName: !Ref LakeDatabase
      TableInput:
        Name: {table}
        Description: Wizwatch lake table {table} (one normalised record per line, see README)
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
            SerializationLibrary: org.openx.data.jsonserde.JsonSerDe
          Columns:
{cols}
"""


def block() -> str:
    return "\n".join([BEGIN, *(table_yaml(t) for t in tables.ALL_TABLES), END])


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
