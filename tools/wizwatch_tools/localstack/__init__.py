"""The embedded local stack: AWS on a moto server, resources from template.yaml, real handlers.

Used by ``wizwatch local ...``, ``make demo`` and the end-to-end tests (via tests/conftest.py).
"""

from __future__ import annotations

from wizwatch_tools.localstack.event_sources import DrainResult
from wizwatch_tools.localstack.invoke import CrashPointNotReached, CrashResult, HandlerError
from wizwatch_tools.localstack.provision import Provisioned, provision
from wizwatch_tools.localstack.recorder import AwsCall, Recorder
from wizwatch_tools.localstack.server import MotoServer
from wizwatch_tools.localstack.stack import LocalStack

__all__ = [
    "AwsCall",
    "CrashPointNotReached",
    "CrashResult",
    "DrainResult",
    "HandlerError",
    "LocalStack",
    "MotoServer",
    "Provisioned",
    "Recorder",
    "provision",
]
