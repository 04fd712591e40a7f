"""PERFORMANCE.md's "Ops across releases": the `ops` micro-benchmarks, one row per function
measured on many releases, then their instruction counts ("Instructions per call", the instructions
stage's subsection) and the regressions beyond noise between consecutive releases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model.metrics.instructions import InstructionsMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import release_regressions, runs_view
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section, on_records

TITLE = "Ops across releases"

MIN_RELEASES = 4  # a function measured on at least this many releases gets a row


Counted = dict[str, dict[str, Record]]  # function -> release -> its instructions record


def render_instructions(runs: runs_view.Runs, versions: Sequence[str]) -> list[str]:
    """Instructions per call per function and release (callgrind), and beside consecutive releases'
    quiet timings of the counted build, whether the noise-free signal agrees with the clock."""
    if not (table := _counted(runs)):
        return []
    shown = [v for v in versions if any(v in cells for cells in table.values())]
    shown += runs_view.sorted_versions({v for cells in table.values() for v in cells} - set(shown))
    counted = [r for cells in table.values() for r in cells.values()]
    profiles = sorted({r.label.profile for r in counted})
    tools = sorted({str(r.metric.of(InstructionsMetrics).instructions.get("tool", "")) for r in counted})
    text = release_regressions.instructions_text
    rows: list[list[str]] = []
    for function, cells in sorted(table.items()):
        figures = {v: n for v, r in cells.items() if (n := release_regressions.counted(r))}
        rows.append([function, *(text(figures[v]) if v in figures else "" for v in shown)])
    return [
        "### Instructions per call",
        "",
        "Instructions one call executes, counted by valgrind's callgrind "
        f"({', '.join(t for t in tools if t)}) on `iree-benchmark-module --device=local-sync` (one thread "
        "does all the work), inside `iree_vm_invoke` only (`--toggle-collect`: the call, without start-up, "
        "module load and input parsing). The count does not move with the machine's load. "
        "valgrind emulates no AVX-512 CPU, so the counted module is the same function compiled with "
        f"profile {', '.join(f'`{p}`' for p in profiles)} (x86-64-v3: AVX2 and FMA) by each release, "
        "run on that release's runtime. That is another program than the `default` build (IREE picks "
        "vector tiles from the target CPU's features), so a count speaks for its own build — what an "
        "AVX2 machine runs — and decides that build's regressions, not the `default` build's.",
        "",
        github_table(rows, ["function", *shown]),
        "",
        *_render_pairs(runs, table),
    ]


def _counted(runs: runs_view.Runs) -> Counted:
    """The functions counted on at least `MIN_RELEASES` releases, each release's count from the
    runs' own profile if it was counted, else from a counted build's."""
    table: Counted = {}
    for profile in [runs.profile, *runs.counted_profiles()]:
        found = runs_view.Runs(runs.index, profile, runs.arch).instructions
        for (function, _, compiler), record in found.items():
            table.setdefault(function, {}).setdefault(compiler, record)
    return {f: cells for f, cells in table.items() if len(cells) >= MIN_RELEASES}


def _render_pairs(runs: runs_view.Runs, table: Counted) -> list[str]:
    """Consecutive releases' time ratio beside their instruction ratio, where both had quiet timings."""
    pairs: list[list[str]] = []
    quiet_pairs: list[list[str]] = []
    for function, cells in sorted(table.items()):
        for row, moved in _pairs(runs, function, cells):
            (pairs if moved else quiet_pairs).append(row)
    if not (pairs or quiet_pairs):
        return []
    moved = bool(pairs)
    lines = [
        "Consecutive releases whose counted build had quiet timings on both (local-task, this host; "
        "the build named beside the ratio)"
        + (f", where either ratio moved beyond {runs_view.NOISE_RATIO:g}×" if moved else "")
        + ": newer over older. 'agree': both signals say slower, faster or neither beyond "
        f"{runs_view.NOISE_RATIO:g}×.",
        "",
        github_table(
            pairs or quiet_pairs, ["function", "releases", "time ratio", "instruction ratio", "agree"]
        ),
        "",
    ]
    if moved and quiet_pairs:
        lines += [
            f"The other {len(quiet_pairs)} quiet pairs: neither signal moved beyond "
            f"{runs_view.NOISE_RATIO:g}× ("
            + ", ".join(f"{p[0]} {p[1]}: {p[2]} vs {p[3]}" for p in quiet_pairs)
            + ").",
            "",
        ]
    return lines


def _pairs(runs: runs_view.Runs, function: str, cells: dict[str, Record]) -> list[tuple[list[str], bool]]:
    """A function's consecutive counted releases with quiet timings: each pair's row, and if it moved."""
    figures = {v: n for v, r in cells.items() if (n := release_regressions.counted(r))}
    present = [v for v in runs_view.sorted_versions(cells) if figures.get(v)]
    found = []
    for older, newer in zip(present, present[1:]):
        ta, tb = (runs_view.timing(runs.by_job.get("run:" + cells[v].cell)) for v in (older, newer))
        if ta is None or tb is None or ta.noisy or tb.noisy:
            continue
        time_ratio, count_ratio = tb.median / ta.median, figures[newer] / figures[older]
        build = cells[older].label.profile
        moved = max(time_ratio, 1 / time_ratio, count_ratio, 1 / count_ratio) > runs_view.NOISE_RATIO
        row = [
            function,
            f"{older} → {newer}",
            f"{formats.ratio(time_ratio)} ({build})",
            formats.ratio(count_ratio),
            _agrees(time_ratio, count_ratio),
        ]
        found.append((row, moved))
    return found


def _agrees(time_ratio: float, count_ratio: float) -> str:
    """Whether the two signals say the same beyond noise: both slower, both faster, or both within."""
    noise = runs_view.NOISE_RATIO
    directions = {1 if r > noise else -1 if r < 1 / noise else 0 for r in (time_ratio, count_ratio)}
    return "yes" if len(directions) == 1 else "no"


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
