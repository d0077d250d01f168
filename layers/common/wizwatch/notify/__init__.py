"""notify stage: alerts from the alert queue to SNS (JSON + e-mail text + filter attributes)."""
