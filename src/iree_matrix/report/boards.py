"""BOARDS.md (and the site's boards page): which IREE release runs my model on the Pi Zero, the
Pi 4, the Pi 3 — the newest release per board and function, each function's compiler × runtime
table (emulated under qemu-user), vmvx beside llvm-cpu, and every runtime built from source."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from iree_matrix.core import excerpts, formats
from iree_matrix.core.model.configuration import Runtime
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.results import LOG, Index, Record, Status, latest_by_job
from iree_matrix.findings.runs_view import sorted_versions, version_key
from iree_matrix.iree import compile_errors, targets
from iree_matrix.report import markdown, markup

LLVM = "default"  # the llvm-cpu profile the boards' tables show
SOFT_FMAF = "soft-fmaf"  # llvm-cpu with a software fmaf linked into ARM32 kernels (flags.py)
VMVX = "vmvx"
SYNC = "local-sync"
FILENAME = "BOARDS.md"
PAGE = "Which IREE release runs my model on the Pi Zero / Pi 4 / Pi 3?"


@dataclasses.dataclass(frozen=True)
class ModuleRuns:
    """One module on one runtime: its run on each device (or why it never ran)."""

    unit: str
    compiler: str
    runtime: str
    arch: str
    profile: str
    runs: Mapping[str, Record]  # device -> run record

    def ok(self) -> bool:
        return any(r.status is Status.OK for r in self.runs.values())


def has_boards(records: Iterable[Record]) -> bool:
    titled = targets.board_pages()
    return any(r.stage == "run" and r.label.arch in titled for r in records)


def root_causes(records: Iterable[Record]) -> list[Record]:
    """Each not-run record as a copy carrying its root blocker's words, not its direct blocker's."""
    recs = list(records)
    index = Index.of(recs)
    out = []
    for r in recs:
        if (root := index.cause(r)) is not r and root.status is not Status.NOT_RUN:
            r = dataclasses.replace(
                r,
                blocked_by=f"{root.stage}: {short_reason(root)}",
                message=f"{root.stage}: {reason(root)}",
                error_class=f"blocked-{root.stage}",
            )
        out.append(r)
    return out


def reason(record: Record) -> str:
    """Why a stage did not succeed, in the tool's own words: one line, uncut, without host paths (a compile's
    first error and the op it names; a runtime build's missing submodule; else the message's first line)."""
    if record.stage == "compile" and record.error_class != "link-error":  # a link's summary line says more
        if (named := compile_errors.of_record(record.metrics, record.message)) is not None:
            return excerpts.without_paths(named.text())
    return excerpts.without_paths(first_words(record))


_NO_SOURCE = re.compile(r"no runtime source for (?P<release>\S+?):")
SHORT = 90  # characters of a reason a table cell shows; the whole is under the function's cross


def short_reason(record: Record) -> str:
    """`reason`, short enough for a table cell: a missing source as the fix to pass, a crash's
    first clause, anything else cut at a word boundary."""
    words = reason(record)
    if no_source := _NO_SOURCE.match(words):
        release = no_source["release"]
        return f"no runtime source for {release} (pass --iree-source {release}=…)"
    calls = _EMPTY_CALLS.search(words) if record.error_class == "empty-function-call" else None
    if calls:  # the function is fmaf whenever the compile stage found such calls (run.py says why)
        return f"{calls['n']} calls to fmaf, which has no code on VFPv2"
    return excerpts.clip_words(words, SHORT)


_EMPTY_CALLS = re.compile(r"make (?P<n>\d+) call\(s\) to a function with no code")


def cells(records: Iterable[Record]) -> list[ModuleRuns]:
    """The run records grouped into cells (one per module × runtime, devices side by side)."""
    grouped: dict[tuple[str, str, str, str, str], dict[str, Record]] = {}
    for r in root_causes(records):
        if r.stage != "run":
            continue
        lab = r.label
        function, model = lab.function or "main", lab.model or "?"
        # some records name the unit as the model
        unit = model if function == "main" or model.endswith(f".{function}") else f"{model}.{function}"
        key = (unit, lab.compiler or "?", lab.runtime or "?", lab.arch or "?", lab.profile or LLVM)
        grouped.setdefault(key, {})[r.label.device or "local-task"] = r
    return [ModuleRuns(*key, runs=runs) for key, runs in sorted(grouped.items())]


def runtime_text(runtime: str) -> str:
    """`src:3.9.0+static+Os` -> `3.9.0 (built here, static, -Os)`; a pip release as it is."""
    found = Runtime.parse(runtime)
    if not found.source:
        return f"{runtime} (pip)"
    words = ["built here", *("-Os" if v == "Os" else v for v in found.variant)]
    return f"{found.release} ({', '.join(words)})"


TIMEOUT_MARK = "⏱"  # BOARDS.md's; the site's page puts its own (html_body), a glyph its fonts have


def run_text(record: Optional[Record]) -> str:
    if record is None:
        return ""
    if record.status is Status.OK:
        peak = record.metric.of(RunMetrics).peak_memory_bytes
        # against the board's RAM (less the OS's share)
        memory = "" if peak is None else f"{formats.size(peak)}{over_ram(peak, record)}"
        return "✅ " + (emulated_time(record, memory) or ("ok" + (f" ({memory})" if memory else "")))
    if record.status is Status.NOT_RUN:
        return f"⛔ {excerpts.clip_words(record.blocked_by or 'not run', SHORT)}"
    mark = {Status.TIMEOUT: TIMEOUT_MARK, Status.MISMATCH: "⚠️"}.get(record.status, "❌")
    return f"{mark} {record.error_class or record.status.value}"


def emulated_time(record: Record, extra: str = "") -> str:
    """A run's figure under qemu-user: the emulator's one-thread CPU time per call (what the other
    emulators sharing the host barely move), n, range, wall time and other load; an older record's
    wall time, marked `wall`. `extra` goes in the brackets last; "" when the record has no time."""
    m = record.metric.of(RunMetrics)
    cpu, wall = m.cpu_time, m.latency_median
    if cpu is not None and cpu.median is not None:
        times = m.cpu_times or []
        spread = [f"n={len(times)}"] if times else []
        if len(times) > 1 and cpu.low is not None and cpu.high is not None:
            spread[0] += f", {duration_range(cpu.low, cpu.high)}"
        beside = [f"wall {formats.duration_ms(wall)}"] if wall is not None else []
        if m.other_load is not None:
            beside.append(f"other load {m.other_load:g}")
        parts = [", ".join(p) for p in (spread, beside, [extra] if extra else []) if p]
        return f"{formats.duration_ms(cpu.median)} CPU per call" + (f" ({'; '.join(parts)})" if parts else "")
    return "" if wall is None else f"{formats.duration_ms(wall)} wall" + (f" ({extra})" if extra else "")


def duration_range(low_ms: float, high_ms: float) -> str:
    """`7.20–7.40 s`: the unit once where both ends share it; a digit more where three hide the
    spread (`5.937–5.942 s`, not `5.94–5.94 s`)."""
    low, high = formats.duration_ms(low_ms), formats.duration_ms(high_ms)
    if low == high and low_ms != high_ms:
        unit = low.partition(" ")[2]
        scale = 1000.0 if unit == "s" else 1.0
        low, high = (f"{v / scale:.4g} {unit}" for v in (low_ms, high_ms))
    low_number, _, low_unit = low.partition(" ")
    return f"{low_number}–{high}" if high.endswith(f" {low_unit}") else f"{low}–{high}"


def over_ram(peak: float, record: Record) -> str:
    """`, over the Pi Zero's 512 MiB` for the largest board RAM of the record's CPU a peak exceeds."""
    over = [b for target, b in targets.boards() if target.label == record.label.arch and peak > b.ram]
    return f", over the {over[-1].name}'s {formats.size(over[-1].ram)}" if over else ""


