"""Issue #70: exactly one module reads a results folder's files, findings/results_folder.py (its
`Results`, loaded once per command, and `under` for the folders below a root); the log's name and
its line-by-line parse live in core/model/results.py. No other module of src/ finds a folder's log
(`log_path`, `logs_under`), parses one (`read_log`, `ResultsLog(...)`), imports the log's name
(`LOG`) or spells it ("results.jsonl" as a value of its own, not inside a sentence).

A module that rewrites a log under its writer lock (publish, forget, merge, archive-timings) reads
what it rewrites; those are REWRITERS. A module not moved yet is in PENDING with why; an entry that
no longer reads fails as well, so the list only shrinks. Each check is a function of a source tree,
so it is also shown failing on a planted reader."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.unit import source_tree

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "iree_matrix"
RESULTS = "iree_matrix.core.model.results"

READER = "iree_matrix.findings.results_folder"
ALLOWED: dict[str, str] = {
    READER: "the one reader",
    RESULTS: "the log's name, its parse and the appending handle (`folder_log`)",
    # The shipped runner is a stdlib + numpy package of its own (it imports nothing of the tool): it
    # writes a bundle's OUT/results.jsonl, which `merge` reads back through findings/bundles.py.
    "iree_matrix.bundle_runner.cli": "the runner writes its OUT's log",
    "iree_matrix.bundle_runner.sitting": "the runner reads the log it wrote in OUT",
}
REWRITERS: dict[str, str] = {
    "iree_matrix.findings.publish": "publish and `results forget` rewrite a folder's log under its lock",
    "iree_matrix.findings.merge": "`merge` checks each input line by line and rewrites OUT's log",
    "iree_matrix.findings.archive": "`results archive-timings` rewrites the log it strips",
    "iree_matrix.advise.received_sittings": "`merge` of sittings: others' records checked, then appended",
}
# The log's name in what a user reads (COMPATIBILITY.md's, BOARDS.md's and the site's "from results.jsonl").
NAMES_IT: dict[str, str] = {
    "iree_matrix.report.compatibility": "COMPATIBILITY.md's source line",
    "iree_matrix.report.boards": "BOARDS.md's source line",
    "iree_matrix.report.site": "the site's front page, when compat.json names no file",
}
PENDING: dict[str, str] = {}

FINDERS = frozenset({"log_path", "logs_under", "read_log"})


def _modules(package: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        name = ".".join([package.name, *(parts[:-1] if parts[-1] == "__init__" else parts)])
        yield name, source_tree.tree(path)


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def reads(tree: ast.Module) -> list[str]:
    """How a module's source reaches a results folder's log by itself (one line each)."""
    found, docs = [], _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == RESULTS:
            found += [f"imports {a.name}" for a in node.names if a.name in FINDERS | {"LOG"}]
        elif isinstance(node, ast.Attribute) and node.attr in FINDERS:
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ResultsLog":
            found.append(f"ResultsLog(...) on line {node.lineno}")
        elif isinstance(node, ast.Constant) and node.value == "results.jsonl" and id(node) not in docs:
            found.append(f'"results.jsonl" on line {node.lineno}')
    return found


def readers(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Every module of `package` that reaches a results folder's log by itself, with how."""
    return {name: how for name, tree in _modules(package) if (how := reads(tree))}


def test_one_module_reads_a_results_folders_files() -> None:
    names_only = {name: how for name, how in readers().items() if name in NAMES_IT and how == ["imports LOG"]}
    unexpected = {
        name: how
        for name, how in readers().items()
        if name not in {**ALLOWED, **REWRITERS, **PENDING, **names_only}
    }
    assert not unexpected, (
        f"{unexpected}: a results folder is read through {READER} (`results_folder.load(dir)`, "
        "`results_folder.under(root)`), once per command"
    )


def test_each_pending_reader_still_reads() -> None:
    found = readers()
    gone = [name for name in PENDING if name not in found]
    assert not gone, f"{gone} no longer read a results folder themselves: remove them from PENDING"


def test_a_planted_reader_is_found(tmp_path: Path) -> None:
    package = tmp_path / "iree_matrix"
    (package / "report").mkdir(parents=True)
    (package / "report" / "fine.py").write_text(
        '"""Reads results.jsonl? no: a docstring."""\nfrom iree_matrix.findings import results_folder\n'
        "def f(d):\n    return results_folder.load(d).records\n"
    )
    (package / "report" / "opener.py").write_text(
        "from iree_matrix.core.model.results import log_path\ndef f(d):\n    return log_path(d).read_text()\n"
    )
    (package / "report" / "spelled.py").write_text(
        "from iree_matrix.core.model.results import ResultsLog\n"
        'def f(d):\n    return list(ResultsLog(d / "results.jsonl"))\n'
    )
    assert readers(package) == {
        "iree_matrix.report.opener": ["imports log_path"],
        "iree_matrix.report.spelled": ["ResultsLog(...) on line 3", '"results.jsonl" on line 3'],
    }
