"""kernels/depthwise3x3's C alone, one version against another: MobileNetV2's 17 depthwise layers (the
BatchNorm + ReLU6 entries) and MobileNetV3-small's 11 (3x3 and 5x5, the plain entries), one thread,
outside IREE, so a change to the C is measured before any model is compiled.

    python3 benchmarks/depthwise_layers.py --base 4b00f585^ --rounds 8

Each version's depthwise3x3.c (--base: a git revision's or a file's; --new: the working tree's by
default) is built by Zig's clang (`python -m ziglang cc`, the C compiler the tool's kernel stage
installs; --python names an interpreter that has it) with -O3 -mcpu=native and linked into the same
harness. Per layer the harness touches its input and output just before the call, as the model's
previous dispatch leaves them, and sweeps 16 MiB between layers, as the model's other dispatches do.
A round runs both binaries once each (the order alternating), each timing --passes passes over the
layers after two warm-up passes; a version's figure in a round is its median pass. Prints per model
each version's median, the min-max over rounds, and the median of the per-round ratios (new / base),
and whether the two versions' outputs are bitwise identical (an FNV-1a hash of every output)."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = "kernels/depthwise3x3/depthwise3x3.c"

# (input size, channels, stride, window): MobileNetV2's depthwise layers, then MobileNetV3-small's
MNV2 = [(112, 32, 1), (112, 96, 2), (56, 144, 1), (56, 144, 2), (28, 192, 1), (28, 192, 1), (28, 192, 2)]
MNV2 += [(14, 384, 1)] * 4 + [(14, 576, 1)] * 2 + [(14, 576, 2)] + [(7, 960, 1)] * 3
MNV3 = [(112, 16, 2, 3), (56, 72, 2, 3), (28, 88, 1, 3), (28, 96, 2, 5), (14, 240, 1, 5), (14, 240, 1, 5)]
MNV3 += [(14, 120, 1, 5), (14, 144, 1, 5), (14, 288, 2, 5), (7, 576, 1, 5), (7, 576, 1, 5)]
# (size, channels, stride, window, fused): the harness times the fused (BatchNorm + ReLU6) entries as
# MobileNetV2's, the plain ones as MobileNetV3-small's
LAYERS = [(h, c, s, 3, 1) for h, c, s in MNV2] + [(h, c, s, k, 0) for h, c, s, k in MNV3]

HARNESS = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define M(p) (p), (p), 0, 0, 1
typedef void (*bn_fn)();
void depthwise3x3_bn_relu6_s1_nhwc(), depthwise3x3_bn_relu6_s2_nhwc(), depthwise3x3_s1_nhwc(),
    depthwise3x3_s2_nhwc(), depthwise5x5_s1_nhwc(), depthwise5x5_s2_nhwc();
static const int L[][5] = {%(layers)s};
enum { N = sizeof L / sizeof L[0] };
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
static float *buffer(size_t n) { return aligned_alloc(64, (n * 4 + 63) / 64 * 64); }
int main(int argc, char **argv) {
  int passes = atoi(argv[1]);
  float *in[N], *out[N], *f[N], *sc[N], *sh[N];
  size_t FL = 16u << 20; volatile char *sweep = calloc(FL, 1);
  for (int i = 0; i < N; ++i) {
    size_t h = L[i][0], c = L[i][1], s = L[i][2], k = L[i][3], o = (h + 2 * (k / 2) - k) / s + 1;
    in[i] = buffer(h * h * c), out[i] = buffer(o * o * c), f[i] = buffer(k * k * c);
    sc[i] = buffer(c), sh[i] = buffer(c);
    for (size_t j = 0; j < h * h * c; ++j) in[i][j] = (float)((j * 7919) %% 1013) / 1013.0f - 0.3f;
    for (size_t j = 0; j < k * k * c; ++j) f[i][j] = (float)((j * 104729) %% 997) / 997.0f - 0.5f;
    for (size_t j = 0; j < c; ++j)
      sc[i][j] = 0.5f + (float)(j %% 7) / 7.0f, sh[i][j] = (float)(j %% 5) / 5.0f - 0.4f;
  }
  for (int p = 0; p < passes + 2; ++p) {
    double t[2] = {0, 0};
    for (int i = 0; i < N; ++i) {
      size_t h = L[i][0], c = L[i][1], s = L[i][2], k = L[i][3], o = (h + 2 * (k / 2) - k) / s + 1;
      for (size_t j = 0; j < FL; j += 64) sweep[j]++;
      for (size_t j = 0; j < h * h * c; j += 16) in[i][j] += 0.0f;
      for (size_t j = 0; j < o * o * c; j += 16) out[i][j] = 0.0f;
      double t0 = now();
      if (L[i][4])
        ((bn_fn)(s == 1 ? depthwise3x3_bn_relu6_s1_nhwc : depthwise3x3_bn_relu6_s2_nhwc))(
            M(in[i]), M(f[i]), M(sc[i]), M(sh[i]), M(out[i]), h, h, c, o, o, (size_t)0, o);
      else
        ((bn_fn)(k == 3 ? (s == 1 ? depthwise3x3_s1_nhwc : depthwise3x3_s2_nhwc)
                        : (s == 1 ? depthwise5x5_s1_nhwc : depthwise5x5_s2_nhwc)))(
            M(in[i]), M(f[i]), M(out[i]), h, h, c, o, o, (size_t)0, o);
      t[!L[i][4]] += now() - t0;
    }
    if (p >= 2) printf("pass %%.6f %%.6f\n", t[0] * 1e3, t[1] * 1e3);
  }
  uint64_t hash = 1469598103934665603u;
  for (int i = 0; i < N; ++i) {
    size_t h = L[i][0], c = L[i][1], s = L[i][2], k = L[i][3], o = (h + 2 * (k / 2) - k) / s + 1;
    const unsigned char *b = (const unsigned char *)out[i];
    for (size_t j = 0; j < o * o * c * 4; ++j) hash = (hash ^ b[j]) * 1099511628211u;
  }
  printf("hash %%016llx\n", (unsigned long long)hash);
  return 0;
}
"""


