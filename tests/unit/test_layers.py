"""The import graph: no cycle, and no module imports from a layer above its own; and CONTRIBUTING.md's
"Development" list states the same layers (two statements of one order, held equal here).

Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first, so a module depends on the
packages above every module it imports: the graph has those edges too (but for the importer's own
packages, which ran before it). Without them a package's
`__init__` that imports its own modules (inside a function or not) hides a cycle through it: issue
49's envs <-> images, where images imported `envs.containers` and `envs/__init__` built the backends."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.unit import source_tree

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "iree_matrix"

# Lowest first, by folder: a module is in the layer of the deepest folder named here that holds it
# (`"core/"`: core and everything below it but `core/system/` and `core/model/`, which are layers of
# their own); a module of the package root is named by itself. A module may import its own layer and
# the ones below, never one above.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("runner", ("bundle_runner/",)),
    ("core", ("iree_matrix", "core/")),
    ("system", ("core/system/",)),
    ("model", ("core/model/", "kernel/model/")),
    ("iree", ("iree/", "kernel/iree/")),
    ("matrix", ("matrix/", "kernel/")),  # a kernel's definition; each folder of kernel/ in the layer it names
    ("environments", ("envs/", "images/", "source_builds/")),
    ("stages", ("stages/", "kernel/stages/")),
    ("running", ("execution/",)),
    ("findings", ("findings/", "kernel/findings/")),
    ("advise", ("advise/",)),
    ("report", ("report/", "kernel/report/")),
    ("tasks", ("tasks/", "kernel/tasks/")),
    ("commands", ("commands/", "kernel/commands/")),
    ("interface", ("cli", "__main__")),
)  # fmt: skip


def _name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "iree_matrix"


def _in(module: str, member: str) -> bool:
    """`member` is a module of the package root (`cli`) or a folder and everything below it (`core/`)."""
    if not member.endswith("/"):
        return module == member
    folder = member.removesuffix("/").replace("/", ".")
    return module == folder or module.startswith(folder + ".")


def _layer(module: str) -> int:
    """The layer of the longest member that holds `module` (`core.system.locks`: system, not core)."""
    found = [(len(m), index) for index, (_, members) in enumerate(LAYERS) for m in members if _in(module, m)]
    if found:
        return max(found)[1]
    raise AssertionError(
        f"{module}: in no layer of tests/unit/test_layers.py; put it in a layer's folder (or name it there)"
    )


def _absolute(node: ast.ImportFrom, path: Path, root: Path = PACKAGE) -> str:
    """`from .base import x` in stages/compile.py -> iree_matrix.stages.base."""
    package = ["iree_matrix", *path.parent.relative_to(root).parts]
    anchor = package[: len(package) - node.level + 1]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def _packages(module: str) -> set[str]:
    """The packages whose `__init__` runs before `module` can (`envs.venv`: `iree_matrix`, `envs`)."""
    parts = module.split(".") if module != "iree_matrix" else []
    return {"iree_matrix", *(".".join(parts[:n]) for n in range(1, len(parts)))}


def _imports(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(source_tree.tree(path)):
            if isinstance(node, ast.ImportFrom) and node.level:  # none today; counted all the same
                node = ast.ImportFrom(_absolute(node, path, package), node.names, 0)
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
        found = {m for m in found if m in modules}
        # The packages above an imported module, but not the importer's own: those ran before it.
        found |= {p for m in found for p in _packages(m) - _packages(name) if p in modules}
        graph[name] = found - {name}
    return graph


GRAPH = _imports()


def _upward(graph: dict[str, set[str]], module: str) -> list[str]:
    return sorted(m for m in graph[module] if _layer(m) > _layer(module))


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_from_a_higher_layer(module: str):
    upward = _upward(GRAPH, module)
    assert not upward, f"{module} ({LAYERS[_layer(module)][0]}) imports {upward} from a higher layer"


def _toy_graph(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    """The import graph of a toy package written at `root` (file name -> its text)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return _imports(root)


