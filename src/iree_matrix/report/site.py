"""`results/site/`: the published answers as static pages, self-contained and offline (every figure
a matplotlib SVG inlined in its page, report/figures.py; one stylesheet beside them). Nothing is
derived or worded here: the answers are compat.json's document in findings/wording.py's words, and a
section's, a GPU's, an exporter's and an answer's page is rendered by the module of its Markdown."""

from __future__ import annotations

import dataclasses
import functools
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from iree_matrix.core import excerpts, formats
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.model import refusals
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.dispatches import DispatchesMetrics
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.metrics_view import number
from iree_matrix.core.model.results import LOG, Record, Status, latest_by_job
from iree_matrix.findings import compat, release_choice, results_folder, roofline, runs_view, wording
from iree_matrix.findings import exporters as exporter_answers
from iree_matrix.findings.results_folder import Results
from iree_matrix.iree import hints, opkinds, targets
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.report import exporters as exporters_page
from iree_matrix.report import figures, gpu, markup, sections

_e, _table = markup.e, markup.table

SITE_DIR = "site"
STYLE = "style.css"
# The packages an environment's row shows (by name prefix), beside the peers' own (matrix/peers.py):
# the ONNX form's exporter and compiler have `onnx` too.
_SHOWN_PACKAGES = ("iree", "torch", "onnx", "transformers", "numpy")


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


def page_name(model: str) -> str:
    return "models/" + re.sub(r"[^A-Za-z0-9_.-]", "_", model) + ".html"


def _ms(value: Optional[float]) -> str:
    return "" if value is None else formats.duration_ms(value)


@dataclasses.dataclass(frozen=True)
class Site:
    """The records of one results directory and the answers derived from them, once for every page."""

    records: tuple[Record, ...]
    runs: runs_view.Runs
    arch: str
    answers: Mapping[str, Any]

    @classmethod
    def of(
        cls,
        records: Iterable[Record],
        source: Optional[Path] = None,
        answers: Optional[Mapping[str, Any]] = None,
    ) -> Site:
        latest = tuple(latest_by_job(records).values())
        document = answers if answers is not None else compat.derive(latest, source)
        arch = document["arch"]
        return cls(latest, runs_view.Runs.of(latest, arch=arch), arch, document)

    def stage(self, name: str) -> list[Record]:
        return [r for r in self.records if r.stage == name]


def _words(record: Record) -> str:
    """A cell's hover text: its stage, outcome and the tool's telling line, and what to do where known."""
    if record.status is Status.NOT_RUN:
        return f"not run: {record.blocked_by or record.message or ''}"
    # A refusal is drawn as one (_heatmap) and said as one: never "fail".
    status = refusals.REFUSED if refusals.refused(record) else record.status.value
    text = f"{record.stage} {status}" + (f" ({record.error_class})" if record.error_class else "")
    if record.stage == "run" and (stand_in := runs_view.stand_in_of(record)):
        text += f" on runtime {stand_in} (no runtime {record.label.compiler} of its own)"
    advice = f"\nwhat to do: {todo}" if (todo := _what_to_do(record)) else ""
    if refusals.refused(record):
        return f"{text}: {excerpts.without_paths(runs_view.refusal_reason(record.message))}{advice}"
    if record.status is Status.OK:
        return text
    # the first error and its op, uncut; else the line a known signature matches, or the first error
    return f"{text}: {runs_view.clip(runs_view.why(record).split(': ', 1)[-1], 300)}{advice}"


def _chain(site: Site, function: str, exporter: str, compiler: str) -> Optional[Record]:
    """The record that says how far a cell got: its run, else its compile, or the failure of its own
    export or compile that kept it from running (an uninstallable environment stays not run)."""
    key = (function, exporter, compiler)
    record = site.runs.same(*key) or site.runs.compiles.get(key)
    if record is not None and record.status is Status.NOT_RUN:
        if release_choice.failed(cause := site.runs.index.cause(record)):
            return cause
    return record


