"""Paired, interleaved A/B timing of two compiled modules on this host, the measurement behind every speed
verdict (`stats.paired` decides). Each arm is `iree-benchmark-module --device=local-sync` on one thread, its
CPU time per call (what load moves least); rounds alternate the order so a drift falls on both arms. An arm
comes from a run record's own command, so any native run recorded here can be compared again later."""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model import stats, store
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import venv
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.kernel import kernels
from iree_matrix.kernel.iree import custom_dispatch
from iree_matrix.stages.benchmark_tool import benchmark_times

BENCHMARK_TOOL = "iree-benchmark-module"
ROUNDS = 8  # paired rounds per comparison: 8 equal signs give p = 0.008, 7 of 8 can still pass
REPETITIONS = 3  # iree-benchmark-module repetitions per arm and round; their median is the round's
# What a run's command keeps for its benchmark: a plugin kernel's module loads only with its plugin
# (`--executable_plugin=embedded:PATH`, stages/run.py), so an arm without it would be refused at load.
_KEEP = ("--module=", "--function=", "--input=", "--parameters=", f"{custom_dispatch.RUNTIME_PLUGIN_FLAG}=")


@dataclasses.dataclass(frozen=True)
class Arm:
    """One build to time: the benchmark command (without repetitions and output flags) and the
    module it loads."""

    name: str
    argv: tuple[str, ...]
    module: Path

    def command(self, repetitions: int) -> list[str]:
        return [*self.argv, f"--benchmark_repetitions={repetitions}", "--benchmark_format=json"]


class NotComparable(Exception):
    """An arm cannot be timed here (its runtime or module is not on this host); says why."""


def arm_of(record: Record, name: str = "", caches: Sequence[Path] = ()) -> Arm:
    """The one-thread benchmark of the module a native run record ran, from its own command, when
    the tool and files it names are this host's: in one of `caches` (the run's) or the default cache."""
    if record.stage != "run" or record.status not in (Status.OK, Status.MISMATCH) or not record.command:
        raise NotComparable(f"{record.job}: not a run that loaded its module")
    if record.metric.of(RunMetrics).emulated:
        raise NotComparable(f"{record.job}: an emulated run (its time is qemu's)")
    bench = Path(record.command[0]).with_name(BENCHMARK_TOOL)
    if not bench.is_file():
        raise NotComparable(f"{record.job}: {bench} is not on this host (a container's, or pruned)")
    # A kernel's run flags (kernel.toml `run_flags`: a bigger worker stack) go with its module, as
    # the run and the bundle runner pass them: the arm times what the run checked.
    flags = set(kernels.run_flags_in(record.command[1:])) if record.label.kernel else set()
    kept = [a for a in record.command[1:] if a.startswith(_KEEP) or a in flags]
    module = next((Path(a.split("=", 1)[1]) for a in kept if a.startswith("--module=")), None)
    if module is None or not module.is_file():
        raise NotComparable(f"{record.job}: its module {module} is no longer in the store")
    reads = [(_read_path(a), f"its {a.split('=', 1)[0]}") for a in kept if a not in flags]
    for path, what in [(str(bench), "its benchmark tool"), *(r for r in reads if r[1] != "its --function")]:
        if (why := vouched_against(Path(path), [*caches, default_cache()])) is not None:
            raise NotComparable(
                f"{record.job}: {what} {path} {why}; only this host's iree-matrix environments and store "
                "are run (run the matrix here, then compare)"
            )
    return Arm(name or record.job, (str(bench), "--device=local-sync", *kept), module)


def _read_path(flag: str) -> str:
    """The file a kept flag makes the tool read: `--input=@F` F, `--executable_plugin=embedded:F` F."""
    value = flag.split("=", 1)[1].removeprefix("@")
    return value.removeprefix("embedded:") if flag.startswith("--executable_plugin=") else value


