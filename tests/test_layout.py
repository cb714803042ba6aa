"""The package's layers: imports between its folders run one way, with no cycle of modules or of folders.

    cli → experiments → store → config → figures, core, data → checks, examples, files, keys, metrics, workers

The graph is read from the source with `ast` (imports inside functions count; those under `if
TYPE_CHECKING:` do not, since they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nnopt_cli"

# A folder may import the folders below it: each layer lists what it may use besides itself. The
# modules at the bottom import nothing of nnopt's but each other, and everyone may use them.
BOTTOM = {"checks", "examples", "files", "keys", "metrics", "workers"}
LAYERS: dict[str, set[str]] = {
    **{name: set() for name in BOTTOM},
    "examples": {"files"},  # copying the examples out writes each file whole
    "core": set(BOTTOM),
    "data": set(BOTTOM),
    "figures": {"core", "data", *BOTTOM},
    "config": {"core", "data", "figures", *BOTTOM},
    "store": {"config", "figures", "data", "core", *BOTTOM},
    "experiments": {"store", "config", "figures", "data", "core", *BOTTOM},
    "cli": {"experiments", "store", "config", "figures", "data", "core", *BOTTOM},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nnopt_cli"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nnopt_cli"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: _imports(ast.parse(p.read_text(encoding="utf-8")), modules) for name, p in files.items()}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_module_sits_in_a_known_layer() -> None:
    layers = {_layer(m) for m in _graph()} - {None, "__main__"}
    assert layers <= set(LAYERS), sorted(layers - set(LAYERS))


def test_imports_run_down_the_layers() -> None:
    wrong = []
    for module, imported in _graph().items():
        here = _layer(module)
        if here in (None, "__main__"):
            continue
        for target in imported:
            there = _layer(target)
            if there is not None and there != here and there not in LAYERS[here]:
                wrong.append(f"{module} imports {target} ({here} may use {sorted(LAYERS[here])})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_module_cycle() -> None:
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_no_folder_cycle() -> None:
    folders: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        here = _layer(module)
        if here is None:
            continue
        folders.setdefault(here, set()).update(
            t for t in (_layer(i) for i in imported) if t is not None and t != here
        )
    assert _cycle(folders) is None, " -> ".join(_cycle(folders) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
