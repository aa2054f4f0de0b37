"""Shared test setup: tests/naive.py on the import path and the one place for Hypothesis settings.

Profiles (choose with the environment variable ``VORTEXNUMBA_HYPOTHESIS``):

- ``ci`` (default): the suite's everyday budget, no deadline, no example database;
- ``thorough``: 25 times the examples, for a long run before a release
  (``VORTEXNUMBA_HYPOTHESIS=thorough pytest tests/test_theorems.py``);
- ``dev``: a fifth of the examples, for a quick edit-test loop.

Tests state their budget relative to the profile with :func:`examples`
(``@settings(max_examples=examples(10))``), never as a bare count.

The fixture :func:`cli_run` runs the command line in-process and returns its
exit status and what it printed; every CLI test uses it.
"""

import contextlib
import io
import os
import sys
from typing import NamedTuple

import pytest
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


class CliResult(NamedTuple):
    """What one run of the command line gave: ``code, out, err = cli_run([...])``."""

    code: int | None
    out: str
    err: str


def run_cli(argv) -> CliResult:
    """``vortexnumba ARGV`` in this process: the exit status (argparse's usage errors included) and the output.

    Every argument is passed through ``str`` (paths may be given as ``Path``).
    """
    from vortexnumba.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse exits on usage errors and --help
            code = exc.code
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli_run():
    """The shared CLI runner: ``cli_run(["info", "digits:5"])`` -> ``CliResult(code, out, err)``."""
    return run_cli
