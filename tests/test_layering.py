"""The package's import layering, checked on its source with ``ast`` (imports inside functions included).

The layers, lowest first (``docs/architecture.md`` draws them): a module may import
its own part of the package and any part of a lower layer, never a higher layer and
never a sibling of its own layer.
"""

from __future__ import annotations

import collections
import subprocess
import sys

import _package_scan as scan
import pytest

LAYERS = [
    {"_validate", "_numba_helpers", "_progress", "_threading"},  # shared helpers: checks, Numba, progress bar
    {"io"},  # files, atomic writes, image readers, figures
    {"cipher", "data"},  # keys and the one gather engine; the data sets
    {"framework"},  # the information measures (keys that change values are encrypted by cipher's engine)
    {"security", "testing", "dask", "learn", "torch"},  # built on the cipher and the framework
    {"study"},  # the field's benchmark: training (learn) beside attacks (security)
    {"vortexnumba"},  # the package's own __init__: the re-exported names
    {"cli"},  # the command line
    {"__main__"},
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
IMPORTS = scan.imports()
MODULES = scan.modules()


def test_every_part_of_the_package_has_a_layer():
    parts = {scan.component(m) for m in MODULES}
    assert parts <= set(RANK), f"add {sorted(parts - set(RANK))} to LAYERS (and to docs/architecture.md)"


def _violations() -> list[str]:
    out = []
    for imp in IMPORTS:
        a, b = scan.component(imp.source), scan.component(imp.target)
        if a == b or a not in RANK or b not in RANK:
            continue
        if RANK[b] >= RANK[a]:
            how = "a sibling of its layer" if RANK[b] == RANK[a] else "a higher layer"
            out.append(f"{imp.source} (line {imp.line}) imports {imp.target}: {b} is {how}")
    return out


def test_no_module_imports_a_higher_layer_or_a_sibling():
    found = _violations()
    assert not found, "\n".join(found)


def _cycles_within(part: str) -> list[list[str]]:
    edges: dict[str, set[str]] = collections.defaultdict(set)
    for imp in IMPORTS:
        if scan.component(imp.source) == part and scan.component(imp.target) == part:
            edges[imp.source].add(imp.target)
    return scan.cycles(edges)


def _part_params(pending: dict[str, str]):
    parts = sorted({scan.component(m) for m in MODULES})
    return [pytest.param(p, marks=pytest.mark.xfail(strict=False, reason=pending[p])) if p in pending else p
            for p in parts]


# A part may be listed here, with the reason, while a known finding is being worked off.
PENDING_CYCLES: dict[str, str] = {}


@pytest.mark.parametrize("part", _part_params(PENDING_CYCLES))
def test_no_import_cycle(part):
    # Across parts a cycle would need an upward import (the test above); within a part, look for one.
    found = _cycles_within(part)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


PENDING_PRIVATE: dict[str, str] = {}


@pytest.mark.parametrize("part", _part_params(PENDING_PRIVATE))
def test_private_names_stay_in_their_module(part):
    # Private modules, public names: a name another module imports has no leading underscore.
    found = [f"{imp.source} (line {imp.line}) imports {imp.target}.{imp.name}" for imp in IMPORTS
             if scan.component(imp.source) == part and imp.name and imp.name.startswith("_")
             and not imp.name.startswith("__")]
    assert not found, f"{len(found)} private names imported across modules:\n" + "\n".join(found)


def test_import_is_light_and_dir_lists_the_lazy_subpackages():
    code = ("import sys, vortexnumba as vn\n"
            "heavy = sorted(m for m in ('jax', 'dask', 'hypothesis', 'torch', 'zarr') if m in sys.modules)\n"
            "lazy = [n for n in ('learn', 'dask', 'testing', 'reproduce') if n not in dir(vn)]\n"
            "print(heavy, lazy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] []", out
