"""What the stages that time a module with `iree-benchmark-module` share (run, dispatches): the
device flags every runtime tool gets, the command, and its JSON read back."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix.bundle_runner import tools as runner_tools
from iree_matrix.envs import Environment
from iree_matrix.matrix.spec import DEFAULT_DEVICE
from iree_matrix.stages.base import Context


def device_flags(ctx: Context, device: str = DEFAULT_DEVICE) -> list[str]:
    """The device every runtime tool gets: local-task with the same number of threads as torch got
    (IREE's default topology counts physical cores, which on a VM with SMT siblings can be half);
    local-sync runs everything on the calling thread (one core, as on a Pi Zero)."""
    return device_argv(device, ctx.spec.benchmark.thread_count() if device == DEFAULT_DEVICE else 1)


def device_argv(device: str, threads: int) -> list[str]:
    """`device_flags` for a thread count (stages/shell_commands.py prints a run's command with it)."""
    if device == "local-sync":
        return ["--device=local-sync"]
    if device != DEFAULT_DEVICE:  # a GPU's HAL driver (targets.Gpu.driver: vulkan, cuda, hip)
        return [f"--device={device}"]
    return ["--device=local-task", f"--task_topology_group_count={threads}"]


def benchmark_command(
    env: Environment,
    ctx: Context,
    module: Path,
    *args: str,
    device: str = DEFAULT_DEVICE,
    repetitions: Optional[int] = None,
    least: float = 0.0,
) -> list[str]:
    """iree-benchmark-module on `module` with `repetitions` (None: the matrix's), reporting JSON; each
    repetition at least `least` seconds where that is under Google Benchmark's own min time (a budget's
    `min_time`; a bare number, which every release's Google Benchmark reads as seconds)."""
    count = ctx.spec.benchmark.repetitions if repetitions is None else repetitions
    argv = [env.tool("iree-benchmark-module"), *device_flags(ctx, device), f"--module={module}", *args]
    argv += [f"--benchmark_repetitions={count}", "--benchmark_format=json"]
    return argv + ([f"--benchmark_min_time={least:.3g}"] if 0 < least < MIN_TIME_SECONDS else [])


# iree-benchmark-module's JSON, read as the bundle runner reads it (bundle_runner/tools.py): one source.
benchmark_times = runner_tools.benchmark_times


# Google Benchmark runs each repetition for at least its min time, wall (`kDefaultMinTimeStr` "0.5s"
# in google/benchmark's include/benchmark/benchmark.h; iree-benchmark-module sets `UseRealTime()`),
# and the first repetition also grows the iteration count until one pass lasts that long (only the
# first: benchmark_runner.cc, `DoOneRepetition`). A call shorter than that is repeated until the time is
# up, so a loaded machine runs fewer iterations, not for longer.
MIN_TIME_SECONDS = 0.5


# The fewest repetitions a time budget leaves a pass: a median of three says "11.7 s a call" as well
# as fifteen do, though no interval (stats.MIN_REPETITIONS) and so no verdict comes from it.
LEAST_BUDGETED = 3


def min_time(budget: float, repetitions: int) -> float:
    """Each repetition's min time: Google Benchmark's, or under a time budget at most the share that keeps a
    pass of fast calls (its repetitions and the sizing pass) within the budget: a 3-s budget of 5 leaves the
    0.5 s, a 1-s budget 1/6 s (the default matrix's 7-s runs of sub-ms calls took 6 s of min time)."""
    return min(MIN_TIME_SECONDS, budget / (repetitions + 1)) if budget > 0 else MIN_TIME_SECONDS


def budgeted_repetitions(call: float, repetitions: int, budget: float) -> int:
    """How many repetitions a pass over calls of `call` seconds times within `budget` seconds (0: no
    budget, all `repetitions`): until the budget is spent and at least `LEAST_BUDGETED` are timed, or
    all `repetitions`, whichever comes first. A repetition lasts at least the min time. Decided before
    the pass from the checked call (its module load makes `call` an overestimate: never too many)."""
    if budget <= 0:
        return repetitions
    return min(repetitions, max(LEAST_BUDGETED, math.ceil(budget / max(call, min_time(budget, repetitions)))))


def pass_seconds(call: float, repetitions: int, least: float = MIN_TIME_SECONDS) -> float:
    """Wall seconds of one iree-benchmark-module pass of `repetitions` over a call of `call` seconds:
    one call a repetition when a call outlasts the min time (the call that sizes the iterations is
    the first repetition), else the min time a repetition plus the sizing pass."""
    return repetitions * call if call >= least else (repetitions + 1) * least


def least_of(metrics: Mapping[str, Any]) -> float:
    """The min time a repetition of a run's record had (`min_time` of its budget and the repetitions it
    timed); a record that says no count (a hand-made one, say) as one repetition's."""
    n = timed.get("n") if isinstance(timed := metrics.get("latency_ms"), Mapping) else None
    budget = metrics.get("time_budget_seconds")
    return min_time(budget if isinstance(budget, (int, float)) else 0.0, n if type(n) is int and n > 0 else 1)


def min_time_seconds(metrics: Mapping[str, Any], at: Optional[float] = None) -> float:
    """Seconds of a run stage that are Google Benchmark's min time: its passes whose calls are shorter
    than the min time, (repetitions + 1) x the min time each (`at`: as if each had lasted that). No
    load stretches them (at load 5 on 2 cores the default matrix's 7-8-s runs took 1.0-1.04x their
    quiet time; the Whisper encoder's, whose calls last 3-7 s, 1.4-1.5x). A software GPU's run times
    its checked call only (no pass)."""
    passes = [metrics.get("latency_ms")]
    if metrics.get("device") != "local-sync":  # a local-sync cell's own benchmark is its cpu_ms
        passes.append(metrics.get("cpu_ms"))
    seconds, least = 0.0, least_of(metrics)
    for timed in passes:
        if not isinstance(timed, Mapping) or "of" in timed:  # `of`: not a benchmark's repetitions
            continue
        n, median = timed.get("n"), timed.get("median")
        if isinstance(n, int) and n > 0 and isinstance(median, (int, float)):
            if median < least * 1000.0:
                seconds += pass_seconds(median / 1000.0, n, at or least)
    return seconds