def _source(spec: str, into: Path) -> Path:
    """A version's C: a file's path, else a git revision's depthwise3x3.c."""
    if Path(spec).is_file():
        return Path(spec)
    text = subprocess.run(["git", "-C", str(REPO), "show", f"{spec}:{SOURCE}"], capture_output=True)
    if text.returncode != 0:
        raise SystemExit(f"depthwise_layers: {spec!r} is neither a file nor a git revision holding {SOURCE}")
    into.write_bytes(text.stdout)
    return into


def _build(python: str, source: Path, harness: Path, out: Path) -> Path:
    cc = [python, "-m", "ziglang", "cc"]
    obj = out.with_suffix(".o")
    flags = ["-O3", "-mcpu=native", "-std=c11", "-ffreestanding", "-fvisibility=hidden"]
    for argv in (
        [*cc, *flags, "-c", str(source), "-o", str(obj)],
        [*cc, "-O2", "-mcpu=native", "-w", str(harness), str(obj), "-o", str(out)],
    ):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SystemExit(
                f"depthwise_layers: building {source.name} failed ({said}); --python names "
                "an interpreter with the ziglang package (`pip install ziglang`)"
            )
    return out


def _sit(binary: Path, passes: int) -> tuple[list[float], list[float], str]:
    lines = subprocess.run([str(binary), str(passes)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in lines.splitlines()]
    v2 = [float(r[1]) for r in rows if r[0] == "pass"]
    v3 = [float(r[2]) for r in rows if r[0] == "pass"]
    return v2, v3, next(r[1] for r in rows if r[0] == "hash")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base", required=True, help="a git revision or a file: the version to compare against"
    )
    parser.add_argument(
        "--new", default=str(REPO / SOURCE), help="a git revision or a file (default: the working tree's)"
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--passes", type=int, default=20, help="passes over the layers a version times per round"
    )
    parser.add_argument("--python", default=sys.executable, help="an interpreter with the ziglang package")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        harness = work / "harness.c"
        harness.write_text(
            HARNESS % {"layers": ",".join("{" + ",".join(map(str, layer)) + "}" for layer in LAYERS)}
        )
        binaries = {
            name: _build(args.python, _source(spec, work / f"{name}.c"), harness, work / name)
            for name, spec in (("base", args.base), ("new", args.new))
        }
        figures: dict[tuple[str, str], list[float]] = {}
        hashes = {}
        for n in range(args.rounds):
            for name in ("base", "new") if n % 2 == 0 else ("new", "base"):
                v2, v3, hashes[name] = _sit(binaries[name], args.passes)
                figures.setdefault((name, "mobilenet_v2"), []).append(statistics.median(v2))
                figures.setdefault((name, "mobilenet_v3_small"), []).append(statistics.median(v3))
    print(
        f"{args.rounds} rounds, each version's median of {args.passes} passes a round (ms a pass, 1 thread)"
    )
    for model in ("mobilenet_v2", "mobilenet_v3_small"):
        base, new = figures["base", model], figures["new", model]
        ratios = [n / b for n, b in zip(new, base)]
        said = [
            f"{name} {statistics.median(v):.3f}{unit} (rounds {min(v):.3f}-{max(v):.3f})"
            for name, v, unit in (("base", base, " ms"), ("new", new, " ms"), ("new/base", ratios, ""))
        ]
        print(f"  {model}: " + ", ".join(said))
    same = hashes["base"] == hashes["new"]
    print(f"outputs: {'bitwise identical' if same else 'DIFFER'} (FNV-1a {hashes['base']} / {hashes['new']})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
