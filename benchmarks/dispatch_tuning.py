"""Per-dispatch tuning on llvm-cpu: search the tile sizes of a model's slowest dispatches.

For one compiled cell of a results log (its compile record's own `iree-compile` command, so the
same compiler, model and flags), and the executables named with --dispatch:

1. the model is compiled up to the configured executables (`--compile-to=executable-configurations`)
   with `--iree-hal-dump-executable-configurations-to` (IREE's chosen tile sizes, the root op's
   `lowering_config`) and `--iree-hal-dump-executable-benchmarks-to`;
2. each neighbour of the root op's tile sizes (`benchmarks/tiling.py` `tile_neighbours`: a workgroup tile
   halved or doubled, the innermost vector tile halved or doubled) is written into a copy of the
   configuration and put back with `--iree-hal-substitute-executable-configuration=NAME=FILE`, and
   that executable's benchmark is compiled alone;
3. IREE's choice and every variant are timed with the runtime's `iree-benchmark-module` (the
   matrix's device flags), in rounds, interleaved (one call of the benchmark tool per candidate per
   round), so all of one dispatch's candidates share the machine's moods;
4. a variant wins only when its median's order-statistic interval lies wholly below IREE's choice's
   (`iree_matrix.core.model.stats`); with --descend the search goes on from the winner (coordinate descent)
   until none beats it or --budget variants per dispatch are spent.

Prints one table per dispatch (median µs [min, max] per candidate, verdict) and writes the winning
configurations to OUT/<executable>.mlir plus OUT/flags.txt: the substitution flags that put every
winner into a whole compile (a `[profile.NAME]` of a matrix file takes them, so the run stage checks
the tuned model against torch and times it).

    python benchmarks/dispatch_tuning.py --results-dir runs/search \\
        --compile 'compile:mobilenet_v2/*/iree3.13.0/*/im2col' \\
        --dispatch 'main$async_dispatch_8' --dispatch 'main$async_dispatch_36' --out tuned/mnv2-3.13
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tiling  # beside this script: only this benchmark tunes tile sizes

from iree_matrix.core.model import stats
from iree_matrix.core.system.locks import machine_lock
from iree_matrix.stages.compile import attach_resources
from iree_matrix.stages.dispatches import parse_benchmarks

DROP_PREFIXES = ("--iree-scheduling-dump-statistics", "--iree-hal-dump-executable-benchmarks-to")


def latest(results: Path, glob: str) -> dict:
    found = {}
    for line in (results / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        if fnmatch.fnmatchcase(record["job"], glob) and record["status"] == "ok":
            found[record["job"]] = record
    if len(found) != 1:
        raise SystemExit(f"--compile {glob!r}: {len(found)} ok compile records match in {results} (need 1)")
    return next(iter(found.values()))


def export_key(results: Path, compiled: dict, store: Path) -> str:
    """The store key of the export a compile read: the newest export of the same model and exporter
    in the log that is still in the store (an export timed again has a new key; the log keeps both)."""
    lab = compiled["labels"]
    keys = []
    for line in (results / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        same = r["labels"].get("model") == lab["model"] and r["labels"].get("exporter") == lab.get("exporter")
        if r["stage"] == "export" and r["status"] == "ok" and same:
            keys.append(r["key"])
    for key in reversed(keys):
        if (store / "export" / key).is_dir():
            return key
    raise SystemExit(f"no export of {compiled['job']} in {results} is in {store}/export")


def base_argv(record: dict) -> list[str]:
    argv = list(record["command"])
    out = argv.index("-o")
    argv = argv[:out] + argv[out + 2 :]
    return [a for a in argv if not a.startswith(DROP_PREFIXES)]


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=1800)


def bulk(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A compile: bulk work, at the lowest CPU priority (the timings run at the script's own)."""
    return run(["nice", "-n", "19", *argv], cwd=cwd)


