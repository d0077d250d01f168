"""Dedup/threshold windows and event idempotency in DynamoDB (see ``store`` for the why)."""
