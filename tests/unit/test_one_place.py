"""Facts said in one place, held by reading the package's source (issue #49 items 4 and 5):

- no private name crosses a module: no `from iree_matrix.x import _y`, no module named `_x` imported,
  no `module._y` read off a module of the package another one imported (at most 2; today none);
- `--cache` is declared once (one `add_argument` / `Option` call in src/ names it);
- the cache's folder names, `CacheLayout`'s, are joined into paths in at most 2 modules.

Each check is a function of a source tree, so each is also shown failing on a planted violation."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from iree_matrix.commands import option_types, options
from iree_matrix.core.cache_layout import CacheLayout, Under
from iree_matrix.stages import artifacts
from tests.unit import builders, source_tree

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "iree_matrix"
MAX_PRIVATE_CROSSINGS = 2
MAX_LAYOUT_MODULES = 2


def _modules(package: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        name = ".".join([package.name, *(parts[:-1] if parts[-1] == "__init__" else parts)])
        yield name, source_tree.tree(path)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_crossings(package: Path = PACKAGE) -> list[str]:
    """`module: what` for each private name one module of `package` takes from another."""
    root, found = package.name, []
    modules = dict(_modules(package))
    for name, tree in modules.items():
        imported: dict[str, str] = {}  # local name -> the package's module it is
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == root:
                assert node.module is not None
                if any(_private(part) for part in node.module.split(".")):
                    found.append(f"{name}: from {node.module} import ...")
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{name}: from {node.module} import {alias.name}")
                    elif f"{node.module}.{alias.name}" in modules:
                        imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == root and any(_private(p) for p in alias.name.split(".")):
                        found.append(f"{name}: import {alias.name}")
                    elif alias.asname and alias.name in modules:
                        imported[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and imported.get(node.value.id, name) != name
                and _private(node.attr)
            ):
                found.append(f"{name}: {imported[node.value.id]}.{node.attr}")
    return found


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def declarations(flag: str, package: Path = PACKAGE) -> list[str]:
    """`module:line` of each call declaring the option `flag` (`add_argument`, or an `Option` or `Switch`)."""
    return declared_flags(package).get(flag, [])


# The calls that declare an option (`_number`: options.py's whole-number options).
DECLARING = ("add_argument", "Option", "Switch", "_number")


def declared_flags(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Each string a declaring call (`DECLARING`) names: its `module:line`s
    (not the runner a bundle carries, bundle_runner/: run.py's own command line, not iree-matrix's)."""
    found: dict[str, list[str]] = {}
    for name, tree in _modules(package):
        if name.startswith(f"{package.name}.bundle_runner"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) in DECLARING:
                for a in node.args:
                    if isinstance(a, ast.Constant) and isinstance(a.value, str):
                        found.setdefault(a.value, []).append(f"{name}:{node.lineno}")
    return found


def cache_folders() -> set[str]:
    """Every folder and file name `CacheLayout` puts under a cache, read off the class itself, but
    for a name a stage's store entry also has (`tools`: the runtime-build's artifacts.TOOLS), which
    the modules that build and show that entry join onto it."""
    root = Path("/cache")
    layout = CacheLayout(root)
    names = [n for n, v in vars(CacheLayout).items() if isinstance(v, Under)]
    entries = {v.path.split("/")[0] for v in vars(artifacts).values() if isinstance(v, artifacts.Artifact)}
    return {part for n in names for part in Path(getattr(layout, n)).relative_to(root).parts} - entries


