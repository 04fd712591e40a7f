"""One paired sitting for a custom dispatch: MobileNetV2 with IREE's published pick, the pick plus
kernels/depthwise3x3, and ONNX Runtime, each checked against torch, then timed on one thread.

Everything runs in ONE Python environment holding iree-base-compiler, iree-base-runtime,
iree-turbine, torch, onnx/onnxscript and onnxruntime (a plain venv; the tool's own cache is not
used), plus a clang that knows the kernel's -target (Debian's clang-14 or newer) and its ld.lld.
The kernel's transform spec is the one the tool writes for this cell from the kernel's declarations
(kernel.toml; no hand-written spec ships since 2026-11-30), given as --spec:

    python -m venv /tmp/ks-venv && /tmp/ks-venv/bin/pip install iree-base-compiler==3.13.0 \\
        iree-base-runtime==3.13.0 iree-turbine==3.9.0 torch==2.13.0 onnx onnxscript onnxruntime
    iree-matrix kernel spec mobilenet_v2 --release 3.13.0 --kernel kernels/depthwise3x3 --profile \\
        channels-last+data-tiling+im2col+loop-unrolling+loop-vectorization+slp-vectorization+vector-256 \\
        > /tmp/ks-spec.mlir
    /tmp/ks-venv/bin/python benchmarks/kernel_sitting.py --out /tmp/ks --spec /tmp/ks-spec.mlir

Steps (each writes into --out and is skipped when its file is already there; --fresh redoes all):
1. export: scripts/models/mobilenet_v2.build(seed=0) under torch.set_num_threads(1) (the weights
   depend on torch's thread count), the reference output y.npy from torch eager, model.mlir
   through iree-turbine's aot.export, model.onnx through torch.onnx.export (the dynamo exporter,
   as the project's ONNX Runtime peer does);
2. the kernel's object: clang -target x86_64-unknown-unknown-eabi-elf -march=M -ffreestanding ...
   -O3 (kernel.toml's cflags) -c on each of kernel.toml's sources, then ld.lld -r into one object;
3. iree-compile with the published pick's flags (results/answers/ANSWERS.md, mobilenet_v2:
   3.13.0 channels-last+data-tiling+im2col+loop-unrolling+loop-vectorization+slp-vectorization+
   vector-256) -> pick.vmfb, and the same plus --iree-preprocessing-transform-spec-filename=SPEC
   --iree-hal-executable-object-search-path=<object dir> -> kernel.vmfb;
4. check: each arm's output against torch's (max abs error; the model's atol/rtol); the kernel
   arm must dispatch the kernel's entries (else the spec matched nothing): counted in the same
   compile stopped at flow (`--compile-to=flow`, each `flow.dispatch @depthwise3x3_N::@ENTRY`: a
   generated spec's executables are the kernel's name and a number), as the module's bytes name
   every entry of the linked object, called or not;
5. time: --rounds rounds, each running every arm once in a rotating order (reversed every other
   round); an arm's figure in a round is the median of --calls calls' process CPU time after one
   warm-up call. IREE runs on a local-sync device (the calling thread only), ONNX Runtime with
   intra_op_num_threads=1, inter_op_num_threads=1, sequential. Prints per-arm medians, the
   min-max over rounds, and the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]

# results/answers/ANSWERS.md, mobilenet_v2 on znver4: IREE 3.13.0
# channels-last+data-tiling+im2col+loop-unrolling+loop-vectorization+slp-vectorization+vector-256
PICK_FLAGS = [
    "--iree-hal-target-backends=llvm-cpu",
    "--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu",
    "--iree-llvmcpu-target-cpu=host",
    "--iree-preprocessing-pass-pipeline=builtin.module(util.func(iree-preprocessing-convert-conv-to-channels-last))",
    "--iree-llvmcpu-stack-allocation-limit=1048576",
    "--iree-opt-data-tiling=true",
    "--iree-global-opt-use-im2col-for-convs=true",
    "--iree-llvmcpu-loop-unrolling=true",
    "--iree-llvmcpu-loop-vectorization=true",
    "--iree-llvmcpu-slp-vectorization=true",
    "--iree-llvmcpu-target-vector-width-in-bytes=32",
]

KERNEL_CFLAGS = [
    "-ffreestanding",
    "-fvisibility=hidden",
    "-fno-plt",
    "-ffunction-sections",
    "-fdata-sections",
    "-O3",
]


def cpu_name() -> str:
    info = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""

    def field(name):
        m = re.search(rf"^{name}\s*:\s*(.*)$", info, re.M)
        return m.group(1).strip() if m else "?"

    return (
        f"{field('model name')} (vendor {field('vendor_id')}, "
        f"family {field('cpu family')} model {field('model')})"
    )


def default_march() -> str:
    info = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    return "x86-64-v4" if " avx512f " in info + " " and " avx512vl" in info else "x86-64-v3"


def find_cc(name: str | None, tool: str = "clang") -> str:
    for cand in [name] if name else [tool] + [f"{tool}-{v}" for v in range(21, 13, -1)]:
        path = shutil.which(cand)
        if path:
            return path
    raise SystemExit(f"no {tool} found (--cc, --ld): the kernel uses clang's vector extension")


# A call of one of the kernel's entries in the compile stopped at flow: what the module dispatches.
# The module's bytes are no evidence of that: the whole object is linked, every entry's function
# name with it, called or not (docs/kernels.md's table of what each release dispatches).
DISPATCH = re.compile(r"flow\.dispatch @(?P<executable>[\w$.-]+)::@(?P<entry>\w+)")
# Print constants and resources elided: the weights would make the flow module as big as the input.
ELIDE = ["--mlir-elide-elementsattrs-if-larger=16", "--mlir-elide-resource-strings-if-larger=16"]


def dispatched(compile_cmd, executable: str = "depthwise3x3") -> dict[str, int]:
    """How many times the module `compile_cmd` (an iree-compile command line, its `-o FILE` last)
    dispatches each entry of the kernel's `executable` (or of the generated spec's `executable_N`):
    the same command stopped at flow (`--compile-to=flow`), its `flow.dispatch @EXECUTABLE::@ENTRY`
    ops counted. Raises CalledProcessError with iree-compile's words when that compile fails."""
    cmd = [str(c) for c in compile_cmd]
    if len(cmd) > 2 and cmd[-2] == "-o":
        cmd = cmd[:-2]
    for elide in (ELIDE, []):  # a release that does not know the printer's flags: without them
        res = subprocess.run([*cmd, "--compile-to=flow", *elide, "-o", "-"], capture_output=True, text=True)
        if res.returncode == 0 or "Unknown command line argument '--mlir-elide" not in res.stderr:
            break
    if res.returncode != 0:
        raise subprocess.CalledProcessError(res.returncode, res.args, res.stdout, res.stderr)
    return count_dispatches(res.stdout, executable)


