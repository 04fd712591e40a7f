"""One answer, worded once: "Which IREE release should I use?" reads the same in COMPATIBILITY.md, on
the site and in `query model`, because all three print findings/wording.py's sentences of one
compat.json document; and the `compare-A-B.json` files beside a log are read in one place
(findings/paired.py), by the answers and by the site's page of comparisons alike."""

from __future__ import annotations

import json
from pathlib import Path

from iree_matrix.core.model.results import ResultsLog
from iree_matrix.findings import compat, paired, query, results_folder, wording
from iree_matrix.report import markup, site
from iree_matrix.report.compatibility import write_compatibility
from tests.unit.test_answers import _compare, _compile, _run

# 3.0.0 and 3.1.0 timed on a loaded machine (no quiet sitting decides), then in paired rounds:
# 3.0.0 is 1.25x faster than the newest.
RECORDS = [
    _compile("m", "3.0.0"), _run("m", "3.0.0", median=5.0, load=1.5),
    _compile("m", "3.1.0"), _run("m", "3.1.0", median=10.0, load=1.5),
]  # fmt: skip
COMPARED = _compare("3.1.0", "3.0.0", "faster", 0.8)


def _published(tmp_path: Path) -> Path:
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in RECORDS:
        log.append(record)
    (tmp_path / "compare-3.1.0-3.0.0.json").write_text(json.dumps(COMPARED))
    return log.path


def test_which_release_reads_the_same_in_the_document_the_site_and_query(tmp_path: Path) -> None:
    source = _published(tmp_path)
    records = results_folder.read(source)
    document = compat.derive(records, source)
    (model,) = document["models"]
    said = wording.fastest(model)
    assert said.startswith("3.0.0 (1.25× faster than 3.1.0, paired rounds on Intel(R) Xeon(R)"), said

    markdown = write_compatibility(source, tmp_path / "COMPATIBILITY.md", records).read_text()
    row = next(line for line in markdown.splitlines() if line.startswith("| m "))
    assert f"| {said} " in row and wording.RELEASE_INTRO in markdown
    index = site.render(records, source)["index.html"]
    assert f"<td>{markup.words(said)}</td>" in index and markup.words(wording.RELEASE_INTRO) in index
    assert f"  fastest: {said}" in query.model(records, "m").lines
    # the overall line and the regression (3.1.0 slower in the same rounds) too
    assert wording.overall([model]) in markdown and markup.words(wording.overall([model])) in index
    (slower,) = document["regressions"]
    cells = wording.regression_row(slower)
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {cells[0]} ") and "→" in line)
    assert [c.strip() for c in row.strip("|").split(" | ")] == cells
    assert "".join(f"<td>{markup.words(c)}</td>" for c in cells) in index


def test_nothing_decided_is_said_alike_and_query_adds_how_to_decide_it(tmp_path: Path) -> None:
    records = RECORDS  # no compare file: a loaded machine's medians decide nothing
    (model,) = compat.derive(records)["models"]
    assert wording.fastest(model) == wording.NOT_DECIDED
    (line,) = [ln for ln in query.model(records, "m").lines if ln.startswith("  fastest:")]
    assert line == f"  fastest: {wording.NOT_DECIDED}; `iree-matrix compare A 3.1.0` decides it here"
    assert f"<td>{wording.NOT_DECIDED}</td>" in site.render(records)["index.html"]


def test_the_site_reads_the_compare_files_the_answers_read(tmp_path: Path, monkeypatch) -> None:
    source = _published(tmp_path)
    reads: list[Path] = []
    original = paired.read

    def counted(directory: Path) -> list:
        reads.append(Path(directory))
        return original(directory)

    monkeypatch.setattr(paired, "read", counted)
    pages = site.render(results_folder.read(source), source)
    assert "compare.html" in pages and "3.0.0 against 3.1.0" in pages["compare.html"]
    assert reads and all(d == tmp_path for d in reads)  # every read of them went through paired.read
    package = Path(paired.__file__).parents[1]
    readers = [p.relative_to(package) for p in package.rglob("*.py") if '"compare-*.json"' in p.read_text()]
    assert readers == [Path("findings/paired.py")]
