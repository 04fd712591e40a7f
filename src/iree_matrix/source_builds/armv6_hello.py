"""An armv6 hello world: cross-compile a C program for the ARM1176 (static and dynamic, armel ABI)
and run it in an armel Debian base under qemu-user pinned to that CPU — the toolchain check that
comes before any IREE runtime is built for the Pi Zero (`armv6-smoke`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional, Protocol

from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.iree import targets
from iree_matrix.iree.elf import binary_facts

ARMV6 = targets.ARCHES["armv6"]
BOARD = targets.Target(ARMV6, ARMV6.default_cpu)  # the Pi Zero's ARM1176JZF-S
QEMU_CPU_ARMV6 = BOARD.qemu_cpu or ""


class Runner(Protocol):
    """Where the binaries run: a container environment (envs.docker), with its isolation."""

    def run(self, request: ProcessRequest) -> processes.Completed: ...


HELLO_C = r"""#include <stdio.h>
#include <sys/utsname.h>

int main(int argc, char **argv) {
    struct utsname u;
    volatile double x = 1.5;  /* a VFP multiply under -mfloat-abi=softfp */
    (void)argc;
    uname(&u);
    printf("hello from %s on %s (%g)\n", argv[0], u.machine, x * x);
    return 0;
}
"""
CROSS_GCC = "arm-linux-gnueabi-gcc"
# Debian's armel gcc defaults to -march=armv5te -mfloat-abi=soft. softfp keeps armel's calling
# convention (floats in integer registers, so the armel libc links) while using VFP instructions.
HELLO_FLAGS = ("-march=armv6", "-marm", "-mfpu=vfp", "-mfloat-abi=softfp", "-O2")


def hello_world(out_dir: Path, runner: Runner, *, log: Optional[Path] = None) -> dict[str, Any]:
    """Cross-compile a C hello world for armv6 (static and dynamic, armel ABI) and run both with
    `runner` (an armel base's container) under qemu pinned to the ARM1176 (`QEMU_CPU_ARMV6`). Returns
    the outputs, `uname -m`, the emulated /proc/cpuinfo, and each binary's `binary_facts`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir.chmod(0o755)
    source = out_dir / "hello.c"
    source.write_text(HELLO_C)
    binaries = {"static": out_dir / "hello-static", "dynamic": out_dir / "hello-dynamic"}
    for kind, binary in binaries.items():
        extra = ["-static"] if kind == "static" else []
        argv = [CROSS_GCC, *HELLO_FLAGS, *extra, str(source), "-o", str(binary)]
        processes.run(ProcessRequest(argv, timeout=120, log=log, error_class="cross-gcc"))
    script = (
        "echo '== uname'; uname -m; "
        f"echo '== static'; {binaries['static']}; "
        f"echo '== dynamic'; {binaries['dynamic']}; "
        "echo '== auxv'; LD_SHOW_AUXV=1 /bin/true; "
        "echo '== cpuinfo'; cat /proc/cpuinfo"
    )
    # QEMU_CPU reaches qemu-arm through the container's environment (binfmt starts it per process).
    shell, qemu = ["/bin/sh", "-ec", script], {"QEMU_CPU": QEMU_CPU_ARMV6}
    done = runner.run(ProcessRequest(shell, timeout=300, log=log, read_only=[out_dir], env=qemu))
    sections = _sections(done.stdout)
    return {
        "image": getattr(runner, "id", ""),
        "qemu_cpu": QEMU_CPU_ARMV6,
        "compiler": [CROSS_GCC, *HELLO_FLAGS],
        "uname_m": sections.get("uname", "").strip(),
        # What qemu tells the program about the CPU (from the pinned model): AT_PLATFORM "v6l",
        # AT_HWCAP "swp half thumb fastmult vfp edsp tls" for arm1176 (no neon, no idiva).
        **parse_auxv(sections.get("auxv", "")),
        # qemu-user (7.2) passes /proc/cpuinfo through from the host: it shows the x86 CPU.
        "cpuinfo": sections.get("cpuinfo", ""),
        "seconds": round(done.seconds, 1),
        **{
            kind: {
                "path": str(binary),
                "output": sections.get(kind, "").strip(),
                **binary_facts(binary, log=log),
            }
            for kind, binary in binaries.items()
        },
    }


def parse_auxv(ld_show_auxv: str) -> dict[str, Any]:
    """`LD_SHOW_AUXV=1 /bin/true` output -> {"platform": "v6l", "hwcap": ["swp", "half", ...]}."""
    fields = dict(re.findall(r"^(AT_\w+):[ \t]*(.*?)[ \t]*$", ld_show_auxv, re.MULTILINE))
    return {"platform": fields.get("AT_PLATFORM"), "hwcap": fields.get("AT_HWCAP", "").split()}


def _sections(stdout: str) -> Mapping[str, str]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}