def test_an_import_up_a_layer_is_found(tmp_path):
    """Issue 83's shape, in a toy package: findings/ reading advise/ (inside a function, too)."""
    files = {
        "__init__.py": "",
        "advise/__init__.py": "",
        "advise/advice.py": "from iree_matrix.findings import search\n",
        "findings/__init__.py": "",
        "findings/search.py": "",
        "findings/query.py": "def f():\n    from iree_matrix.advise.advice import Advice\n",
    }
    graph = _toy_graph(tmp_path, files)
    assert _upward(graph, "findings.query") == ["advise", "advise.advice"]
    assert _upward(graph, "advise.advice") == []


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of `graph` (its modules in order, the first repeated last), or []."""
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> list[str]:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return [*path, module, dep]
            if dep not in state and (found := visit(dep, [*path, module])):
                return found
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module, [])):
            return found[found.index(found[-1]) :]
    return []


def test_no_cycle():
    cycle = _cycle(GRAPH)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_a_cycle_through_a_packages_init_is_found(tmp_path):
    """Issue 49's shape, in a toy package: `envs/__init__` imports `envs.docker` (in a function),
    which imports `images`, which imports `envs.containers`. No module imports `envs/__init__` by
    name; the cycle runs through it because importing `envs.containers` runs it first."""
    files = {
        "__init__.py": "",
        "envs/__init__.py": "def make():\n    from iree_matrix.envs.docker import Backend\n",
        "envs/containers.py": "",
        "envs/docker.py": "from iree_matrix import images\n",
        "images/__init__.py": "from iree_matrix.envs.containers import LABEL\n",
    }
    graph = _toy_graph(tmp_path, files)
    assert graph["images"] == {"envs.containers", "envs"}
    assert _cycle(graph) == ["envs", "envs.docker", "images", "envs"]
    (tmp_path / "envs" / "__init__.py").write_text("")  # the factory moved out: no cycle left
    assert _cycle(_imports(tmp_path)) == []


def _readme_layers() -> list[tuple[str, list[str]]]:
    """CONTRIBUTING.md's "Development" list: each numbered layer's name and the modules it names. A bare
    file name right after a package (`report/` (`site.py` ...)) is that package's module."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text[text.index("Layout: `src/iree_matrix/`") :]
    section = section[: section.index("\n\n", section.index("\n1. "))]
    items = re.split(r"^\d+\. \*\*(\w+)\*\*:", section, flags=re.MULTILINE)[1:]
    layers = []
    for layer, body in zip(items[::2], items[1::2]):
        modules, package = [], ""
        for name in re.findall(r"`([\w/]+(?:\.py|/))`", body):
            module = name.removesuffix(".py").strip("/").replace("/", ".")
            if module not in GRAPH and package:
                module = f"{package}.{module}"
            if name.endswith("/"):
                package = module
            modules.append(module)
        layers.append((layer, modules))
    return layers


def test_readme_states_the_same_layers():
    stated = _readme_layers()
    assert [layer for layer, _ in stated] == [layer for layer, _ in LAYERS]
    for index, (layer, modules) in enumerate(stated):
        for module in modules:
            assert module in GRAPH, f"CONTRIBUTING.md names {module!r} (in {layer}): no such module"
            assert _layer(module) == index, (
                f"CONTRIBUTING.md puts {module} in {layer}, this test in {LAYERS[_layer(module)][0]}"
            )
    named = {module for _, modules in stated for module in modules}
    missing = sorted(
        m for m in GRAPH if "." not in m and m not in named and m not in ("iree_matrix", "__main__")
    )
    assert not missing, f"CONTRIBUTING.md's layer list does not name {missing}"


def test_the_package_root_holds_at_most_twelve_modules():
    """Issue #40: the layers are folders; the root keeps the interface (today `__init__`,
    `__main__`, `cli`)."""
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 12, f"src/iree_matrix/ holds {len(modules)} modules: {modules}"


def test_core_holds_three_layers():
    """core/system/ and core/model/ are layers of their own inside core/: the deepest folder decides,
    so the plumbing importing a record (`core.system` -> `core.model`) is an arrow up."""
    names = [LAYERS[_layer(m)][0] for m in ("core.errors", "core.system.processes", "core.model.records")]
    assert names == ["core", "system", "model"]
    assert _layer("core.model.metrics.flops") > _layer("core.system.locks") > _layer("core.console")


def test_the_kernel_is_one_package_a_folder_per_layer():
    """Issue 93: the user's kernel in one place, kernel/, each of its folders in the layer it is named
    after; and no `__init__` of it imports anything, since a layer below the matrix runs them
    (core/model/metrics/ finds kernel/model/'s metrics by name)."""
    folders = sorted(f"kernel.{init.parent.name}" for init in (PACKAGE / "kernel").glob("*/__init__.py"))
    assert folders and all(LAYERS[_layer(m)][0] == m.removeprefix("kernel.") for m in folders), folders
    assert all(not GRAPH[m] for m in ["kernel", *folders]), {m: GRAPH[m] for m in ["kernel", *folders]}
