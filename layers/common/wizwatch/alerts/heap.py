"""The detector container's garbage-collector setting, applied once the cold start has loaded
everything that lives as long as the container (modules, rules, clients).

* ``gc.freeze()`` after a collection of the young generations moves every object alive at that point into the
  permanent generation (Python's ``gc`` docs: "freeze all the objects tracked by gc ... ignored
  for all future collections"; the pre-fork pattern of Instagram and gunicorn's ``preload``).
  The rules, their compiled selectors and the imported modules are tens of thousands of
  container objects; without it every full collection during a page walks all of them again.
  Reference counting still frees frozen objects that become unreachable: only a frozen *cycle*
  that later becomes garbage is never reclaimed, and the cold start leaves none behind on purpose.
* A larger first-generation threshold: a page allocates a burst of short-lived containers (each
  record's dicts and lists, rule results) that reference counting frees; the default (700
  allocations) runs a young collection every few records to find cycles that are not there.
  :data:`GEN0_THRESHOLD` keeps young collections, a few per page instead of hundreds; the older
  generations' thresholds are Python's defaults.

Measured with the production-path bench (``wizwatch_tools.bench``, which applies this through
:func:`settle`, as the Lambda does), CPU µs per event, medians of 3 single-type runs, default ->
this setting: Wiz.Audit 66 -> 61, Wiz.Detections 1216 -> 1074 (first pass), Wiz.Issues within
noise. Disabling the collector altogether measured no better than this threshold (the collector's
share of a page is gone), and 50,000 or 100,000 no better than 10,000. The gunzip+JSON floor in
the same process gains relatively more (Audit 4.4 -> 3.1), so the bench's ratios do not improve.

Only the two young generations are collected before freezing (measured at the detector's cold
start with the bundled rules: a full ``gc.collect()`` found 0 unreachable objects among ~51,000
and cost 16-18 ms CPU, a sixth of ``import boto3``; ``gc.collect(1)`` costs 0.1 ms). Cyclic garbage
made during the cold start is young, so it is still collected; only a cycle that became garbage
after being promoted to the oldest generation would stay frozen, which the cold start does not
make (a one-time, bounded leak if some rule's import did).
"""

from __future__ import annotations

import gc

#: Allocations (minus deallocations) between young collections; Python's default is 700.
GEN0_THRESHOLD = 10_000


def settle() -> None:
    """Collect the young generations, freeze what survived, raise the young-generation threshold
    (idempotent)."""
    gc.collect(1)
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
