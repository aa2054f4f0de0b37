"""The documentation's examples run and say what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

def _all_modules() -> list[str]:
    import vortexnumba

    names = ["vortexnumba"]
    for info in pkgutil.walk_packages(vortexnumba.__path__, "vortexnumba."):
        if not info.name.endswith("__main__"):  # importing it runs the command line
            names.append(info.name)
    return sorted(names)


ALL_MODULES = _all_modules()
# modules whose examples are the heart of their documentation: they must have some
MUST_HAVE_EXAMPLES = [
    "vortexnumba.framework._kernels",
    "vortexnumba.framework._information",
    "vortexnumba.framework._swap",
]


@pytest.mark.parametrize("name", ALL_MODULES)
def test_module_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0


def test_framework_doc_examples():
    result = doctest.testfile(str(ROOT / "docs" / "framework.md"), module_relative=False)
    assert result.attempted >= 3
    assert result.failed == 0


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## In ten lines\s+```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    rvt = float(re.search(r"RVT keeps\s+([0-9.]+)", out).group(1))
    perm = float(re.search(r"random permutation keeps\s+([0-9.]+)", out).group(1))
    assert 0 < perm < rvt < 1
    assert (tmp_path / "key.json").is_file()


def test_readme_setup_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]"' in readme and "python -m pytest -q" in readme
    assert "-e \".[test]\"" in ci and "-m pytest -q" in ci