def configure(argv: list[str], where: Path, substitute: dict[str, Path]) -> tuple[Path, Path]:
    """Compile up to the configured executables, dumping configurations and benchmarks."""
    cfg, bench = where / "configs", where / "benchmarks"
    where.mkdir(parents=True, exist_ok=True)
    flags = [
        f"--iree-hal-dump-executable-configurations-to={cfg}",
        f"--iree-hal-dump-executable-benchmarks-to={bench}",
    ]
    flags += [
        f"--iree-hal-substitute-executable-configuration={name}={path}" for name, path in substitute.items()
    ]
    done = bulk(
        [*argv, *flags, "--compile-to=executable-configurations", "-o", str(where / "configured.mlir")]
    )
    if done.returncode != 0:
        raise RuntimeError(_error(done.stderr))
    return cfg, bench


def _error(output: str) -> str:
    lines = [ln for ln in output.splitlines() if "error:" in ln]
    return (lines[0] if lines else output.strip()[-300:])[:300]


def find(folder: Path, executable: str, suffix: str) -> Path:
    matches = [
        p
        for p in folder.glob(f"*{suffix}")
        if f"_{executable}_" in p.name or p.name.endswith(f"_{executable}.mlir")
    ]
    if len(matches) != 1:
        raise RuntimeError(f"{len(matches)} files for {executable} in {folder} ({suffix})")
    return matches[0]


def compile_benchmark(compiler: str, source: Path, model_mlir: Path) -> Path:
    attach_resources([source], model_mlir)
    module = source.with_suffix(".vmfb")
    done = bulk([compiler, source.name, "-o", module.name], cwd=source.parent)
    if done.returncode != 0:
        raise RuntimeError(_error(done.stderr))
    return module


def time_once(benchmark_tool: str, module: Path, device_flags: list[str]) -> float:
    done = run([benchmark_tool, *device_flags, f"--module={module}", "--benchmark_format=json"])
    if done.returncode != 0:
        raise RuntimeError(_error(done.stderr + done.stdout))
    timed = parse_benchmarks(done.stdout, module.stem)
    return sum(d["median_us"] for d in timed)  # one export per executable here


class Candidate:
    def __init__(self, label: str, config: tiling.TileConfig, module: Path | None, error: str = ""):
        self.label, self.config, self.module, self.error = label, config, module, error
        self.times: list[float] = []

    def interval(self) -> stats.Interval | None:
        return stats.median_interval(self.times) if self.times else None


def measure(cands: list[Candidate], tool: str, device: list[str], rounds: int) -> None:
    # The machine's quiet lock, as a timed stage holds it: no iree-matrix run here computes meanwhile.
    with machine_lock(True, on_wait=lambda: print("waiting for the machine's quiet lock", flush=True)):
        for _ in range(rounds):
            for c in cands:
                if c.module is not None:
                    try:
                        c.times.append(time_once(tool, c.module, device))
                    except RuntimeError as exc:
                        c.error, c.module = str(exc), None


