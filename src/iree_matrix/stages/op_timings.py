"""Op timings: each dispatch's time in context, from IREE's HAL-native profiler, as part of the run stage.

From 3.12.0 the runtime tools take `--device_profiling_mode=host-execution
--device_profiling_output=FILE.ireeprof` and ship `iree-profile`, whose `dispatch --format=jsonl`
gives one `host_dispatch_group` row per executable function with its count and total time (the
local-task device records each dispatch's host execution; `dispatch-events` is unimplemented on
CPU: "unsupported local profiling data families 0x8"). Timed here with `iree-benchmark-module
--benchmark_min_time=Nx` and one repetition, so the number of calls is exact (no estimation
runs) and a dispatch's time per call is its total over that count. Unlike the dispatches stage (each
executable benchmarked alone), these times are taken inside the whole model, caches and threads
shared as they are in use, and they add up to the model's dispatch time.

Older runtimes reject the flag ("unknown command line flag"): their op-wise view is the dispatches
stage, and the Tracy capture a user can take by hand (`IREE_PY_RUNTIME=tracy`, see docs/performance.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iree_matrix.bundle_runner import gap as runner_gap
from iree_matrix.core.system import process_output
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.stages.base import Context

# About this much profiled time per function: enough calls to average a fast model's dispatches,
# few enough that a 3 s Whisper encoder is not called 50 times (the timing itself was taken before).
# How much is profiled, and how the profiler's rows are read: the bundle runner's (one source; a
# bundle's op-by-op profile is this stage's, taken on another machine).
PROFILE_SECONDS, CALLS = runner_gap.PROFILE_SECONDS, runner_gap.CALLS  # fewest and most profiled calls
SCHEME = f"{PROFILE_SECONDS}s-{CALLS[0]}-{CALLS[1]}"  # in the run key: changing it re-measures
PROFILE_FILE = "dispatches.ireeprof"


calls_for = runner_gap.calls_for


def capture(
    env: Environment, ctx: Context, benchmark: list[str], median_ms: float, out: Path, mounts: dict[str, Any]
) -> dict[str, Any]:
    """Profile calls of `benchmark` (an iree-benchmark-module command), as many as fit in about
    PROFILE_SECONDS at the measured median, in one repetition; returns `op_profile` metrics, or
    why there are none."""
    profile = out / PROFILE_FILE
    calls = calls_for(median_ms)
    argv = [*benchmark, "--benchmark_repetitions=1", f"--benchmark_min_time={calls}x"]
    argv += ["--device_profiling_mode=host-execution", f"--device_profiling_output={profile}"]
    done = env.run(ctx.request(argv, check=False, **mounts))
    if done.returncode != 0 or not profile.exists():
        return {"unavailable": process_output.excerpt(done.output) or f"exit code {done.returncode}"}
    # No log: hundreds of JSON lines, kept in the profile file.
    listed = [env.tool("iree-profile"), "dispatch", "--format=jsonl", str(profile)]
    listing = env.run(ProcessRequest(listed, timeout=ctx.timeout, check=False, **mounts))
    if listing.returncode != 0:
        return {"unavailable": process_output.excerpt(listing.output)}
    try:
        dispatches = parse_dispatch_groups(listing.stdout, calls)
    except (ValueError, KeyError, TypeError) as exc:  # a format this parser does not know
        return {"unavailable": f"iree-profile's output not understood: {exc}"}
    profile.unlink()  # megabytes; the summary is what the report reads
    return runner_gap.iree_profile(calls, dispatches)


# `iree-profile dispatch --format=jsonl` -> per function: name, dispatches per call, ms per call.
parse_dispatch_groups = runner_gap.parse_dispatch_groups
