"""`results/site/`: the published answers as static pages a person would rather look at.

Self-contained and offline: every figure is a matplotlib SVG inlined in its page (no script, no
CDN, works from `file://`), with one stylesheet beside the pages. Heatmap cells carry the cell's
status and the tool's own words as an SVG `<title>` (shown on hover) and the evidence job id.
Nothing is derived here: the windows, recommendations and regressions come from `answers.py`,
exactly as in COMPATIBILITY.md and compat.json.

Rendering is deterministic (fixed SVG hash salt, no dates), so re-rendering the same records gives
the same bytes.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.answers import advice, compat, exporters, release_verdicts, roofline
from iree_matrix.core import excerpts, formats, refusals
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.host import identity_label
from iree_matrix.core.records import Metrics
from iree_matrix.core.results import Record, Status, latest_by_job
from iree_matrix.iree import hints, opkinds
from iree_matrix.iree import peers as peer_registry
from iree_matrix.report import gpu, sections

SITE_DIR = "site"
STYLE = "style.css"
SVG_NS = "http://www.w3.org/2000/svg"

# Colour per status, shared by every heatmap and legend. Three answers must never look alike: a
# failure (dark red: the export, compile or run of this cell failed), a refusal (orange: a runtime
# said no to another release's module — an answer) and a cell never run (grey: no evidence). They
# differ in lightness as well as hue, and each has its own mark, so they stay apart without colour
# vision (and in print).
COLOURS = {
    "loads": "#4c9be8",
    "ok": "#4c9be8",
    "compiled": "#b9d6f5",  # a GPU module that compiled where no device of its kind could run it
    "refuses": "#e8804c",
    "fail": "#a50f15",
    "mismatch": "#f2c14e",
    "timeout": "#a77dc2",
    "not_run": "#d0d0d0",
    "unknown": "#d0d0d0",
    "skip": "#f4f4f4",
}
MARKS = {
    "loads": "✓",
    "ok": "✓",
    "compiled": "○",
    "refuses": "⊘",
    "fail": "✗",
    "mismatch": "≠",
    "timeout": "◷",  # a clock face DejaVu Sans has: "⏱" was a missing-glyph box, and matplotlib warned
    "not_run": "·",
}
MARKS.update(unknown="?", skip="–")
# The figures' font: matplotlib's own, so every machine renders the same; every mark is in it.
FONT = "DejaVu Sans"
# The packages an environment's row shows (by name prefix), beside the peers' own (iree/peers.py):
# the ONNX form's exporter and compiler have `onnx` too.
_SHOWN_PACKAGES = ("iree", "torch", "onnx", "transformers", "numpy")
DARK = {"fail"}  # states whose mark is drawn white

op_kind = opkinds.of_dispatch


# --- figures --------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: smaller, searchable, readable in the DOM
            "svg.hashsalt": "iree-matrix",  # stable ids: same records, same bytes
            "font.size": 9,
            "font.family": FONT,
        }
    )
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any, titles: Mapping[str, str], figure_id: str) -> str:
    """The figure as inline SVG markup, with `<title>` tooltips added to the groups in `titles`."""
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(buf.getvalue())
    _scope_ids(root, figure_id)
    for group in root.iter(f"{{{SVG_NS}}}g"):
        text = titles.get(group.get("id", ""))
        if text is not None:
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = text
            group.insert(0, title)
    root.set("id", figure_id)
    root.set("class", "figure")
    return ET.tostring(root, encoding="unicode")


def _scope_ids(root: ET.Element, prefix: str) -> None:
    """matplotlib numbers its ids per figure ("figure_1", "axes_1", clip paths): several figures
    inlined in one page would repeat them. Prefix every id (ours already carry the figure's id)
    and every reference to one."""
    renamed = {}
    for element in root.iter():
        ident = element.get("id")
        if ident and not ident.startswith(prefix):
            renamed[ident] = f"{prefix}-{ident}"
            element.set("id", renamed[ident])
    if not renamed:
        return
    reference = re.compile(r"url\(#([^)]+)\)")
    for element in root.iter():
        for name, value in element.attrib.items():
            if "url(#" in value:
                element.set(name, reference.sub(lambda m: f"url(#{renamed.get(m[1], m[1])})", value))
            elif name.endswith("href") and value.startswith("#") and value[1:] in renamed:
                element.set(name, "#" + renamed[value[1:]])


# --- figures: a status heatmap, latency across releases, compile cost, op kinds --------------------


@dataclasses.dataclass(frozen=True)
class Cell:
    row: str
    col: str
    state: str  # a key of COLOURS
    title: str  # shown on hover: the status and the tool's words
    job: str = ""


def heatmap(
    cells: Sequence[Cell],
    rows: Sequence[str],
    cols: Sequence[str],
    figure_id: str,
    *,
    xlabel: str,
    ylabel: str,
) -> str:
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    label_width = max((len(r) for r in rows), default=4) * 0.065
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(cols) + label_width + 1.0), 0.34 * len(rows) + 1.5))
    titles = {}
    for cell in cells:
        i, j = rows.index(cell.row), cols.index(cell.col)
        gid = f"{figure_id}-cell-{i}-{j}"
        ax.add_patch(
            Rectangle((j, i), 1, 1, facecolor=COLOURS[cell.state], edgecolor="white", lw=1.5, gid=gid)
        )
        colour = "white" if cell.state in DARK else "black"
        ax.text(j + 0.5, i + 0.5, MARKS[cell.state], ha="center", va="center", fontsize=9, color=colour)
        titles[gid] = f"{cell.row} × {cell.col}: {cell.title}" + (f"\n{cell.job}" if cell.job else "")
    ax.set_xlim(0, len(cols))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([j + 0.5 for j in range(len(cols))], cols, rotation=45, ha="right")
    ax.set_yticks([i + 0.5 for i in range(len(rows))], rows)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _svg(fig, titles, figure_id)


@dataclasses.dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[str, release_verdicts.Timing], ...]  # (compiler, timing)


# A reference line (torch eager, a peer) this many times above the highest release figure is drawn
# as a mark at the top edge with its value, not as a line that would flatten the releases onto
# the axis (a noisy eager figure of 80 ms against releases of 1-2 ms). Releases whose medians
# span more than LOG_SPAN times are drawn on a log scale.
CLIP_RATIO = 3.0
LOG_SPAN = 10.0


def latency_plot(
    series: Sequence[Series], compilers: Sequence[str], references: Mapping[str, float], figure_id: str
) -> str:
    """Median per release with min–max bars; noisy figures hollow; peers as horizontal lines (one far
    above the releases as a mark at the top edge, "off the scale"); a log scale when the releases'
    medians span more than LOG_SPAN times."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(compilers) + 2.5), 3.2))
    titles = {}
    medians = [t.median for s in series for _, t in s.points if t.median > 0]
    log = bool(medians) and max(medians) / min(medians) > LOG_SPAN
    top = max((t.high if t.high is not None else t.median for s in series for _, t in s.points), default=0.0)
    off_scale = {n: v for n, v in references.items() if top > 0 and not log and v > top * CLIP_RATIO}
    drawn = {n: v for n, v in references.items() if n not in off_scale}
    upper = max([top, *drawn.values()]) * 1.15 if top or drawn else None
    for k, s in enumerate(series):
        xs = [compilers.index(c) for c, _ in s.points]
        ys = [t.median for _, t in s.points]
        low = [t.median - (t.low if t.low is not None else t.median) for _, t in s.points]
        high = [(t.high if t.high is not None else t.median) - t.median for _, t in s.points]
        colour = f"C{k % 10}"
        gid = f"{figure_id}-series-{k}"
        bars = ax.errorbar(xs, ys, yerr=[low, high], color=colour, marker="", capsize=2, lw=1.2, label=s.name)
        bars.lines[0].set_gid(gid)  # the line only: its caps and bars would repeat the id
        noisy = [(x, y) for x, y, (_, t) in zip(xs, ys, s.points) if t.noisy]
        quiet = [(x, y) for x, y, (_, t) in zip(xs, ys, s.points) if not t.noisy]
        for group, face in ((quiet, colour), (noisy, "white")):
            if group:
                ax.plot(*zip(*group), ls="", marker="o", ms=5, mfc=face, mec=colour)
        titles[gid] = f"{s.name}: " + ", ".join(
            f"{c} {formats.duration_ms(t.median)}{' (noisy)' if t.noisy else ''}" for c, t in s.points
        )
    shown_off = 0
    for k, (name, value) in enumerate(sorted(references.items())):
        gid = f"{figure_id}-reference-{k}"
        if name in off_scale and upper is not None:
            # A mark on the top edge, its value written beside it: the line would flatten the releases.
            x = len(compilers) - 0.5 - 0.4 * shown_off
            shown_off += 1
            (mark,) = ax.plot([x], [upper], ls="", marker="^", ms=7, color="0.35", clip_on=False)
            mark.set_gid(gid)
            ax.annotate(
                f"{name} {formats.duration_ms(value)} ↑ off the scale",
                (x, upper),
                xytext=(-6, -4),
                textcoords="offset points",
                fontsize=8,
                ha="right",
                va="top",
                color="0.25",
            )
            above = formats.ratio(value / top)
            titles[gid] = (
                f"{name}: {formats.duration_ms(value)} (above the plot: {above} the slowest release)"
            )
            continue
        ax.axhline(value, color="0.35", ls=("--", ":", "-.")[k % 3], lw=1, gid=gid)
        ax.annotate(
            f"{name} {formats.duration_ms(value)}",
            (len(compilers) - 0.5, value),
            fontsize=8,
            ha="right",
            va="bottom",
            color="0.25",
        )
        titles[gid] = f"{name}: {formats.duration_ms(value)}"
    ax.set_xticks(range(len(compilers)), compilers, rotation=45, ha="right")
    ax.set_xlim(-0.5, len(compilers) - 0.5)
    if log:
        ax.set_yscale("log")
        ax.set_ylabel("latency per call (ms, log scale)")
    else:
        ax.set_ylim(bottom=0, top=upper)
        ax.set_ylabel("latency per call (ms)")
    ax.set_xlabel("IREE compiler release (module run by the same release's runtime)")
    ax.grid(axis="y", color="0.9")
    if series:
        ax.legend(fontsize=8, loc="upper left")
    return _svg(fig, titles, figure_id)


def cost_plot(
    compile_s: Mapping[str, float], module_kib: Mapping[str, float], compilers: Sequence[str], figure_id: str
) -> str:
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(max(5.0, 0.45 * len(compilers) + 2.5), 3.6))
    titles = {}
    for ax, values, label, name, unit in (
        (top, compile_s, "compile time (s)", "compile", "s"),
        (bottom, module_kib, "module size (KiB)", "size", "KiB"),
    ):
        xs = [compilers.index(c) for c in compilers if c in values]
        bars = ax.bar(xs, [values[compilers[x]] for x in xs], color="#4c9be8")
        for x, bar in zip(xs, bars):
            bar.set_gid(f"{figure_id}-{name}-{x}")
            titles[bar.get_gid()] = f"{compilers[x]}: {formats.sig3(values[compilers[x]])} {unit}"
        ax.set_ylabel(label)
        ax.grid(axis="y", color="0.9")
    bottom.set_xticks(range(len(compilers)), compilers, rotation=45, ha="right")
    return _svg(fig, titles, figure_id)