def tune_dispatch(
    args: argparse.Namespace,
    argv: list[str],
    executable: str,
    base_cfg: Path,
    base_bench: Path,
    scratch: Path,
    model_mlir: Path,
    tool: str,
    device: list[str],
) -> tuple[str, Candidate, Candidate, list[list[Candidate]]]:
    compiler = argv[0]
    source = find(base_cfg, executable, ".mlir").read_text()
    found = tiling.root_config(source)
    if found is None:
        raise RuntimeError("no #iree_cpu.lowering_config with a distribution level in its configuration")
    text, config = found
    bench_file = find(base_bench, executable, "_benchmark.mlir")
    baseline = Candidate("IREE's choice", config, compile_benchmark(compiler, bench_file, model_mlir))
    # The dumped benchmark holds the configured executable (the dump runs after configuration and
    # after any substitution), so a variant is that file with the root config rewritten, compiled
    # alone: the same executable `--iree-hal-substitute-executable-configuration` would put into
    # the whole model (OUT/flags.txt does that for the winners).
    bench_text = bench_file.read_text()
    if text not in bench_text:
        raise RuntimeError("the dumped benchmark does not carry the configuration's root config")
    incumbent, spent, rounds = baseline, 0, []
    seen = {config.render()}
    while spent < args.budget:
        todo = [(label, c) for label, c in tiling.tile_neighbours(incumbent.config) if c.render() not in seen]
        todo = todo[: args.budget - spent]
        if not todo:
            break
        cands = []
        for label, variant in todo:
            seen.add(variant.render())
            digest = hashlib.sha256(variant.render().encode()).hexdigest()[:12]
            where = scratch / f"{_safe(executable)}-{digest}"
            where.mkdir(parents=True, exist_ok=True)
            edited = where / bench_file.name
            edited.write_text(tiling.replace_root(bench_text, text, variant))
            try:
                cands.append(Candidate(label, variant, compile_benchmark(compiler, edited, model_mlir)))
            except RuntimeError as exc:
                cands.append(Candidate(label, variant, None, str(exc)))
        spent += len(todo)
        incumbent.times = []  # measured again beside this round's variants
        measure([incumbent, *cands], tool, device, args.rounds)
        rounds.append([incumbent, *cands])
        base = incumbent.interval()
        better = [c for c in cands if c.interval() and base and c.interval().faster_than(base)]  # type: ignore[union-attr]
        if not better:
            break
        incumbent = min(better, key=lambda c: c.interval().median)  # type: ignore[union-attr]
        if not args.descend:
            break
    if not baseline.times:  # no variant tried (--budget 0, or none to try): IREE's choice alone
        measure([baseline], tool, device, args.rounds)
    if incumbent is not baseline:  # the winner against IREE's choice, once more side by side
        baseline.times, incumbent.times = [], []
        measure([baseline, incumbent], tool, device, args.rounds)
    return source.replace(text, incumbent.config.render()), baseline, incumbent, rounds


def slowest(
    compiler: str, bench: Path, model_mlir: Path, tool: str, device: list[str], top: int
) -> list[str]:
    """The `top` executables slowest per invocation, each benchmarked alone once (the selection
    only; the tuning measures its candidates in interleaved rounds)."""
    timed = []
    for source in sorted(bench.glob("*_benchmark.mlir")):
        executable = tiling.executable_name(source.read_text())
        try:
            timed.append(
                (time_once(tool, compile_benchmark(compiler, source, model_mlir), device), executable)
            )
        except RuntimeError as exc:
            print(f"  (not benchmarked alone: {executable}: {exc})")
    timed.sort(reverse=True)
    print("# slowest executables alone: " + ", ".join(f"{e} {t:.0f} µs" for t, e in timed[: top + 3]))
    return [e for _, e in timed[:top] if e]


def op_kind_gaps(published: Path, unit: str, compiler: str, profile: str = "default") -> str:
    """From a published results log: the op kinds where IREE (`profile`, timed in context; an advise
    sitting's results profile the answer's pick) spends more than ONNX Runtime, ms per call, largest
    first. The function's own export (an export
    variant's, e.g. `@decomposed`, before its base function's) on `compiler`, else on the newest
    release with the runtime's profiler — and then the line says why not `compiler`'s own."""
    from packaging.version import Version

    from iree_matrix.core.model.configuration import split_variant
    from iree_matrix.findings.gap import comparable_kinds, kind_gaps, op_kind_times

    records = [json.loads(line) for line in (published / "results.jsonl").read_text().splitlines()]

    def default_runs(model: str) -> dict[str, dict]:
        return {
            r["labels"]["compiler"]: r
            for r in records
            if r["stage"] == "run"
            and r["labels"].get("model") == model
            and r["labels"].get("compiler") == r["labels"].get("runtime")
            and r["labels"].get("profile") == profile
            and isinstance(r["metrics"].get("op_profile"), dict)
        }

    base = split_variant(unit)[0]
    peer = next(
        (
            r
            for r in records
            if r["stage"] == "peer" and r["labels"].get("model") == base and r["status"] == "ok"
        ),
        None,
    )
    ort = op_kind_times(
        ((peer or {}).get("metrics", {}).get("peers", {}).get("onnxruntime") or {}).get("op_profile"),
        "onnxruntime",
    )
    for model in dict.fromkeys((unit, base)):
        runs = default_runs(model)
        profiled = {v: r for v, r in runs.items() if op_kind_times(r["metrics"]["op_profile"], "iree")}
        if profiled and ort:
            break
    else:
        return "no in-context op profile of IREE and ONNX Runtime for it in " + str(published)
    release = compiler if compiler in profiled else max(profiled, key=Version)
    own = op_kind_times(profiled[release]["metrics"]["op_profile"], "iree") or {}
    iree, peer_kinds = comparable_kinds(own, ort)
    named = ", ".join(
        f"{k} {iree.get(k, 0.0):.3g} ms vs {peer_kinds.get(k, 0.0):.3g} ms (+{g:.3g})"
        for g, k in kind_gaps(iree, peer_kinds)
        if g > 0.01
    )
    why = ""
    if release != compiler:
        unavailable = str(
            (runs.get(compiler) or {}).get("metrics", {}).get("op_profile", {}).get("unavailable", "")
        )
        reason = unavailable.strip().splitlines()[-1] if unavailable.strip() else "not profiled in this set"
        why = (
            f"; IREE {compiler}'s own runtime has no in-context profile (`{reason}`), "
            "so these are another build's"
        )
    return f"(IREE {release} `{profile}`, {model}{why}) {named}"


