"""Habits checked on the source: every public function of the package has type hints and at most
``MAX_PARAMS`` parameters (more settings travel as one piece of plain data: a frozen dataclass,
an optimizer object).

Public: a module-level function or a method of a class whose name has no leading
underscore (``__init__`` included); Numba kernels are exempt (Numba types them).
"""

from __future__ import annotations

import _package_scan as scan

FUNCTIONS = scan.public_functions()

# The parts whose files are fully annotated (every part of the package); a new unannotated public
# function there fails at once.
ANNOTATED_PARTS = {scan.component(m) for m in scan.modules()}


def _report(functions) -> str:
    return "\n".join(f"{f.module}:{f.line} {f.qualname} lacks: {', '.join(f.missing)}" for f in functions)


def test_public_functions_of_the_annotated_parts_have_type_hints():
    missing = [f for f in FUNCTIONS if f.missing and scan.component(f.module) in ANNOTATED_PARTS]
    assert not missing, f"{len(missing)} public functions without full type hints:\n{_report(missing)}"


def test_every_public_function_has_type_hints():
    missing = [f for f in FUNCTIONS if f.missing]
    assert not missing, f"{len(missing)} of {len(FUNCTIONS)} public functions without full type hints:\n" \
                        f"{_report(missing)}"


MAX_PARAMS = 10


def test_no_public_function_takes_more_than_ten_parameters():
    assert len(FUNCTIONS) > 100  # the scan found the package
    over = [f for f in FUNCTIONS if f.n_params > MAX_PARAMS]
    report = "\n".join(f"{f.module}:{f.line} {f.qualname} takes {f.n_params}" for f in over)
    assert not over, f"{len(over)} public functions take more than {MAX_PARAMS} parameters:\n{report}"
