"""A small ``ast`` scan of the package: its modules, their imports (those inside functions too)
and their public functions. Shared by ``test_layering.py`` and ``test_style.py``; it imports
nothing from the package, so a broken import cannot hide a finding."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vortexnumba"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a package stands for its __init__)
    name: str | None  # the name taken from it (``from target import name``), None for ``import target``
    line: int


def imports(mods: dict[str, Path] | None = None) -> list[Import]:
    """Every import of a package module by a package module, at any depth of the code."""
    mods = modules() if mods is None else mods
    out = []
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "vortexnumba":
                        out.append(Import(name, alias.name, None, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "vortexnumba":
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in mods:  # ``from pkg import module``: the module itself
                        out.append(Import(name, sub, None, node.lineno))
                    else:
                        out.append(Import(name, target, alias.name, node.lineno))
    return out


def component(module: str) -> str:
    """The top-level part of the package a module belongs to (``framework``, ``_validate``, ...)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "vortexnumba"


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


@dataclass(frozen=True)
class Function:
    module: str
    qualname: str
    line: int
    missing: tuple[str, ...]  # parameters without annotations, plus "return" when that is missing
    n_params: int = 0  # every parameter (``*args`` and ``**kwargs`` one each), ``self``/``cls`` not counted


_KERNEL_DECORATORS = {"njit", "jit", "vectorize", "guvectorize", "generated_jit", "overload"}


def _is_kernel(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _KERNEL_DECORATORS:
            return True
    return False


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[ast.arg]:
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if method and params and params[0].arg in ("self", "cls"):
        params = params[1:]
    return params + [star for star in (args.vararg, args.kwarg) if star is not None]


def _missing(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> tuple[str, ...]:
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if method and params and params[0].arg in ("self", "cls"):
        params = params[1:]
    missing = [p.arg for p in params if p.annotation is None]
    for star in (args.vararg, args.kwarg):
        if star is not None and star.annotation is None:
            missing.append(star.arg)
    if node.returns is None and node.name != "__init__":
        missing.append("return")
    return tuple(missing)


def public_functions(mods: dict[str, Path] | None = None) -> list[Function]:
    """Module-level functions and methods of classes whose names do not start with ``_``
    (``__init__`` counts as public when its class is), Numba kernels excepted."""
    mods = modules() if mods is None else mods
    out = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not node.name.startswith("_") and not _is_kernel(node):
                    out.append(Function(name, node.name, node.lineno, _missing(node, False),
                                        len(_params(node, False))))
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for item in node.body:
                    if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        continue
                    if item.name.startswith("_") and item.name != "__init__":
                        continue
                    if any(getattr(d, "attr", None) == "setter" for d in item.decorator_list):
                        continue  # a property's setter shares its getter's annotation
                    out.append(Function(name, f"{node.name}.{item.name}", item.lineno, _missing(item, True),
                                        len(_params(item, True))))
    return out