# The reproducer file's lines that refresh_kinds finds again.
_KINDS_LINE = "- **op kinds where IREE spends more than ONNX Runtime**"
_MADE_FROM = re.compile(r"from the compile of `compile:([^/`]+)/[^`]*` \(iree-base-compiler ([\w.]+),")


def _kinds_line(kinds: str) -> str:
    return f"{_KINDS_LINE}, timed in context (the profiled results of `--published`): {kinds}"


def write_reproducer(
    prefix: Path,
    record: dict,
    argv: list[str],
    executable: str,
    bench: Path,
    timed: Candidate,
    kinds: str,
    note: str,
    tuned: str,
) -> None:
    """PREFIX.mlir: the executable's standalone benchmark (IREE's own dump, constants attached;
    configured for this CPU, so it compiles with no flags) and PREFIX.md: what an upstream issue
    needs: the function, release, flags, the dispatch's time alone, the op kinds and the gap."""
    from iree_matrix.iree import opkinds

    source = find(bench, executable, "_benchmark.mlir")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    mlir = prefix.parent / f"{prefix.name}.mlir"  # "whisper_tiny.encoder" keeps its dot
    shutil.copyfile(source, mlir)
    lab = record["labels"]
    export = re.search(r"func\.func @([\w$.-]+)\(", source.read_text())
    export_name = export.group(1) if export else executable
    i = timed.interval()
    lines = [
        f"# {lab['model']}: where IREE still trails",
        "",
        f"Written by `benchmarks/dispatch_tuning.py --reproducer {prefix}` from the compile of "
        f"`{record['job']}` (iree-base-compiler {lab['compiler']}, profile `{lab['profile']}`).",
        "",
        note,
        "",
        _kinds_line(kinds),
        f"- **slowest executable alone**: `{export_name}` ({opkinds.of_dispatch(export_name)}; file "
        f"`{mlir.name}`: IREE's own `--iree-hal-dump-executable-benchmarks-to` output, configured): "
        + (
            f"{i.median:.1f} µs per invocation [{i.low:.1f}–{i.high:.1f}] "
            f"over {len(timed.times)} interleaved rounds"
            if i
            else "not timed"
        )
        + _load_words(),
        f"- **tile sizes**: {tuned}",
        f"- **compile flags of the model**: `{' '.join(argv[2:])}`",
        "",
        f"Reproduce (the file is configured for the compiling host's CPU, {_host_cpu(argv, record)}; "
        "it compiles without flags):",
        "",
        "```",
        f"iree-compile {mlir.name} -o dispatch.vmfb     # iree-base-compiler=={lab['compiler']}",
        "iree-benchmark-module --module=dispatch.vmfb --device=local-task --task_topology_group_count=2",
        "```",
        "",
    ]
    (prefix.parent / f"{prefix.name}.md").write_text("\n".join(lines))