def cell_text(cell: ModuleRuns) -> str:
    task, sync = cell.runs.get("local-task"), cell.runs.get(SYNC)
    if task is not None and sync is not None:
        same = (task.status, task.error_class) == (sync.status, sync.error_class)
        if same and task.status is not Status.OK:  # one failure: said once
            return run_text(task)
        return f"{run_text(task)} · sync {run_text(sync)}"
    if task is None and sync is not None and len(cell.runs) == 1:  # say which device it was
        return f"sync {run_text(sync)}"
    return run_text(task or sync)


def first_words(record: Record) -> str:
    """The message's first line, or the line that says what the source lacks (runtime builds)."""
    message = (record.message or "").strip().splitlines()
    if hint := next((ln.strip("()") for ln in message if ln.startswith("(the source has no")), None):
        return f"{message[0].split(' at ')[0]}: {hint}"
    return message[0] if message else (record.error_class or record.status.value)


def anchor(arch: str, unit: str) -> str:
    """The id of a function's cross table on a board, where its failures are spelled out."""
    return re.sub(r"[^a-z0-9_-]+", "-", f"{arch}-{unit}".lower())


def answer_rows(
    all_cells: Sequence[ModuleRuns], arch: str, *, links: bool = True
) -> list[tuple[str, str, str]]:
    """Per function on a board: the newest release whose module ran there, else why not, linked."""
    rows = []
    mine = [c for c in all_cells if c.arch == arch and c.profile == LLVM]
    rescued = [c for c in all_cells if c.arch == arch and c.profile == SOFT_FMAF and c.ok()]
    for unit in sorted({c.unit for c in mine}):
        tried = sorted((c for c in mine if c.unit == unit), key=lambda c: version_key(c.compiler))
        good = [c for c in tried if c.ok()]
        soft = sorted((c for c in rescued if c.unit == unit), key=lambda c: version_key(c.compiler))
        link = f"[why](#{anchor(arch, unit)})" if links else ""
        if ran := good or soft:
            best = ran[-1]
            others = ", ".join(sorted_versions({c.compiler for c in ran} - {best.compiler}))
            how = "" if good else f" with the `{SOFT_FMAF}` profile" + (f" ({link})" if link else "")
            rows.append((unit, f"{best.compiler} on {runtime_text(best.runtime)}{how}", others or "-"))
            continue
        # The newest reason of its own, not a runtime refusing a newer compiler's module.
        own = [c for c in tried if not all(_refused(r) for r in c.runs.values())]
        newest = (own or tried)[-1]
        failed = next((r for r in newest.runs.values() if r.status is not Status.OK), None)
        why = _why(failed) if failed is not None else "no run"
        rows.append((unit, f"none ({newest.compiler}: {why}{'; ' + link if link else ''})", "-"))
    return rows


