"""peak: the roofline's ceilings, `scripts/peak/peak.c` built `-O3 -march=native` by the host's C
compiler: FMA chains (FLOP/s) and a STREAM triad (bandwidth), on one thread and the matrix's count.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from iree_matrix.bundle_runner.host import cpuinfo_fields
from iree_matrix.core import shipped
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model import host_identity
from iree_matrix.core.model.metrics.peak import PeakMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import processes
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import EnvSpec, Job, PlannedFunction
from iree_matrix.stages.base import Context, Stage, tool_version

SOURCE = Path("peak") / "peak.c"
FLAGS = ("-O3", "-march=native", "-pthread")
COMPILERS = ("cc", "gcc", "clang")


class PeakStage(Stage):
    name = "peak"
    rank = 94
    optional = True
    exclusive = True  # it times
    timeout = 600.0
    metrics = PeakMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """With any cell `[benchmark] roofline` names: one measurement of this host, for every function."""
        if unit.spec.benchmark.opts_in(PeakMetrics.opt_in, unit.name, unit.cell.profile):
            arch, env = targets.host_arch(), EnvSpec("toolchain", unit.cell.python, (), "host-cc")
            unit.add(self.name, arch, (), Labels(arch=arch), env)

    def key(self, job: Job, ctx: Context) -> str:
        return self.keyed(
            source=file_sha256(shipped.scripts_dir() / SOURCE),
            compiler=compiler_version(),
            flags=list(FLAGS),
            **ctx.machine_timing(),
        )

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        cc = compiler()
        binary = out / "peak"
        build = [cc, *FLAGS, str(shipped.scripts_dir() / SOURCE), "-o", str(binary)]
        processes.run(ctx.request(build, error_class="peak-build"))
        threads = ctx.spec.benchmark.thread_count()
        before = os.getloadavg()
        done = processes.run(ctx.request([str(binary), str(threads)], error_class="peak-run"))
        after = os.getloadavg()
        metrics = PeakMetrics(
            **parse(done.stdout),
            method=f"scripts/peak/peak.c built by {compiler_version()} with {' '.join(FLAGS)}",
            cpu=host_identity.here().cpu or "",
            isa_flags=tuple(isa_flags()),
            load_average={"start": round(before[0], 2), "end": round(after[0], 2)},
        )
        binary.unlink()
        return Outcome(Status.OK, metrics=metrics.written(), command=(str(binary), str(threads)))


def compiler() -> str:
    if found := next(filter(None, map(shutil.which, COMPILERS)), None):
        return found
    raise StageFailure(
        "no-compiler", "no C compiler (cc, gcc or clang) to build the peak kernel: apt-get install -y gcc"
    )


def compiler_version() -> str:
    """`gcc (Debian 12.2.0-14+deb12u1) 12.2.0`: the first line of `cc --version`, "" without one."""
    return tool_version(next(filter(None, map(shutil.which, COMPILERS)), None))


def parse(stdout: str) -> dict[str, Any]:
    """The kernel's one JSON line, checked for the figures the roofline needs."""
    try:
        figures = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StageFailure("peak-run", f"the peak kernel printed no JSON: {stdout[:200]!r}") from None
    needed = ("gflops_1", "gflops_all", "triad_gbs_1", "triad_gbs_all", "threads")
    if missing := [k for k in needed if not isinstance(figures.get(k), (int, float)) or figures[k] <= 0]:
        raise StageFailure("peak-run", f"the peak kernel gave no positive {', '.join(missing)}: {figures}")
    return dict(figures)


def isa_flags() -> list[str]:
    """This CPU's vector and FMA flags from /proc/cpuinfo (every AVX*/SSE*/FMA, Arm's SIMD ones)."""
    try:
        fields = cpuinfo_fields(Path("/proc/cpuinfo").read_text())
    except OSError:
        return []
    prefixes = ("avx", "fma", "sse", "f16c", "amx", "asimd", "sve", "neon", "fphp", "bf16", "i8mm")
    flags = (fields.get("flags") or fields.get("Features") or "").split()
    return sorted(f for f in flags if f.startswith(prefixes))


STAGE = PeakStage()
