"""`iree-matrix armv6-smoke` (`nox -s armv6_smoke`): can a Raspberry Pi Zero (ARMv6, ARM1176JZF-S,
VFPv2, no NEON) run what this toolchain builds?

1. The toolchain question, without IREE: a C hello world cross-compiled for armv6 with Debian's
   gcc-arm-linux-gnueabi, linked statically and dynamically, run in the armel image under the
   ARM1176 CPU model; sizes, and what the dynamic one needs from the board's C library.
2. The matrix in matrix/armv6.toml (or --matrix): every selected model compiled by every selected
   IREE version for armv6, the kernels checked for ARMv6 attributes, link failures reported with
   their undefined symbols, and — with --armv6-runtime DIR — run and checked like any other run.

Records go into the same results file as the matrix's; the session ends with a summary table.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tabulate import tabulate

from iree_matrix import arm, daemon, formats, images
from iree_matrix.envs.docker import base_environment
from iree_matrix.outcome import Outcome, from_exception, now
from iree_matrix.outcome import record as make_record
from iree_matrix.results import Record, ResultsLog, Status

HELLO_JOB = "toolchain:armv6-hello"


def hello(cache: Path, results: ResultsLog) -> Record:
    """Step 1, recorded as a `toolchain` record (the report lists it apart from the matrix)."""
    log = cache / "logs" / "toolchain--armv6-hello.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = now()
    try:
        daemon.require()
        base = images.Bases(cache / "images", daemon.connect()).suite(
            "bookworm", "armel", timeout=1800, log=log, with_python=False
        )
        runner = base_environment("armv6-hello", base)
        facts = arm.hello_world(cache / "armv6-hello", runner, log=log)
        problems = _hello_problems(facts)
        metrics = _hello_metrics(facts)
        result = (
            Outcome(Status.FAIL, metrics, "; ".join(problems), "hello-world")
            if problems
            else Outcome(Status.OK, metrics)
        )
    except Exception as exc:  # noqa: BLE001 - one mapper: a cross-gcc timeout is a TIMEOUT record
        result = from_exception(exc)
    labels = {"arch": arm.BOARD.label, "compiler": "gcc-arm-linux-gnueabi"}
    record = make_record(HELLO_JOB, "toolchain", "armv6-hello", labels, result, started=started)
    results.append(record)
    return record


# What the smoke session builds: the armv6 runtime it runs with (static: nothing to find on the
# board), its dynamic twin (what it would need from the board's C library), and the native build
# whose host tools the cross build needs.
RUNTIME_BUILDS = (("x86_64", "dynamic"), ("armv6", "static"), ("armv6", "dynamic"))


def runtime_builds(source_spec: str, cache: Path, results: ResultsLog) -> Path | None:
    """Build IREE's runtime from `source_spec` (once per key), one `runtime-build` record per build;
    returns the armv6 static build's tools directory, or None when it could not be built."""
    from iree_matrix import runtime_build

    log = cache / "logs" / "runtime-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    tools = None
    try:
        src = runtime_build.source(source_spec, cache, log=log)
    except Exception as exc:  # noqa: BLE001 - a clone that times out is a TIMEOUT record, not a traceback
        failed = from_exception(exc)
        error_class = "runtime-source" if failed.error_class == "user-error" else failed.error_class
        _record_build(results, "armv6", "static", failed.status, {}, failed.message, error_class)
        return None
    for target, linkage in RUNTIME_BUILDS:
        started = time.monotonic()
        print(f"runtime-build {target} {linkage} from {source_spec} (cached after the first time; ~2-5 min)")
        try:
            built = runtime_build.build(src, target, linkage, cache, log=log)
        except Exception as exc:  # noqa: BLE001 - recorded (a timeout as TIMEOUT); the other builds go on
            outcome = from_exception(exc)
            _record_build(results, target, linkage, outcome.status, {}, outcome.message, outcome.error_class)
            continue
        _record_build(
            results, target, linkage, Status.OK, {**built.facts, "seconds": time.monotonic() - started}
        )
        if (target, linkage) == ("armv6", "static"):
            tools = built.tools
    return tools