def refresh_kinds(reproducer: Path, published: Path) -> None:
    """Re-derive a written reproducer's op-kind line from the published set (after it changed),
    leaving its measured lines as they were."""
    text = reproducer.read_text()
    made = _MADE_FROM.search(text)
    if made is None or _KINDS_LINE not in text:
        raise SystemExit(f"{reproducer}: not a reproducer this script wrote (no compile job or op-kind line)")
    kinds = op_kind_gaps(published, made.group(1), made.group(2))
    lines = [_kinds_line(kinds) if line.startswith(_KINDS_LINE) else line for line in text.split("\n")]
    reproducer.write_text("\n".join(lines))


def _host_cpu(argv: list[str], record: dict) -> str:
    """The CPU the dump was configured for: the flags' target CPU, `host` named as the compile
    record's LLVM saw it."""
    target = next((a.split("=", 1)[1] for a in argv if a.startswith("--iree-llvmcpu-target-cpu=")), "host")
    if target != "host":
        return f"LLVM `{target}`"
    seen = record.get("metrics", {}).get("llvm_host_cpu") or "host"
    return f"LLVM `{seen}` (`target-cpu=host` on the compiling machine)"


def _safe(name: str) -> str:
    return name.replace("$", "_")


def _load_words() -> str:
    """The machine's load as the figure's reader needs it: a benchmark's own threads count in the
    load average, so only what exceeds them (beyond one more) makes the figure a loaded one."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    loaded = load > cpus + 1
    state = "a loaded figure" if loaded else "quiet: its own threads"
    return f" on this {cpus}-core host at load average {load:.1f} ({state})"


def _fmt(c: Candidate) -> str:
    i = c.interval()
    if i is None:
        return f"fails: {c.error}" if c.error else "—"
    return f"{i.median:.1f} µs [{i.low:.1f}, {i.high:.1f}]"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--refresh-kinds",
        type=Path,
        nargs="+",
        metavar="MD",
        help="only re-derive these written reproducers' op-kind lines from --published, and stop",
    )
    p.add_argument("--results-dir", type=Path)
    p.add_argument("--compile", help="glob over compile job ids: the one cell to tune")
    p.add_argument(
        "--dispatch", action="append", default=[], help="executable name, e.g. main$async_dispatch_8"
    )
    p.add_argument("--configured", type=Path, help="keep (or reuse) the configured dump here")
    p.add_argument("--top", type=int, default=0, help="also the N executables slowest alone")
    p.add_argument("--budget", type=int, default=8, help="variants per dispatch (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    p.add_argument("--descend", action="store_true", help="go on from a winner until none beats it")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path)
    p.add_argument("--reproducer", type=Path, help="write PREFIX.mlir/.md for the slowest executable")
    p.add_argument(
        "--published", type=Path, default=Path("results/bench-rocketlake"), help="for the op-kind gaps"
    )
    p.add_argument("--note", default="", help="a line for the reproducer (e.g. the whole-model gap)")
    args = p.parse_args()
    if args.refresh_kinds:
        for md in args.refresh_kinds:
            refresh_kinds(md, args.published)
            print(f"refreshed: {md}")
        return 0
    if args.results_dir is None or args.compile is None or args.out is None:
        p.error("--results-dir, --compile and --out are required (unless --refresh-kinds)")
    record = latest(args.results_dir, args.compile)
    argv = base_argv(record)
    given = next(a for a in argv[1:] if a.endswith((".mlir", ".mlirbc")))
    model_mlir = Path(given)
    if not model_mlir.is_absolute():  # the compile stage ran in the export's store folder
        cache = Path(record["command"][0].split("/envs/")[0])
        model_mlir = (
            cache / "store" / "export" / export_key(args.results_dir, record, cache / "store") / given
        )
        argv = [str(model_mlir) if a == given else a for a in argv]
    runtime = Path(record["command"][0]).parent.parent.parent  # envs/venv/<compiler env>
    labels = record["labels"]
    release = labels.get("runtime", labels["compiler"])
    rt_env = next(runtime.glob(f"py{labels.get('python', '3.11')}-iree-runtime{release}-*/bin"), None)
    if rt_env is None:
        raise SystemExit(f"no runtime {release} env beside {runtime}")
    tool = str(rt_env / "iree-benchmark-module")
    device = ["--device=local-task", f"--task_topology_group_count={args.threads}"]
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="dispatch-tuning-", dir=os.environ.get("TMPDIR")))
    print(f"# {record['job']}: load average {os.getloadavg()[0]:.2f} at start")
    print("# flags: " + " ".join(argv[2:]))
    try:
        if args.configured and (args.configured / "configs").is_dir():  # an earlier run's dump, reused
            base_cfg, base_bench = args.configured / "configs", args.configured / "benchmarks"
        else:
            base_cfg, base_bench = configure(argv, args.configured or scratch / "base", {})
        chosen = list(args.dispatch)
        if args.top:
            chosen += [
                e for e in slowest(argv[0], base_bench, model_mlir, tool, device, args.top) if e not in chosen
            ]
        flags = []
        for executable in chosen:
            print(f"\n## {executable}")
            try:
                tuned, baseline, best, rounds = tune_dispatch(
                    args, argv, executable, base_cfg, base_bench, scratch, model_mlir, tool, device
                )
            except RuntimeError as exc:
                print(f"not tuned: {exc}")
                continue
            print(f"IREE's choice: {baseline.config.describe()}")
            for number, cands in enumerate(rounds, 1):
                base = cands[0].interval()
                for c in cands:
                    i = c.interval()
                    verdict = (
                        "incumbent"
                        if c is cands[0]
                        else (
                            "faster"
                            if i and base and i.faster_than(base)
                            else "slower"
                            if i and base and i.slower_than(base)
                            else "fails"
                            if c.error
                            else "within noise"
                        )
                    )
                    print(f"  round {number}: {c.label:32s} {_fmt(c):34s} {verdict}")
            tried = sum(len(cands) - 1 for cands in rounds)
            b, w = baseline.interval(), best.interval()
            summary = f"IREE's choice `{baseline.config.describe()}`; {tried} variants tried, " + (
                f"best `{best.config.describe()}` {b.median / w.median:.2f}x faster alone"
                if best is not baseline and b and w
                else "none faster beyond noise"
            )
            if args.reproducer and executable == chosen[0]:
                lab = record["labels"]
                kinds = op_kind_gaps(args.published, lab["model"], lab["compiler"], lab["profile"])
                write_reproducer(
                    args.reproducer, record, argv, executable, base_bench, baseline, kinds, args.note, summary
                )
                print(f"reproducer: {args.reproducer}.md / .mlir")
            if best is baseline:
                print("kept: IREE's choice (no variant faster beyond noise)")
                continue
            print(f"winner: {best.config.describe()}")
            print(
                f"  side by side: IREE's choice {_fmt(baseline)}, tuned {_fmt(best)}"
                + (f", {b.median / w.median:.2f}x" if b and w else "")
                + (" (beyond noise)" if b and w and w.faster_than(b) else " (within noise: not kept)")
            )
            if b and w and w.faster_than(b):
                path = args.out / f"{_safe(executable)}.mlir"
                path.write_text(tuned)
                # Its inlined constants' blobs, or a whole-model compile that substitutes it stops on
                # "resource does not exist" (as the benchmark compile would).
                attach_resources([path], model_mlir)
                flags.append(f"--iree-hal-substitute-executable-configuration={executable}={path.resolve()}")
        (args.out / "flags.txt").write_text("\n".join(flags) + ("\n" if flags else ""))
        print(
            f"\n# load average {os.getloadavg()[0]:.2f} at end; "
            f"winners: {len(flags)} -> {args.out / 'flags.txt'}"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
