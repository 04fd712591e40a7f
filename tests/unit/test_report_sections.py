"""Adding a stage's report section is adding its module: a toy section, written as a module into the
`report.sections` package (a temporary directory put on the package's path), is rendered in
PERFORMANCE.md or COMPATIBILITY.md by its rank among the others, listed by the site with a page of
its own and named by `iree-matrix show` for its stage's jobs — with no edit to performance.py,
compatibility.py, site.py or show.py. Neither document has a fixed chain of parts: a section of rank
1 is the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.commands import show
from iree_matrix.core.model.results import Record, Status
from iree_matrix.report import compatibility, performance, sections, site
from iree_matrix.report.sections import Document
from tests.unit import builders

TOY = """
from iree_matrix.report.sections import Document, Section, View


def _lines(view: View) -> list[str]:
    runs = view.index.stage("run")
    return ["## Toy: runs counted", "", f"{len(runs)} runs.", ""] if runs else []


def _page(view: View) -> list[str]:
    return [f"<p>{len(view.index.stage('run'))} runs.</p>"]


SECTION = Section(
    name="toy",
    document=Document.PERFORMANCE,
    rank=95,
    title="Toy: runs counted",
    stages=("run",),
    render=_lines,
    page=_page,
)
"""


# The same toy, placed first in COMPATIBILITY.md.
FIRST = TOY.replace("Document.PERFORMANCE", "Document.COMPATIBILITY").replace("rank=95", "rank=1")


def _installed(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from builders.plugged_in(sections, tmp_path / "more_sections", {"toy": source}, monkeypatch)


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _installed(TOY, tmp_path, monkeypatch)


@pytest.fixture
def first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _installed(FIRST, tmp_path, monkeypatch)


def _record(stage: str, labels: dict[str, str], metrics: dict[str, Any]) -> Record:
    cell = "/".join(labels.values())
    return Record(f"{stage}:{cell}", stage, cell, "k", Status.OK, labels, metrics=metrics)


def _records() -> list[Record]:
    latency = {"latency_ms": {"median": 5.0, "min": 4.0, "max": 6.0, "stdev": 0.0, "n": 5}}
    model = {"model": "tiny_cnn"}
    peer = _record("peer", model, {"peers": {"eager": {"status": "ok", **latency}}})
    labels = {**model, "compiler": "3.9.0", "runtime": "3.9.0", "profile": "default"}
    native = _record("run", {**labels, "arch": "x86_64"}, {**latency, "timing": "native"})
    emulated = _record("run", {**labels, "arch": "riscv64"}, {**latency, "timing": "emulated (qemu)"})
    return [peer, native, emulated]


def test_a_toy_section_is_rendered_in_performance_md_by_its_rank(toy: None) -> None:
    headings = [line for line in performance.render_all(_records()) if line.startswith("## ")]
    assert headings == [
        "## Performance: IREE against torch eager",  # the one peer the records ran
        "## Toy: runs counted",  # rank 95: after the dispatches' 90, before the emulated runs' 100
        "## Emulated runs (kept apart: qemu's speed, not a board's)",
    ]
    assert [s.name for s in performance.sections()][-3:] == ["dispatches", "toy", "emulated"]


def _headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("## ")]


def test_a_toy_section_of_rank_1_is_the_first_of_compatibility_md(first: None) -> None:
    """Every part of COMPATIBILITY.md is a registered section rendered by rank: none comes before
    a section of rank 1, in a published set's document or in a run's own (which leads with this
    machine's figures)."""
    for own in (False, True):
        headings = _headings(
            compatibility.render_compatibility(_records(), setting=sections.Setting(own=own))
        )
        assert headings[0] == "## Toy: runs counted", headings
        assert len(headings) > 2  # the document's own sections follow it
    assert compatibility.sections()[0].name == "toy"


def test_every_part_of_compatibility_md_is_a_registered_section() -> None:
    """The document is its head (title, legend, source) and its sections: each heading it prints is
    one section's title, in the order of their ranks."""
    text = compatibility.render_compatibility(_records())
    titles = [s.title for s in compatibility.sections()]
    shown = [h.removeprefix("## ") for h in _headings(text)]
    placed = [next(i for i, t in enumerate(titles) if h.startswith(t)) for h in shown]
    assert placed == sorted(placed) and len(shown) >= 4, shown
    ranks = [s.rank for s in compatibility.sections()]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert {"gpu", "machine", "published", "failures", "environments", "firmware"} <= {
        s.name for s in compatibility.sections()
    }


def test_a_toy_section_with_a_page_is_listed_by_the_site(toy: None) -> None:
    assert [(s.name, body) for s, body in site.section_pages(_records())] == [("toy", ["<p>2 runs.</p>"])]
    pages = site.render(_records())
    assert "<p>2 runs.</p>" in pages["toy.html"]
    assert '<a href="toy.html">Toy: runs counted</a>' in pages["index.html"]


def test_show_names_the_sections_of_a_jobs_stage(toy: None) -> None:
    assert "PERFORMANCE.md § Toy: runs counted" in show.section_titles("run")
    assert "COMPATIBILITY.md § Environments" in show.section_titles("install")
    assert "Toy" not in show.section_titles("dispatches")


def test_without_it_nothing_lists_it() -> None:
    assert "toy" not in [s.name for s in sections.ordered()]
    assert site.section_pages(_records()) == []  # no section of this package has a page today


def test_two_sections_of_one_rank_in_a_document_are_refused(toy: None) -> None:
    clash = sections.Section("clash", Document.PERFORMANCE, 95, "Clash", (), lambda view: [])
    with pytest.raises(RuntimeError, match="share a rank"):
        sections.of(Document.PERFORMANCE, [clash])


def test_two_sections_of_one_name_in_a_document_are_refused(toy: None) -> None:
    twin = sections.Section("toy", Document.PERFORMANCE, 96, "Twin", (), lambda view: [])
    with pytest.raises(RuntimeError, match="two sections share a name"):
        sections.of(Document.PERFORMANCE, [twin])