def _record_build(
    results: ResultsLog,
    target: str,
    linkage: str,
    status: Status,
    metrics: Mapping[str, Any],
    message: str | None = None,
    error_class: str | None = None,
) -> Record:
    result = Outcome(status, metrics, message, error_class)
    cell, labels = f"{target}-{linkage}", {"arch": target, "linkage": linkage}
    record = make_record(
        f"runtime-build:{cell}", "runtime-build", cell, labels, result, key=str(metrics.get("source", ""))
    )
    results.append(record)
    return record


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
    if not facts:
        return {}
    keep = ("bytes", "interpreter", "needed", "glibc_versions", "output", "attributes")
    return {
        "uname_m": facts.get("uname_m"),
        "platform": facts.get("platform"),
        "hwcap": facts.get("hwcap"),
        "compiler": facts.get("compiler"),
        **{kind: {k: facts[kind].get(k) for k in keep} for kind in ("static", "dynamic") if kind in facts},
    }


def hello_table(record: Record) -> str:
    if record.status is not Status.OK:
        return f"hello world: {record.status.value}: {record.message}"
    m = record.metrics
    rows = [
        (
            kind,
            m[kind]["output"],
            f"{m[kind]['bytes']:,} B",
            m[kind]["interpreter"] or "none (static)",
            ", ".join(m[kind]["needed"] or []) or "-",
            ", ".join(m[kind]["glibc_versions"] or []) or "-",
        )
        for kind in ("static", "dynamic")
    ]
    head = f"hello world ({' '.join(m['compiler'])}) under qemu ARM1176: uname -m = {m['uname_m']}, "
    head += f"AT_PLATFORM {m['platform']}, HWCAP {' '.join(m['hwcap'] or [])}"
    table = tabulate(rows, headers=["linkage", "prints", "size", "interpreter", "needs", "glibc symbols"])
    return head + "\n" + table


def summary_table(records: Mapping[str, Record]) -> str:
    """Per model and IREE version: does it build for armv6, are its kernels ARMv6, does it run."""
    rows = []
    for _, compiled in sorted(records.items()):
        if compiled.stage != "compile" or not compiled.labels.get("arch", "").startswith("armv6"):
            continue
        run = next(
            (r for r in records.values() if r.stage == "run" and r.cell.startswith(compiled.cell)), None
        )
        kernel = compiled.metrics.get("kernel") or {}
        isa = (
            f"{kernel.get('Tag_CPU_arch')}, {kernel.get('Tag_FP_arch')}, "
            f"{'NEON' if kernel.get('Tag_Advanced_SIMD_arch') else 'no NEON'}"
            if kernel
            else ""
        )
        rows.append(
            (
                compiled.labels.get("model"),
                compiled.labels.get("compiler"),
                _compile_text(compiled),
                isa,
                _run_text(run),
            )
        )
    return tabulate(rows, headers=["model", "IREE", "build for armv6", "kernel ISA", "run"])


def _compile_text(record: Record) -> str:
    if record.status is Status.OK:
        return f"ok ({record.metrics.get('module_bytes', 0):,} B)"
    first = (record.message or "").strip().splitlines()[0] if record.message else ""
    return f"{record.status.value} {record.error_class or ''}: {first}"[:100]


def _run_text(record: Any) -> str:
    if record is None:
        return ""
    if record.status is Status.OK:
        latency, err = record.metrics["latency_ms"]["median"], record.metrics["max_abs_err"]
        return f"ok, {formats.duration_ms(latency)} (emulated), max err {err:.1e}"
    if record.status is Status.NOT_RUN:
        return f"not run ({record.blocked_by})"
    return f"{record.status.value}: {(record.message or '').splitlines()[0][:90]}"
