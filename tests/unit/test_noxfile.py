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
