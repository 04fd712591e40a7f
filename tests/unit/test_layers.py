"""The import graph: no cycle, and no module imports from a layer above its own (README,
"Development", states the same order)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"

# Lowest first. A module may import its own layer and the ones below, never one above.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("iree_matrix", "errors", "_proc", "_hashing", "_locks", "_resources", "_text", "_files",
                    "formats", "refusals", "targets", "versions", "host", "results", "outcome", "store",
                    "vmfb", "binfmt", "elf", "daemon")),
    ("matrix", ("flags", "models", "releases", "spec", "plan", "wheelhouse")),
    ("environments", ("images", "images.*", "envs", "envs.venv", "envs.docker", "image_inventory",
                      "runtime_build", "arm", "doctor")),
    ("stages", ("stages", "stages.*")),
    ("running", ("progress", "execute", "armv6_smoke")),
    ("answers", ("answers", "compat", "query", "report", "report.*", "publish")),
    ("interface", ("cli", "__main__")),
)  # fmt: skip


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "iree_matrix"


def _layer(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member or (member.endswith(".*") and module.startswith(member[:-1])):
                return index
    raise AssertionError(f"{module}: in no layer of tests/unit/test_layers.py; add it where it belongs")


def _imports() -> dict[str, set[str]]:
    modules = {_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("iree_matrix"):
                base = node.module.removeprefix("iree_matrix").lstrip(".") or "iree_matrix"
                for alias in node.names:
                    child = alias.name if base == "iree_matrix" else f"{base}.{alias.name}"
                    found.add(child if child in modules else base)
            elif isinstance(node, ast.Import):
                found |= {
                    a.name.removeprefix("iree_matrix.")
                    for a in node.names
                    if a.name.startswith("iree_matrix.")
                }
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


GRAPH = _imports()


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_from_a_higher_layer(module: str):
    upward = [m for m in GRAPH[module] if _layer(m) > _layer(module)]
    assert not upward, f"{module} ({LAYERS[_layer(module)][0]}) imports {upward} from a higher layer"


def test_no_cycle():
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, module, dep]))
            if dep not in state:
                visit(dep, [*path, module])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])