def _joined(node: ast.AST, folders: set[str]) -> set[str]:
    """The cache folder names `node` puts into a path: `x / "store"`, `Path(x, "logs")`,
    `os.path.join(x, "envs")`, `x.joinpath("images")`, `f"{cache}/store"`, `Under("store")` (the
    layout's own: a folder under the root)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        sides = (node.left, node.right)
    elif isinstance(node, ast.Call) and _called(node) in (
        "Path",
        "PurePath",
        "join",
        "joinpath",
        Under.__name__,
    ):
        sides = tuple(node.args)
    elif isinstance(node, ast.JoinedStr):  # the text right after a formatted value: f"{cache}/store"
        after = [v for u, v in zip(node.values, node.values[1:]) if isinstance(u, ast.FormattedValue)]
        texts = [v.value for v in after if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        return {m[1] for s in texts if (m := re.match(r"/([\w.-]+)", s)) and m[1] in folders}
    else:
        return set()
    return {
        s.value.split("/")[0]
        for s in sides
        if isinstance(s, ast.Constant) and isinstance(s.value, str) and s.value.split("/")[0] in folders
    }


def layout_spellings(package: Path = PACKAGE, folders: set[str] | None = None) -> dict[str, set[str]]:
    """Module -> the cache folder names it joins into paths itself."""
    folders = cache_folders() if folders is None else folders
    found: dict[str, set[str]] = {}
    for name, tree in _modules(package):
        spelled = set().union(*(_joined(node, folders) for node in ast.walk(tree)))
        if spelled:
            found[name] = spelled
    return found


# --- (a) private names ---------------------------------------------------------------------------


def test_no_private_name_crosses_a_module() -> None:
    found = private_crossings()
    assert len(found) <= MAX_PRIVATE_CROSSINGS, "private names imported across modules:\n" + "\n".join(found)


def test_a_private_name_crossing_a_module_is_found(tmp_path: Path) -> None:
    package = builders.plant_package(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/_proc.py": "def run(): ...\n",
            "core/flags.py": "def _prefix(): ...\ndef own(): return _prefix()\n",
            "a.py": "from iree_matrix.core._proc import run\n",
            "b.py": "from iree_matrix.core.flags import _prefix\n",
            "c.py": "from iree_matrix.core import flags\nx = flags._prefix()\n",
            "d.py": "import iree_matrix.core._proc\n",
        },
    )
    assert sorted(private_crossings(package)) == [
        "iree_matrix.a: from iree_matrix.core._proc import ...",
        "iree_matrix.b: from iree_matrix.core.flags import _prefix",
        "iree_matrix.c: iree_matrix.core.flags._prefix",
        "iree_matrix.d: import iree_matrix.core._proc",
    ]  # and a module's own private helper (flags.own -> _prefix) is its own business


# --- (b) --cache declared once -------------------------------------------------------------------


def test_cache_is_declared_once() -> None:
    found = declarations("--cache")
    assert len(found) == 1, f"--cache is declared {len(found)} times: {found}"


def test_a_second_cache_declaration_is_found(tmp_path: Path) -> None:
    package = builders.plant_package(
        tmp_path,
        {
            "options.py": 'CACHE = Option("--cache", "the cache")\n',
            "doctor.py": 'def add(p):\n    p.add_argument("--cache", type=str)\n',
            "reproduce.py": 'argv = ["iree-matrix", "--cache", "/c"]  # a use, not a declaration\n',
        },
    )
    assert declarations("--cache", package) == ["iree_matrix.doctor:2", "iree_matrix.options:1"]


# --- (c) the cache's layout ----------------------------------------------------------------------


def test_the_cache_folders_are_read_off_the_layout() -> None:
    assert {"store", "wheelhouse", "envs", "venv", "images", "logs", "run.lock"} <= cache_folders()
    assert "tools" not in cache_folders()  # also a store entry's (artifacts.TOOLS)


def test_the_cache_layout_is_spelled_in_at_most_two_modules() -> None:
    found = layout_spellings()
    assert "iree_matrix.core.cache_layout" in found  # the check sees the one place that should spell them
    assert len(found) <= MAX_LAYOUT_MODULES, f"cache folders spelled outside CacheLayout: {found}"


def test_a_cache_folder_spelled_elsewhere_is_found(tmp_path: Path) -> None:
    package = builders.plant_package(
        tmp_path,
        {
            "layout.py": 'def store(root):\n    return root / "store"\n',
            "a.py": 'import os\ndef logs(cache):\n    return os.path.join(cache, "logs")\n',
            "b.py": 'def lock(cache):\n    return f"{cache}/run.lock"\n',
            "e.py": 'def hint(x):\n    return f"{x}: e.g. 3.13.0=/venv/bin/iree-compile"  # not a join\n',
            "c.py": 'from pathlib import Path\nP = Path("/c", "envs/venv")\n',
            "d.py": 'HELP = "the store (CACHE/store)"  # words, not a path\nNAME = "logs"\n',
        },
    )
    assert layout_spellings(package) == {
        "iree_matrix.layout": {"store"},
        "iree_matrix.a": {"logs"},
        "iree_matrix.b": {"run.lock"},
        "iree_matrix.c": {"envs"},
    }


def test_every_option_is_declared_once_where_they_all_are() -> None:
    """`--cache`, `--results-dir`, `--backend`, ... declared in commands/options.py only; the
    commands add them from there (tests/unit/test_thin_commands.py: no `add_argument` elsewhere)."""
    declared = [
        v for v in vars(options).values() if isinstance(v, (option_types.Option, option_types.Switch))
    ]
    assert {o.flag for o in declared} >= {"--cache", "--results-dir", "--backend", "--timeout", "--matrix"}
    flags = declared_flags()
    for option in declared:
        found = flags.get(option.flag, [])
        where = "iree_matrix.commands.options:"
        assert len(found) == 1 and found[0].startswith(where), (option.flag, found)


def test_backend_choices_are_the_registrys(monkeypatch) -> None:
    from iree_matrix import cli
    from iree_matrix.envs import backends

    monkeypatch.setitem(backends.BACKENDS, "toy", backends.BACKENDS["venv"])
    for name in ("auto", *backends.BACKENDS):
        assert cli._parser().parse_args(["matrix", "--backend", name]).backend == name
        assert cli._parser().parse_args(["doctor", "--backend", name]).backend == name
    assert cli.main(["matrix", "--backend", "nowhere", "--list"]) == 2  # one line, the choices named