def _index_page(site: Site) -> str:
    document = site.answers
    body = [
        f"<p class=lead>From <code>{_e(document['source'].get('file', LOG))}</code>: "
        f"{document['source']['records']} records; answers for <b>{_e(site.arch)}</b>. A figure marked ~ or "
        f"drawn hollow was taken while other programs kept ≥ {runs_view.NOISY_LOAD} cores busy or its "
        f"repetitions spread > {runs_view.NOISY_SPREAD:.0%}; only ratios beyond {runs_view.NOISE_RATIO}× are "
        "called findings. Hover a cell for the tool's own words.</p>",
        figures.legend(),
        *_windows(document),
        *_releases(document),
        *_models_heatmap(site),
        *_exporters_section(site),
        *_regressions(document),
    ]
    return _page("Which IREE release works for my model, and can this runtime load that module?", body)


def _windows(document: Mapping[str, Any]) -> list[str]:
    """Which compilers' modules each runtime loads: the table, and every measured pair as a heatmap."""
    rows = [wording.window_row(w, document) for w in wording.windows(document)]
    out = [f"<h2 id=windows>{_e(wording.WINDOWS)}</h2>", f"<p>{markup.words(wording.WINDOWS_INTRO)}</p>"]
    out += [_table(wording.WINDOW_HEADERS, rows)] if rows else []
    if not (found := document.get("pairs") or ()):
        return out
    compilers = runs_view.sorted_versions({p["compiler"] for p in found})
    runtimes = runs_view.sorted_versions({p["runtime"] for p in found})
    cells = [
        figures.Square(
            p["compiler"],
            p["runtime"],
            p["load"],
            p["load"] + (f": {p['reason']}" if p["reason"] else ""),
            p["evidence"][0],
        )
        for p in found
    ]
    out.append(figures.heatmap(cells, compilers, runtimes, "load", xlabel="runtime", ylabel="compiler"))
    if reasons := sorted({p["reason"] for p in found if p["reason"]}):
        said = "; ".join(f"<q>{_e(r)}</q>" for r in reasons)
        out.append(f"<p class=caption>Refusals, in the runtimes' words: {said}</p>")
    return out


def _releases(document: Mapping[str, Any]) -> list[str]:
    """Which release to use, per model, each model linked to its page and its figures' sitting."""
    models = document.get("models") or ()
    rows = []
    for model in models:
        cells = [markup.words(c) for c in wording.release_row(model)]
        cells[0] = f'<a href="{page_name(model["model"])}">{_e(model["model"])}</a>'
        rows.append([*cells, _e(wording.measured(model.get("newest_passing")))])
    headers = [*wording.RELEASE_HEADERS, wording.MEASURED]
    return [
        f"<h2 id=recommend>{_e(wording.RELEASE)}</h2>",
        f"<p>{markup.words(wording.RELEASE_INTRO)}</p>",
        _table(headers, rows, raw=range(len(headers))),
        *([f"<p>{markup.words(wording.overall(models))}</p>"] if models else []),
    ]


def _regressions(document: Mapping[str, Any]) -> list[str]:
    rows = [[markup.words(c) for c in wording.regression_row(r)] for r in document.get("regressions") or ()]
    headers = wording.REGRESSION_HEADERS
    return [
        f"<h2 id=regressions>{_e(wording.REGRESSIONS)}</h2>",
        f"<p>{markup.words(wording.REGRESSIONS_INTRO)}</p>",
        _table(headers, rows, raw=range(len(headers))) if rows else f"<p>{_e(wording.NO_REGRESSION)}</p>",
    ]


def _heatmap(
    site: Site, rows: Sequence[str], chain: Callable[..., Optional[Record]], fid: str, y: str
) -> list[str]:
    """`rows` × compiler releases, each square the record `chain(row, compiler)` says how far it got."""
    compilers = runs_view.sorted_versions(c for (_, _, c) in site.runs.compiles)
    cells = [
        figures.Square(x, c, "refuses" if refusals.refused(r) else r.status.value, _words(r), r.job)
        for x in rows
        for c in compilers
        if (r := chain(x, c)) is not None
    ]
    if not cells:
        return []
    return [figures.heatmap(cells, rows, compilers, fid, xlabel="IREE compiler release", ylabel=y)]


def _models_heatmap(site: Site) -> list[str]:
    def chain(function: str, compiler: str) -> Optional[Record]:  # each function's main exporter
        return _chain(site, function, site.runs.main_exporter([function]), compiler)

    if not (figure := _heatmap(site, site.runs.functions(), chain, "models", "function")):
        return []
    return [
        "<h2 id=models>Every function × compiler release</h2>",
        "<p>Export → compile → run on the compiler's own runtime, outputs checked against torch "
        "(each function's main exporter).</p>",
        *figure,
    ]


