"""How far the depthwise kernel is from what this CPU can do, and why: kernels/depthwise3x3's fused
entries over MobileNetV2's 17 depthwise layers, timed with everything in cache (`hot`) and as in the
model, each input just written by its producer (`warm`), for the kernel as shipped (BLOCK 16 channels
per vector value) and with other blocks (BLOCK 8: one AVX2 register per value). Paired: the variants'
processes alternate round by round; each prints the minimum of its own rounds.

    python benchmarks/depthwise_cache/run.py [--cpu native] [--rounds 9] [--blocks 16,8]

Needs Zig's clang (`pip install ziglang==0.15.1`, what the tool builds kernels with) and a Linux host.
It builds with the tool's own flags (kernel/iree/custom_dispatch.BASE_CFLAGS) into a temporary folder.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNEL = HERE.parents[1] / "kernels" / "depthwise3x3" / "depthwise3x3.c"
sys.path.insert(0, str(HERE.parents[1] / "src"))
from iree_matrix.kernel.iree.custom_dispatch import BASE_CFLAGS  # noqa: E402


def build(work: Path, cpu: str, block: int) -> Path:
    source = work / f"dw{block}.c"
    text = KERNEL.read_text()
    if not re.search(r"^#define BLOCK \d+$", text, re.M):
        sys.exit(f"{KERNEL}: no `#define BLOCK N` line to vary")
    source.write_text(re.sub(r"^#define BLOCK \d+$", f"#define BLOCK {block}", text, flags=re.M))
    cc = [sys.executable, "-m", "ziglang", "cc"]
    obj, exe = work / f"dw{block}.o", work / f"bench{block}"
    target = ["-target", "x86_64-freestanding-none"] if cpu != "native" else []
    subprocess.run(
        [*cc, *target, f"-mcpu={cpu}", *BASE_CFLAGS, "-c", str(source), "-o", str(obj)], check=True
    )
    subprocess.run(
        [*cc, f"-mcpu={cpu}", "-O2", "-w", str(HERE / "harness.c"), str(obj), "-o", str(exe)], check=True
    )
    return exe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", default="native")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--blocks", default="16,8")
    args = parser.parse_args()
    blocks = [int(b) for b in args.blocks.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        exes = {b: build(Path(tmp), args.cpu, b) for b in blocks}
        seen: dict[tuple[int, str], list[float]] = {}
        for _ in range(args.rounds):
            for b, exe in exes.items():  # alternating: a load change hits every variant alike
                for line in subprocess.run(
                    [str(exe), "5"], capture_output=True, text=True, check=True
                ).stdout.split("\n"):
                    if line:
                        way, low, _median = line.split()
                        seen.setdefault((b, way), []).append(float(low))
    flops = seen.pop((blocks[0], "flops"))[0]
    for b in blocks[1:]:
        seen.pop((b, "flops"))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(
        f"MobileNetV2's 17 depthwise layers, one thread's CPU ms "
        f"(min of 5 per round, {args.rounds} rounds; load {load})"
    )
    for (b, way), ms in seen.items():
        rate = flops / statistics.median(ms) / 1e6
        print(
            f"  BLOCK {b:>2} {way:>4}: median {statistics.median(ms):.3f}  "
            f"range {min(ms):.3f}–{max(ms):.3f}  ({rate:.0f} GFLOP/s)"
        )
    for b in blocks:
        ratios = [w / h for w, h in zip(seen[(b, "warm")], seen[(b, "hot")])]
        print(
            f"  BLOCK {b:>2} warm over hot: {statistics.median(ratios):.2f}× "
            f"(rounds {min(ratios):.2f}–{max(ratios):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
