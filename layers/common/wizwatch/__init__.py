"""Wizwatch runtime: poll Wiz, archive raw pages, detect with Panther-compatible rules, alert.

The sub-packages follow the pipeline: ``poll`` -> ``archive`` -> ``parse`` -> ``detect`` ->
``dedup`` -> ``alerts`` -> ``notify``. Only runtime code lives here (it ships as the Lambda layer);
the simulator, local stack and CLI live in ``tools/wizwatch_tools``.
"""

__version__ = "0.1.0"
