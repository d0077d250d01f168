"""Panther's ``panther_base_helpers`` names, for rules written for Panther.

Rules do ``from panther_base_helpers import deep_get``; the implementations live in
``wizwatch.detect.helpers`` (owned by the rule engine).
"""

from wizwatch.detect.helpers import *  # noqa: F403
