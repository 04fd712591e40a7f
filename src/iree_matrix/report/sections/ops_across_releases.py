"""PERFORMANCE.md's "Ops across releases": the `ops` micro-benchmarks, one row per function
measured on many releases, then their instruction counts (`instructions.py`, the instructions stage's
subsection) and the regressions beyond noise between consecutive releases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import release_regressions, runs_view
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section, on_records
from iree_matrix.report.sections.instructions import MIN_RELEASES, render_instructions

TITLE = "Ops across releases"


def render_ops(latest: Iterable[Record]) -> list[str]:
    """The `ops` micro-benchmarks' median per release, and the regressions beyond noise between
    consecutive releases (the same rule as COMPATIBILITY.md)."""
    runs = runs_view.Runs.of(list(latest))
    if not (table := _timed(runs)):
        return []
    versions = runs_view.sorted_versions({v for cells in table.values() for v in cells})
    days = sorted(
        {(r.finished or "")[:10] for (f, *_), r in runs.by_cell.items() if f in table and r.finished}
    )
    rows = [[function, *(cells.get(v, "") for v in versions)] for function, cells in sorted(table.items())]
    return [
        "## " + TITLE,
        "",
        "Median latency per call of each function measured on at least "
        f"{MIN_RELEASES} IREE releases (each module on its own release's runtime, profile "
        "`default`; `~`: noisy — other programs busy or repetitions spread over 20 %)"
        + (f", measured {days[0]}" + (f" to {days[-1]}" if days[-1] != days[0] else "") if days else "")
        + ".",
        "",
        github_table(rows, ["function", *versions]),
        "",
        *render_instructions(runs, versions),
        *_slower(runs, table),
    ]


def _timed(runs: runs_view.Runs) -> dict[str, dict[str, str]]:
    """Per function timed on `MIN_RELEASES` releases or more (own runtimes): medians, `~` where noisy."""
    table: dict[str, dict[str, str]] = {}
    for function in runs.functions():
        exporter = runs.main_exporter([function])
        cells = {}
        for (f, e, c, rt), run in runs.by_cell.items():
            if f == function and e == exporter and c == rt and run.status is Status.OK:
                if (t := runs_view.timing(run)) is not None:
                    cells[c] = ("~" if t.noisy else "") + _ms(t.median)
        if len(cells) >= MIN_RELEASES:
            table[function] = cells
    return table


def _slower(runs: runs_view.Runs, table: Mapping[str, object]) -> list[str]:
    """The regressions beyond noise between consecutive releases of the functions in `table`."""
    slower = [r for r in release_regressions.regressions(runs) if r.kind == "slower" and r.function in table]
    if not slower:
        return []
    return [
        "Slower beyond noise between consecutive releases (two quiet timings decide by their medians; where "
        f"either is noisy, the same build's instruction counts decide — more than {runs_view.NOISE_RATIO:g}× "
        "the instructions per call — when both releases have one; without them, the newer fastest "
        f"repetition must exceed {runs_view.LOADED_RATIO:g}× the older slowest). The `default` build (this "
        "host's AVX-512) cannot be counted, so its pairs are decided by timings; the counted build's own "
        "pairs are listed with its name:",
        "",
        *(f"- **{r.subject}** {r.older} → {r.newer}: {r.detail} — decided by {r.signal}" for r in slower),
        "",
    ]


SECTION = Section(
    "ops_across_releases", Document.PERFORMANCE, 80, TITLE, ("run", "instructions"), on_records(render_ops)
)