def _why(record: Record) -> str:
    """A failed cell's mark and short reason: `❌ empty-function-call: the module's kernels make …`."""
    if record.status is Status.NOT_RUN:
        return run_text(record)
    return f"{run_text(record)}: {excerpts.clip_words(short_reason(record), 70)}"


def why_lines(all_cells: Sequence[ModuleRuns], arch: str, unit: str, profile: str = LLVM) -> list[str]:
    """Each distinct failure of a function's cells on a board, whole and path-free, with its releases."""
    seen: dict[str, list[str]] = {}
    for c in all_cells:
        if c.arch != arch or c.unit != unit or c.profile != profile:
            continue
        for r in c.runs.values():
            if r.status is Status.OK or _refused(r):
                continue
            mark = run_text(r).split(" ", 1)[0]
            if r.status is Status.NOT_RUN:  # root_causes put the blocking stage's words here
                text = f"{mark} {excerpts.without_paths(r.message or r.blocked_by or 'not run')}"
            else:
                text = f"{mark} {r.error_class or r.status.value}: {reason(r)}"
            if c.compiler not in seen.setdefault(text, []):
                seen[text].append(c.compiler)
    return [f"- {', '.join(sorted_versions(set(v)))}: {k}" for k, v in seen.items()]


_REFUSALS = ("incompatible-module", "runtime-source")


def _refused(record: Record) -> bool:
    """A run that says nothing about the model: no runtime for it, or one too old for its module."""
    return record.error_class in _REFUSALS or (
        record.status is Status.NOT_RUN and "runtime-build" in str(record.blocked_by)
    )


def cross_table(
    all_cells: Sequence[ModuleRuns], arch: str, unit: str, profile: str = LLVM
) -> tuple[list[str], list[list[str]]]:
    """compiler × runtime release for one function on one board (llvm-cpu, or another profile)."""
    mine = [c for c in all_cells if c.arch == arch and c.unit == unit and c.profile == profile]
    runtimes = sorted({c.runtime for c in mine}, key=lambda r: (version_key(Runtime.parse(r).release), r))
    compilers = sorted({c.compiler for c in mine}, key=version_key)
    by = {(c.compiler, c.runtime): c for c in mine}
    rows = [
        [comp, *(cell_text(by[comp, rt]) if (comp, rt) in by else "" for rt in runtimes)]
        for comp in compilers
    ]
    return ["compiler \\ runtime", *(runtime_text(r) for r in runtimes)], rows


