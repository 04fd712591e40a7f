"""Instruction counts (stages/instructions.py) and the regression rule that uses them: pure logic
on hand-made callgrind output, benchmark JSON and records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import release_regressions, runs_view
from iree_matrix.matrix import spec_file
from iree_matrix.report.sections.ops_across_releases import render_ops
from iree_matrix.stages import instructions

EXP = "py3.11-torch2.13.0-turbine3.9.0"
CALLGRIND_OUT = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 12026
cmd:  iree-benchmark-module --device=local-sync
part: 1

desc: I1 cache:
events: Ir
summary: 3923332

fl=(1) ???
fn=(1) 0x000000000001f100
0 3
totals: 3923332
"""


def _bench_json(iterations: int) -> str:
    return json.dumps(
        {
            "context": {},
            "benchmarks": [
                {"name": "BM_main/process_time/real_time", "run_type": "iteration", "iterations": iterations,
                 "real_time": 1.0, "time_unit": "ms"},
            ],
        }
    )  # fmt: skip


def test_the_total_and_the_calls_are_read_from_callgrind_and_the_benchmark() -> None:
    assert instructions.total_of(CALLGRIND_OUT) == 3923332
    assert instructions.iterations_of(_bench_json(3)) == 3
    with pytest.raises(StageFailure, match="no summary"):
        instructions.total_of("events: Ir\n")
    with pytest.raises(StageFailure, match="expected one benchmark run"):
        instructions.iterations_of(json.dumps({"benchmarks": []}))


def test_per_call_is_the_count_inside_the_calls_over_the_calls() -> None:
    # measured: IREE 3.9.0, a 64x64 matmul, 3 calls counted inside iree_vm_invoke
    assert instructions.per_call({"iterations": 3, "total": 2300496}) == 766832.0
    with pytest.raises(StageFailure, match="no symbol table"):  # toggle-collect found no such function
        instructions.per_call({"iterations": 1, "total": 0})
    with pytest.raises(StageFailure, match="made no call"):
        instructions.per_call({"iterations": 0, "total": 5})


def test_an_instruction_valgrind_cannot_decode_is_said_with_the_fix() -> None:
    output = (
        "vex amd64->IR: unhandled instruction bytes: 0x62 0xF1 0x7C 0x48\n==1== Illegal opcode at address"
    )
    error_class, message = instructions.why_failed(output)
    assert error_class == "valgrind-isa" and "`avx2` profile" in message
    assert instructions.why_failed("boom: error")[0] == "instructions-error"


def test_native_tool_is_the_wheels_binary_not_its_launcher(tmp_path: Path) -> None:
    launcher = tmp_path / "bin" / "iree-benchmark-module"
    binary = (
        tmp_path / "lib" / "python3.11" / "site-packages" / "iree" / "_runtime_libs" / "iree-benchmark-module"
    )
    for path, head in ((launcher, b"#!/usr/bin/python\n"), (binary, b"\x7fELF....")):
        path.parent.mkdir(parents=True)
        path.write_bytes(head)

    class Env:
        def tool(self, name: str) -> str:
            return str(tmp_path / "bin" / name)

    assert instructions.native_tool(Env(), "iree-benchmark-module") == str(binary)  # type: ignore[arg-type]
    binary.write_bytes(b"#!")  # no ELF anywhere: said, not run under valgrind
    with pytest.raises(StageFailure, match="only a launcher"):
        instructions.native_tool(Env(), "iree-benchmark-module")  # type: ignore[arg-type]


def _timed(median: float, spread: float, load: float) -> runs_view.Timing:
    return runs_view.Timing(median, median * (1 - spread / 2), median * (1 + spread / 2), load)


