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
    """The device every runtime tool gets: local-task with torch's thread count (IREE's default
    topology counts physical cores, half of a VM's SMT siblings), or local-sync (one core)."""
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
    repetition at least `least` seconds where that is under Google Benchmark's own min time."""
    count = ctx.spec.benchmark.repetitions if repetitions is None else repetitions
    argv = [env.tool("iree-benchmark-module"), *device_flags(ctx, device), f"--module={module}", *args]
    argv += [f"--benchmark_repetitions={count}", "--benchmark_format=json"]
    return argv + ([f"--benchmark_min_time={least:.3g}"] if 0 < least < MIN_TIME_SECONDS else [])


# iree-benchmark-module's JSON, read as the bundle runner reads it (bundle_runner/tools.py): one source.
benchmark_times = runner_tools.benchmark_times


# Google Benchmark runs each repetition for at least its min time, wall (`kDefaultMinTimeStr`), and
# the first also grows the iteration count until one pass lasts that long: a loaded machine runs
# fewer iterations, not for longer.
MIN_TIME_SECONDS = 0.5


# The fewest repetitions a time budget leaves a pass: a median of three, though no interval.
LEAST_BUDGETED = 3


def min_time(budget: float, repetitions: int) -> float:
    """Each repetition's min time: Google Benchmark's, or under a time budget at most the share that
    keeps a pass of fast calls (its repetitions and the sizing pass) within the budget."""
    return min(MIN_TIME_SECONDS, budget / (repetitions + 1)) if budget > 0 else MIN_TIME_SECONDS


def budgeted_repetitions(call: float, repetitions: int, budget: float) -> int:
    """How many repetitions of `call`-second calls fit `budget` seconds (0: all `repetitions`), at least
    `LEAST_BUDGETED`; decided from the checked call, whose module load makes it an overestimate."""
    if budget <= 0:
        return repetitions
    return min(repetitions, max(LEAST_BUDGETED, math.ceil(budget / max(call, min_time(budget, repetitions)))))


def pass_seconds(call: float, repetitions: int, least: float = MIN_TIME_SECONDS) -> float:
    """Wall seconds of one pass of `repetitions`: one call each when a call outlasts the min time,
    else the min time each plus the sizing pass."""
    return repetitions * call if call >= least else (repetitions + 1) * least


def least_of(metrics: Mapping[str, Any]) -> float:
    """The min time a repetition of a run's record had; a record that says no count as one's."""
    n = timed.get("n") if isinstance(timed := metrics.get("latency_ms"), Mapping) else None
    budget = metrics.get("time_budget_seconds")
    return min_time(budget if isinstance(budget, (int, float)) else 0.0, n if type(n) is int and n > 0 else 1)


def min_time_seconds(metrics: Mapping[str, Any], at: Optional[float] = None) -> float:
    """Seconds of a run stage that are Google Benchmark's min time (`at`: as if each had lasted that):
    no load stretches them, unlike the calls' own time."""
    passes = [metrics.get("latency_ms")]
    if metrics.get("device") != "local-sync":  # a local-sync cell's own benchmark is its cpu_ms
        passes.append(metrics.get("cpu_ms"))
    seconds, least = 0.0, least_of(metrics)
    for timed in passes:
        if not isinstance(timed, Mapping) or "of" in timed:  # `of`: not a benchmark's repetitions
            continue
        n, median = timed.get("n"), timed.get("median")
        if isinstance(n, int) and n > 0 and isinstance(median, (int, float)) and median < least * 1000.0:
            seconds += pass_seconds(median / 1000.0, n, at or least)
    return seconds
