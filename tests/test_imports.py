"""The shape of the code (STYLE.md, "Shape"): every import in the apps, at module level and
inside functions, read from the source (nothing is imported or run).

- No cycle between modules: an import inside a function to dodge a cycle still counts.
- No module imports another module's private (``_name``) name, nor reaches one through a
  module it imported (``services._matcher()``).
- Apps depend one way: moderation -> policy -> accounts, and all of them may use audit,
  which uses none of them (Django models name each other by string, which is not an import).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("audit", "accounts", "policy", "moderation", "config")
# Lower first: a package may import itself and those before it, never those after.
LAYERS = ("audit", "accounts", "policy", "moderation", "config")


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        if not (ROOT / app).is_dir():
            continue
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, source: str | None = None):
    """(imported module, name taken from it or None, line) for every import in ``module``,
    and (module, private name, line) for every ``alias._private`` reached through a module
    it imported."""
    if source is None:
        source = MODULES[module].read_text()
    tree = ast.parse(source)
    edges, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    edges.append((alias.name, None, node.lineno))
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:
                    edges.append((submodule, None, node.lineno))
                    aliases[alias.asname or alias.name] = submodule
                elif source in MODULES:
                    edges.append((source, alias.name, node.lineno))
    reach_ins = [
        (aliases[node.value.id], node.attr, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in aliases
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    return edges, reach_ins


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_imports_inside_functions_and_reach_ins():
    # A guard on the walk itself: were it blind to these, the tests below would pass vacuously.
    source = (
        "from moderation import models\n"
        "def f():\n"
        "    from policy import selectors as s\n"
        "    from .engine import _form\n"
        "    from policy.selectors import _cache\n"
        "    return s._cache, models._x\n"
    )
    edges, reach_ins = _imports("policy", source)  # a package: ".engine" is policy.engine
    assert sorted(edges, key=lambda e: e[2]) == [
        ("moderation.models", None, 1),
        ("policy.selectors", None, 3),
        ("policy.engine._form", None, 4),
        ("policy.selectors", "_cache", 5),
    ]
    assert sorted(reach_ins) == [("moderation.models", "_x", 6), ("policy.selectors", "_cache", 6)]


def test_no_import_cycle_between_modules():
    graph = {m: {t for t, _, _ in edges if t != m} for m, (edges, _) in GRAPH.items()}
    assert _cycles(graph) == []


def test_no_module_imports_another_modules_private_name():
    found = []
    for module, (edges, reach_ins) in GRAPH.items():
        for target, name, line in edges:
            if name and name.startswith("_") and not name.startswith("__") and target != module:
                found.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}.{name}")
        for target, name, line in reach_ins:
            if target != module:
                found.append(f"{MODULES[module].relative_to(ROOT)}:{line} reaches {target}.{name}")
    assert found == []


def test_apps_depend_one_way():
    rank = {app: i for i, app in enumerate(LAYERS)}
    upward = sorted(
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module, (edges, _) in GRAPH.items()
        for target, _, line in edges
        if rank.get(target.split(".")[0], 0) > rank.get(module.split(".")[0], 0)
    )
    assert upward == []
