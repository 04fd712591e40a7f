"""armv6 for real: a cross-compiled C program in an armel Debian base under qemu pinned to an
ARM1176, and iree-compile's armv6 kernels (their ELF attributes, and the link failure of an
integer division).

The armel base (bookworm, no Python: ~3 min of debootstrap) is kept in the persistent cache
(`default_cache()/images`), so only the first run on a machine builds it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from iree_matrix import images
from iree_matrix.core.system import binfmt, containers, processes
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.envs.docker import base_environment
from iree_matrix.iree import elf
from iree_matrix.iree.flags import BUILTIN_PROFILES, compile_flags
from iree_matrix.source_builds import armv6_hello

pytestmark = pytest.mark.integration

ON_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(problem: str) -> None:
    if ON_CI:
        pytest.fail(f"CI must run images/setup-host.sh before the tests: {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "arm.log"


@pytest.fixture(scope="module")
def armel_base(log: Path) -> images.BaseImage:
    problem = containers.problem()
    if problem:
        _unavailable(f"no Docker daemon: {problem}")
    problem = binfmt.problem("qemu-arm")
    if problem:
        _unavailable(f"no qemu-arm binfmt handler for containers: {problem} (bash images/setup-host.sh)")
    if shutil.which(armv6_hello.CROSS_GCC) is None:
        _unavailable(f"no {armv6_hello.CROSS_GCC} (bash images/setup-host.sh installs gcc-arm-linux-gnueabi)")
    bases = images.Bases(default_cache() / "images")
    return bases.suite("bookworm", "armel", Bounds(1800, log), with_python=False)


@pytest.mark.docker
@pytest.mark.qemu
def test_hello_world_runs_as_armv6_in_the_armel_base(
    armel_base: images.BaseImage, tmp_path: Path, log: Path
) -> None:
    assert armel_base.arch == "armel" and armel_base.python == ""
    assert armel_base.tag.startswith("iree-matrix-base:bookworm-armel-nopython-")
    got = armv6_hello.hello_world(tmp_path / "hello", base_environment("armv6-hello", armel_base), log=log)

    assert got["uname_m"] == "armv6l"  # QEMU_CPU=arm1176; qemu's default CPU says armv7l
    for kind in ("static", "dynamic"):
        assert got[kind]["output"].startswith("hello from "), got
        assert got[kind]["output"].endswith("on armv6l (2.25)"), got  # uname(2) and a VFP multiply
        assert got[kind]["attributes"]["Tag_CPU_arch"] == "v6"
        assert got[kind]["attributes"]["float_abi"] == "soft"  # armel's calling convention (softfp)
        assert got[kind]["attributes"]["armv6_ok"]

    static, dynamic = got["static"], got["dynamic"]
    assert static["interpreter"] is None and static["needed"] == [] and static["glibc_versions"] == []
    assert dynamic["interpreter"] == "/lib/ld-linux.so.3"
    assert dynamic["needed"] == ["libc.so.6"]
    assert dynamic["glibc_versions"] and all(v.startswith("GLIBC_2.") for v in dynamic["glibc_versions"])
    assert static["bytes"] > 20 * dynamic["bytes"]
    # The pinned CPU reaches the program through the aux vector; /proc/cpuinfo is the host's.
    assert got["platform"] == "v6l"
    assert "vfp" in got["hwcap"] and "neon" not in got["hwcap"] and "idiva" not in got["hwcap"]
    assert "ARMv6" not in got["cpuinfo"]

    leftovers = processes.run(
        ProcessRequest(
            ["docker", "ps", "-a", "--quiet", "--filter", f"ancestor={armel_base.tag}"], timeout=60
        )
    ).stdout.strip()
    assert leftovers == ""


# --- iree-compile for armv6 ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def iree_compile() -> str:
    found = Path(sys.executable).with_name("iree-compile")
    tool = str(found) if found.is_file() else shutil.which("iree-compile")
    if tool is None:
        pytest.skip("no iree-compile beside the test interpreter (pip install iree-base-compiler)")
    return tool


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tiny torch models exported by iree-turbine: Linear+ReLU (f32) and an int32 division."""
    torch = pytest.importorskip("torch")
    aot = pytest.importorskip("iree.turbine.aot")

    class LinearRelu(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(16, 8)

        def forward(self, x):  # noqa: ANN001, ANN201
            return torch.relu(self.linear(x))

    class IntDiv(torch.nn.Module):
        def forward(self, a, b):  # noqa: ANN001, ANN201
            return torch.div(a, b, rounding_mode="trunc")

    out = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    # Two distinct tensors: with the same one twice, export sees a / a and folds the division away.
    a, b = torch.ones(4, 8, dtype=torch.int32), torch.ones(4, 8, dtype=torch.int32)
    models = {"linear": (LinearRelu(), (torch.randn(2, 16),)), "idiv": (IntDiv(), (a, b))}
    paths = {}
    for name, (model, args) in models.items():
        paths[name] = out / f"{name}.mlir"
        aot.export(model, args=args).save_mlir(str(paths[name]))
    return paths


def _compile(iree_compile: str, mlir: Path, out: Path, abi: str, log: Path) -> processes.Completed:
    """The product's armv6 flags (flags.compile_flags), with the triple's ABI swapped for `abi`."""
    armv6 = compile_flags("3.9.0", "armv6", BUILTIN_PROFILES["default"])
    triple = {"armel": "armv6-unknown-linux-gnueabi", "armhf": "armv6-unknown-linux-gnueabihf"}[abi]
    flags = [f"--iree-llvmcpu-target-triple={triple}" if f.startswith("--iree-llvmcpu-target-triple=") else f
             for f in armv6]  # fmt: skip
    argv = [iree_compile, str(mlir), *flags, "-o", str(out)]
    return processes.run(ProcessRequest(argv, timeout=300, log=log, check=False))


@pytest.mark.torch
def test_armv6_kernels_are_v6_vfp2_without_neon(
    iree_compile: str, exported: dict[str, Path], tmp_path: Path, log: Path
) -> None:
    vmfbs = {}
    for abi in ("armhf", "armel"):
        vmfbs[abi] = tmp_path / f"linear-{abi}.vmfb"
        done = _compile(iree_compile, exported["linear"], vmfbs[abi], abi, log)
        assert done.returncode == 0, done.output
    # The kernels are an embedded ELF whose triple IREE rewrites to armv6-unknown-unknown-eabi-elf:
    # the gnueabi/gnueabihf choice does not reach the module at all.
    assert vmfbs["armhf"].read_bytes() == vmfbs["armel"].read_bytes()

    (kernel,) = elf.dispatch_code(vmfbs["armhf"], tmp_path / "kernels")
    assert kernel.name.endswith("_embedded_elf_arm_32.so")
    assert kernel.read_bytes() in vmfbs["armhf"].read_bytes()
    attributes = elf.arm32_attributes(kernel, log=log)
    assert attributes["Tag_CPU_arch"] == "v6"
    assert attributes["Tag_FP_arch"] == "VFPv2"
    assert "Tag_Advanced_SIMD_arch" not in attributes
    assert attributes["armv6_ok"]


@pytest.mark.torch
def test_armv6_integer_division_does_not_link(
    iree_compile: str, exported: dict[str, Path], tmp_path: Path, log: Path
) -> None:
    done = _compile(iree_compile, exported["idiv"], tmp_path / "idiv.vmfb", "armhf", log)
    assert done.returncode != 0
    assert "iree-lld: error: undefined symbol: __aeabi_idiv" in done.output
    assert "failed to link executable and generate target dylib" in done.output
    assert elf.undefined_symbols(done.output) == ["__aeabi_idiv"]
    assert not (tmp_path / "idiv.vmfb").exists()


# --- the soft-fmaf profile's fmaf on the ARM1176 -------------------------------------------------

FMAF_DRIVER = r"""#include <stdio.h>
#include <stdint.h>
#include <string.h>
float iree_matrix_fmaf(float x, float y, float z);
int main(void) {
    uint32_t a, b, c;
    while (scanf("%x %x %x", &a, &b, &c) == 3) {
        float x, y, z, r;
        uint32_t out;
        memcpy(&x, &a, 4); memcpy(&y, &b, 4); memcpy(&z, &c, 4);
        r = iree_matrix_fmaf(x, y, z);
        memcpy(&out, &r, 4);
        printf("%08x\n", (unsigned)out);
    }
    return 0;
}
"""


def _f32_bits(value: float) -> int:
    import struct

    return struct.unpack("<I", struct.pack("<f", value))[0]


@pytest.mark.docker
@pytest.mark.qemu
def test_the_soft_fmaf_object_fuses_multiply_add_on_the_arm1176(
    armel_base: images.BaseImage, tmp_path: Path, log: Path
) -> None:
    """scripts/arm32_fmaf.py's function, linked into an armel program and run under qemu pinned to
    the Pi Zero's CPU: x*y+z rounded once, where float arithmetic would round twice."""
    import importlib.util
    import struct
    from fractions import Fraction

    from iree_matrix.core import shipped

    spec = importlib.util.spec_from_file_location("arm32_fmaf", shipped.scripts_dir() / "arm32_fmaf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tmp_path.chmod(0o755)
    (tmp_path / "fmaf.o").write_bytes(module.object_bytes())
    (tmp_path / "driver.c").write_text(FMAF_DRIVER)
    binary = tmp_path / "fmaf-test"
    sources = [str(tmp_path / "driver.c"), str(tmp_path / "fmaf.o")]
    processes.run(
        ProcessRequest(
            [armv6_hello.CROSS_GCC, *armv6_hello.HELLO_FLAGS, "-static", *sources, "-o", str(binary)],
            timeout=120,
            log=log,
        )
    )
    cases = [
        (1 + 2**-12, 1 - 2**-12, -1.0),  # fused: -2^-24; float mul then add: 0
        (0.1, 10.0, -1.0),
        (3.0, 7.0, 0.5),
        (-1.5, 2.25, 1e-8),
        (1e20, 1e-20, -1.0),
    ]
    (tmp_path / "in.txt").write_text(
        "".join(" ".join(f"{_f32_bits(v):08x}" for v in case) + "\n" for case in cases)
    )
    done = base_environment("armv6-fmaf", armel_base).run(ProcessRequest(
        ["/bin/sh", "-ec", f"{binary} < {tmp_path / 'in.txt'}"], timeout=300, log=log, read_only=[tmp_path],
        env={"QEMU_CPU": armv6_hello.QEMU_CPU_ARMV6},
    ))  # fmt: skip
    got = [int(line, 16) for line in done.stdout.split()]
    f32 = [[struct.unpack("<f", struct.pack("<f", v))[0] for v in case] for case in cases]
    exact = [Fraction(x) * Fraction(y) + Fraction(z) for x, y, z in f32]
    want = [_f32_bits(float(e)) for e in exact]  # float(Fraction) rounds once, to double; then to f32
    assert got[0] == _f32_bits(-(2.0**-24)) and got[0] != _f32_bits(0.0)
    assert got == want