def vmvx_rows(all_cells: Sequence[ModuleRuns]) -> list[list[str]]:
    """vmvx against llvm-cpu on the same runtime and device (local-sync where both have it)."""
    by = {(c.arch, c.unit, c.compiler, c.runtime, c.profile): c for c in all_cells}
    rows, titled = [], targets.board_pages()
    for c in all_cells:
        if c.profile != VMVX:
            continue
        llvm = by.get((c.arch, c.unit, c.compiler, c.runtime, LLVM))
        device = SYNC if SYNC in c.runs else next(iter(c.runs))
        v_run, l_run = c.runs.get(device), llvm.runs.get(device) if llvm else None
        l_text = run_text(l_run) or "(not in this set)"
        soft = by.get((c.arch, c.unit, c.compiler, c.runtime, SOFT_FMAF))
        s_run = soft.runs.get(device) if soft else None
        if _median(l_run) is None and _median(s_run) is not None:  # llvm-cpu ran with a software fmaf
            l_text, l_run = f"{l_text}; {SOFT_FMAF}: {run_text(s_run)}", s_run
        # their CPU times per call where both have one, else their wall times (a CPU time over a wall
        # time taken at another load means nothing)
        cpu = _median(v_run, cpu=True), _median(l_run, cpu=True)
        v_ms, l_ms = cpu if None not in cpu else (_median(v_run), _median(l_run))
        ratio = formats.ratio(v_ms / l_ms, digits=1) if v_ms and l_ms else ""
        rows.append(
            [
                titled.get(c.arch, c.arch).split(" (")[0],
                c.unit,
                c.compiler,
                runtime_text(c.runtime),
                device,
                l_text,
                run_text(v_run),
                ratio,
            ]
        )
    return rows


def _median(record: Optional[Record], cpu: bool = False) -> Optional[float]:
    """A passed run's median wall time per call, or its CPU time's (`cpu`)."""
    if record is None or record.status is not Status.OK:
        return None
    m = record.metric.of(RunMetrics)
    return m.latency_median if not cpu else (m.cpu_time.median if m.cpu_time else None)


def build_rows(records: Iterable[Record]) -> list[list[str]]:
    rows = []
    builds = [r for r in records if r.stage == "runtime-build" and r.status is not Status.NOT_RUN]
    for r in sorted(builds, key=lambda r: (version_key(Runtime.parse(r.label.runtime).release), r.job)):
        runtime = r.label.runtime or "?"
        os_ = "-Os (MinSizeRel)" if "+Os" in runtime else "-O3 (Release)"
        head = [Runtime.parse(runtime).release, r.label.arch or "?", r.label.linkage or "?", os_]
        if r.status is not Status.OK:
            rows.append([*head, run_text(r), short_reason(r), "", ""])
            continue
        m = r.metric.of(RuntimeBuildMetrics)
        needs = ", ".join(m.needed) or "nothing (static)"
        if m.glibc_versions:
            needs += f", up to {m.glibc_versions[-1]}"
        sizes = [formats.size_or(m.tool_bytes("iree-run-module", stripped=s), "?") for s in (False, True)]
        rows.append([*head, f"{m.build_seconds} s", *sizes, needs])
    return rows


