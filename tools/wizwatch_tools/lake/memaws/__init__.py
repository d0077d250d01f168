"""In-memory S3, SQS and DynamoDB clients, so the detector's own code runs without AWS.

``wizwatch replay`` (and the benchmark of the detector's path) hand these to
:class:`wizwatch.alerts.detector.Detector` and :class:`wizwatch.dedup.store.DedupStore` in place
of boto3 clients: same method names, same request and response shapes, same errors
(``botocore.exceptions.ClientError`` with AWS's codes and, for cancelled transactions,
``CancellationReasons``).

Why not moto in-process: every call would go through botocore's serialisation and moto's
parsing, and moto deep-copies the whole table once per item of a transaction (see
``bench/detector.py``), so a month of replay would slow down as its dedup table grows. Here a
call is a dictionary operation, and the dedup table stays as small as in DynamoDB: items whose
``expires_at`` has passed are swept (what DynamoDB's TTL does; the store never relies on
either, every condition compares the time itself).

Only what the detector uses is implemented, and strictly: condition and update expressions are
parsed and evaluated by DynamoDB's grammar (comparisons, BETWEEN, IN, AND/OR/NOT, parentheses,
``attribute_exists``/``attribute_not_exists``/``begins_with``/``contains``/``size``; SET with
``+``/``-``/``if_not_exists``, REMOVE, ADD of numbers) on top-level attributes; DynamoDB's limits
that the store designs around are enforced (100 items and one operation per item in a
transaction, 400 KB per item, 100 keys per BatchGetItem, no duplicate keys). Anything else raises
``NotImplementedError`` naming it, so a change in the store fails loudly rather than replaying
differently. ``tests/unit/lake/test_memaws.py`` runs the same store scenarios on moto and here.

The clients live in ``dynamodb`` (with ``expressions``: the grammar, item sizes, limits) and
``s3sqs``; this package re-exports them, so ``wizwatch_tools.lake.memaws.MemoryS3`` and the
rest keep their import path.
"""

from __future__ import annotations

from wizwatch_tools.lake.memaws.dynamodb import MemoryDynamoDB
from wizwatch_tools.lake.memaws.expressions import item_size
from wizwatch_tools.lake.memaws.s3sqs import MemoryS3, MemorySQS

__all__ = ["MemoryDynamoDB", "MemoryS3", "MemorySQS", "item_size"]
