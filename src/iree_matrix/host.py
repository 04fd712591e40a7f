"""Who ran this: a description of the host, stored with every record and hashed into timed keys."""

from __future__ import annotations

import functools
import os
import platform
import resource
from pathlib import Path
from typing import Any, Optional


@functools.cache
def describe() -> dict[str, Any]:
    cpu, flags = _cpuinfo()
    return {
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_features": sorted(f for f in flags if f in _INTERESTING_FLAGS),
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "libc": "-".join(platform.libc_ver()),
        "python": platform.python_version(),
    }


def identity() -> str:
    """What decides timings (and `target-cpu=host` code): architecture, CPU model and features."""
    d = describe()
    return f"{d['machine']}|{d['cpu']}|{','.join(d['cpu_features'])}|{d['cores']}"


_INTERESTING_FLAGS = {
    "avx",
    "avx2",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "fma",
    "sse4_2",
    "neon",
    "asimd",
}


def _cpuinfo() -> tuple[str, set[str]]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown", set()
    model, flags = "unknown", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model", "CPU part") and model == "unknown":
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds every process on the machine has used, those used by this process and the
    children it waited for). Their difference over a stage is what others took meanwhile."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(f) for f in fields]
        busy = (sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        busy = float("nan")
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        own += usage.ru_utime + usage.ru_stime
    return busy, own


# Docker's cgroupfs driver puts containers started with `--cgroup-parent iree-matrix` under
# <cgroup root>/iree-matrix/<id>. The parent's CPU counter is hierarchical and outlives its removed
# children (cgroup v1 cpuacct charges every ancestor; v2's cpu.stat folds a removed child into its
# parent), so the difference across a stage is what the stage's containers used.
CONTAINERS_CGROUP = "iree-matrix"
_CGROUP_COUNTERS = (
    (Path("/sys/fs/cgroup/cpuacct") / CONTAINERS_CGROUP / "cpuacct.usage", "v1"),
    (Path("/sys/fs/cgroup") / CONTAINERS_CGROUP / "cpu.stat", "v2"),
)


def containers_cgroup() -> Optional[Path]:
    """Where the containers' CPU counter will be, if this host's cgroups are laid out as expected
    (cgroup v1 with cpuacct, or v2); None elsewhere (then no --cgroup-parent, no other_load)."""
    if Path("/sys/fs/cgroup/cpuacct").is_dir():
        return _CGROUP_COUNTERS[0][0]
    if Path("/sys/fs/cgroup/cgroup.controllers").is_file():
        return _CGROUP_COUNTERS[1][0]
    return None


def containers_cpu_seconds() -> float:
    """CPU seconds used by every container started under CONTAINERS_CGROUP (0 before the first)."""
    counter = containers_cgroup()
    if counter is None:
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
