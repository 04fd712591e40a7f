"""`iree-matrix armv6-smoke`: can a Raspberry Pi Zero (ARMv6, ARM1176JZF-S, VFPv2, no NEON) run what this
toolchain builds? First a C hello world cross-compiled for armv6 and run under the ARM1176 CPU model, then
the matrix in matrix/armv6.toml (compiled for armv6, kernels checked for ARMv6, run with a runtime built
from source); records go into the matrix's results file, and the session ends with summary tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tabulate import tabulate

from iree_matrix import images, stages
from iree_matrix.core import excerpts, formats
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.model import refusals
from iree_matrix.core.model.configuration import Runtime
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.outcome import Outcome, from_exception, now
from iree_matrix.core.model.outcome import record as make_record
from iree_matrix.core.model.results import HELLO_STAGE, Record, ResultsLog, Status
from iree_matrix.core.system import containers
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.envs.docker import base_environment
from iree_matrix.iree import targets, versions
from iree_matrix.matrix import plan, spec
from iree_matrix.source_builds import armv6_hello, cmake_runtime

HELLO_JOB = f"{HELLO_STAGE}:armv6-hello"


def hello(cache: Path, results: ResultsLog) -> Record:
    """Step 1, recorded as a `toolchain` record (the report lists it apart from the matrix)."""
    log = CacheLayout(cache).logs / "toolchain--armv6-hello.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = now()
    try:
        containers.require()
        base = images.Bases(CacheLayout(cache).images).suite(
            "bookworm", "armel", Bounds(1800, log), with_python=False
        )
        facts = armv6_hello.hello_world(cache / "armv6-hello", base_environment("armv6-hello", base), log=log)
        metrics = _hello_metrics(facts)
        result = Outcome(Status.OK, metrics)
        if problems := _hello_problems(facts):
            result = Outcome(Status.FAIL, metrics, "; ".join(problems), "hello-world")
    except Exception as exc:  # noqa: BLE001 - one mapper: a cross-gcc timeout is a TIMEOUT record
        result = from_exception(exc)
    labels = {"arch": armv6_hello.BOARD.label, "compiler": "gcc-arm-linux-gnueabi"}
    record = make_record(HELLO_JOB, HELLO_STAGE, "armv6-hello", labels, result, started=started)
    results.append(record)
    return record


def on_source_runtime(matrix: spec.MatrixSpec, cache: Path) -> spec.MatrixSpec:
    """The armv6 cells of a matrix that names no runtime built from source run on one: IREE
    publishes no 32-bit ARM runtime. Its release is the given source's (`--iree-source SRC` for
    every release), else the matrix's newest compiler's (IREE's repository at that tag); static,
    so nothing is needed from the board's C library."""
    if not (armv6 := [c for c in matrix.cells if targets.parse(c.arch).arch.name == "armv6"]):
        return matrix
    if named := sorted({r.release for r in (Runtime.parse(c.runtime) for c in armv6) if r.source}):
        if not matrix.iree_sources:  # no source named anywhere: IREE's repository must answer now
            for release in named:
                cmake_runtime.source(matrix.iree_source(release), cache)
        return matrix

    release = max((c.compiler for c in matrix.cells), key=versions.Version)
    given = matrix.iree_sources.get("*") or versions.default_iree_source(release)
    # Made a tree now (unpacked, or cloned): no source is one line naming the fix before any work.
    release = cmake_runtime.tree_release(cmake_runtime.source(given, cache).tree) or (
        given.rpartition("@")[2].lstrip("v") if given.startswith("git+") else release
    )
    runtime = versions.source_runtime(release, ("static",))
    cells = {dataclasses.replace(c, runtime=runtime) if c in armv6 else c for c in matrix.cells}
    return dataclasses.replace(matrix, cells=tuple(sorted(cells)))


def with_dynamic_twins(the_plan: plan.Plan, matrix: spec.MatrixSpec) -> plan.Plan:
    """Each static armv6 source runtime's dynamic twin, built beside it (nothing runs on it): the
    report's answer to "what would the dynamic runtime need on the board"."""
    for job in [j for j in the_plan.jobs if j.stage == "runtime-build" and j.label.arch == "armv6"]:
        release, build_options = versions.parse_source_runtime(job.label.runtime)
        if "static" in build_options:
            twin = versions.source_runtime(release, tuple(v for v in build_options if v != "static"))
            env = plan.EnvSpec("runtime", job.env.python, (), f"iree-{twin}", "armv6", build=twin)
            the_plan = stages.add_job(the_plan, matrix, "runtime-build", env)
    return the_plan


def builds_table(records: Mapping[str, Record]) -> str:
    """Per runtime build: time, sizes stripped and unstripped, what a dynamic one needs."""
    rows = []
    for job, r in sorted(records.items()):
        if r.stage != "runtime-build":
            continue
        m = r.metric.of(RuntimeBuildMetrics)
        if r.status is not Status.OK:
            rows.append((job, r.status.value, (r.message or "").splitlines()[0][:100] if r.message else ""))
            continue
        tool = "iree-run-module"
        built, stripped = (formats.size_or(m.tool_bytes(tool, stripped=s), "?") for s in (False, True))
        needs = f"needs {', '.join(m.needed) or 'nothing (static)'}"
        glibc = f", up to {m.glibc_versions[-1]}" if m.glibc_versions else ""
        rows.append((job, f"{m.build_seconds} s", f"{tool} {built} ({stripped} stripped); {needs}{glibc}"))
    return tabulate(rows, headers=["build", "time", "result"])


def _hello_problems(facts: Mapping[str, Any]) -> list[str]:
    """What would make the hello world a failure: it must run, under an ARMv6 CPU, as ARMv6 code."""
    problems = []
    if facts["uname_m"] != "armv6l":
        problems.append(f"uname -m says {facts['uname_m']!r}, not armv6l (is QEMU_CPU honoured?)")
    for kind in ("static", "dynamic"):
        if not facts[kind]["output"].startswith("hello"):
            problems.append(f"the {kind} binary printed {facts[kind]['output'][:80]!r}")
        if not facts[kind]["attributes"].get("armv6_ok"):
            problems.append(
                f"the {kind} binary is not ARMv6 code: {facts[kind]['attributes'].get('Tag_CPU_arch')}"
            )
    return problems


def _hello_metrics(facts: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("bytes", "interpreter", "needed", "glibc_versions", "output", "attributes")
    return {
        **{k: facts.get(k) for k in ("uname_m", "platform", "hwcap", "compiler")},
        **{kind: {k: facts[kind].get(k) for k in keep} for kind in ("static", "dynamic") if kind in facts},
    }


def hello_table(record: Record) -> str:
    if record.status is not Status.OK:
        return f"hello world: {record.status.value}: {record.message}"
    m = record.metrics
    rows = []
    for kind in ("static", "dynamic"):
        made = m[kind]
        lists = (", ".join(made[field] or []) or "-" for field in ("needed", "glibc_versions"))
        size, interpreter = f"{made['bytes']:,} B", made["interpreter"] or "none (static)"
        rows.append((kind, made["output"], size, interpreter, *lists))
    head = f"hello world ({' '.join(m['compiler'])}) under qemu ARM1176: uname -m = {m['uname_m']}, "
    head += f"AT_PLATFORM {m['platform']}, HWCAP {' '.join(m['hwcap'] or [])}"
    table = tabulate(rows, headers=["linkage", "prints", "size", "interpreter", "needs", "glibc symbols"])
    return head + "\n" + table


def summary_table(records: Mapping[str, Record]) -> str:
    """Per model and IREE version: does it build for armv6, are its kernels ARMv6, does it run —
    on each HAL driver the matrix ran it with."""
    runs = [r for r in records.values() if r.stage == "run"]
    devices = sorted({r.label.device or "local-task" for r in runs}, key=lambda d: d != "local-task")
    devices = devices or ["local-task"]
    rows = []
    for _, compiled in sorted(records.items()):
        if compiled.stage != "compile" or not compiled.label.arch.startswith("armv6"):
            continue
        mine = [r for r in runs if r.cell.startswith(compiled.cell)]
        kernel = compiled.metric.of(CompileMetrics).kernel
        neon = "NEON" if kernel.get("Tag_Advanced_SIMD_arch") else "no NEON"
        isa = f"{kernel.get('Tag_CPU_arch')}, {kernel.get('Tag_FP_arch')}, {neon}" if kernel else ""
        by_device = {r.label.device or "local-task": r for r in mine}
        ran = [_run_text(by_device.get(d)) for d in devices]
        rows.append((compiled.label.model, compiled.label.compiler, _compile_text(compiled), isa, *ran))
    headers = ["model", "IREE", "build for armv6", "kernel ISA", *(f"run ({d})" for d in devices)]
    return tabulate(rows, headers=headers)


def _compile_text(record: Record) -> str:
    if record.status is Status.OK:
        return f"ok ({int(record.metric.of(CompileMetrics).module_bytes or 0):,} B)"
    first = excerpts.first_line(record.message, ())
    return f"{record.status.value} {record.error_class or ''}: {first}"[:100]


def _run_text(record: Any) -> str:
    if record is None:
        return ""
    if record.status is Status.OK:
        latency, err = record.metric.of(RunMetrics).latency_median, record.metric.of(RunMetrics).max_abs_err
        return f"ok, {formats.duration_ms(latency or 0.0)} (emulated), max err {err or 0.0:.1e}"
    if record.status is Status.NOT_RUN:
        return f"not run ({record.blocked_by})"
    if refusals.refused(record):  # an answer, as the matrix prints it, with the runtime's reason
        return f"{refusals.EXPECTED}: {refusals.reason(record.message)}"[:100]
    return f"{record.status.value} {record.error_class or ''}: {excerpts.first_line(record.message, ())[:70]}"