def vouched_against(path: Path, caches: Sequence[Path]) -> Optional[str]:
    """Why a file a record names may not be run or read (None: it may). A record's command arrives
    through `merge` from other parties; what compare, calibrate, search and advise run from it
    must lie in one of this host's caches and be a file one of its environments installed, or a
    stored artifact, each with the bytes it had then."""
    file = Path(os.path.abspath(path))
    if not any(file.is_relative_to(os.path.abspath(cache)) for cache in caches):
        return f"is not in this host's iree-matrix cache ({', '.join(sorted(map(str, caches)))})"
    if any((parent / "pyvenv.cfg").is_file() for parent in file.parents):
        return venv.unvouched(file)
    return store.unvouched(file)


def cpu_ms_per_call(benchmark_json: str) -> float:
    """The median over repetitions of the process's CPU time per call, in ms."""
    times = [t for reps in benchmark_times(benchmark_json, "ms", "cpu_time").values() for t in reps]
    if not times:
        raise ValueError("iree-benchmark-module reported no repetitions")
    return statistics.median(times)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """B against A: the rounds' times (ms of CPU per call) and the verdict."""

    a: str
    b: str
    a_ms: tuple[float, ...]
    b_ms: tuple[float, ...]
    result: stats.Paired

    def as_dict(self) -> dict[str, object]:
        r = {k: getattr(self.result, k) for k in ("ratio", "low", "high", "p_value", "rounds", "verdict")}
        return {"a": self.a, "b": self.b, "a_ms": list(self.a_ms), "b_ms": list(self.b_ms), **r}


Timer = Callable[[Arm, int], float]  # one arm, repetitions -> CPU ms per call

# What timing one arm once costs, for a comparison's estimate before it starts: the tool's start and
# the module's load, then each repetition's minimum time (google benchmark's default, 0.5 s) or the
# call itself when slower. At load 6 on 2 cores, `compare` took 390 s for 8 functions of 8 rounds of 3
# repetitions: 3.0 s per arm, this model's 2.0 s times the load's square root.
ARM_START_SECONDS = 0.5
MIN_REPETITION_SECONDS = 0.5


def expected_seconds(call_ms: Optional[float], rounds: int, repetitions: int) -> float:
    """A comparison's seconds on a quiet machine: `rounds` rounds of two arms."""
    call = (call_ms or 0.0) / 1000
    return rounds * 2 * (ARM_START_SECONDS + repetitions * max(MIN_REPETITION_SECONDS, call))


def time_arm(arm: Arm, repetitions: int) -> float:
    request = ProcessRequest(arm.command(repetitions), timeout=900.0, error_class="benchmark-error")
    return cpu_ms_per_call(processes.run(request).stdout)


def _same_build(a: Arm, b: Arm) -> bool:
    """The same module bytes, run with the same kernel run flags (a bigger stack is another build)."""
    same_flags = kernels.run_flags_in(a.argv[1:]) == kernels.run_flags_in(b.argv[1:])
    return same_flags and file_sha256(a.module) == file_sha256(b.module)


def compare(
    a: Arm,
    b: Arm,
    *,
    rounds: int = ROUNDS,
    repetitions: int = REPETITIONS,
    timer: Optional[Timer] = None,
    identical: Optional[bool] = None,
) -> Comparison:
    """B against A in `rounds` alternating rounds. Byte-identical modules (unless `identical` says
    otherwise: a calibration times a module against its copy on purpose) get "same module" untimed."""
    if identical or (identical is None and _same_build(a, b)):
        return Comparison(a.name, b.name, (), (), stats.same_module())
    timed = timer or time_arm
    a_ms: list[float] = []
    b_ms: list[float] = []
    for i in range(rounds):
        order = ((a, a_ms), (b, b_ms)) if i % 2 == 0 else ((b, b_ms), (a, a_ms))
        for arm, into in order:
            into.append(timed(arm, repetitions))
    return Comparison(a.name, b.name, tuple(a_ms), tuple(b_ms), stats.paired(a_ms, b_ms))
