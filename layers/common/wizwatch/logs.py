"""The one logger every Wizwatch module writes to: Powertools Logger, JSON lines on stdout.

``from wizwatch.logs import logger`` everywhere (handlers decorate with
``logger.inject_lambda_context``). Structured fields go in ``extra=``; log lines never carry a
secret, a token or a whole record.

Two things the defaults get wrong, fixed here:

- **Level.** Powertools reads ``AWS_LAMBDA_LOG_LEVEL`` (Lambda's ``ApplicationLogLevel``), then
  ``POWERTOOLS_LOG_LEVEL``, then ``LOG_LEVEL`` (the template's ``LogLevel``) when a Logger is
  built; :func:`configure` re-reads them at each handler entry, with the service name
  (``POWERTOOLS_SERVICE_NAME``), because the local stack runs several functions in one process.
- **AWS SDK loggers stay at WARNING whatever the level.** Lambda's ``ApplicationLogLevel=DEBUG``
  sets the root logger to DEBUG, and botocore at DEBUG logs request and response bodies: the
  ``GetSecretValue`` answer (the Wiz client secret) would land in CloudWatch Logs. botocore,
  boto3, s3transfer and urllib3 get an explicit WARNING level of their own, so the root level
  no longer reaches them.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import IO, Any, cast

from aws_lambda_powertools import Logger

#: Libraries whose DEBUG/INFO output can carry request/response bodies (secrets, tokens).
QUIET_LIBRARIES = ("boto3", "botocore", "s3transfer", "urllib3")
SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"
DEFAULT_SERVICE = "wizwatch"


class _Stdout:
    """Whatever ``sys.stdout`` is when a line is written (Lambda: the log stream; the local stack
    and tests swap it per invocation), rather than the stream that was current at import."""

    def write(self, text: str) -> Any:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


#: The shared logger (Python logger name ``wizwatch``); ``service`` is a key of every line.
logger = Logger(service=DEFAULT_SERVICE, stream=cast(IO[str], _Stdout()))


def quiet_libraries() -> None:
    """Pin the AWS SDK and HTTP loggers at WARNING (idempotent, cheap)."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure() -> Logger:
    """Apply this function's service name and log level from the environment; returns the logger."""
    logger.append_keys(service=os.environ.get(SERVICE_ENV) or DEFAULT_SERVICE)
    logger.setLevel(None)  # Powertools: ALC level, else POWERTOOLS_LOG_LEVEL, else LOG_LEVEL, else INFO
    quiet_libraries()
    return logger


configure()