def render_markdown(records: Iterable[Record], source: str = LOG) -> str:
    recs = list(latest_by_job(records).values())
    all_cells = cells(recs)
    titled = targets.board_pages()
    boards = [a for a in titled if any(c.arch == a for c in all_cells)]
    out = [
        f"# {PAGE}",
        "",
        f"_Generated from `{source}` by `iree-matrix report` (do not edit by hand). Every board figure is "
        "**emulated**: the module compiled here for the board's CPU, run under qemu-user with `QEMU_CPU` "
        "pinned to it (an instruction the board lacks traps here too); times are qemu's on this shared "
        "x86_64 host, for comparing releases with each other, not the board's speed._",
        "",
        "Cells: ✅ ran and matched torch (local-task · sync local-sync): the emulator's CPU time per call "
        "on one thread, the median of n repetitions and their range, then the wall time and the load "
        "other programs put on the host meanwhile (in cores) — CPU time is what other work on the shared "
        "cores barely moves; a record from before CPU time was recorded shows its median wall time per "
        "call, marked `wall`, which such work can stretch many times; last in brackets the "
        "peak memory of the checked call's container: qemu, the program and the page cache of the module, "
        "an upper bound of what the board's RAM must hold — Pi Zero 512 MB, Pi 4 1-8 GB, Pi 3 1 GB, Zero 2 W "
        "512 MB; a peak over it says so); ❌ failed (error "
        "class; the tool's whole words are under each function's table, host paths left out); ⏱ timed "
        "out; ⚠️ outputs differ from torch; ⛔ a stage it needs did not succeed (which, and why).",
        "",
    ]
    headers = ["function", "newest release that runs it", "other releases that run it"]
    for arch in boards:
        out += [f"## {titled[arch]}: the newest release that runs each function", ""]
        out += [_md_table(headers, answer_rows(all_cells, arch)), ""]
    for arch in boards:
        out += _release_tables(all_cells, arch, titled[arch])
    out += _titled(
        "vmvx (IREE's portable VM backend) beside llvm-cpu",
        "The same exported function compiled with `--iree-hal-target-backends=vmvx` (bytecode, no "
        "native code) and run by the same runtime on the same device; ratio = vmvx / llvm-cpu, of "
        "their CPU times per call where both runs have one, else of their wall times.",
        ["board", "function", "compiler", "runtime", "device", "llvm-cpu", "vmvx", "vmvx / llvm-cpu"],
        vmvx_rows(all_cells),
    )
    out += _titled(
        "Runtimes built here from source",
        "`iree-run-module` of each build (the tool a deployment ships; `iree-benchmark-module` is in "
        "results.jsonl too). Build times are on the shared host, with other work on its cores.",
        [
            "release",
            "target",
            "linkage",
            "optimised for",
            "build time",
            "iree-run-module",
            "stripped",
            "needs from the board",
        ],
        build_rows(recs),
    )
    return "\n".join(out)


def _release_tables(all_cells: Sequence[ModuleRuns], arch: str, title: str) -> list[str]:
    """Each function's compiler × runtime table on one board, with why its failures did not run."""
    units = sorted({c.unit for c in all_cells if c.arch == arch and c.profile == LLVM})
    out = [f"## {title}: compiler × runtime release, per function (llvm-cpu, emulated times)", ""]
    soft = f"With the `{SOFT_FMAF}` profile (the same kernels linked with a software `fmaf`, local-sync):"
    for unit in units:
        own = [f'<a id="{anchor(arch, unit)}"></a>', "", f"### {unit}"]
        for profile, head, why_head in ((LLVM, own, ""), (SOFT_FMAF, [soft], f" with `{SOFT_FMAF}`")):
            headers, rows = cross_table(all_cells, arch, unit, profile)
            if rows:  # every unit has llvm-cpu rows: its units are those of its llvm-cpu cells
                out += [*head, "", _md_table(headers, rows), ""]
                if why := why_lines(all_cells, arch, unit, profile):
                    out += [f"Why it does not run{why_head}:", "", *why, ""]
    return out


def _titled(title: str, intro: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return [f"## {title}", "", intro, "", _md_table(headers, rows), ""] if rows else []


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def esc(row: Sequence[Any]) -> list[str]:
        return [str(v).replace("|", "\\|").replace("\n", " ") for v in row]

    return "\n".join(markdown.pipes(esc(headers), map(esc, rows)))


def html_body(records: Iterable[Record], timeout_mark: str = TIMEOUT_MARK) -> list[str]:
    """The site's boards page: the answer tables (the full cross is in BOARDS.md), a timeout marked
    with `timeout_mark` (the site's, which its fonts draw: "⏱" was a missing-glyph box there)."""
    all_cells = cells(list(latest_by_job(records).values()))
    body = [
        "<p class=lead>Every figure is <b>emulated</b> (qemu-user pinned to the board's CPU on a shared "
        "x86_64 host): compare releases with each other, not with the board.</p>"
    ]
    titled = targets.board_pages()
    for arch in [a for a in titled if any(c.arch == a for c in all_cells)]:
        body.append(f"<h2>{markup.e(titled[arch])}</h2>")
        rows = [
            [v.replace(TIMEOUT_MARK, timeout_mark) for v in row]
            for row in answer_rows(all_cells, arch, links=False)
        ]
        body.append(markup.table(("function", "newest release that runs it", "others"), rows))
    return body
