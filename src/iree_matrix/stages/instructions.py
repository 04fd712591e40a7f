"""instructions: how many instructions one call of a compiled module executes, a figure the machine's
load does not move: callgrind counts `iree-benchmark-module` on local-sync (one thread does all the work)
inside `iree_vm_invoke` only (no start-up, load or input parsing). valgrind's CPU has no AVX-512: the
counted module is one compiled for an AVX2 CPU (the `avx2` profile).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import StageFailure, StageSkipped
from iree_matrix.core.model.metrics.instructions import InstructionsMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import host, process_output, processes
from iree_matrix.envs import Environment
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import Job, PlannedFunction, runs_anywhere
from iree_matrix.stages.artifacts import EXPORT_INFO, INPUTS, MODULE, export_digest
from iree_matrix.stages.base import Context, Stage, own_run, tool_version

CALLS = 1  # calls counted (under valgrind one call of the slowest micro-benchmark takes about a minute)
COUNTED_FUNCTION = "iree_vm_invoke"  # what the tools call once per benchmark iteration
# valgrind runs under a seccomp filter refusing io_uring_setup (stages/no_io_uring.py: IREE 3.12+'s
# io_uring proactor otherwise deadlocks valgrind 3.19; the runtime falls back to its POSIX proactor).
WRAPPER = "iree_matrix.stages.no_io_uring"
INSTALL_HINT = "apt-get install -y valgrind (images/setup-host.sh installs it)"


class InstructionsStage(Stage):
    name = "instructions"
    rank = 90  # after dispatches (70)
    optional = True
    timeout = 3600.0  # under valgrind a call takes some 50x its native time
    metrics = InstructionsMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """For a cell `[benchmark] instructions` names, run by its own runtime, after the run's deps."""
        run = own_run(unit)
        if run is None or targets.parse(unit.cell.arch).arch.bare_metal:
            return
        if unit.spec.benchmark.opts_in("instructions", unit.name, unit.cell.profile):
            labels = dataclasses.replace(run.labels, device="local-sync")
            unit.add(self.name, run.cell, run.deps, labels, run.env)

    def key(self, job: Job, ctx: Context) -> str:
        target = job.target
        if target.arch.bare_metal or target.emulated or not runs_anywhere(job.env):
            raise StageSkipped("instruction counts are taken natively, on this host's own runtime")
        return self.keyed(
            module=ctx.dep("compile").record.key,
            export=export_digest(ctx.dep("export"), "io_sha256"),
            env=ctx.env_key_inputs(),
            valgrind=valgrind_version(),
            calls=CALLS,
            counted=COUNTED_FUNCTION,
            # valgrind's emulated CPU, and the runtime's choice of code by CPU, follow the host's
            host=host.identity(),
        )

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        if getattr(env, "backend", "") == "docker":
            raise StageFailure(
                "no-valgrind",
                "instruction counts run on host venvs (--backend venv): the images have no valgrind",
            )
        if (valgrind := shutil.which("valgrind")) is None:
            raise StageFailure("no-valgrind", f"valgrind is not installed: {INSTALL_HINT}")
        tool = native_tool(env, "iree-benchmark-module")
        info = json.loads(ctx.read(EXPORT_INFO).read_text())
        module = ctx.read(MODULE)
        inputs = [f"--input=@{ctx.read(INPUTS) / f'input{i}.npy'}" for i in range(len(info["inputs"]))]
        counted = out / "callgrind.out"
        callgrind = [valgrind, "--tool=callgrind", f"--callgrind-out-file={counted}", "--collect-atstart=no"]
        call = [tool, "--device=local-sync", f"--module={module}", f"--function={info['function']}", *inputs]
        timing = [f"--benchmark_min_time={CALLS}x", "--benchmark_repetitions=1", "--benchmark_format=json"]
        callgrind.append(f"--toggle-collect={COUNTED_FUNCTION}")
        argv = [sys.executable, "-m", WRAPPER, *callgrind, *call, *timing]
        # callgrind writes its counts beside the stage's output: the one place the command may write.
        done = env.run(ctx.request(argv, writable=[out], check=False))
        if done.returncode != 0:
            raise processes.failure(done, *why_failed(done.output))
        run = {"iterations": iterations_of(done.stdout), "total": total_of(counted.read_text())}
        counted.unlink()  # hundreds of KiB of per-function counts; the total is kept
        counts = {
            "per_call": per_call(run),
            "runs": [run],
            "counted": COUNTED_FUNCTION,
            "device": "local-sync",
            "tool": f"callgrind ({valgrind_version()})",
        }
        return Outcome(Status.OK, metrics=InstructionsMetrics(counts).written(), command=tuple(argv))


