"""The helpers rules import, for the engine's own use (``PantherEvent.deep_get``/``deep_walk``).

The implementations live in the layer's top-level ``panther_base_helpers`` module, which must
stay importable without Wizwatch (Panther's tool loads it for our rule tree); this module only
re-exports them beside the event classes rules may meet.
"""

from __future__ import annotations

from panther_base_helpers import (
    deep_get,
    deep_walk,
    get_val_from_list,
    is_base64,
    is_ip_in_network,
    pattern_match,
    pattern_match_list,
    resolve_timestamp_string,
)
from wizwatch.detect.event import ImmutableCaseInsensitiveDict, ImmutableList

__all__ = [
    "ImmutableCaseInsensitiveDict",
    "ImmutableList",
    "deep_get",
    "deep_walk",
    "get_val_from_list",
    "is_base64",
    "is_ip_in_network",
    "pattern_match",
    "pattern_match_list",
    "resolve_timestamp_string",
]
