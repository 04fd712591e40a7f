"""COMPATIBILITY.md shows a record's HTML as text: escaped outside code, once, for the whole
document; a renderer shows code literally already. Real reports."""

from __future__ import annotations

from pathlib import Path

from iree_matrix import cli
from iree_matrix.core.model.results import Record, Status
from iree_matrix.report.markdown import no_html
from tests.unit.test_hostile_records import CELL, FINISHED, LABELS, _compiled, _write


def test_compatibility_md_escapes_html_outside_code_only() -> None:
    kept = [  # code, and a fence line inside a fence of tildes: a renderer shows them literally
        "```text",
        "<inside a fence> & kept",
        "```",
        "~~~~",
        "``` not a close of a tilde fence <x>",
        "~~~~",
    ]
    shown = [  # (a line of the document, the line as no_html shows it)
        (
            '| m | ❌ fail: target<"cuda"> <script>x</script> & more |',
            '| m | ❌ fail: target&lt;"cuda"> &lt;script>x&lt;/script> & more |',
        ),
        ("`<code span> & all` then <b>", "`<code span> & all` then &lt;b>"),
        ("``a ` <b> `` and an unclosed ` <i>", "``a ` <b> `` and an unclosed ` &lt;i>"),
        *((line, line) for line in kept),
        ("after <y>", "after &lt;y>"),
    ]
    text = "\n".join(line for line, _ in shown)
    assert no_html(text).split("\n") == [escaped for _, escaped in shown]


def test_a_message_that_closes_its_fence_is_escaped_after_it() -> None:
    """A tool's message holding a fence line ends the ```text block around it for a renderer: what
    follows is prose to the renderer, and escaped as prose."""
    text = "```text\nerror\n```\n<img src=x onerror=alert(1)>\n```"
    assert "&lt;img src=x onerror=alert(1)>" in no_html(text)


def test_compatibility_md_shows_a_records_html_as_text(tmp_path: Path, capsys) -> None:
    """In the load table a refusal's words are prose (escaped); in the failures' ```text blocks they
    are code, shown literally by a renderer (left alone)."""
    compiled = _compiled()
    hostile = "<img src=x onerror=alert(1)> failed"
    cross = Record(f"run:{CELL}/rt3.13.0", "run", f"{CELL}/rt3.13.0", "d" * 64, Status.FAIL,
                   {**LABELS, "runtime": "3.13.0"}, {}, error_class="run-error", message=hostile,
                   finished=FINISHED)  # fmt: skip
    results = _write(tmp_path / "r", compiled, cross)
    assert cli.main(["report", "--results-dir", str(results)]) == 0
    lines = (results / "COMPATIBILITY.md").read_text().splitlines()
    assert any("&lt;img src=x onerror=alert(1)> failed" in line for line in lines), lines
    raw = [i for i, line in enumerate(lines) if "<img" in line]
    assert all(lines[i - 1].startswith("```") for i in raw), [lines[i] for i in raw]
