"""Shared test setup: tests/naive.py on the import path and the one place for Hypothesis settings.

Profiles (choose with the environment variable ``VORTEXNUMBA_HYPOTHESIS``):

- ``ci`` (default): the suite's everyday budget, no deadline, no example database;
- ``thorough``: 25 times the examples, for a long run before a release
  (``VORTEXNUMBA_HYPOTHESIS=thorough pytest tests/test_theorems.py``);
- ``dev``: a fifth of the examples, for a quick edit-test loop.

Tests state their budget relative to the profile with :func:`examples`
(``@settings(max_examples=examples(10))``), never as a bare count.
"""

import os
import sys

from hypothesis import HealthCheck, settings

# tests/naive.py is imported as a plain module by every test file.
sys.path.insert(0, os.path.dirname(__file__))

_SCALE = {"ci": 1.0, "thorough": 25.0, "dev": 0.2}
_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
for _name, _scale in _SCALE.items():
    settings.register_profile(_name, max_examples=max(2, round(40 * _scale)), **_COMMON)

PROFILE = os.environ.get("VORTEXNUMBA_HYPOTHESIS", "ci")
if PROFILE not in _SCALE:
    raise ValueError(f"VORTEXNUMBA_HYPOTHESIS must be one of {sorted(_SCALE)}, got {PROFILE!r}")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """``n`` examples under the ``ci`` profile, scaled for the others (at least 2)."""
    return max(2, round(n * _SCALE[PROFILE]))
