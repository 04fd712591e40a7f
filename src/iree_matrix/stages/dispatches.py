"""dispatches: op-wise bisection, each executable the compile dumped timed on its own (one
invocation on synthetic inputs), by IREE's own export names
(`main$async_dispatch_11_conv_28x28x144x3x3_f32`)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

from iree_matrix.core.errors import StageFailure, StageSkipped
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.dispatches import DispatchesMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.matrix.plan import Job, PlannedFunction, runs_anywhere
from iree_matrix.stages.artifacts import DISPATCHES
from iree_matrix.stages.base import Context, Stage, own_run
from iree_matrix.stages.benchmark_tool import benchmark_command, benchmark_times


class DispatchesStage(Stage):
    name = "dispatches"
    rank = 70
    optional = True
    exclusive = True  # it times
    timeout = 1800.0
    metrics = DispatchesMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """For a cell `[benchmark] dispatches` names, run by its own runtime, after the run's deps."""
        run = own_run(unit)
        if run is not None and unit.spec.benchmark.opts_in(self.name, unit.name, unit.cell.profile):
            unit.add(self.name, run.cell, run.deps, run.labels, run.env)

    def key(self, job: Job, ctx: Context) -> str:
        if not runs_anywhere(job.env):
            raise StageSkipped(f"IREE publishes no {job.env.arch} runtime to benchmark dispatches with")
        return ctx.timed_key(self.name, compile=ctx.dep("compile").record.key)

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        folder = ctx.read(DISPATCHES)
        if not (modules := sorted(folder.glob("*_benchmark.vmfb"))):
            raise StageFailure("no-dispatches", f"the compile stage left no dispatch benchmarks in {folder}")
        timed = []
        for module in modules:
            argv = benchmark_command(env, ctx, module)
            done = env.run(ctx.request(argv, read_only=[folder], error_class="dispatch-benchmark"))
            timed.extend(parse_benchmarks(done.stdout, module.stem))
        timed.sort(key=lambda d: d["median_us"], reverse=True)
        total = sum(d["median_us"] for d in timed)
        failed = ctx.dep("compile").record.metric.of(CompileMetrics).dispatch_benchmark_failures
        metrics = DispatchesMetrics(
            dispatches=timed, benchmarked=len(timed), sum_median_us=total, not_benchmarked=list(failed)
        )
        return Outcome(Status.OK, metrics=metrics.written())


def export_name(benchmark: str, module_stem: str) -> str:
    """IREE's export name from a benchmark's: the dump `module_<executable>_<variant>_benchmark`
    holds functions `<executable>_<variant>_<export>`, reported as `BM_<function>/...`."""
    function = benchmark.split("/", 1)[0].removeprefix("BM_")
    prefix = module_stem.removeprefix("module_").removesuffix("_benchmark") + "_"
    return function[len(prefix) :] if function.startswith(prefix) else function


def parse_benchmarks(benchmark_json: str, module_stem: str) -> list[dict[str, Any]]:
    """One entry per benchmarked export: IREE's name, the op part of it, median and spread (µs)."""
    times: dict[str, list[float]] = {}
    for benchmark, repetitions in benchmark_times(benchmark_json, "us").items():
        times.setdefault(export_name(benchmark, module_stem), []).extend(repetitions)
    return [
        {
            "name": name,
            "op": op_of(name),
            "median_us": statistics.median(values),
            "min_us": min(values),
            "max_us": max(values),
            "n": len(values),
        }
        for name, values in times.items()
    ]


def op_of(name: str) -> str:
    """`main$async_dispatch_11_conv_28x28x144x3x3_f32` -> `conv_28x28x144x3x3_f32`: what the
    dispatch computes, without the ordinal that changes between compiler versions."""
    match = re.search(r"dispatch_\d+_(.+)$", name)
    return match.group(1) if match else name


STAGE = DispatchesStage()