def valgrind_version() -> str:
    """`valgrind-3.19.0`, or "" where valgrind is not installed (the key still differs from a count's)."""
    return tool_version(shutil.which("valgrind"))


def native_binary(env: Environment, name: str) -> Optional[Path]:
    """The runtime tool's own executable (a wheel's console script is a Python launcher; its binary is
    iree/_runtime_libs/<name>), None where it is no file here."""
    path = Path(env.tool(name))
    wheel = sorted(path.parent.parent.glob(f"lib/python*/site-packages/iree/_runtime_libs/{name}"))
    return next((candidate for candidate in (*wheel, path) if is_elf(candidate)), None)


def native_tool(env: Environment, name: str) -> str:
    """`native_binary`, or a failure saying there is none."""
    if (found := native_binary(env, name)) is None:
        where = Path(env.tool(name)).parent
        raise StageFailure("no-runtime-tool", f"no executable {name} in {where} (only a launcher)")
    return str(found)


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


_UNDECODABLE = re.compile(r"unhandled instruction bytes|SIGILL|Illegal opcode")


def why_failed(output: str) -> tuple[str, str]:
    """(error class, message) of a counted run that did not finish."""
    if _UNDECODABLE.search(output):
        return (
            "valgrind-isa",
            f"{valgrind_version() or 'valgrind'} cannot decode an instruction of the module (it emulates no "
            "AVX-512 CPU): count a module compiled for an AVX2 CPU, the `avx2` profile (x86-64-v3)\n"
            + process_output.excerpt(output, max_lines=5),
        )
    return "instructions-error", process_output.excerpt(output)


_TOTAL = re.compile(r"^(?:summary|totals):\s*(\d+)", re.M)


def total_of(callgrind_out: str) -> int:
    """The instruction total (event Ir) of a callgrind output file."""
    if (match := _TOTAL.search(callgrind_out)) is None:
        raise StageFailure("instructions-error", "callgrind wrote no summary: line (the run did not finish?)")
    return int(match.group(1))


def iterations_of(benchmark_json: str) -> int:
    """How many calls google benchmark made (one repetition of one benchmark)."""
    try:
        runs = json.loads(benchmark_json).get("benchmarks", [])
        found = [int(b["iterations"]) for b in runs if b.get("run_type", "iteration") == "iteration"]
    except (ValueError, KeyError, TypeError) as exc:
        raise StageFailure("instructions-error", f"iree-benchmark-module's JSON unreadable: {exc}") from None
    if len(found) != 1:
        raise StageFailure(
            "instructions-error", f"expected one benchmark run, iree-benchmark-module made {len(found)}"
        )
    return found[0]


def per_call(run: Mapping[str, Any]) -> float:
    """Instructions per call of one counted run (only the calls were counted)."""
    if run["iterations"] < 1:
        raise StageFailure("instructions-error", "iree-benchmark-module made no call")
    if run["total"] <= 0:
        raise StageFailure(
            "instructions-error",
            f"callgrind counted nothing inside {COUNTED_FUNCTION}: this runtime's iree-benchmark-module has "
            "no symbol table to find it by",
        )
    return float(run["total"] / run["iterations"])


STAGE = InstructionsStage()