def test_noisy_timings_are_decided_by_instruction_counts_and_say_so() -> None:
    quiet, noisy = _timed(10.0, 0.05, 0.0), _timed(16.0, 0.5, 0.6)
    # noisy: the counts decide, both ways
    detail, signal = release_regressions.slower_pair(quiet, noisy, 1e6, 1.6e6)  # type: ignore[misc]
    assert signal == "instructions" and detail.startswith("1.60× the instructions (1 M → 1.6 M per call")
    assert (
        release_regressions.slower_pair(quiet, noisy, 1e6, 1.05e6) is None
    )  # the code did not change: noise
    assert release_regressions.slower_pair(quiet, _timed(10.0, 0.5, 0.6), 1e6, 5e6) is not None  # load hid it
    # noisy without counts: the loaded rule (fastest > 2x the older slowest)
    assert release_regressions.slower_pair(quiet, noisy) is None
    # the same build's count did not move: a noisy 4x is the load's, not the code's
    assert release_regressions.slower_pair(quiet, _timed(40.0, 0.5, 0.6), 1e6, 1.01e6) is None
    assert release_regressions.slower_pair(quiet, _timed(40.0, 0.5, 0.6)) == (
        "4.00× slower (10.0 ms → 40.0 ms; noisy, but its fastest repetition is > 2× the older's slowest)",
        "timing",
    )
    # two quiet timings: the clock decides, counts or not — and the counts' ratio stays beside it
    # (ops.sdpa 3.2.0 -> 3.3.0: 1.75x slower at 0.91x the instructions, a real change)
    assert release_regressions.slower_pair(quiet, _timed(14.0, 0.05, 0.0), 1e6, 1e6) == (
        "1.40× slower (10.0 ms → 14.0 ms; 1.00× the instructions)",
        "timing",
    )
    assert release_regressions.slower_pair(quiet, _timed(14.0, 0.05, 0.0)) == (
        "1.40× slower (10.0 ms → 14.0 ms)",
        "timing",
    )


def _labels(function: str, compiler: str, profile: str) -> dict[str, str]:
    return {"model": function, "source_model": "ops", "exporter": EXP, "compiler": compiler,
            "runtime": compiler, "arch": "x86_64", "profile": profile}  # fmt: skip


def _record(stage: str, function: str, compiler: str, profile: str, metrics: dict[str, Any]) -> Record:
    cell = f"{function}/{EXP}/iree{compiler}/x86_64/{profile}"
    labels = _labels(function, compiler, profile)
    if stage == "instructions":
        labels["device"] = "local-sync"
    return Record(f"{stage}:{cell}", stage, cell, "k", Status.OK, labels, metrics)


def _latency(median: float, spread: float, load: float) -> dict[str, Any]:
    half = median * spread / 2
    return {
        "latency_ms": {"median": median, "min": median - half, "max": median + half, "n": 5},
        "other_load": load,
    }


def _count(per_call: float) -> dict[str, Any]:
    runs = [{"iterations": 1, "total": per_call}]
    return {
        "instructions": {
            "per_call": per_call,
            "runs": runs,
            "device": "local-sync",
            "tool": "callgrind (valgrind-3.19.0)",
        }
    }


def _softmax_records(avx2_noisy: frozenset[str] = frozenset()) -> list[Record]:
    """ops.softmax on four releases: the `default` build timed (3.11.0 noisy, 1.5x: no rule fires),
    the `avx2` build timed (quiet unless named) and counted, 9x the instructions in 3.11.0."""
    per_call = {"3.8.0": 1.0e8, "3.9.0": 1.0e8, "3.10.0": 1.02e8, "3.11.0": 9.0e8}
    records = []
    for v, count in per_call.items():
        noisy = v == "3.11.0"
        records.append(_record("compile", "ops.softmax", v, "default", {"module_bytes": 1000}))
        records.append(
            _record(
                "run",
                "ops.softmax",
                v,
                "default",
                _latency(45.0 if noisy else 30.0, 0.5 if noisy else 0.05, 0.0),
            )
        )
        records.append(_record("compile", "ops.softmax", v, "avx2", {"module_bytes": 1000}))
        spread, load = (0.5, 0.9) if v in avx2_noisy else (0.05, 0.0)
        records.append(_record("run", "ops.softmax", v, "avx2", _latency(count / 3e6, spread, load)))
        records.append(_record("instructions", "ops.softmax", v, "avx2", _count(count)))
    return records


