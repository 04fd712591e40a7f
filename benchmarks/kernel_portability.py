"""Does one kernel (its spec + one object file) work across IREE releases? For each environment
given (a venv holding iree-base-compiler and iree-base-runtime of one release, plus numpy):
compile the model with the spec and the object, run it on that release's runtime (local-sync),
check it against torch's output, and say what each step answered, in the tool's own words.

Reuses kernel_sitting.py's --out directory (model.mlir, x.npy, y.npy, tolerance.txt and the
object in obj/), so run that first:

    python benchmarks/kernel_sitting.py --out /tmp/ks
    python benchmarks/kernel_portability.py --out /tmp/ks /venvs/iree-3.3.0 /venvs/iree-3.13.0 ...

Which of the kernel's entries each module takes is what it dispatches: the same compile stopped at
flow (`--compile-to=flow`), each `flow.dispatch @depthwise3x3::@ENTRY` counted (kernel_sitting.
dispatched). The module's bytes name every entry whether called or not (the whole object is linked).
The spec is the one kernel.toml gives the release (`[[specs]]`: spec-pre3.4.mlir before 3.4.0).

Flags: the published pick's (kernel_sitting.PICK_FLAGS), less each flag a release refuses
("Unknown command line argument", named in the table); where the pick's flags fail on the model
itself (an error outside the spec), again with only the flags the kernel needs (llvm-cpu, the host
CPU, the channels-last pipeline).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernel_sitting  # noqa: E402

# What the kernel needs: llvm-cpu, the host CPU and the channels-last pipeline its patterns match.
NEEDED_FLAGS = [
    f
    for f in kernel_sitting.PICK_FLAGS
    if f.startswith(
        (
            "--iree-hal-target-backends",
            "--iree-llvmcpu-target-triple",
            "--iree-llvmcpu-target-cpu=",
            "--iree-preprocessing-pass-pipeline",
        )
    )
]

CHECK = r"""
import sys, numpy as np, iree.runtime as rt
x = np.load(sys.argv[2]); y = np.load(sys.argv[3]); atol, rtol = float(sys.argv[4]), float(sys.argv[5])
ctx = rt.SystemContext(config=rt.Config("local-sync"))
ctx.add_vm_module(rt.VmModule.copy_buffer(ctx.instance, open(sys.argv[1], "rb").read()))
out = np.asarray(ctx.modules.module["main"](x))
err = float(np.abs(out - y).max())
ok = np.allclose(out, y, atol=atol, rtol=rtol)
print("max abs error %.3g: %s" % (err, "matches" if ok else "MISMATCH"))
"""


def first_error(text: str) -> str:
    for line in text.splitlines():
        if "error" in line.lower():
            return line.strip()[:300]
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "(no output)")[:300]


def version(venv: Path) -> str:
    out = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "from importlib.metadata import version as v; "
            "print(v('iree-base-compiler'), v('iree-base-runtime'))",
        ],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or "?"


def release_key(ver: str) -> tuple[int, ...]:
    """ "3.3.0" -> (1, 3, 3, 0), "2.9.0rc20241108" -> (1, 2, 9, 0); a date release ("20231113.707")
    sorts before every numbered one, as it came before them."""
    parts = tuple(int(n) for n in re.findall(r"\d+", ver.split("rc")[0]))
    return ((0,) if parts and parts[0] > 1000 else (1,)) + parts


def spec_for(kernel_dir: Path, compiler: str) -> Path:
    """The spec kernel.toml gives `compiler`: the first `[[specs]]` whose window (`from` X and newer,
    `before` Y: older than Y) holds it (releases before 3.4.0 refuse spec.mlir's spelling), else
    its `spec` (the tool's own reading: src/iree_matrix/kernel/kernels.py, SpecWindow)."""
    toml = tomllib.loads((kernel_dir / "kernel.toml").read_text())
    ver = release_key(compiler)
    for entry in toml.get("specs", []):
        since, before = entry.get("from"), entry.get("before")
        if (not since or ver >= release_key(since)) and (not before or ver < release_key(before)):
            return (kernel_dir / entry["file"]).resolve()
    return (kernel_dir / toml.get("spec", "spec.mlir")).resolve()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/kernel_sitting"))
    p.add_argument("--kernel-dir", type=Path, default=kernel_sitting.REPO / "kernels" / "depthwise3x3")
    p.add_argument(
        "--spec",
        type=Path,
        help="default: the one KERNEL_DIR/kernel.toml gives each release "
        "(spec.mlir; spec-pre3.4.mlir before 3.4.0)",
    )
    p.add_argument("venvs", type=Path, nargs="+")
    args = p.parse_args(argv)
    out = args.out.resolve()
    atol, rtol = (out / "tolerance.txt").read_text().split()
    rows = []
    for venv in args.venvs:
        ver = version(venv)
        spec = args.spec.resolve() if args.spec else spec_for(args.kernel_dir, ver.split()[0])
        print(f"{ver}: spec {spec}", flush=True)
        vmfb = out / f"port-{venv.name}.vmfb"
        extra = [
            f"--iree-preprocessing-transform-spec-filename={spec}",
            f"--iree-hal-executable-object-search-path={out / 'obj'}",
        ]
        flags = list(kernel_sitting.PICK_FLAGS)
        dropped = []
        while True:
            cmd = [venv / "bin" / "iree-compile", out / "model.mlir", *flags, *extra, "-o", vmfb]
            res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
            m = re.search(r"Unknown command line argument '(--[^'=]+)", res.stderr)
            if res.returncode == 0 or not m:
                break
            bad = [f for f in flags if f.split("=")[0] == m.group(1)]
            if not bad:
                break
            dropped.append(bad[0].split("=")[0])
            flags.remove(bad[0])
        flags_used = "pick flags" + (f" less {', '.join(dropped)} (unknown to it)" if dropped else "")
        if res.returncode != 0 and spec.name not in first_error(res.stderr):
            # The pick's flags fail on the model itself in this release: the kernel's own flags only.
            pick_error = first_error(res.stderr)
            cmd = [venv / "bin" / "iree-compile", out / "model.mlir", *NEEDED_FLAGS, *extra, "-o", vmfb]
            res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
            flags_used = (
                f"pick flags fail without the kernel's fault ({pick_error}); with only the kernel's own flags"
            )
        if res.returncode != 0:
            rows.append((ver, f"no ({flags_used}): {first_error(res.stderr)}", "-"))
            print(rows[-1], flush=True)
            continue
        # What the module dispatches to the kernel (the same compile stopped at flow), not the entry
        # names in its bytes: the whole object is linked, every entry's name with it.
        try:
            took = kernel_sitting.entries_line(kernel_sitting.dispatched(cmd))
        except subprocess.CalledProcessError as e:
            took = f"not known (the compile to flow failed: {first_error(e.stderr)})"
        compiled = f"yes ({flags_used}; {spec.name}; dispatches {took})"
        run = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                CHECK,
                str(vmfb),
                str(out / "x.npy"),
                str(out / "y.npy"),
                atol,
                rtol,
            ],
            capture_output=True,
            text=True,
        )
        ran = (
            run.stdout.strip() if run.returncode == 0 else f"exit {run.returncode}: {first_error(run.stderr)}"
        )
        rows.append((ver, compiled, ran))
        print(rows[-1], flush=True)
    print()
    print(
        "| compiler, runtime | compiles with spec + object; the kernel's entries it dispatches "
        "| runs and matches torch |"
    )
    print("|---|---|---|")
    for r in rows:
        print("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