def _exporters_section(site: Site) -> list[str]:
    out = []
    for k, function in enumerate(site.runs.functions()):
        exporters = sorted({e for (f, e, _) in site.runs.compiles if f == function})
        if len(exporters) < 2:
            continue
        out.append(f"<h2 id=exporters-{k}>{_e(function)}: exporter × compiler</h2>")
        out += _heatmap(
            site, exporters, functools.partial(_chain, site, function), f"exporters-{k}", "exporter"
        )
    if exporter_answers.answered(site.records):
        out.append(
            '<p><a href="exporters.html">Exporter environments</a>: for each (Python, torch, '
            "iree-turbine), which compilers take its MLIR as text and as bytecode.</p>"
        )
    if same := wording.identical(site.answers):
        listed = "".join(f"<li>{markup.words(line)}</li>" for line in same)
        out.append(
            f"<p><b>{_e(wording.IDENTICAL)}.</b> {markup.words(wording.IDENTICAL_INTRO)}</p><ul>{listed}</ul>"
        )
    return out


def _references(site: Site, function: str, exporter: str) -> dict[str, float]:
    """torch eager (the export's own timing) and the peers, as horizontal reference lines."""
    out = {}
    if (eager := runs_view.timing(site.runs.exports.get((function, exporter)), eager=True)) is not None:
        # Marked like every other noisy figure: a two-thread torch op on a busy machine waits a
        # scheduler tick for its second thread, so a sub-millisecond op can read 8 ms.
        out["~torch eager (noisy)" if eager.noisy else "torch eager"] = eager.median
    for peer in (p for p in site.stage("peer") if p.label.model == function):
        for name, result in peer.metric.of(PeerMetrics).peers.items():
            if isinstance(result, Mapping) and result.get("status") == "ok" and name != "eager":
                if (median := runs_view.timing(Record("", "", "", "", Status.OK, {}, result))) is not None:
                    out[name] = median.median
    return out


def _model_page(site: Site, rec: release_choice.Recommendation) -> str:
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
            and (t := runs_view.timing(ran)) is not None
        )
        body.append(f"<h2>{_e(function)}: latency across releases</h2>")
        if not points:
            body.append("<p>No release ran it correctly: nothing to plot.</p>")
        else:
            references, series = _references(site, function, exporter), [figures.Series(function, points)]
            body.append(figures.latency_plot(series, compilers, references, f"{fid}-lat-{k}"))
        built = {c: m for c in compilers if (m := _compiled(site.runs.compiles.get((function, exporter, c))))}
        compile_s = {c: m.seconds for c, m in built.items() if m.seconds}
        sizes = {c: m.module_bytes / 1024 for c, m in built.items() if m.module_bytes}
        if compile_s or sizes:
            body.append(f"<h2>{_e(function)}: compile time and module size</h2>")
            body.append(figures.cost_plot(compile_s, sizes, compilers, f"{fid}-cost-{k}"))
    body += _roofline_section(site, rec)
    body += _op_kinds_section(site, rec, fid)
    body += _failures_section(site, rec)
    return _page(rec.model, body, depth=1)


def _blank(value: Optional[float]) -> Any:
    return "" if value is None else value


def _compiled(record: Optional[Record]) -> Optional[CompileMetrics]:
    return record.metric.of(CompileMetrics) if record is not None and record.status is Status.OK else None


def _roofline_section(site: Site, rec: release_choice.Recommendation) -> list[str]:
    """The model's functions as GFLOP/s and fraction of this machine's measured peak (roofline.py)."""
    if (document := roofline.document(site.records)) is None:
        return []
    functions = [f for f in document["functions"] if f["function"] in rec.functions and f["achieved"]]
    if not functions:
        return []
    peak = document["peak"]
    rows = [
        (
            f["function"],
            f"{f['flops'] / 1e9:.3g}",
            f"{f['bound_gflops']:.3g}",
            a["framework"],
            _ms(a["median_ms"]),
            f"{a['gflops']:.3g}",
            f"{a['fraction_of_peak']:.1%}",
        )
        for f in functions
        for a in f["achieved"]
    ]
    return [
        "<h2>Roofline: GFLOP/s and fraction of peak</h2>",
        f"<p>Measured peak ({_e(peak['measured'])}): {peak['gflops']:.3g} GFLOP/s on {peak['threads']} "
        f"threads ({peak['lanes']}-lane {_e(peak['isa'])} FMA chains), STREAM triad {peak['triad_gbs']:.3g} "
        f"GB/s; load average {_e(peak['load_average'])}. FLOPs: torch's FlopCounterMode on one call; bound: "
        "min(peak, FLOP/byte × bandwidth).</p>",
        _table(["function", "GFLOP", "bound GFLOP/s", "framework", "median", "GFLOP/s", "of peak"], rows),
    ]


