"""Sphinx configuration of vortexnumba's documentation site.

Build it with ``pip install -e ".[docs]"`` and
``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(CI builds it with warnings as errors). The guides are the Markdown pages of
``docs/`` (MyST); the API reference is generated from the docstrings of every
public name: the ``__all__`` of each public module below, written to
``docs/api/`` (not committed) when the build starts.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import vortexnumba  # noqa: E402

project = "vortexnumba"
author = "the vortexnumba developers"
copyright = "2026, the vortexnumba developers"
release = version = vortexnumba.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "results/**", "Thumbs.db", ".DS_Store"]
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"show-inheritance": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # an Attributes section is a field list, not a second description of a property
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# links from a guide to files outside docs/ (the proofs, the benchmark scripts) are
# written for readers of the repository; the site shows them as plain text
suppress_warnings = [
    "myst.xref_missing",
    "ref.footnote",     # a References section cites the paper without a [1]_ in the text
]

html_theme = "alabaster"
html_title = f"vortexnumba {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "Neighbour information, the Random Vortex Transformation, encrypted training",
                      "page_width": "1240px", "sidebar_width": "260px"}

# ----------------------------------------------------------------- the API pages, from __all__

# (module, title, summary). A name the top-level package re-exports is documented there
# once; the subpackage pages list only their other names.
API_MODULES = [
    ("vortexnumba", "vortexnumba", "The top-level names: keys, the gather engine, the information framework."),
    ("vortexnumba.cipher", "vortexnumba.cipher", "Keys, the gather engine and key files."),
    ("vortexnumba.framework", "vortexnumba.framework", "Kernels, neighbour information, retention, swaps."),
    ("vortexnumba.data", "vortexnumba.data", "The data sets."),
    ("vortexnumba.security", "vortexnumba.security", "Cipher metrics, key sensitivity, key space, attacks."),
    ("vortexnumba.learn", "vortexnumba.learn", "JAX networks, training and the paper's experiment."),
    ("vortexnumba.dask", "vortexnumba.dask", "The same operations on Dask arrays and Zarr stores."),
    ("vortexnumba.testing", "vortexnumba.testing", "Hypothesis strategies, exact arithmetic, verify."),
    ("vortexnumba.torch", "vortexnumba.torch", "PyTorch transforms."),
]


def public_names(module_name: str) -> list[str]:
    """The module's ``__all__`` without its submodules (each has a page of its own)."""
    module = importlib.import_module(module_name)
    return [n for n in getattr(module, "__all__", []) if not inspect.ismodule(getattr(module, n, None))]


def write_api_pages() -> None:
    api = HERE / "api"
    shutil.rmtree(api, ignore_errors=True)  # generated on every build: no page of a name that is gone
    api.mkdir()
    top = set(public_names("vortexnumba"))
    index = ["API reference", "=============", "",
             "Every public name, from its docstring. ``import vortexnumba as vn`` gives the top-level",
             "names; the subpackages hold the rest.", "", ".. toctree::", "   :maxdepth: 1", ""]
    for module_name, title, summary in API_MODULES:
        names = public_names(module_name)
        own = names if module_name == "vortexnumba" else [n for n in names if n not in top]
        shared = [] if module_name == "vortexnumba" else [n for n in names if n in top]
        lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:", "",
                 summary, ""]
        if shared:
            lines += ["Also here, documented with the top-level names: "
                      + ", ".join(f":obj:`vortexnumba.{n}`" for n in shared) + ".", ""]
        if own:
            lines += [f".. currentmodule:: {module_name}", "", ".. autosummary::", "   :toctree: generated",
                      "   :nosignatures:", ""] + [f"   {n}" for n in own] + [""]
        (api / f"{module_name}.rst").write_text("\n".join(lines))
        index.append(f"   {module_name}")
    (api / "index.rst").write_text("\n".join(index) + "\n")


def _drop_type_docstrings(app, what, name, obj, options, lines) -> None:
    """A constant without a docstring of its own shows its value, not the docstring of dict or tuple."""
    if what in ("data", "attribute") and lines and "\n".join(lines).strip() == (type(obj).__doc__ or "").strip():
        lines.clear()


def _public_bases(app, name, obj, options, bases) -> None:
    """Show a class's public ancestors, not the private base classes that share its code."""
    out = []
    for base in bases:
        while base.__name__.startswith("_") and base.__bases__:
            base = base.__bases__[0]
        if base is not object and base not in out:
            out.append(base)
    bases[:] = out or [object]


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _drop_type_docstrings)
    app.connect("autodoc-process-bases", _public_bases)


write_api_pages()
