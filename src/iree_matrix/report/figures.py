"""The site's figures: matplotlib SVGs inlined in a page (no script, no CDN), each cell's words as
an SVG `<title>`. Deterministic (a fixed hash salt, no dates): the same records give the same bytes."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from iree_matrix.core import formats
from iree_matrix.findings import runs_view

SVG_NS = "http://www.w3.org/2000/svg"

# Colour and mark per status, for every heatmap and legend: a failure, a refusal (an answer) and a cell never
# run differ in lightness as well as hue, and by mark, so they stay apart without colour vision.
STATES = {  # state: (colour, mark)
    "loads": ("#4c9be8", "✓"),
    "ok": ("#4c9be8", "✓"),
    "compiled": ("#b9d6f5", "○"),  # a GPU module that compiled where no device of its kind could run it
    "refuses": ("#e8804c", "⊘"),
    "fail": ("#a50f15", "✗"),
    "mismatch": ("#f2c14e", "≠"),
    # the mark: a clock face DejaVu Sans has: "⏱" was a missing-glyph box, and matplotlib warned
    "timeout": ("#a77dc2", "◷"),
    "not_run": ("#d0d0d0", "·"),
    "unknown": ("#d0d0d0", "?"),
    "skip": ("#f4f4f4", "–"),
}
COLOURS = {state: colour for state, (colour, _) in STATES.items()}
MARKS = {state: mark for state, (_, mark) in STATES.items()}
# The figures' font: matplotlib's own, so every machine renders the same; every mark is in it.
FONT = "DejaVu Sans"
DARK = {"fail"}  # states whose mark is drawn white


def _pyplot() -> ModuleType:  # matplotlib.pyplot, imported on first use (seconds)
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
        if (text := titles.get(group.get("id", ""))) is not None:
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = text
            group.insert(0, title)
    root.set("id", figure_id)
    root.set("class", "figure")
    return ET.tostring(root, encoding="unicode")


def _scope_ids(root: ET.Element, prefix: str) -> None:
    """Prefix every id and every reference to one: matplotlib numbers ids per figure, so several
    figures inlined in one page would repeat them."""
    renamed = {}
    for element in root.iter():
        if (ident := element.get("id")) and not ident.startswith(prefix):
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


@dataclasses.dataclass(frozen=True)
class Square:
    row: str
    col: str
    state: str  # a key of COLOURS
    title: str  # shown on hover: the status and the tool's words
    job: str = ""


def heatmap(
    cells: Sequence[Square],
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
    ax.set(xlim=(0, len(cols)), ylim=(len(rows), 0))
    ax.set_xticks([j + 0.5 for j in range(len(cols))], cols, rotation=45, ha="right")
    ax.set_yticks([i + 0.5 for i in range(len(rows))], rows)
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    return _svg(fig, titles, figure_id)


@dataclasses.dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[str, runs_view.Timing], ...]  # (compiler, timing)


# A reference line this many times above the highest release figure is drawn as a mark at the top edge,
# not as a line that would flatten the releases onto the axis; medians spanning LOG_SPAN times: log scale.
CLIP_RATIO = 3.0
LOG_SPAN = 10.0


def latency_plot(
    series: Sequence[Series], compilers: Sequence[str], references: Mapping[str, float], figure_id: str
) -> str:
    """Median per release with min–max bars, noisy figures hollow, peers as horizontal lines (one far
    above as a mark at the top edge); a log scale when the medians span more than LOG_SPAN times."""
    fig, ax = _pyplot().subplots(figsize=(max(5.0, 0.45 * len(compilers) + 2.5), 3.2))
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
        for noisy, face in ((False, colour), (True, "white")):  # a noisy figure hollow
            if group := [(x, y) for x, y, (_, t) in zip(xs, ys, s.points) if t.noisy == noisy]:
                ax.plot(*zip(*group), ls="", marker="o", ms=5, mfc=face, mec=colour)
        titles[gid] = f"{s.name}: " + ", ".join(
            f"{c} {formats.duration_ms(t.median)}{' (noisy)' if t.noisy else ''}" for c, t in s.points
        )
    shown_off, label = 0, {"fontsize": 8, "ha": "right", "color": "0.25"}  # each reference's label
    for k, (name, value) in enumerate(sorted(references.items())):
        gid, said = f"{figure_id}-reference-{k}", f"{name} {formats.duration_ms(value)}"
        if name in off_scale and upper is not None:
            # A mark on the top edge, its value written beside it: the line would flatten the releases.
            x = len(compilers) - 0.5 - 0.4 * shown_off
            shown_off += 1
            (mark,) = ax.plot([x], [upper], ls="", marker="^", ms=7, color="0.35", clip_on=False)
            mark.set_gid(gid)
            shown = f"{said} ↑ off the scale"
            ax.annotate(shown, (x, upper), xytext=(-6, -4), textcoords="offset points", va="top", **label)
            above = formats.ratio(value / top)
            titles[gid] = (
                f"{name}: {formats.duration_ms(value)} (above the plot: {above} the slowest release)"
            )
            continue
        ax.axhline(value, color="0.35", ls=("--", ":", "-.")[k % 3], lw=1, gid=gid)
        ax.annotate(said, (len(compilers) - 0.5, value), va="bottom", **label)
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
        for x, bar in zip(xs, ax.bar(xs, [values[compilers[x]] for x in xs], color="#4c9be8")):
            bar.set_gid(f"{figure_id}-{name}-{x}")
            titles[bar.get_gid()] = f"{compilers[x]}: {formats.sig3(values[compilers[x]])} {unit}"
        ax.set_ylabel(label)
        ax.grid(axis="y", color="0.9")
    bottom.set_xticks(range(len(compilers)), compilers, rotation=45, ha="right")
    return _svg(fig, titles, figure_id)


def op_kind_plot(by_release: Mapping[str, Mapping[str, float]], figure_id: str) -> str:
    """Per release, the dispatches' median times summed by op kind (stacked, ms)."""
    plt = _pyplot()
    releases = runs_view.sorted_versions(by_release)
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


def legend(gpu: bool = False) -> str:
    """The colours and marks of every heatmap, as a line of HTML."""
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
            + f'">{MARKS[s]}</span> {html.escape(t)}'
            for t, s in items
        )
        + "</p>"
    )