def _op_kinds_section(site: Site, rec: release_choice.Recommendation, fid: str) -> list[str]:
    by_release: dict[str, dict[str, float]] = {}
    for record in site.stage("dispatches"):
        if record.label.model not in rec.functions or record.status is not Status.OK:
            continue
        kinds = by_release.setdefault(record.label.compiler or "?", {})
        for dispatch in record.metric.of(DispatchesMetrics).dispatches:
            if (median := number(dispatch.get("median_us"))) is not None:
                kind = opkinds.of_dispatch(str(dispatch.get("op") or dispatch.get("name") or ""))
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
        figures.op_kind_plot(by_release, f"{fid}-ops"),
    ]


def _failures_section(site: Site, rec: release_choice.Recommendation) -> list[str]:
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
        for r in sorted(failing, key=lambda r: (runs_view.version_key(r.label.compiler), r.job))
    ]
    return [
        "<h2>Failures, in the tools' words</h2>",
        _table(["compiler", "stage", "status", "class", "message", "what to do", "job"], rows),
    ]


def _failure_words(record: Record) -> str:
    """A compile's first error and the op it names, uncut; else the line a known signature matches,
    or the tool's first error line — without the paths of the machine it ran on."""
    if record.stage == "compile" and record.status is Status.FAIL:
        return runs_view.why(record).split(": ", 1)[1]
    return runs_view.clip(excerpts.without_paths(hints.telling_line(record.message, record.stage)), 300)


def _what_to_do(record: Record) -> str:
    found = release_choice.hint(record)
    return found.advice if found is not None else ""


def _environments_page(site: Site) -> str:
    rows, prefixes = [], (*_SHOWN_PACKAGES, *peer_registry.shown())
    for r in sorted(site.stage("install"), key=lambda r: r.job):
        packages = (r.env.get("packages") if isinstance(r.env, Mapping) else None) or {}
        shown = ", ".join(f"{k}=={v}" for k, v in sorted(packages.items()) if k.startswith(prefixes))
        pins = str(r.env.get("lock_digest", ""))[:12]
        rows.append((r.cell, r.env.get("backend", ""), r.env.get("python", ""), r.status.value, shown, pins))
    body = [
        "<p>Every environment the results were measured in: its packages (the ones that decide "
        "the answers) and the digest of its pins (every package, version and wheel hash).</p>",
        _table(["environment", "backend", "python", "install", "packages", "pins"], rows),
    ]
    if builds := site.stage("runtime-build"):
        body.append("<h2>Runtimes built from source</h2>")
        rows = []
        for r in builds:
            m = r.metric.of(RuntimeBuildMetrics)
            needed = " ".join(m.needed) or "static"
            rows.append(
                (r.job, r.status.value, _blank(m.bytes), needed, m.float_abi or "", _blank(m.build_seconds))
            )
        body.append(_table(["build", "status", "bytes", "needed", "float ABI", "build s"], rows))
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


