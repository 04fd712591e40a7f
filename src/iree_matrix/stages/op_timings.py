"""Op timings: each dispatch's time inside the whole model (its caches and threads shared), from IREE's
HAL profiler (>= 3.12: `--device_profiling_mode=host-execution`, read by `iree-profile dispatch`), as
part of the run stage; `--benchmark_min_time=Nx` with one repetition makes the call count exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iree_matrix.bundle_runner import gap as runner_gap
from iree_matrix.core.system import process_output
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.stages.base import Context

# How much is profiled (seconds, fewest and most calls), and how the profiler's rows are read: the bundle
# runner's (one source). In the run key: changing it re-measures.
SCHEME = f"{runner_gap.PROFILE_SECONDS}s-{runner_gap.CALLS[0]}-{runner_gap.CALLS[1]}"
PROFILE_FILE = "dispatches.ireeprof"


def capture(
    env: Environment, ctx: Context, benchmark: list[str], median_ms: float, out: Path, mounts: dict[str, Any]
) -> dict[str, Any]:
    """`op_profile` metrics of `benchmark`'s calls (as many as fit PROFILE_SECONDS), or why none."""
    profile = out / PROFILE_FILE
    calls = runner_gap.calls_for(median_ms)
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
        dispatches = runner_gap.parse_dispatch_groups(listing.stdout, calls)
    except (ValueError, KeyError, TypeError) as exc:  # a format this parser does not know
        return {"unavailable": f"iree-profile's output not understood: {exc}"}
    profile.unlink()  # megabytes; the summary is what the report reads
    return runner_gap.iree_profile(calls, dispatches)
