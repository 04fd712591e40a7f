"""The library's C kernels (kernels/softmax, gelu_tanh, layer_norm, depthwise3x3_nchw, inverted_residual,
conv1d_k3, whisper_encoder, global_avg_pool) against a plain double-precision loop on this host (each kernel's
check_host.c), built with the flags the kernel stage gives (custom_dispatch.cflags: freestanding, this
CPU) by Zig's clang, the tool's own C compiler, where a cache holds its environment; skipped where none
does (no C compiler is assumed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.iree import targets
from iree_matrix.kernel import kernels
from iree_matrix.kernel.iree import custom_dispatch

KERNELS = Path(__file__).parents[2] / "kernels"
ZIG = sorted((default_cache() / "envs" / "venv").glob(f"py3*-{custom_dispatch.CC_ENV_NAME}-*/bin/python"))


@pytest.mark.skipif(
    not ZIG or targets.host_arch() != "x86_64", reason="no Zig clang environment in the cache"
)
@pytest.mark.parametrize(
    "name",
    [
        "softmax",
        "gelu_tanh",
        "layer_norm",
        "depthwise3x3_nchw",
        "inverted_residual",
        "conv1d_k3",
        "whisper_encoder",
        "global_avg_pool",
    ],
)
def test_the_library_kernel_matches_a_plain_loop_on_this_host(name: str, tmp_path: Path) -> None:
    cc = [str(ZIG[-1]), "-m", custom_dispatch.CC_MODULE, "cc"]
    flags = custom_dispatch.cflags(targets.parse("x86_64"), "host", ["-std=c11", "-Wall", "-Werror"])
    objects, check = [], tmp_path / "check"
    for source in kernels.load(KERNELS / name).sources:  # each as the kernel stage compiles it
        objects.append(str(tmp_path / f"{Path(source).stem}.o"))
        built = subprocess.run([*cc, *flags, "-c", str(KERNELS / name / source), "-o", objects[-1]],
                               capture_output=True, text=True, timeout=300)  # fmt: skip
        assert built.returncode == 0, built.stderr
    link = [*cc, "-O1", str(KERNELS / name / "check_host.c"), *objects, "-lm", "-o", str(check)]
    linked = subprocess.run(link, capture_output=True, text=True, timeout=300)
    assert linked.returncode == 0, linked.stderr
    ran = subprocess.run([str(check)], capture_output=True, text=True, timeout=120)
    print(ran.stdout)
    assert ran.returncode == 0 and ran.stdout.rstrip().endswith("ok"), ran.stdout
