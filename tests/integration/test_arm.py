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

from iree_matrix import _proc, arm, binfmt, containers, elf, images
from iree_matrix.cache_usage import default_cache
from iree_matrix.envs.docker import base_environment
from iree_matrix.flags import BUILTIN_PROFILES, compile_flags

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
    if shutil.which(arm.CROSS_GCC) is None:
        _unavailable(f"no {arm.CROSS_GCC} (bash images/setup-host.sh installs gcc-arm-linux-gnueabi)")
    bases = images.Bases(default_cache() / "images")
    return bases.suite("bookworm", "armel", timeout=1800, log=log, with_python=False)


@pytest.mark.docker
@pytest.mark.qemu
def test_hello_world_runs_as_armv6_in_the_armel_base(
    armel_base: images.BaseImage, tmp_path: Path, log: Path
) -> None:
    assert armel_base.arch == "armel" and armel_base.python == ""
    assert armel_base.tag.startswith("iree-matrix-base:bookworm-armel-nopython-")
    got = arm.hello_world(tmp_path / "hello", base_environment("armv6-hello", armel_base), log=log)

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

    leftovers = _proc.run(
        ["docker", "ps", "-a", "--quiet", "--filter", f"ancestor={armel_base.tag}"], timeout=60
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


def _compile(iree_compile: str, mlir: Path, out: Path, abi: str, log: Path) -> _proc.Completed:
    """The product's armv6 flags (flags.compile_flags), with the triple's ABI swapped for `abi`."""
    armv6 = compile_flags("3.9.0", "armv6", BUILTIN_PROFILES["default"])
    triple = {"armel": "armv6-unknown-linux-gnueabi", "armhf": "armv6-unknown-linux-gnueabihf"}[abi]
    flags = [f"--iree-llvmcpu-target-triple={triple}" if f.startswith("--iree-llvmcpu-target-triple=") else f
             for f in armv6]  # fmt: skip
    argv = [iree_compile, str(mlir), *flags, "-o", str(out)]
    return _proc.run(argv, timeout=300, log=log, check=False)


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

    (kernel,) = elf.module_kernels(vmfbs["armhf"], tmp_path / "kernels")
    assert kernel.name.endswith("_embedded_elf_arm_32.so")
    assert kernel.read_bytes() in vmfbs["armhf"].read_bytes()
    attributes = elf.arm_attributes(kernel, log=log)
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
