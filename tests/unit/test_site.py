"""The site's pages from hand-made records: what each page shows, and that it is deterministic."""

from __future__ import annotations

import re

from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.metrics.run import DISAGREES
from iree_matrix.core.model.results import Status
from iree_matrix.report import figures, site
from tests.unit.test_answers import _compile, _refused, _run


def _records():
    records = []
    for c, median in (("3.8.0", 20.0), ("3.9.0", 10.0)):
        records += [_compile("tiny", c), _run("tiny", c, median=median)]
    records += [_compile("tiny", "3.10.0", status=Status.FAIL), _run("tiny", "3.10.0", status=Status.NOT_RUN)]
    records += [_run("tiny", "3.8.0", "3.9.0"), _refused("tiny", "3.9.0", "3.8.0")]
    return records


def test_pages_and_their_figures():
    pages = site.render(_records())
    assert set(pages) == {"style.css", "index.html", "environments.html", "models/tiny.html"}
    index = pages["index.html"]
    # one heatmap cell per measured (compiler, runtime) pair, with the runtime's words on hover
    assert len(re.findall(r'<g id="load-cell-\d+-\d+"', index)) == 5  # 3.10.0 on itself: unknown
    assert "<title>3.9.0 × 3.8.0: refuses: bytecode version mismatch; runtime supports 16.0" in index
    # the window, as COMPATIBILITY.md's table has it: runtime 3.9.0 loads compilers 3.8.0–3.9.0
    assert re.search(r"<tr><td>3\.9\.0</td><td>[^<]*</td><td>3\.8\.0–3\.9\.0</td>", index)
    model = pages["models/tiny.html"]
    assert 'id="tiny-lat-0-series-0"' in model and "3.8.0 20.0 ms" in model
    assert "compile-error" in model  # 3.10.0's failure, in the tool's words
    assert "<script" not in index + model  # static: nothing to run, nothing fetched


def test_rendering_is_deterministic_and_page_names_are_safe():
    assert site.render(_records()) == site.render(_records())
    assert site.page_name("whisper_tiny@transformers") == "models/whisper_tiny_transformers.html"


def test_ids_are_unique_across_the_figures_of_a_page():
    """Several matplotlib SVGs inlined in one page would otherwise repeat "figure_1", clip ids…"""
    for name, text in site.render(_records()).items():
        ids = re.findall(r' id="([^"]*)"', text)
        assert len(ids) == len(set(ids)), name
        for target in re.findall(r"url\(#([^)]+)\)", text):
            assert target in ids, (name, target)


def test_a_release_run_on_a_stand_in_runtime_says_so_on_hover():
    """Issue 29: 3.7.1's modules ran on runtime 3.7.0 (no iree-base-runtime 3.7.1 exists)."""
    records = [_compile("tiny", "3.7.0"), _run("tiny", "3.7.0"), _compile("tiny", "3.7.1")]
    records.append(_run("tiny", "3.7.1", "3.7.0"))
    index = site.render(records)["index.html"]
    assert "ok on runtime 3.7.0 (no runtime 3.7.1 of its own)" in index


def test_the_recommendation_says_when_and_where_its_figure_was_measured_and_why_it_is_noisy():
    import dataclasses

    records = _records()
    host = {"cpu": "AMD EPYC", "machine": "x86_64"}
    records = [
        dataclasses.replace(r, started="2026-11-23T09:12:27+00:00", host=HostIdentity.of(host))
        for r in records
    ]
    index = site.render(records)["index.html"]
    assert "<th>measured</th>" in index and "2026-11-23 09:12 UTC on AMD EPYC (x86_64)" in index
    disagrees = {DISAGREES: "5.00 ms (results/bench)"}
    loaded = [dataclasses.replace(r, metrics={**r.metrics, **disagrees})
              if r.stage == "run" else r for r in records]  # fmt: skip
    assert (
        "noisy: a quieter measurement of the same module gave 5.00 ms (results/bench)"
        in (site.render(loaded)["index.html"])
    )


def _cells(page: str) -> dict[str, tuple[str, str]]:
    """Heatmap cell id -> (its fill colour, its hover title)."""
    found = re.finditer(
        r'<g id="([\w-]+-cell-\d+-\d+)">\s*<title>([^<]*)</title>\s*<path[^>]*fill: (#[0-9a-f]{6})', page
    )
    return {m[1]: (m[3], m[2]) for m in found}


def test_failed_refused_and_not_run_are_three_colours():
    """Issue #39 item 4: a cell whose compile failed is drawn as a failure (it was grey, "not run /
    unknown"), a refusal apart from a failure, and a cell blocked by a missing runtime as not run."""
    import dataclasses

    records = _records()
    failed = records[4]
    records[5] = dataclasses.replace(records[5], blocked_by=failed.job)  # the run the failed compile blocked
    records += [_compile("tiny", "3.11.0"), _run("tiny", "3.11.0", status=Status.NOT_RUN)]
    records[-1] = dataclasses.replace(records[-1], blocked_by="install:py3.11-iree-runtime3.11.0")
    cells = _cells(site.render(records)["index.html"])
    models = {
        title.split(":")[0]: fill for ident, (fill, title) in cells.items() if ident.startswith("models")
    }
    assert models["tiny × 3.10.0"] == figures.COLOURS["fail"]
    assert models["tiny × 3.11.0"] == figures.COLOURS["not_run"]
    assert models["tiny × 3.9.0"] == figures.COLOURS["ok"]
    refusal = next(fill for fill, title in cells.values() if "refuses" in title)
    assert refusal == figures.COLOURS["refuses"]
    assert len({figures.COLOURS[s] for s in ("fail", "refuses", "not_run", "ok")}) == 4
    title = next(t for i, (f, t) in cells.items() if "tiny × 3.10.0" in t and i.startswith("models"))
    assert "compile fail (compile-error)" in title and title.endswith(failed.job)


