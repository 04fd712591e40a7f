"""The noxfile a new user meets first (issue #30): a bare `nox` runs the fast checks, `nox -l` shows
each session's description as a whole sentence, and the tool runs through `_tool` (signals passed
on) rather than nox's `session.run`."""

from __future__ import annotations

import ast
from pathlib import Path

NOXFILE = Path(__file__).resolve().parents[2] / "noxfile.py"


def _sessions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(NOXFILE.read_text())
    return {
        f.name: f
        for f in tree.body
        if isinstance(f, ast.FunctionDef) and any("session" in ast.unparse(d) for d in f.decorator_list)
    }


def test_a_bare_nox_runs_lint_and_the_unit_tests():
    tree = ast.parse(NOXFILE.read_text())
    (chosen,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions"
    ]
    assert chosen == ["lint", "unit"] and set(chosen) <= set(_sessions())


def test_every_session_says_what_it_does_in_one_whole_line():
    for name, function in _sessions().items():
        doc = ast.get_docstring(function)
        assert doc, f"{name}: no description for `nox -l`"
        first = doc.splitlines()[0]
        assert first.endswith("."), f"{name}: `nox -l` shows {first!r}, cut mid-sentence"


def test_the_tool_runs_with_signals_passed_on():
    text = NOXFILE.read_text()
    assert 'session.run("iree-matrix"' not in text
    assert "signal.signal(sig, forward)" in text and "process_group" in text


def test_ci_runs_every_tier_once():
    """`nox -s tests` (what .ci/run runs) names each test folder once; `nox -s unit` the unit tier."""
    folders = sorted(p.name for p in (NOXFILE.parent / "tests").iterdir() if p.is_dir() and p.name != "data")
    text = NOXFILE.read_text()
    tiers = ast.literal_eval(text.split("\nTIERS = ", 1)[1].split("\n", 1)[0])
    assert sorted(Path(t).name for t in [*tiers, "tests/integration"]) == folders
    ci = (NOXFILE.parent / ".ci" / "run").read_text()
    assert "\nnox -s lint\n" in ci and ci.index("\nnox -s lint\n") < ci.index("\nnox -s tests")  # lint first
