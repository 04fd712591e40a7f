"""Who ran this: a description of the host, stored with every record and hashed into timed keys."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import resource
from pathlib import Path
from typing import Any, Optional

# The bundle runner's reading of a cpuinfo text (it ships without this package): one rule for both.
from iree_matrix.bundle_runner.host import described

# Another CPU's saved /proc/cpuinfo read in place of this machine's: what a user of that CPU is told,
# tried without it. Only the identity changes; records say which file was read (`cpuinfo_from`).
CPUINFO_ENV = "IREE_MATRIX_CPUINFO"
_PROC_CPUINFO = Path("/proc/cpuinfo")


def cpuinfo_override() -> Optional[Path]:
    """The file IREE_MATRIX_CPUINFO names, or None (this machine's /proc/cpuinfo is read)."""
    given = os.environ.get(CPUINFO_ENV, "").strip()
    return Path(given) if given else None


_LLVM: dict[str, str] = {}  # what a compiler said this CPU is (compile stage, `note_llvm`)


# What an LLVM too old for this CPU resolves `host` to (with the whole feature string: only the name is
# unknown to it).
LLVM_UNKNOWN_CPU = "generic"


def note_llvm(cpu: str, features: str) -> None:
    """LLVM's name for this CPU and its feature string's digest, for every record written afterwards;
    an older compiler's "generic" never replaces a newer one's name."""
    if cpu == LLVM_UNKNOWN_CPU and _LLVM.get("llvm_cpu", LLVM_UNKNOWN_CPU) != LLVM_UNKNOWN_CPU:
        return
    _LLVM.update(llvm_cpu=cpu, llvm_cpu_features_sha256=hashlib.sha256(features.encode()).hexdigest())


def describe() -> dict[str, Any]:
    return {**_described(), **_LLVM}


@functools.cache
def _described() -> dict[str, Any]:
    """This host as every record carries it; `identity` tells two CPUs apart by family / model too."""
    given = cpuinfo_override()
    return described(_cpuinfo_text(), str(given) if given else "")


def identity() -> str:
    """What decides timings (and `target-cpu=host` code): architecture, vendor, family / model /
    stepping, every CPU flag and the core count."""
    return str(describe()["identity"])


def _cpuinfo_text() -> str:
    """/proc/cpuinfo's text ("" where there is none), or the file IREE_MATRIX_CPUINFO names (a user
    error when it cannot be read)."""
    from iree_matrix.core.errors import UserError

    given = cpuinfo_override()
    try:
        return (given or _PROC_CPUINFO).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        if given is None:
            return ""
        raise UserError(
            f"{CPUINFO_ENV}={given}: cannot read it ({exc.strerror or exc}); name a saved "
            "/proc/cpuinfo text, or unset it to read this machine's"
        ) from None


# LLVM's host CPU as IREE resolves `target-cpu=host`, asked of iree-compile itself (LLVM's C API is not
# exported): a one-op function lowered to its executable targets spells the CPU and its features.
LLVM_PROBE_MLIR = """func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = arith.addf %a, %a : tensor<4xf32>
  return %b : tensor<4xf32>
}
"""
LLVM_PROBE_FLAGS = (
    "--iree-hal-target-backends=llvm-cpu",
    "--iree-llvmcpu-target-cpu=host",
    "--compile-to=executable-targets",
)
_LLVM_CPU = re.compile(r'\bcpu = "([^"]*)"')
_LLVM_FEATURES = re.compile(r'\bcpu_features = "([^"]*)"')


def parse_llvm_target(ir: str) -> Optional[tuple[str, str]]:
    """(CPU name, feature string) from IREE's `#hal.executable.target<..., {cpu = "znver4",
    cpu_features = "+avx,..."}>`, or None when the IR carries none."""
    cpu, features = _LLVM_CPU.search(ir), _LLVM_FEATURES.search(ir)
    return None if cpu is None else (cpu.group(1), features.group(1) if features else "")


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds every process on the machine has used, those used by this process and the
    children it waited for). Their difference over a stage is what others took meanwhile."""
    ticks = _cpu_ticks()
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0) if len(ticks) > 3 else None
    busy = (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK") if idle is not None else float("nan")
    usages = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return busy, sum(usage.ru_utime + usage.ru_stime for usage in usages)


def steal_seconds() -> float:
    """CPU seconds the hypervisor gave other guests while this machine wanted them (/proc/stat's
    `steal`): contention no process list on this machine shows."""
    if not (ticks := _cpu_ticks()):
        return float("nan")
    return ticks[7] / os.sysconf("SC_CLK_TCK") if len(ticks) > 7 else 0.0


def _cpu_ticks() -> list[int]:
    """/proc/stat's machine-wide CPU line (user nice system idle iowait irq softirq steal ...), in
    clock ticks; empty when it cannot be read."""
    try:
        return [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return []


# This process's containers run under the cgroup parent iree-matrix/<pid>, whose CPU counter outlives
# its removed children: its difference across a stage is what they used. One parent per process:
# another run's containers are other load, not ours.
CONTAINERS_CGROUP_ROOT = "iree-matrix"
CONTAINERS_CGROUP = f"{CONTAINERS_CGROUP_ROOT}/{os.getpid()}"


def containers_cgroup() -> Optional[Path]:
    """Where the containers' CPU counter will be, if this host's cgroups are laid out as expected
    (cgroup v1 with cpuacct, or v2); None elsewhere (then no --cgroup-parent, no other_load)."""
    if Path("/sys/fs/cgroup/cpuacct").is_dir():
        return Path("/sys/fs/cgroup/cpuacct") / CONTAINERS_CGROUP / "cpuacct.usage"
    if Path("/sys/fs/cgroup/cgroup.controllers").is_file():
        return Path("/sys/fs/cgroup") / CONTAINERS_CGROUP / "cpu.stat"
    return None


def containers_cpu_seconds() -> float:
    """CPU seconds used by every container started under CONTAINERS_CGROUP (0 before the first)."""
    if (counter := containers_cgroup()) is None:
        return float("nan")
    if not counter.parent.is_dir():
        return 0.0  # created by the daemon with the first such container
    try:
        text = counter.read_text()
    except OSError:
        return float("nan")
    if counter.name == "cpuacct.usage":
        return int(text.strip()) / 1e9
    usage = dict(line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2)
    return int(usage["usage_usec"]) / 1e6 if "usage_usec" in usage else float("nan")