def test_a_reference_far_above_the_releases_is_a_mark_not_a_flattening_line():
    """Issue #39 item 4: a noisy eager line of 80 ms against releases of 1-2 ms."""
    from iree_matrix.findings import runs_view

    points = (
        ("3.8.0", runs_view.Timing(1.0, 0.9, 1.1, 0.0)),
        ("3.9.0", runs_view.Timing(2.0, 1.9, 2.1, 0.0)),
    )
    svg = figures.latency_plot([figures.Series("f", points)], ["3.8.0", "3.9.0"], {"torch eager": 80.0}, "p")
    assert "off the scale" in svg and 'id="p-reference-0"' in svg
    near = figures.latency_plot([figures.Series("f", points)], ["3.8.0", "3.9.0"], {"torch eager": 3.0}, "q")
    assert "off the scale" not in near
    wide = (
        ("3.8.0", runs_view.Timing(1.0, 0.9, 1.1, 0.0)),
        ("3.9.0", runs_view.Timing(50.0, 49.0, 51.0, 0.0)),
    )
    assert "log scale" in figures.latency_plot([figures.Series("f", wide)], ["3.8.0", "3.9.0"], {}, "r")


def test_a_models_functions_are_shown_apart_not_summed():
    records = []
    for function, median in (("m.prefill", 30.0), ("m.decode", 4.0)):
        records += [_compile(function, "3.9.0"), _run(function, "3.9.0", median=median)]
    index = site.render(records)["index.html"]
    assert "prefill: 30.0 ms" in index and "decode: 4.00 ms" in index
    assert "34.0 ms" not in index


def test_a_compare_run_kept_beside_the_results_has_its_page(tmp_path):
    """Issue #39 item 6: `iree-matrix compare A B` writes compare-A-B.json beside the results; the
    site shows it as a page linked from the index (an unreadable file is left out)."""
    import json

    source = tmp_path / "results.jsonl"
    source.write_text("")
    found = {"function": "mobilenet_v2", "a_ms": [40.0, 41.0, 42.0], "b_ms": [30.0, 30.5, 31.0],
             "ratio": 0.74, "low": 0.72, "high": 0.76, "p_value": 0.0078, "rounds": 8,
             "verdict": "faster"}  # fmt: skip
    host = {"cpu": "Intel(R) Xeon(R) Processor", "family": "6", "model": "167", "llvm_cpu": "rocketlake"}
    (tmp_path / "compare-3.9.0-3.13.0.json").write_text(
        json.dumps(
            {"a": "3.9.0", "b": "3.13.0", "host": host, "calibration": "null rate 0/54", "functions": [found]}
        )
    )
    (tmp_path / "compare-x-y.json").write_text("{broken")
    pages = site.render(_records(), source)
    page = pages["compare.html"]
    assert "<h2>3.13.0 against 3.9.0 on Intel(R) Xeon(R) Processor" in page and "rocketlake" in page
    assert "<td>mobilenet_v2</td><td>41.0 ms</td><td>30.5 ms</td><td>0.74×</td>" in page
    assert "faster" in page and "null rate 0/54" in page
    assert 'href="compare.html"' in pages["index.html"]
    assert "compare.html" not in site.render(_records())  # nothing kept: no page


def test_every_mark_is_in_the_figures_font_and_a_timeout_draws_without_a_warning():
    """Issue #52: the timeout mark "⏱" is in no font the site uses — a missing-glyph box on the page,
    and matplotlib's "Glyph 9201 missing" warning on the console of whoever rendered it."""
    import warnings

    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    charmap = FT2Font(font_manager.findfont(figures.FONT, fallback_to_default=False)).get_charmap()
    assert not [m for m in figures.MARKS.values() if any(ord(c) not in charmap for c in m)]
    cells = [figures.Square(r, c, state, state) for r, c, state in [("a", "x", "timeout"), ("a", "y", "ok")]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph fails here
        svg = figures.heatmap(cells, ["a"], ["x", "y"], "t", xlabel="x", ylabel="y")
    assert figures.MARKS["timeout"] in svg


def test_no_published_page_carries_a_glyph_the_sites_fonts_lack():
    """The boards page too (issue #52): its timeouts read "◷ timeout", BOARDS.md's "⏱ timeout"."""
    from pathlib import Path

    pages = sorted((Path(__file__).resolve().parents[2] / "results").glob("**/site/*.html"))
    assert pages and not [str(p) for p in pages if "⏱" in p.read_text()]
