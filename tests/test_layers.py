"""The package's shape stays: imports form layers, with no cycles and none inside functions.

Every module of ``hmf`` is read with :mod:`ast`. A module may import (at run time; imports under
``if TYPE_CHECKING:`` are for annotations only) modules of its own layer or of layers below it:

    base (errors, checks, paper, profiles) < data < split < metrics, fitting < models
    < train, vectorized, lazy < interpret, casestudy, clusters < registry < experiments
    < report < cli

``metrics`` sits below ``models`` (the NumPy baselines score their validation RMSE with it;
it needs no model), and ``fitting`` (the early-stopping rule and ``FitResult``) below the
models and trainers that share it. Imports inside functions are allowed only for optional
heavy dependencies.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hmf"
LAYERS = [
    ("hmf", "hmf.errors", "hmf.checks", "hmf.paper", "hmf.profiles"),
    ("hmf.data",),
    ("hmf.split",),
    ("hmf.metrics", "hmf.fitting"),
    ("hmf.models",),
    ("hmf.train", "hmf.vectorized", "hmf.lazy"),
    ("hmf.interpret", "hmf.casestudy", "hmf.clusters"),
    ("hmf.registry",),
    ("hmf.experiments",),
    ("hmf.report",),
    ("hmf.cli", "hmf.__main__"),
]
OPTIONAL_INSIDE_FUNCTIONS = {"distributed", "dask", "cornac", "playwright", "IPython"}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + ".") and prefix != "hmf":
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(module: str, path: Path):
    """``(target, line, inside_function)`` for every import of ``path`` that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []

    def visit(node, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            nested = inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, inside) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                for a in child.names:  # `from hmf import metrics` imports the module hmf.metrics
                    full = f"{base}.{a.name}"
                    out.append((full if full in MODULES else base, child.lineno, inside))
            visit(child, nested)

    visit(tree, False)
    return out


GRAPH = {m: [(t, line, inside) for t, line, inside in _imports(m, p)] for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    for target, line, _ in GRAPH[module]:
        if target in MODULES and not module.startswith(target + "."):
            assert _layer(target) <= _layer(module), (
                f"{MODULES[module].name}:{line}: {module} (layer {_layer(module)}) imports "
                f"{target} (layer {_layer(target)}), a layer above it"
            )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_imports_inside_functions_but_optional_ones(module):
    for target, line, inside in GRAPH[module]:
        if inside:
            assert target.split(".")[0] in OPTIONAL_INSIDE_FUNCTIONS, (
                f"{MODULES[module]}:{line}: imports {target} inside a function"
            )


def _cycle(graph, modules) -> list[str] | None:
    # A module's own package is not an edge: importing hmf.models.x runs hmf.models first.
    edges = {
        m: {t for t, _, _ in graph[m] if t in modules and not m.startswith(t + ".")}
        for m in modules
    }
    state: dict[str, int] = {}

    def walk(node, stack):
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt, stack + [nxt])):
                return found
        state[node] = 2
        return None

    for module in sorted(modules):
        if module not in state and (found := walk(module, [module])):
            return found
    return None


def test_no_import_cycles():
    cycle = _cycle(GRAPH, MODULES)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_rules_catch_what_they_forbid(tmp_path, monkeypatch):
    """The checks fail on an upward import, an import in a function and a cycle."""
    bad = tmp_path / "hmf"
    (bad / "models").mkdir(parents=True)
    (bad / "__init__.py").write_text("")
    (bad / "models" / "__init__.py").write_text("from hmf.models import a\n")
    (bad / "models" / "a.py").write_text("from hmf import train\n")
    (bad / "train.py").write_text("def f():\n    from hmf.models import a\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", bad)
    modules = {_name(p): p for p in bad.rglob("*.py")}
    monkeypatch.setattr(sys.modules[__name__], "MODULES", modules)
    graph = {m: _imports(m, p) for m, p in modules.items()}
    assert ("hmf.train", 1, False) in graph["hmf.models.a"]  # upward: models -> train
    assert _layer("hmf.train") > _layer("hmf.models.a")
    assert ("hmf.models.a", 2, True) in graph["hmf.train"]  # inside a function
    assert _cycle(graph, modules) == ["hmf.models.a", "hmf.train", "hmf.models.a"]