def render(
    records: Iterable[Record],
    source: Optional[Path] = None,
    answers: Optional[Mapping[str, Any]] = None,
    results: Optional[Results] = None,
) -> dict[str, str]:
    """Every page of the site, by relative path; `answers` and `results` as the caller derived and
    loaded them (else from `source`'s folder; neither: the records' pages alone)."""
    from iree_matrix.report import answers as answer_page
    from iree_matrix.report import boards

    records = list(records)
    site = Site.of(records, source, answers)
    pages = {
        STYLE: STYLESHEET,
        "index.html": _index_page(site),
        "environments.html": _environments_page(site),
    }
    if boards.has_boards(records):  # the Pi Zero / Pi 4 answer, linked from the index
        _linked(pages, "boards.html", boards.PAGE, boards.html_body(records, figures.MARKS["timeout"]))
    for rec in release_choice.recommendations(site.runs):
        pages[page_name(rec.model)] = _model_page(site, rec)
    if found := exporter_answers.answered(site.records):
        pages["exporters.html"] = _page(exporters_page.TITLE, exporters_page.html_body(found))
    # Vulkan / CUDA / ROCm targets, linked from the index
    if any(r.stage == "compile" and targets.is_gpu(r.label.arch) for r in records):
        _linked(pages, "gpu.html", gpu.PAGE, gpu.html_body(records))
    if results is None and source is not None:
        results = results_folder.load(Path(source).parent)
    if results is not None and (results.advised or results.gpu_advised):  # results/answers: per CPU or GPU
        body = answer_page.html_body(results.advised, results.gpu_advised)
        _linked(pages, "answers.html", answer_page.PAGE, body)
    if results is not None and results.compared:  # `iree-matrix compare A B` runs kept beside the results
        title = "Paired comparisons: B against A, timed again in interleaved rounds"
        _linked(pages, "compare.html", title, _compare_body(results.compared))
    for section, body in section_pages(site.records):
        _linked(pages, f"{section.name}.html", section.title, body)
    return pages


def section_pages(records: Sequence[Record]) -> list[tuple[sections.Section, list[str]]]:
    """The stages' sections with a site page and something to show in `records`, with its body."""
    view = sections.View.of(records)
    found = [(s, s.page(view)) for s in sections.ordered() if s.page is not None]
    return [(section, body) for section, body in found if body]


def _linked(pages: dict[str, str], name: str, title: str, body: Sequence[str]) -> None:
    """Add the page `name` and link it from the index, above the legend (the latest added first)."""
    pages[name] = _page(title, body)
    link = f'<p><a href="{name}">{_e(title)}</a></p>'
    pages["index.html"] = pages["index.html"].replace(figures.legend(), link + "\n" + figures.legend(), 1)


def _compare_body(compared: Sequence[Mapping[str, Any]]) -> list[str]:
    body = [
        "<p class=lead>Each function's two modules timed again on one machine in paired, interleaved "
        "rounds on one thread (CPU time per call): the verdict is the exact sign-flip test of the round "
        "ratios (faster or slower only beyond 3 % and p &lt; 0.05); B / A above 1 is B slower.</p>"
    ]
    for data in compared:
        a, b = str(data.get("a", "A")), str(data.get("b", "B"))
        rows = []
        for f in (f for f in data["functions"] if isinstance(f, Mapping)):
            a_ms, b_ms = f.get("a_ms") or [], f.get("b_ms") or []
            ratio = f.get("ratio")
            rows.append(
                (
                    f.get("function", ""),
                    _ms(statistics.median(a_ms)) if a_ms else "",
                    _ms(statistics.median(b_ms)) if b_ms else "",
                    f"{ratio:.3g}×" if isinstance(ratio, (int, float)) else "",
                    f"{f.get('low', 0):.3g}–{f.get('high', 0):.3g}" if f.get("rounds") else "",
                    f.get("verdict", ""),
                    f"{f['p_value']:.2g}" if isinstance(f.get("p_value"), (int, float)) else "",
                    f.get("rounds", ""),
                )
            )
        host = HostIdentity.of(data.get("host"))
        where = f" on {_e(host.label())}" if host.known else ""
        body.append(f"<h2>{_e(b)} against {_e(a)}{where}</h2>")
        body.append(_table(["function", a, b, "B / A", "rounds' range", "verdict", "p", "rounds"], rows))
        if data.get("calibration"):
            body.append(f"<p class=caption>{_e(data['calibration'])}</p>")
    return body


def write(
    results_path: Path, out_dir: Path, answers: Optional[Mapping[str, Any]] = None, *, results: Results
) -> Path:
    """Render the site of `results_path` (its folder as loaded: `results`) into `out_dir`, removing
    pages no longer produced."""
    pages = render(results.records, Path(results_path), answers, results)
    out_dir = Path(out_dir)
    for stale in out_dir.rglob("*.html") if out_dir.is_dir() else []:
        if str(stale.relative_to(out_dir)) not in pages:
            stale.unlink()
    for name, text in pages.items():
        write_atomically(out_dir / name, text)
    return out_dir / "index.html"
