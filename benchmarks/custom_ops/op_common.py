"""What benchmarks/custom_ops/compare.py's steps share: where the files are, the op's name, the
depthwise shapes, the line counts of what a user writes, the paired rounds that time every arm, and
the float64 numpy reference (compare.py's docstring says what the steps are)."""

from __future__ import annotations

import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OP_DOMAIN = "iree_matrix"
OP_NAME = "Depthwise3x3Relu6"
# MobileNetV2's depthwise layers (H, W, C, stride) at 224x224.
SHAPES = [
    (112, 112, 32, 1),
    (112, 112, 96, 2),
    (56, 56, 144, 1),
    (28, 28, 192, 1),
    (14, 14, 576, 1),
    (7, 7, 960, 1),
]


def build_shared_library(source: Path, lib: Path, flags: list[str]) -> list[str]:
    """Build `source` into the shared library `lib` with Zig's clang (from PyPI: no system compiler
    needed), as a user would for either framework's custom op; returns the command it ran."""
    cmd = [sys.executable, "-m", "ziglang", "cc", "-shared", "-fPIC", "-O3", "-march=native", "-std=c11"]
    cmd += [*flags, "-o", str(lib), str(source)]
    subprocess.run(cmd, check=True)
    return cmd


def cpu_name() -> str:
    info: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        k, _, v = line.partition(":")
        info.setdefault(k.strip(), v.strip())
    if not info:
        return platform.processor() or "unknown CPU"
    return (
        f"{info.get('model name', '?')} (family {info.get('cpu family', '?')} model "
        f"{info.get('model', '?')}), {os.cpu_count()} CPUs seen"
    )


def code_lines(text: str, comment: str) -> int:
    """Lines that are neither blank nor only a comment."""
    n = 0
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith(comment) and not s.startswith("#!"):
            n += 1
    return n


def c_code_lines(text: str) -> int:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return code_lines(text, "//")


# ---------------------------------------------------------------------------------------------
# Timing: paired, interleaved rounds, one thread.

MIN_S = 0.1  # seconds of calls per arm and round (--min-s)


def paired(runners: dict[str, object], rounds: int, min_s: float | None = None) -> dict[str, list[float]]:
    """Per round, each arm in a shuffled order runs calls for at least `min_s` seconds (the same
    count for every arm, fixed by the slowest in a warm-up); its figure is the mean time per call."""
    for r in runners.values():
        for _ in range(3):
            r()
    slowest = 0.0
    for r in runners.values():
        t0 = time.perf_counter()
        for _ in range(5):
            r()
        slowest = max(slowest, (time.perf_counter() - t0) / 5)
    calls = max(3, int((min_s or MIN_S) / max(slowest, 1e-7)))
    out: dict[str, list[float]] = {k: [] for k in runners}
    rnd = random.Random(67)
    for _ in range(rounds):
        order = list(runners)
        rnd.shuffle(order)
        for k in order:
            r = runners[k]
            t0 = time.perf_counter()
            for _ in range(calls):
                r()
            out[k].append((time.perf_counter() - t0) / calls)
    return out


def fmt_us(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1e6:9.1f} us [{min(xs) * 1e6:.1f}-{max(xs) * 1e6:.1f}]"


def fmt_ratio(a: list[float], b: list[float]) -> str:
    r = [x / y for x, y in zip(a, b)]
    return f"{statistics.median(r):.3f}x [{min(r):.3f}-{max(r):.3f}]"


def numpy_depthwise(x_chw: np.ndarray, w: np.ndarray, b: np.ndarray, s: int) -> np.ndarray:
    """The reference: float64 depthwise 3x3, zero padding 1, stride s, + bias, ReLU6 (C, H, W)."""
    c, h, wd = x_chw.shape
    oh, ow = (h - 1) // s + 1, (wd - 1) // s + 1
    xp = np.pad(x_chw.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
    acc = sum(
        xp[:, ky : ky + s * (oh - 1) + 1 : s, kx : kx + s * (ow - 1) + 1 : s]
        * w.reshape(c, 3, 3)[:, ky, kx][:, None, None]
        for ky in range(3)
        for kx in range(3)
    )
    return np.clip(acc + b[:, None, None], 0, 6)
