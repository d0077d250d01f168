"""``wizwatch test`` and ``wizwatch eval``: the rule developer's commands."""
