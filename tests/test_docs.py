"""The documentation's examples run and say what they claim."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

def _all_modules() -> list[str]:
    import vortexnumba

    names = ["vortexnumba"]
    has_torch = importlib.util.find_spec("torch") is not None
    # walk without importing: vortexnumba.torch may not import where torch is absent
    for info in pkgutil.walk_packages(vortexnumba.__path__, "vortexnumba.", onerror=lambda name: None):
        if info.name.endswith("__main__"):  # importing it runs the command line
            continue
        if info.name.startswith("vortexnumba.torch") and not has_torch:
            continue
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


# ----------------------------------------------------------------- every code block of docs/*.md
#
# Each page runs top to bottom, its python blocks in one namespace (a block with ``>>>`` prompts
# runs as a doctest), every block in a fresh folder holding the page's setup files. Markers on the line before a fence:
#   <!-- test: run -->             a bash block: each ``vortexnumba ...`` line runs through the CLI
#   <!-- test: skip: REASON -->    not run (a long job, a data set, a cluster), the reason shown
#   <!-- test: requires M1, M2 --> runs where those modules import, is skipped with a message elsewhere
# Fences marked ``text`` (or with no language) are output or usage, not code. A bash block with
# no marker fails the test: every command a page shows is either run or says why not.

DOC_PAGES = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
_FENCE = re.compile(r"(?:<!--\s*test:\s*(?P<marker>.*?)\s*-->\s*\n)?^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```",
                    re.S | re.M)

# What a page's examples assume exists before they start (files a reader already has).
PAGE_SETUP = {
    "rvt.md": "import numpy as np\n"
              "np.savez('train.npz', x=np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8),"
              " y=np.arange(6))\n",
    "dask.md": "import numpy as np, zarr\n"
               "z = zarr.open_array('train.zarr', mode='w', shape=(40, 32, 32, 3), dtype='uint8',"
               " chunks=(10, 32, 32, 3))\n"
               "z[:] = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)\n",
}


def doc_blocks(text: str) -> list[tuple[str, str, str, int]]:
    """``(lang, marker, body, line)`` of every fenced block of a Markdown page."""
    out = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start("body"))
        out.append((m.group("lang").lower(), (m.group("marker") or "").strip(), m.group("body"), line))
    return out


def _run_shell(body: str, where: str) -> None:
    from vortexnumba.cli import main

    for raw in body.splitlines():
        line = raw.split("  #")[0].strip()
        if not line:
            continue
        words = line.split()
        assert words[0] == "vortexnumba", f"{where}: a run block holds only vortexnumba commands, got {line!r}"
        assert main(words[1:]) == 0, f"{where}: {line!r} failed"


@pytest.mark.parametrize("page", DOC_PAGES)
def test_docs_page_code_runs(page, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = (ROOT / "docs" / page).read_text()
    namespace: dict = {"__name__": f"docs_{page[:-3]}"}
    skipped, ran = [], 0
    for lang, marker, body, line in doc_blocks(text):
        where = f"docs/{page}:{line}"
        folder = tmp_path / f"block{line}"
        folder.mkdir()
        monkeypatch.chdir(folder)
        if page in PAGE_SETUP:
            exec(compile(PAGE_SETUP[page], f"setup of {page}", "exec"), {})
        if lang in ("", "text", "console-output"):
            assert not marker, f"{where}: a text block has the marker {marker!r}"
            continue
        if marker.startswith("skip"):
            reason = marker.partition(":")[2].strip()
            assert reason, f"{where}: say why the block is not run (<!-- test: skip: REASON -->)"
            skipped.append(f"{where} ({reason})")
            continue
        if marker.startswith("requires"):
            missing = [m.strip() for m in marker.partition(" ")[2].split(",")
                       if importlib.util.find_spec(m.strip()) is None]
            if missing:
                skipped.append(f"{where} (needs {', '.join(missing)}, which is not installed)")
                continue
        if lang in ("bash", "sh", "shell", "console"):
            assert marker == "run", f"{where}: mark the {lang} block run or skip (see tests/test_docs.py)"
            _run_shell(body, where)
        elif lang == "python":
            if ">>>" in body:
                test = doctest.DocTestParser().get_doctest(body, namespace, where, str(ROOT / "docs" / page), line)
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
                runner.run(test)
                assert runner.failures == 0, f"{where}: the doctest failed (see above)"
            else:
                exec(compile(body, where, "exec"), namespace)
                # a block that defines tests (docs/verification.md) shows code that must pass
                for name, fn in list(namespace.items()):
                    own = getattr(fn, "__module__", None) == namespace["__name__"]
                    if name.startswith("test_") and callable(fn) and own:
                        fn()
                        namespace.pop(name)
        else:
            raise AssertionError(f"{where}: unknown code block language {lang!r}")
        ran += 1
    if skipped and not ran:
        pytest.skip("; ".join(skipped))


def test_docs_marker_parser():
    text = "a\n<!-- test: skip: slow -->\n```bash\nvortexnumba reproduce\n```\n\n```python\nx = 1\n```\n"
    assert [(lang, marker) for lang, marker, _, _ in doc_blocks(text)] == [("bash", "skip: slow"), ("python", "")]


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


def test_license_file_is_packaged():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Copyright (c) 2026, the vortexnumba developers" in text
