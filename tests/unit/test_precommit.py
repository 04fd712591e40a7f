""".pre-commit-config.yaml runs what `nox -s lint` runs: ruff at the version the lint extra pins, over
the paths the lint session names, and mypy from the lint environment with pyproject.toml's own
[tool.mypy] (no files passed, no options of its own). Three statements of one check, held equal here."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from ruamel.yaml import YAML

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def _config() -> dict[str, Any]:
    loaded = YAML(typ="safe").load((REPO / ".pre-commit-config.yaml").read_text())
    assert isinstance(loaded, dict) and isinstance(loaded.get("repos"), list)
    return loaded


def _hooks() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each hook by id, with the repository entry it comes from."""
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for repo in _config()["repos"]:
        for hook in repo["hooks"]:
            assert hook["id"] not in found, f"hook {hook['id']} twice"
            found[hook["id"]] = (repo, hook)
    return found


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _lint_ruff_paths() -> set[str]:
    """The paths noxfile.py's lint session hands `ruff check` (and `ruff format --check`)."""
    tree = ast.parse((REPO / "noxfile.py").read_text())
    (lint,) = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "lint"]
    runs = [
        [ast.literal_eval(a) for a in call.args]
        for call in ast.walk(lint)
        if isinstance(call, ast.Call) and ast.unparse(call.func) == "session.run" and call.args
    ]
    ruff = [args for args in runs if args[0] == "ruff"]
    assert {args[1] for args in ruff} == {"check", "format"}, ruff
    paths = [{a for a in args[2:] if not a.startswith("-")} for args in ruff]
    assert all(p == paths[0] for p in paths), f"ruff check and format over different paths: {paths}"
    return paths[0]


def test_ruff_rev_is_the_lint_extras_pin():
    lint = [Requirement(r) for r in _pyproject()["project"]["optional-dependencies"]["lint"]]
    (ruff,) = [r for r in lint if r.name == "ruff"]
    pins = [s.version for s in ruff.specifier if s.operator == "=="]
    assert pins, f"the lint extra's {ruff} pins no version: pre-commit's rev cannot follow it"
    repo, _ = _hooks()["ruff-check"]
    assert repo["repo"] == "https://github.com/astral-sh/ruff-pre-commit"
    assert repo["rev"] == f"v{pins[0]}", f"pre-commit runs ruff {repo['rev']}, `nox -s lint` {ruff}"


def test_ruff_hooks_cover_what_the_lint_session_checks():
    hooks = _hooks()
    assert {"ruff-check", "ruff-format"} <= set(hooks)
    for name in ("ruff-check", "ruff-format"):
        _, hook = hooks[name]
        assert not hook.get("args"), f"{name}: options belong in pyproject.toml's [tool.ruff]"
        pattern = re.compile(hook["files"])
        for path in _lint_ruff_paths():
            example = f"{path}/x.py" if not path.endswith(".py") else path
            assert pattern.search(example), f"{name} skips {example}, which `nox -s lint` checks"
        for outside in ("docs/x.py", "examples/x.py"):
            assert not pattern.search(outside), f"{name} checks {outside}, which `nox -s lint` does not"


def test_mypy_hook_uses_the_projects_config_and_environment():
    repo, hook = _hooks()["mypy"]
    assert repo["repo"] == "local"
    assert hook["entry"] == "mypy" and not hook.get("args"), "mypy's options are [tool.mypy]'s"
    assert hook["language"] == "system", "the lint extra's mypy, which sees the installed dependencies"
    assert hook["pass_filenames"] is False, "mypy checks [tool.mypy]'s files, as nox -s lint does"
    pattern = re.compile(hook["files"])
    for checked in _pyproject()["tool"]["mypy"]["files"]:
        assert pattern.search(f"{checked}/x.py"), f"the mypy hook never runs for a change in {checked}"


def test_no_hook_runs_the_tests():
    """The unit tier takes minutes: a commit hook that long gets skipped, so none runs it."""
    for name, (_, hook) in _hooks().items():
        assert "pytest" not in str(hook.get("entry", "")) and "nox" not in str(hook.get("entry", "")), name