def count_dispatches(flow: str, executable: str) -> dict[str, int]:
    """Each entry of `executable` (or of the generated spec's `executable_N`) by the number of
    `flow.dispatch` ops that call it in `flow` (a module printed at flow); the executable's own
    functions and declarations are not calls."""
    counts: dict[str, int] = {}
    for m in DISPATCH.finditer(flow):
        if re.fullmatch(rf"{re.escape(executable)}(_\d+)?", m["executable"]):
            counts[m["entry"]] = counts.get(m["entry"], 0) + 1
    return counts


def entries_line(counts: dict[str, int]) -> str:
    """{"s1_bn": 13, "stem": 1} -> "s1_bn ×13, stem ×1"; "none" when nothing is dispatched."""
    return ", ".join(f"{entry} ×{n}" for entry, n in sorted(counts.items())) or "none"


def run(cmd, **kw):
    print("$", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def export(out: Path, threads: int) -> None:
    if all((out / f).exists() for f in ("model.mlir", "model.onnx", "x.npy", "y.npy")):
        return
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    sys.path.insert(0, str(REPO / "scripts"))
    from models import mobilenet_v2

    spec = mobilenet_v2.build(seed=0)
    x = spec.inputs[0]
    with torch.no_grad():
        y = spec.module(x)
    np.save(out / "x.npy", x.numpy())
    np.save(out / "y.npy", y.numpy())
    from iree.turbine import aot

    aot.export(spec.module, x).save_mlir(str(out / "model.mlir"))
    with torch.no_grad():
        torch.onnx.export(spec.module, tuple(spec.inputs), str(out / "model.onnx"), dynamo=True)
    (out / "tolerance.txt").write_text(f"{spec.atol} {spec.rtol}\n")


def build_object(args, out: Path) -> Path:
    """Each of kernel.toml's sources compiled, then linked into the one relocatable object its spec
    names (`object`), as the tool's kernel stage builds it."""
    obj_dir = out / "obj"
    obj_dir.mkdir(exist_ok=True)
    declared = tomllib.loads((args.kernel_dir / "kernel.toml").read_text())
    cc = [find_cc(args.cc), "-target", "x86_64-unknown-unknown-eabi-elf", f"-march={args.march}"]
    parts = []
    for source in declared["sources"]:
        parts.append(obj_dir / f"{source}.o")
        run([*cc, *KERNEL_CFLAGS, "-std=c11", "-c", args.kernel_dir / source, "-o", parts[-1]])
    run([find_cc(args.ld, "ld.lld"), "-r", *parts, "-o", obj_dir / declared["object"]])
    return obj_dir


def compile_arms(args, out: Path, obj_dir: Path) -> dict[str, Path]:
    iree_compile = args.iree_compile or str(Path(sys.executable).parent / "iree-compile")
    arms = {}
    kernel_flags = [
        f"--iree-preprocessing-transform-spec-filename={args.spec}",
        f"--iree-hal-executable-object-search-path={obj_dir}",
    ]
    for name, extra in (("pick", []), ("kernel", kernel_flags)):
        vmfb = out / f"{name}.vmfb"
        if args.fresh or not vmfb.exists() or name == "kernel":
            t0 = time.perf_counter()
            run([iree_compile, out / "model.mlir", *PICK_FLAGS, *extra, "-o", vmfb])
            print(f"  compiled {name} in {time.perf_counter() - t0:.0f} s", flush=True)
        arms[name] = vmfb
    took = dispatched([iree_compile, out / "model.mlir", *PICK_FLAGS, *kernel_flags])
    if not took:
        raise SystemExit("kernel.vmfb dispatches none of the kernel's entries: the spec matched nothing")
    print(
        f"  kernel.vmfb dispatches the kernel's entries (the compile stopped at flow): {entries_line(took)}"
    )
    return arms


def make_callables(out: Path, arms: dict[str, Path]):
    import iree.runtime as rt
    import numpy as np
    import onnxruntime as ort

    x = np.load(out / "x.npy")
    calls = {}
    for name, vmfb in arms.items():
        ctx = rt.SystemContext(config=rt.Config("local-sync"))
        ctx.add_vm_module(rt.VmModule.copy_buffer(ctx.instance, vmfb.read_bytes()))
        fn = ctx.modules.module["main"]
        calls[name] = lambda fn=fn: np.asarray(fn(x))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(out / "model.onnx"), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    calls["ort"] = lambda: session.run(None, feed)[0]
    from importlib.metadata import version

    return calls, (
        f"iree-base-compiler {version('iree-base-compiler')}, iree-base-runtime "
        f"{version('iree-base-runtime')}, onnxruntime {ort.__version__}"
    )


def check(out: Path, calls) -> bool:
    import numpy as np

    y = np.load(out / "y.npy")
    atol, rtol = (float(v) for v in (out / "tolerance.txt").read_text().split())
    ok = True
    for name, call in calls.items():
        got = call()
        err = float(np.abs(got - y).max())
        close = bool(np.allclose(got, y, atol=atol, rtol=rtol))
        ok &= close
        print(
            f"check {name:6s} max abs error {err:.3g} (atol {atol:g}, rtol {rtol:g}): "
            f"{'ok' if close else 'MISMATCH'}"
        )
    return ok


def sitting(calls, rounds: int, per_round: int):
    names = list(calls)
    times = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        if r % 2:
            order.reverse()
        for n in order:
            calls[n]()
            samples = []
            for _ in range(per_round):
                t0 = time.process_time()
                calls[n]()
                samples.append((time.process_time() - t0) * 1e3)
            times[n].append(statistics.median(samples))
    return times


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/kernel_sitting"))
    p.add_argument("--kernel-dir", type=Path, default=REPO / "kernels" / "depthwise3x3")
    p.add_argument(
        "--spec", type=Path, required=True, help="the kernel's transform spec (`iree-matrix kernel spec`)"
    )
    p.add_argument("--cc", help="clang to build the object with (default: the newest on PATH)")
    p.add_argument("--ld", help="ld.lld to link its sources into one object (default: the newest on PATH)")
    p.add_argument(
        "--march",
        default=default_march(),
        help="-march for the object (default: x86-64-v4 with AVX-512, else x86-64-v3)",
    )
    p.add_argument("--iree-compile", help="default: iree-compile beside this Python")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads for the export (weights depend on it)"
    )
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--calls", type=int, default=10, help="timed calls per arm per round")
    p.add_argument("--fresh", action="store_true")
    args = p.parse_args(argv)
    args.kernel_dir, args.spec = args.kernel_dir.resolve(), args.spec.resolve()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    export(out, args.threads)
    obj_dir = build_object(args, out)
    arms = compile_arms(args, out, obj_dir)
    calls, versions = make_callables(out, arms)
    if not check(out, calls):
        print("an arm does not match torch: not timed")
        return 1
    load0 = loadavg()
    t0 = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    times = sitting(calls, args.rounds, args.calls)
    print()
    print(f"{cpu_name()}, {platform.machine()}, {os.cpu_count()} CPUs; {t0}; load {load0} -> {loadavg()}")
    print(f"{versions}; object: {Path(find_cc(args.cc)).name} -march={args.march}")
    print(
        f"{args.rounds} paired rounds, each arm's figure per round the median of {args.calls} calls' "
        "one-thread CPU time"
    )
    for n, v in times.items():
        print(
            f"  {n:7s} median {statistics.median(v):7.3f} ms   rounds {min(v):.3f}-{max(v):.3f} ms "
            f"(spread {100 * (max(v) - min(v)) / statistics.median(v):.0f}%)"
        )
    for a, b in (("kernel", "pick"), ("kernel", "ort"), ("pick", "ort")):
        ratios = [x / y for x, y in zip(times[a], times[b])]
        print(
            f"  {a}/{b}: median of per-round ratios {statistics.median(ratios):.3f} "
            f"(rounds {min(ratios):.3f}-{max(ratios):.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