def op_kind_plot(by_release: Mapping[str, Mapping[str, float]], figure_id: str) -> str:
    """Per release, the dispatches' median times summed by op kind (stacked, ms)."""
    plt = _pyplot()
    releases = release_verdicts.sorted_versions(by_release)
    kinds = sorted({k for v in by_release.values() for k in v})
    fig, ax = plt.subplots(figsize=(max(4.0, 0.8 * len(releases) + 3.0), 3.0))
    titles = {}
    bottom = [0.0] * len(releases)
    for k, kind in enumerate(kinds):
        values = [by_release[r].get(kind, 0.0) for r in releases]
        bars = ax.bar(range(len(releases)), values, bottom=bottom, label=kind, color=f"C{k % 10}")
        for x, bar in enumerate(bars):
            bar.set_gid(f"{figure_id}-kind-{k}-{x}")
            titles[bar.get_gid()] = f"{releases[x]}, {kind}: {formats.duration_ms(values[x])}"
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xticks(range(len(releases)), releases)
    ax.set_ylabel("dispatch time, summed (ms)")
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _svg(fig, titles, figure_id)


# --- pages ----------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: Sequence[str], depth: int = 0) -> str:
    up = "../" * depth
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f'<link rel="stylesheet" href="{up}{STYLE}">',
            "</head><body>",
            f'<nav><a href="{up}index.html">iree-matrix results</a> · <a href="{up}environments.html">'
            "environments</a></nav>",
            f"<h1>{_e(title)}</h1>",
            *body,
            "</body></html>",
            "",
        ]
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw: Sequence[int] = ()) -> str:
    """An HTML table; columns listed in `raw` are already markup."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{v if i in raw else _e(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page_name(model: str) -> str:
    return "models/" + re.sub(r"[^A-Za-z0-9_.-]", "_", model) + ".html"


def _ms(value: Optional[float], noisy: bool = False) -> str:
    return "" if value is None else f"{'~' if noisy else ''}{formats.duration_ms(value)}"


@dataclasses.dataclass(frozen=True)
class Site:
    """The records of one results directory, indexed once for every page."""

    records: tuple[Record, ...]
    runs: release_verdicts.Runs
    arch: str
    source: Mapping[str, Any]

    @classmethod
    def of(cls, records: Iterable[Record], source: Optional[Path] = None) -> Site:
        latest = tuple(latest_by_job(records).values())
        arch = release_verdicts.main_arch(latest)
        document_source = compat.derive([], source)["source"]  # file name and digest, one definition
        document_source["records"] = len(latest)
        return cls(latest, release_verdicts.Runs.of(latest, arch=arch), arch, document_source)

    def compilers(self) -> list[str]:
        return release_verdicts.sorted_versions(c for (_, _, c) in self.runs.compiles)

    def stage(self, name: str) -> list[Record]:
        return [r for r in self.records if r.stage == name]


def _state(record: Optional[Record]) -> str:
    if record is None:
        return "unknown"
    return "refuses" if refusals.refused(record) else record.status.value


def _words(record: Optional[Record]) -> str:
    """A cell's hover text: which stage, its outcome and the tool's telling line (without any
    machine's paths), and what to do when a known signature matches."""
    if record is None:
        return "no record"
    if record.status is Status.NOT_RUN:
        return f"not run: {record.blocked_by or record.message or ''}"
    # A refusal is drawn as one (_state) and said as one: never "fail".
    status = refusals.REFUSED if refusals.refused(record) else record.status.value
    text = f"{record.stage} {status}" + (f" ({record.error_class})" if record.error_class else "")
    if record.stage == "run" and (stand_in := release_verdicts.stand_in_of(record)):
        text += f" on runtime {stand_in} (no runtime {record.label.compiler} of its own)"
    found = release_verdicts.hint(record)
    advice = f"\nwhat to do: {found.advice}" if found is not None else ""
    if refusals.refused(record):
        return f"{text}: {excerpts.without_paths(release_verdicts.refusal_reason(record.message))}{advice}"
    if record.status is Status.OK:
        return text
    # the first error and its op, uncut; else the line a known signature matches, or the first error
    return f"{text}: {release_verdicts.clip(release_verdicts.why(record).split(': ', 1)[-1], 300)}{advice}"


def _chain(site: Site, function: str, exporter: str, compiler: str) -> Optional[Record]:
    """The record that says how far a cell got: its run, else its compile — or, when that was never
    run because the cell's own export or compile failed, that failure (drawn as one, not as a cell
    never run). A cell blocked by an environment that could not be installed stays not run."""
    record = site.runs.same(function, exporter, compiler) or site.runs.compiles.get(
        (function, exporter, compiler)
    )
    if record is not None and record.status is Status.NOT_RUN:
        cause = site.runs.cause(record)
        if release_verdicts.failed(cause):
            return cause
    return record


def _index_page(site: Site) -> str:
    runs = site.runs
    body = [
        f"<p class=lead>From <code>{_e(site.source.get('file', 'results.jsonl'))}</code>: "
        f"{site.source['records']} records; answers for <b>{_e(site.arch)}</b>. "
        "A figure marked ~ or drawn hollow was taken while other programs kept ≥ "
        f"{release_verdicts.NOISY_LOAD} cores "
        f"busy or its repetitions spread > {release_verdicts.NOISY_SPREAD:.0%}; only ratios beyond "
        f"{release_verdicts.NOISE_RATIO}× are called findings. Hover a cell for the tool's own words.</p>",
        _legend(),
    ]
    windows = release_verdicts.windows(runs)
    body.append("<h2 id=windows>Which compilers' modules does each runtime load?</h2>")
    body.append(
        "<ul>"
        + "".join(
            f"<li>{_e(w.text())}"
            + "".join(f" <span class=warn>contradiction: {_e(c)}</span>" for c in w.contradictions)
            + "</li>"
            for w in windows
        )
        + "</ul>"
    )
    found = release_verdicts.pairs(runs)
    if found:
        compilers = release_verdicts.sorted_versions(c for c, _ in found)
        runtimes = release_verdicts.sorted_versions(rt for _, rt in found)
        cells = [
            Cell(c, rt, p.load.value, p.load.value + (f": {p.reason}" if p.reason else ""), p.evidence[0])
            for (c, rt), p in found.items()
        ]
        body.append(heatmap(cells, compilers, runtimes, "load", xlabel="runtime", ylabel="compiler"))
        reasons = sorted({p.reason for p in found.values() if p.reason})
        if reasons:
            body.append(
                "<p class=caption>Refusals, in the runtimes' words: "
                + "; ".join(f"<q>{_e(r)}</q>" for r in reasons)
                + "</p>"
            )
    body += _recommendations_section(site)
    body += _models_heatmap(site)
    body += _exporters_section(site)
    regressions = release_verdicts.regressions(runs)
    body.append("<h2 id=regressions>Regressions between consecutive releases</h2>")
    body.append(
        _table(
            ["function", "from", "to", "kind", "what", "decided by", "evidence"],
            [(r.subject, r.older, r.newer, r.kind, r.detail, r.signal, r.evidence[1]) for r in regressions],
        )
        if regressions
        else "<p>None beyond the noise.</p>"
    )
    return _page("Which IREE release works for my model, and can this runtime load that module?", body)


def _legend(gpu: bool = False) -> str:
    items = [
        ("loads / ok", "ok"),
        *([("compiled, not run here", "compiled")] if gpu else []),
        ("refused by the runtime (an answer)", "refuses"),
        ("failed: export, compile or run", "fail"),
        ("output mismatch", "mismatch"),
        ("timeout", "timeout"),
        ("not run / unknown", "not_run"),
        ("skip", "skip"),
    ]
    return (
        "<p class=legend>"
        + " ".join(
            f'<span class="swatch state-{s}" style="background:{COLOURS[s]}'
            + (";color:white" if s in DARK else "")
            + f'">{MARKS[s]}</span> {_e(t)}'
            for t, s in items
        )
        + "</p>"
    )


def _recommendations_section(site: Site) -> list[str]:
    rows = []
    for rec in release_verdicts.recommendations(site.runs):
        newest = rec.newest_passing
        fastest = (
            f"{rec.fastest.compiler} ({formats.ratio(rec.fastest_ratio)} faster, {rec.fastest_basis})"
            if rec.fastest and rec.fastest_ratio
            else f"none beyond noise ({rec.fastest_basis})"
            if newest and rec.fastest_basis
            else "not decided (no paired rounds, no quiet sitting)"
            if newest and newest.latency_ms is not None
            else ""
        )
        passing = [r.compiler for r in rec.releases if r.passes]
        rows.append(
            (
                f'<a href="{page_name(rec.model)}">{_e(rec.model)}</a>',
                f"{len(passing)} of {len(rec.releases)}",
                newest.compiler if newest else "none passes",
                _latencies(site, newest) if newest else "",
                _measured(site, newest) if newest else "",
                fastest,
                f"{rec.smallest.compiler} ({formats.size(rec.smallest.module_bytes)})"
                if rec.smallest and rec.smallest.module_bytes
                else "",
            )
        )
    return [
        "<h2 id=recommend>Which release should I use?</h2>",
        _table(
            [
                "model",
                "releases passing",
                "newest passing",
                "its latency per call",
                "measured",
                "fastest",
                "smallest module",
            ],
            rows,
            raw=(0, 3),
        ),
    ]


def _latencies(site: Site, result: release_verdicts.ReleaseResult) -> str:
    """A release's latency per call, each function apart (a prefill and a decode step are two
    figures, not one sum): markup."""
    timed = [
        (r.label.model, t)
        for job in result.evidence
        if (r := site.runs.by_job.get(job)) is not None
        and r.stage == "run"
        and (t := release_verdicts.timing(r))
    ]
    if len(timed) <= 1:
        return _e(_ms(result.latency_ms, result.noisy))
    return "<br>".join(
        f"{_e(function.split('.', 1)[-1])}: {_e(_ms(t.median, t.noisy))}" for function, t in timed
    )


def _measured(site: Site, result: release_verdicts.ReleaseResult) -> str:
    """When and where a release's figure was measured, and why it is marked noisy if it is."""
    runs = [r for job in result.evidence if (r := site.runs.by_job.get(job)) is not None and r.stage == "run"]
    if not runs:
        return ""
    why = "; ".join(t.why_noisy() for r in runs if (t := release_verdicts.timing(r)) is not None and t.noisy)
    return release_verdicts.measured(runs[0]) + (f" — noisy: {why}" if why else "")


def _models_heatmap(site: Site) -> list[str]:
    functions = site.runs.functions()
    compilers = site.compilers()
    cells = []
    for function in functions:
        exporter = site.runs.main_exporter([function])
        for compiler in compilers:
            record = _chain(site, function, exporter, compiler)
            if record is not None:
                cells.append(Cell(function, compiler, _state(record), _words(record), record.job))
    if not cells:
        return []
    return [
        "<h2 id=models>Every function × compiler release</h2>",
        "<p>Export → compile → run on the compiler's own runtime, outputs checked against torch "
        "(each function's main exporter).</p>",
        heatmap(cells, functions, compilers, "models", xlabel="IREE compiler release", ylabel="function"),
    ]


def _exporters_section(site: Site) -> list[str]:
    out = []
    for k, function in enumerate(site.runs.functions()):
        exporters = sorted({e for (f, e, _) in site.runs.compiles if f == function})
        if len(exporters) < 2:
            continue
        compilers = site.compilers()
        cells = [
            Cell(e, c, _state(r), _words(r), r.job)
            for e in exporters
            for c in compilers
            if (r := _chain(site, function, e, c)) is not None
        ]
        out += [
            f"<h2 id=exporters-{k}>{_e(function)}: exporter × compiler</h2>",
            heatmap(
                cells,
                exporters,
                compilers,
                f"exporters-{k}",
                xlabel="IREE compiler release",
                ylabel="exporter",
            ),
        ]
    if _exporter_answers(site):
        out.append(
            '<p><a href="exporters.html">Exporter environments</a>: for each (Python, torch, '
            "iree-turbine), which compilers take its MLIR as text and as bytecode.</p>"
        )
    same = release_verdicts.identical_exports(site.runs)
    groups = [s for s in same if len(s.exporters) > 1]
    if groups:
        out.append(
            "<p>Byte-identical MLIR: "
            + "; ".join(f"{_e(s.function)} from {_e(', '.join(s.exporters))}" for s in groups)
            + "</p>"
        )
    return out


def _exporter_answers(site: Site) -> list[exporters.ExporterAnswer]:
    """The exporter environments' answers, when there are several environments or any bytecode."""
    found = exporters.exporter_answers(site.records)
    several = len({a.exporter for a in found}) > 1
    return found if several or any(t.form == exporters.BYTECODE for a in found for t in a.takes) else []


def _exporters_page(site: Site, found: Sequence[exporters.ExporterAnswer]) -> str:
    body = [
        "<p class=lead>Each row an exporter environment: Python, torch, iree-turbine and the IREE "
        "compiler package whose importer turbine used. Each cell: did this compiler take the "
        "export's MLIR text (<code>T</code>, then run against torch's outputs) and its MLIR bytecode "
        "(<code>B</code>, <code>.mlirbc</code>)? ✓ yes, ≠ outputs differ, ✗ refused (hover for the "
        "compiler's words). <code>iree-matrix query export --torch X --turbine Y [--python Z]</code> "
        "answers one row.</p>"
    ]
    counts = {d.function: d for d in exporters.distinct(found)}
    for k, function in enumerate(sorted({a.function for a in found})):
        rows = [a for a in found if a.function == function]
        if len(rows) < 2 and not any(t.form == exporters.BYTECODE for a in rows for t in a.takes):
            continue  # one exporter, text only: the model's page says it all
        compilers = release_verdicts.sorted_versions({t.compiler for a in rows for t in a.takes})
        d = counts.get(function)
        body.append(f"<h2 id=env-{k}>{_e(function)}</h2>")
        if d is not None:
            body.append(
                f"<p>{d.exporters} environments wrote {d.texts} distinct MLIR texts"
                + (f" and {d.bytecodes} distinct bytecode files" if d.bytecodes else "")
                + " (byte-identical exports share one compile).</p>"
            )
        table_rows = []
        for a in rows:
            cells = []
            for c in compilers:
                marks = []
                for form, letter in ((exporters.TEXT, "T"), (exporters.BYTECODE, "B")):
                    take = next((t for t in a.takes if t.compiler == c and t.form == form), None)
                    if take is not None:
                        ok = take.takes and take.run in (None, Status.OK.value)
                        mark = "✓" if ok else "≠" if take.run == Status.MISMATCH.value else "✗"
                        marks.append(f'<span title="{_e(take.words or take.status)}">{letter}{mark}</span>')
                cells.append(" ".join(marks) or "–")
            importer = a.importer.replace("iree-base-compiler ", "") or "?"
            table_rows.append([a.python, a.torch, a.turbine, importer, *cells])
        raw = list(range(4, 4 + len(compilers)))
        body.append(_table(["python", "torch", "turbine", "importer", *compilers], table_rows, raw=raw))
    refusals = exporters.bytecode_refusals(found)
    if refusals:
        body.append("<h2 id=bytecode>Bytecode the compilers do not read</h2>")
        body.append(
            _table(
                ["exporter", "importer", "compilers", "functions", "the compiler's words"],
                [
                    (r.exporter, r.importer, ", ".join(r.compilers), ", ".join(r.functions), r.words)
                    for r in refusals
                ],
            )
        )
    return _page("Exporter environments: which compilers take their MLIR", body)


def _references(site: Site, function: str, exporter: str) -> dict[str, float]:
    """torch eager (the export's own timing) and the peers, as horizontal reference lines."""
    out = {}
    eager = release_verdicts.timing(site.runs.exports.get((function, exporter)), eager=True)
    if eager is not None:
        # Marked like every other noisy figure: a two-thread torch op on a busy machine waits a
        # scheduler tick for its second thread, so a sub-millisecond op can read 8 ms.
        out["~torch eager (noisy)" if eager.noisy else "torch eager"] = eager.median
    for peer in site.stage("peer"):
        if peer.label.model != function:
            continue
        for name, result in peer.metric.peers.items():
            if isinstance(result, Mapping) and result.get("status") == "ok" and name != "eager":
                median = release_verdicts.timing(Record("", "", "", "", Status.OK, {}, result))
                if median is not None:
                    out[name] = median.median
    return out


def _model_page(site: Site, rec: release_verdicts.Recommendation) -> str:
    compilers = [r.compiler for r in rec.releases]
    body = [
        f"<p>Functions: {_e(', '.join(rec.functions))}. Passing releases: "
        f"{_e(', '.join(r.compiler for r in rec.releases if r.passes) or 'none')}.</p>"
    ]
    fid = re.sub(r"[^A-Za-z0-9]", "-", rec.model)
    for k, function in enumerate(rec.functions):
        exporter = site.runs.main_exporter([function])
        points = tuple(
            (c, t)
            for c in compilers
            if (ran := site.runs.same(function, exporter, c)) is not None
            and ran.status is Status.OK
            and (t := release_verdicts.timing(ran)) is not None
        )
        body.append(f"<h2>{_e(function)}: latency across releases</h2>")
        if points:
            series = [Series(function, points)]
            body.append(
                latency_plot(series, compilers, _references(site, function, exporter), f"{fid}-lat-{k}")
            )
        else:
            body.append("<p>No release ran it correctly: nothing to plot.</p>")
        compile_s = {
            c: v
            for c in compilers
            if (m := _compiled(site.runs.compiles.get((function, exporter, c)))) and (v := m.seconds)
        }
        sizes = {
            c: v / 1024
            for c in compilers
            if (m := _compiled(site.runs.compiles.get((function, exporter, c)))) and (v := m.module_bytes)
        }
        if compile_s or sizes:
            body.append(f"<h2>{_e(function)}: compile time and module size</h2>")
            body.append(cost_plot(compile_s, sizes, compilers, f"{fid}-cost-{k}"))
    body += _roofline_section(site, rec)
    body += _op_kinds_section(site, rec, fid)
    body += _failures_section(site, rec)
    return _page(rec.model, body, depth=1)


def _or_blank(value: Optional[float]) -> Any:
    return "" if value is None else value


def _compiled(record: Optional[Record]) -> Optional[Metrics]:
    """A compile's metrics, when it succeeded."""
    return record.metric if record is not None and record.status is Status.OK else None


def _roofline_section(site: Site, rec: release_verdicts.Recommendation) -> list[str]:
    """The model's functions as GFLOP/s and fraction of this machine's measured peak (roofline.py)."""
    document = roofline.document(site.records)
    if document is None:
        return []
    functions = [f for f in document["functions"] if f["function"] in rec.functions and f["achieved"]]
    if not functions:
        return []
    peak = document["peak"]
    rows = [
        (f["function"], f"{f['flops'] / 1e9:.3g}", f"{f['bound_gflops']:.3g}", a["framework"],
         _ms(a["median_ms"]), f"{a['gflops']:.3g}", f"{a['fraction_of_peak']:.1%}")
        for f in functions
        for a in f["achieved"]
    ]  # fmt: skip
    return [
        "<h2>Roofline: GFLOP/s and fraction of peak</h2>",
        f"<p>Measured peak ({_e(peak['measured'])}): {peak['gflops']:.3g} GFLOP/s on {peak['threads']} "
        f"threads ({peak['lanes']}-lane {_e(peak['isa'])} FMA chains), STREAM triad "
        f"{peak['triad_gbs']:.3g} GB/s; load average {_e(peak['load_average'])}. FLOPs: torch's "
        "FlopCounterMode on one call; bound: min(peak, "
        "FLOP/byte × bandwidth).</p>",
        _table(["function", "GFLOP", "bound GFLOP/s", "framework", "median", "GFLOP/s", "of peak"], rows),
    ]


def _op_kinds_section(site: Site, rec: release_verdicts.Recommendation, fid: str) -> list[str]:
    by_release: dict[str, dict[str, float]] = {}
    for record in site.stage("dispatches"):
        if record.label.model not in rec.functions or record.status is not Status.OK:
            continue
        kinds = by_release.setdefault(record.label.compiler or "?", {})
        for dispatch in record.metric.dispatches:
            median = release_verdicts.number(dispatch.get("median_us"))
            if median is not None:
                kind = op_kind(str(dispatch.get("op") or dispatch.get("name") or ""))
                kinds[kind] = kinds.get(kind, 0.0) + median / 1000
    if not by_release:
        return [
            "<h2>Time by op kind</h2>",
            "<p>Not measured in these results (the dispatches stage of "
            "<code>nox -s bench</code> measures it).</p>",
        ]
    return [
        "<h2>Time by op kind</h2>",
        "<p>Each dispatch benchmarked alone (iree-benchmark-module), medians summed by kind. The kind "
        "is read from the dispatch's name, which changes between releases (3.13 names a 1×1 "
        "convolution <code>matmul_like</code>): compare kinds within a release, totals across.</p>",
        op_kind_plot(by_release, f"{fid}-ops"),
    ]


def _failures_section(site: Site, rec: release_verdicts.Recommendation) -> list[str]:
    """The model's own failures: refusals of other releases' modules are answers (index page)."""
    failing = [
        r
        for r in site.records
        if r.stage in ("export", "compile", "run")
        and r.label.model in rec.functions
        and r.status in (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)
        and not refusals.is_answer(r)
    ]
    if not failing:
        return ["<h2>Failures</h2>", "<p>None.</p>"]
    rows = [
        (
            r.label.compiler,
            r.stage,
            r.status.value,
            r.error_class or "",
            _failure_words(r),
            _what_to_do(r),
            r.job,
        )
        for r in sorted(failing, key=lambda r: (release_verdicts.version_key(r.label.compiler), r.job))
    ]
    return [
        "<h2>Failures, in the tools' words</h2>",
        _table(["compiler", "stage", "status", "class", "message", "what to do", "job"], rows),
    ]


def _failure_words(record: Record) -> str:
    """A compile's first error and the op it names, uncut; else the line a known signature matches,
    or the tool's first error line — without the paths of the machine it ran on."""
    if record.stage == "compile" and record.status is Status.FAIL:
        return release_verdicts.why(record).split(": ", 1)[1]
    return release_verdicts.clip(
        excerpts.without_paths(hints.telling_line(record.message, record.stage)), 300
    )


def _what_to_do(record: Record) -> str:
    found = release_verdicts.hint(record)
    return found.advice if found is not None else ""


def _environments_page(site: Site) -> str:
    rows = []
    for r in sorted(site.stage("install"), key=lambda r: r.job):
        packages = r.env.get("packages") if isinstance(r.env, Mapping) else None
        shown = ", ".join(
            f"{k}=={v}"
            for k, v in sorted((packages or {}).items())
            if k.startswith((*_SHOWN_PACKAGES, *peer_registry.shown()))
        )
        rows.append(
            (
                r.cell,
                r.env.get("backend", ""),
                r.env.get("python", ""),
                r.status.value,
                shown,
                str(r.env.get("lock_digest", ""))[:12],
            )
        )
    body = [
        "<p>Every environment the results were measured in: its packages (the ones that decide "
        "the answers) and the digest of its full lock.</p>",
        _table(["environment", "backend", "python", "install", "packages", "lock"], rows),
    ]
    builds = site.stage("runtime-build")
    if builds:
        body.append("<h2>Runtimes built from source</h2>")
        body.append(
            _table(
                ["build", "status", "bytes", "needed", "float ABI", "build s"],
                [
                    (
                        r.job,
                        r.status.value,
                        _or_blank(r.metric.bytes),
                        " ".join(r.metric.needed) or "static",
                        r.metric.float_abi or "",
                        _or_blank(r.metric.build_seconds),
                    )
                    for r in builds
                ],
            )
        )
    return _page("Environments", body)


STYLESHEET = """\
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em;
       color: #222; }
nav { font-size: 13px; margin-bottom: 1em; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.lead { color: #444; } .caption { font-size: 12px; color: #555; }
.warn { color: #b00; }
.legend .swatch { display: inline-block; width: 1.4em; text-align: center; border-radius: 2px; }
svg.figure { max-width: 100%; height: auto; display: block; margin: .5em 0; }
code, q { font-family: ui-monospace, monospace; font-size: 12px; }
"""


def render(records: Iterable[Record], source: Optional[Path] = None) -> dict[str, str]:
    """Every page of the site, by relative path."""
    from iree_matrix.report import boards

    records = list(records)
    site = Site.of(records, source)
    pages = {
        STYLE: STYLESHEET,
        "index.html": _index_page(site),
        "environments.html": _environments_page(site),
    }
    if boards.has_boards(records):  # the Pi Zero / Pi 4 answer, linked from the index
        title = "Which IREE release runs my model on the Pi Zero / Pi 4 / Pi 3?"
        _linked(pages, "boards.html", title, boards.html_body(records, MARKS["timeout"]))
    for rec in release_verdicts.recommendations(site.runs):
        pages[page_name(rec.model)] = _model_page(site, rec)
    found = _exporter_answers(site)
    if found:
        pages["exporters.html"] = _exporters_page(site, found)
    if gpu.has_gpu(records):  # Vulkan / CUDA / ROCm targets, linked from the index
        title = "Does my model compile for Vulkan / CUDA / ROCm, and run there?"
        _linked(pages, "gpu.html", title, _gpu_body(records))
    advised = _answers(source)
    if advised:  # the answer per function and CPU identity (results/answers), linked from the index
        title = "What to take per model and CPU: release, flags, and how it compares"
        _linked(pages, "answers.html", title, _answers_body(advised))
    compared = _comparisons(source)
    if compared:  # `iree-matrix compare A B` runs kept beside the results, linked from the index
        title = "Paired comparisons: B against A, timed again in interleaved rounds"
        _linked(pages, "compare.html", title, _compare_body(compared))
    for section, body in section_pages(site.records):
        _linked(pages, f"{section.name}.html", section.title, body)
    return pages


def section_pages(records: Sequence[Record]) -> list[tuple[sections.Section, list[str]]]:
    """The stages' sections (report/sections/) that have a page on the site and something to show
    in `records` (the newest of each job): each with its page's body."""
    view = sections.View.of(records)
    found = [(s, s.page(view)) for s in sections.ordered() if s.page is not None]
    return [(section, body) for section, body in found if body]


def _linked(pages: dict[str, str], name: str, title: str, body: Sequence[str]) -> None:
    """Add the page `name` and link it from the index, above the legend (the latest added first)."""
    pages[name] = _page(title, body)
    link = f'<p><a href="{name}">{_e(title)}</a></p>'
    pages["index.html"] = pages["index.html"].replace(_legend(), link + "\n" + _legend(), 1)


def _gpu_body(records: Sequence[Record]) -> list[str]:
    """The GPU page: per target, function × compiler (each module on its own release's runtime),
    then the runtime cross where the records hold one."""
    body = [
        "<p class=lead>Each compiler's module for the target, run on its own release's runtime where "
        "a device of that kind is here (on a machine without a GPU, a software Vulkan device: Mesa's "
        "lavapipe, or SwiftShader for the runtimes that hide lavapipe; the hover says which) and "
        "checked against torch. ○ compiled, not run here: no device of that kind — on a machine with "
        "the device the same cells run. A time on a software device is the CPU's, not a GPU's.</p>",
        _legend(gpu=True),
    ]
    cells = gpu.own_runtime_cells(records)
    for target in sorted({c.target for c in cells}):
        mine = [c for c in cells if c.target == target]
        body += _heat_figure(mine, "gpu", _e(target), sorted, "IREE compiler release", "function")
    crossed = gpu.cross_cells(records)
    for subject in sorted({c.target for c in crossed}):
        mine = [c for c in crossed if c.target == subject]
        heading = f"Which runtime loads which compiler's module: {_e(subject)}"
        body += _heat_figure(mine, "cross", heading, release_verdicts.sorted_versions, "runtime", "compiler")
    return body


def _heat_figure(
    heats: Sequence[gpu.Heat],
    prefix: str,
    heading: str,
    order_rows: Callable[[Iterable[str]], list[str]],
    xlabel: str,
    ylabel: str,
) -> list[str]:
    """One GPU heatmap (its heading and figure) of heats that share a target; columns are releases."""
    fid = f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", heats[0].target.lower())
    rows = order_rows({h.row for h in heats})
    cols = release_verdicts.sorted_versions({h.col for h in heats})
    squares = [Cell(h.row, h.col, h.state, h.words, h.job) for h in heats]
    return [f"<h2 id={fid}>{heading}</h2>", heatmap(squares, rows, cols, fid, xlabel=xlabel, ylabel=ylabel)]


def _answers(source: Optional[Path]) -> list[advice.Advice]:
    """The answers published beside the records (their set's answers/ folder), if any."""
    if source is None or not (Path(source).parent / advice.DIRNAME).is_dir():
        return []
    return advice.published(Path(source).parent / advice.DIRNAME)


def _answers_body(found: Sequence[advice.Advice]) -> list[str]:
    from iree_matrix.report import answers as answer_tables

    body = [
        "<p class=lead>Every figure of a row is one thread's CPU time per call from one paired sitting on "
        "the CPU it names (<code>iree-matrix advise MODEL</code>); ratios do not carry between CPUs.</p>",
        _table(answer_tables.HEADERS, answer_tables.rows(found)),
    ]
    for a in found:
        body.append(f"<h2>{_e(advice.display_name(a))} on {_e(a.identity.short)}</h2>")
        body.append(f"<p>{_e(a.identity.label)}; {_e(a.sitting)}</p>")
        body.append(f"<pre>iree-compile model.mlir {_e(advice.flags_text(a.flags))} -o model.vmfb</pre>")
    return body


def _comparisons(source: Optional[Path]) -> list[dict[str, Any]]:
    """The `compare-A-B.json` files `iree-matrix compare` wrote beside the results (ones it cannot
    read are left out), in name order."""
    if source is None:
        return []
    found = []
    for path in sorted(Path(source).parent.glob("compare-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("functions"), list):
            found.append(data)
    return found


def _compare_body(compared: Sequence[Mapping[str, Any]]) -> list[str]:
    body = [
        "<p class=lead>Each function's two modules timed again on one machine in paired, interleaved "
        "rounds on one thread (CPU time per call): the verdict is the exact sign-flip test of the round "
        "ratios (faster or slower only beyond 3 % and p &lt; 0.05); B / A above 1 is B slower.</p>"
    ]
    for data in compared:
        a, b = str(data.get("a", "A")), str(data.get("b", "B"))
        rows = []
        for f in data["functions"]:
            if not isinstance(f, Mapping):
                continue
            a_ms, b_ms = f.get("a_ms") or [], f.get("b_ms") or []
            ratio = f.get("ratio")
            rows.append((
                f.get("function", ""),
                _ms(statistics.median(a_ms)) if a_ms else "",
                _ms(statistics.median(b_ms)) if b_ms else "",
                f"{ratio:.3g}×" if isinstance(ratio, (int, float)) else "",
                f"{f.get('low', 0):.3g}–{f.get('high', 0):.3g}" if f.get("rounds") else "",
                f.get("verdict", ""),
                f"{f['p_value']:.2g}" if isinstance(f.get("p_value"), (int, float)) else "",
                f.get("rounds", ""),
            ))  # fmt: skip
        host = data.get("host")
        where = f" on {_e(identity_label(host))}" if isinstance(host, Mapping) and host else ""
        body.append(f"<h2>{_e(b)} against {_e(a)}{where}</h2>")
        body.append(_table(["function", a, b, "B / A", "rounds' range", "verdict", "p", "rounds"], rows))
        if data.get("calibration"):
            body.append(f"<p class=caption>{_e(data['calibration'])}</p>")
    return body


def write(results_path: Path, out_dir: Path) -> Path:
    """Render the site of `results_path` into `out_dir` (pages no longer produced are removed)."""
    pages = render(release_verdicts.read(Path(results_path)), Path(results_path))
    out_dir = Path(out_dir)
    for stale in out_dir.rglob("*.html") if out_dir.is_dir() else []:
        if str(stale.relative_to(out_dir)) not in pages:
            stale.unlink()
    for name, text in pages.items():
        write_atomically(out_dir / name, text)
    return out_dir / "index.html"
