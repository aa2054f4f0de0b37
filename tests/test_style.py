"""Habits checked on the source: every public function of the package has type hints.

Public: a module-level function or a method of a class whose name has no leading
underscore (``__init__`` included); Numba kernels are exempt (Numba types them).
"""

from __future__ import annotations

import _package_scan as scan
import pytest

FUNCTIONS = scan.public_functions()

# The parts whose files are fully annotated; a new unannotated public function there fails at once.
ANNOTATED_PARTS = {"framework", "testing", "dask", "_progress", "_numba_helpers", "vortexnumba"}
# framework/_kernels.py belongs to the argument-checks work, which annotates it.
PENDING_FILES = {"vortexnumba.framework._kernels"}


def _report(functions) -> str:
    return "\n".join(f"{f.module}:{f.line} {f.qualname} lacks: {', '.join(f.missing)}" for f in functions)


def test_public_functions_of_the_annotated_parts_have_type_hints():
    missing = [f for f in FUNCTIONS if f.missing and scan.component(f.module) in ANNOTATED_PARTS
               and f.module not in PENDING_FILES]
    assert not missing, f"{len(missing)} public functions without full type hints:\n{_report(missing)}"


@pytest.mark.xfail(strict=False, reason="the other parts are annotated as their work lands; "
                                        "178 of 302 public functions lacked hints at the last count")
def test_every_public_function_has_type_hints():
    missing = [f for f in FUNCTIONS if f.missing]
    assert not missing, f"{len(missing)} of {len(FUNCTIONS)} public functions without full type hints:\n" \
                        f"{_report(missing)}"