def test_counts_decide_only_their_own_build() -> None:
    # the avx2 build's 3.11.0 timing is noisy too: its counts decide its pair...
    records = _softmax_records(avx2_noisy=frozenset({"3.11.0"}))
    runs = runs_view.Runs.of(records)
    # ...never the default build's: another program (IREE picks vector tiles from the CPU's features)
    assert runs.instructions == {} and runs.counted_profiles() == ["avx2"]
    avx2 = runs_view.Runs.of(records, profile="avx2")
    assert set(avx2.instructions) == {("ops.softmax", EXP, v) for v in ("3.8.0", "3.9.0", "3.10.0", "3.11.0")}
    (found,) = [r for r in release_regressions.regressions(runs) if r.kind == "slower"]
    assert (found.older, found.newer, found.signal, found.profile) == (
        "3.10.0",
        "3.11.0",
        "instructions",
        "avx2",
    )
    assert found.subject == "ops.softmax (`avx2` build)" and found.evidence[1].startswith("instructions:")
    text = "\n".join(render_ops(records))
    assert "### Instructions per call" in text and "| ops.softmax | 100 M" in text
    assert "- **ops.softmax (`avx2` build)** 3.10.0 → 3.11.0: 8.82× the instructions" in text
    assert "decided by instructions" in text
    # the default build's noisy 1.5x is no regression: no count of it, and no load-proof slowdown
    assert "- **ops.softmax** 3.10.0" not in text


def test_the_counts_are_checked_against_their_own_builds_quiet_timing() -> None:
    text = "\n".join(render_ops(_softmax_records()))
    # the quiet avx2 timing and the count agree on 3.10.0 -> 3.11.0 (8.82x both)
    assert "| ops.softmax | 3.10.0 → 3.11.0 | 8.82× (avx2) | 8.82×               | yes     |" in text
    # without the counted build's own quiet timings, no pair: the default build's are another program
    text = "\n".join(
        render_ops(_softmax_records(avx2_noisy=frozenset({"3.8.0", "3.9.0", "3.10.0", "3.11.0"})))
    )
    assert "(default)" not in text and "3.10.0 → 3.11.0 |" not in text


def test_the_plan_counts_instructions_only_where_the_globs_say(tmp_path: Path) -> None:
    text = """
python = ["3.11"]
torch = ["2.13.0"]
turbine = ["3.9.0"]
compiler = ["3.9.0"]
models = ["ops"]
profiles = ["default", "avx2"]
[benchmark]
instructions = ["ops.*/avx2"]
"""
    path = tmp_path / "m.toml"
    path.write_text(text)
    jobs = [j for j in stages.plan(spec_file.load(path)).jobs if j.stage == "instructions"]
    assert jobs and all(j.cell.endswith("/avx2") and j.labels["device"] == "local-sync" for j in jobs)
    assert all(j.deps[0].startswith("export:") and j.deps[1].startswith("compile:") for j in jobs)
    path.write_text(text.replace('"ops.*/avx2"', '"ops"'))
    with pytest.raises(spec_file.SpecError, match="benchmark.instructions"):
        spec_file.load(path)


def test_an_untimed_build_is_decided_by_its_counts_alone() -> None:
    """The counted build need not be timed: a count needs no quiet machine."""
    records = [r for r in _softmax_records() if not (r.stage == "run" and r.label.profile == "avx2")]
    (found,) = [r for r in release_regressions.regressions(runs_view.Runs.of(records)) if r.profile == "avx2"]
    assert (found.older, found.newer, found.signal) == ("3.10.0", "3.11.0", "instructions")
    assert found.detail == "8.82× the instructions (102 M → 900 M per call, callgrind); not timed"
