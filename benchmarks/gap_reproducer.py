"""One-dispatch reproducers for an answer's gap: the executable an IREE developer needs to look at.

For the newest advise sitting of MODEL in --sitting-dir (advice-MODEL.*.json, with its `gap`: see
src/iree_matrix/findings/gap.py) and that sitting's results log (the profiled run of the pick, its
compile record):

1. the pick's module is compiled again with its record's own `iree-compile` command, plus
   `--iree-hal-dump-executable-sources-to` (IREE's executable sources, before configuration);
2. the slowest dispatch in context of the kind that holds most of IREE's excess is chosen from the
   profiled run's `op_profile` (the runtime's HAL profiler, in the whole model);
3. its source is checked to compile alone (`iree-compile --compile-mode=hal-executable`), and
   whether IREE's own configured benchmark dump of it compiles alone is recorded too;
4. OUT/NAME.mlir (the source) and OUT/NAME.md (the figures, the flags, the commands) are written.

    python benchmarks/gap_reproducer.py --sitting-dir runs/advise-gap --model mobilenet_v2 \\
        --out results/answers/authenticamd-25-17-znver4/reproducers
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dispatch_tuning import base_argv, export_key  # beside this script

from iree_matrix.core.formats import duration_ms
from iree_matrix.core.hashing import file_sha256
from iree_matrix.findings import advice
from iree_matrix.findings import gap as gaps
from iree_matrix.iree import opkinds
from iree_matrix.kernel.iree.custom_dispatch import TRANSFORM_SPEC_FLAG
from iree_matrix.kernel.kernels import SPEC_FILE
from iree_matrix.stages.compile import attach_resources

REPO = Path(__file__).resolve().parents[1]  # a kernel's directory, as records name it, is the checkout's


def _records(results: Path) -> list[dict]:
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


def _compiles(compiler: str, argv: list[str], cwd: Path | None = None) -> tuple[bool, str]:
    done = subprocess.run([compiler, *argv], capture_output=True, text=True, timeout=600, cwd=cwd)
    first = next((line for line in done.stderr.splitlines() if "error:" in line), done.stderr.strip()[:200])
    return done.returncode == 0, first.split("error:", 1)[-1].strip()


def _kernel_files(record: dict, flags: list[str], store: Path, into: Path) -> None:
    """A kernel pick's compile ran where its spec and object lay by their bare names (a staging
    folder, gone since): lay them out in `into` the same way, the object from the kernel job's store
    entry (by its sha256), the spec from the compile's entry (one the tool wrote) or the kernel's
    directory (the checkout's, as the record names it)."""
    facts = record["metrics"].get("custom_kernel")
    if not facts:
        return
    into.mkdir(parents=True)
    objects = [o for o in (store / "kernel").glob("*/objects/*") if file_sha256(o) == facts["object_sha256"]]
    if not objects:
        raise SystemExit(f"kernel {facts['name']}: no object {facts['object_sha256'][:12]} in {store}/kernel")
    shutil.copyfile(objects[0], into / objects[0].name)
    generated = store / "compile" / record["key"] / SPEC_FILE
    spec = generated if facts["spec"] == "generated" else REPO / facts["directory"] / facts["spec"]
    named = next(f.split("=", 1)[1] for f in flags if f.startswith(f"{TRANSFORM_SPEC_FLAG}="))
    shutil.copyfile(spec, into / named)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sitting-dir", type=Path, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()

    found = advice.sittings(sorted(args.sitting_dir.glob(f"{advice.FILE_PREFIX}{args.model}*.json")))
    answer = next((a for a in found if a.gap is not None), None)
    if answer is None or answer.gap is None:
        raise SystemExit(f"{args.sitting_dir}: no sitting of {args.model} with a profiled gap")
    gap = answer.gap
    records = _records(args.sitting_dir / "results.jsonl")
    # The run's newest record that profiled (the sitting's own timed run shares its job id).
    run = next(r for r in reversed(records) if r["job"] == gap.run_job and r["metrics"].get("op_profile"))
    compile_record = next(
        r for r in reversed(records) if r["job"] == "compile:" + run["job"].split(":", 1)[1]
    )
    leading = gap.leading()[0].kind
    dispatches = [
        d for d in run["metrics"]["op_profile"]["dispatches"] if opkinds.of_dispatch(d["name"]) == leading
    ]
    chosen = max(dispatches, key=lambda d: d["ms_per_call"])
    export_name = chosen["name"]  # main$async_dispatch_12_conv_56x56x144x3x3_f32
    executable = re.sub(r"(_dispatch_\d+)_.*$", r"\1", export_name)  # main$async_dispatch_12

    compiler, model_file, *flags = base_argv(compile_record)  # the record's own compile, no output
    store = Path(compiler.split("/envs/")[0]) / "store"
    model = store / "export" / export_key(args.sitting_dir, compile_record, store) / model_file
    codegen = [f for f in flags if f.startswith("--iree-llvmcpu-") and "target-triple" not in f]
    scratch = Path(tempfile.mkdtemp(prefix="gap-reproducer-"))
    try:
        sources, benchmarks = scratch / "sources", scratch / "benchmarks"
        _kernel_files(compile_record, flags, store, scratch / "kernel")
        ok, why = _compiles(
            compiler,
            [
                str(model),
                *flags,
                f"--iree-hal-dump-executable-sources-to={sources}",
                f"--iree-hal-dump-executable-benchmarks-to={benchmarks}",
                "-o",
                str(scratch / "model.vmfb"),
            ],
            cwd=scratch / "kernel" if (scratch / "kernel").is_dir() else None,
        )
        if not ok:
            raise SystemExit(f"the pick's compile failed: {why}")
        source = sources / f"module_{executable}.mlir"
        # Constants the dispatch reads are blobs of the model's file: attached, it compiles alone.
        attach_resources([source], model)
        alone, alone_why = _compiles(
            compiler,
            ["--compile-mode=hal-executable", str(source), *codegen, "-o", str(scratch / "dispatch.so")],
        )
        bench = next(benchmarks.glob(f"module_{executable}_*benchmark.mlir"), None)
        dumped, dumped_why = (
            (False, "not dumped")
            if bench is None
            else _compiles(compiler, [str(bench), "-o", str(scratch / "bench.vmfb")])
        )
        # A dispatch that writes its result in the next op's data-tiled layout does two jobs at once.
        encoded = "writeonly:tensor<" in source.read_text() and "#iree_encoding.layout" in source.read_text()
        args.out.mkdir(parents=True, exist_ok=True)
        name = advice.display_name(answer)
        shutil.copyfile(source, args.out / f"{name}.mlir")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    release = answer.release
    ratio = answer.vs_peer.value if answer.vs_peer else float("nan")
    lines = [
        f"# {name}: where IREE still trails {answer.best_peer}",
        "",
        f"Written by `benchmarks/gap_reproducer.py --sitting-dir {args.sitting_dir} "
        f"--model {args.model}` from "
        f"the paired advise sitting `{Path(answer.source).name}` on {answer.identity.label} "
        f"({answer.sitting}).",
        "",
        f"- **the answer**: IREE {release} `{answer.config}` takes {ratio:.2f}× {answer.best_peer}'s time "
        "(one thread's CPU time, paired rounds).",
        f"- **where the gap is**: {gaps.summary(gap)}.",
        f"- **the dispatch**: `{export_name}` ({leading}), the slowest {leading} dispatch in context: "
        f"{duration_ms(chosen['ms_per_call'])} per call of the model, as profiled "
        f"(`--device_profiling_mode=host-execution`, {gap.threads} thread(s)).",
        *(
            [
                "- **what it also does**: it writes its result in a data-tiled layout "
                "(`#iree_encoding.layout`, the packing of the next matmul's operand) fused into the same "
                "dispatch."
            ]
            if encoded
            else []
        ),
        f"- **file**: `{name}.mlir` is IREE's executable source of it "
        "(`--iree-hal-dump-executable-sources-to`), before configuration; it "
        + ("compiles alone (below)." if alone else f"does not compile alone: `{alone_why}`."),
        "- **IREE's own configured benchmark dump** (`--iree-hal-dump-executable-benchmarks-to`) of this "
        + (
            "executable compiles alone."
            if dumped
            else f"executable does not compile alone in {release}: `{dumped_why}`."
        ),
        f"- **compile flags of the model**: `{' '.join(flags)}`",
        "",
        "Reproduce the dispatch's code generation, and the model's in-context profile:",
        "",
        "```",
        f"iree-compile --compile-mode=hal-executable {name}.mlir {' '.join(codegen)} -o dispatch.so"
        f"     # iree-base-compiler=={release}",
        "iree-benchmark-module --module=model.vmfb --device=local-task "
        "--device_profiling_mode=host-execution --device_profiling_output=model.ireeprof "
        "--function=main --input=@input0.npy && iree-profile dispatch --format=jsonl model.ireeprof",
        "```",
        "",
    ]
    (args.out / f"{name}.md").write_text("\n".join(lines))
    print(f"{args.out / name}.md / .mlir: {export_name}; alone: {alone}; benchmark dump alone: {dumped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
