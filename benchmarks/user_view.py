"""The user's view: per function, the naive IREE path against the tool's recommendation and the
best peer, measured in one sitting, interleaved.

- naive: what `pip install iree-turbine` + turbine's own `aot.export(...).compile()` gives: the
  newest compiler (iree-base-compiler 3.13.0, which pip pulls for turbine 3.9.0), llvm-cpu with no
  target CPU and no other flags (turbine's `ExportOutput.compile()` passes none: iree-turbine
  `iree/turbine/aot/exporter.py`). The results log's cell with `--naive-compiler` and profile
  `generic` is exactly that compile of the same exported MLIR.
- recommended: per function, the fastest configuration the results log holds (any release, profile
  or export variant; outputs matched torch), or `--recommend UNIT=COMPILER/CANDIDATE`.
- the peer: `--peer UNIT=NAME` (the best peer of the published performance table), held open by
  benchmarks/peer_server.py in the peer environment (scripts/peers.py's own conversion, threads and
  comparison with torch eager).

Each round times, in a rotating order, one `iree-benchmark-module` repetition of each IREE module
(K iterations, the module's own inputs and device flags from its run record) and K calls of the
peer; the medians over the rounds and their [min, max] are printed with the load average, the
speed-up naive → recommended, and the line to paste (the recommendation's compile flags).

    python benchmarks/user_view.py --results-dir runs/userview --cache C \\
        --peer mobilenet_v2=onnxruntime --peer whisper_tiny.encoder=tflite --rounds 7 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

from iree_matrix.core.model import stats
from iree_matrix.core.system.locks import machine_lock
from iree_matrix.findings import search
from iree_matrix.iree import flags
from iree_matrix.stages.run import benchmark_times

ROOT = Path(__file__).resolve().parents[1]


def records(results: Path) -> list[dict]:
    latest = {}
    for line in (results / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["stage"] == "run":
            latest[r["job"]] = r
    return list(latest.values())


def unit_of(r: dict) -> str:
    return search.split_unit(r["labels"]["model"] + _function_suffix(r))[0]


def _function_suffix(r: dict) -> str:
    model, function = r["labels"]["model"], r["labels"].get("function", "main")
    return "" if "." in model or function == "main" else f".{function}"


def candidate(r: dict) -> str:
    variant = search.split_unit(r["labels"]["model"])[1]
    return f"{r['labels']['compiler']}/{search.candidate_name(variant, r['labels']['profile'])}"


def usable(r: dict) -> bool:
    lab = r["labels"]
    return (
        r["status"] == "ok"
        and lab.get("compiler") == lab.get("runtime")
        and r["metrics"].get("timing", "native") == "native"
        and r["metrics"].get("matches") is True
    )


def benchmark_argv(r: dict, iterations: int) -> list[str]:
    run = list(r["command"])
    tool = str(Path(run[0]).with_name("iree-benchmark-module"))
    keep = [a for a in run[1:] if not a.startswith("--output")]
    return [
        tool,
        *keep,
        "--benchmark_repetitions=1",
        f"--benchmark_min_time={iterations}x",
        "--benchmark_format=json",
    ]


def time_iree(r: dict, iterations: int) -> float:
    done = subprocess.run(benchmark_argv(r, iterations), capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-400:])
    times = [t for ts in benchmark_times(done.stdout, "ms").values() for t in ts]
    return statistics.median(times)


class Peer:
    def __init__(self, python: str, unit: str, name: str, threads: int, out: Path):
        model, _, function = unit.partition(".")
        argv = [
            python,
            str(ROOT / "benchmarks" / "peer_server.py"),
            "--scripts",
            str(ROOT / "scripts"),
            "--peer",
            name,
            "--module",
            f"models.{model}",
            "--import-root",
            str(ROOT / "scripts"),
            "--factory",
            "build",
            "--seed",
            "0",
            "--threads",
            str(threads),
            "--repetitions",
            "1",
            "--out",
            str(out),
        ] + (["--function", function] if function else [])
        out.mkdir(parents=True, exist_ok=True)
        self.log = open(out / "peer_server.log", "w")  # noqa: SIM115 (open while the peer lives)
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        self.ready = self._answer() == "ready"

    def _answer(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@ "):
                return line[3:].strip()
        return ""

    def time(self, calls: int) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"time {calls}\n")
        self.proc.stdin.flush()
        return statistics.mean(json.loads(self._answer()))

    def end(self) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write("end\n")
        self.proc.stdin.flush()
        entry = json.loads(self._answer() or "{}")
        self.proc.wait(timeout=600)
        return entry


def paste_line(r: dict) -> str:
    lab = r["labels"]
    name = lab["profile"]
    known = flags.BUILTIN_PROFILES
    profile = known[name] if name in known else flags.combine(name, known)
    argv = flags.compile_flags(lab["compiler"], lab.get("arch", "x86_64"), profile)
    variant = search.split_unit(lab["model"])[1]
    line = f"pip install iree-base-compiler=={lab['compiler']} iree-base-runtime=={lab['runtime']}; "
    line += "iree-compile model.mlir " + shlex.join(argv) + " -o model.vmfb"
    return line + (f"   (export variant @{variant}: scripts/models/)" if variant else "")


def _interval(samples: list[float]) -> str:
    i = stats.median_interval(samples)
    return f"{i.median:.3g} ms [{min(samples):.3g}–{max(samples):.3g}]"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results-dir", type=Path, action="append", required=True, help="repeatable")
    p.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("IREE_MATRIX_CACHE", "~/.cache/iree-matrix"))
    )
    p.add_argument("--peer", action="append", default=[], metavar="UNIT=NAME", required=True)
    p.add_argument("--recommend", action="append", default=[], metavar="UNIT=COMPILER/CANDIDATE")
    p.add_argument("--naive-compiler", default="3.13.0")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--target-ms", type=float, default=300.0, help="time per framework per round (sets K)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    cache = args.cache.expanduser()
    python = next(cache.glob("envs/venv/py3.11-torch2.13.0-peers-*/bin/python"), None)
    if python is None:
        raise SystemExit(f"no peer environment in {cache}/envs/venv (run the bench matrix's peers once)")
    recs = [r for d in args.results_dir for r in records(d) if usable(r)]
    chosen = dict(item.split("=", 1) for item in args.recommend)
    out = []
    print(f"# host: {os.cpu_count()} CPUs; load average at start {os.getloadavg()}")
    for item in args.peer:
        unit, peer_name = item.split("=", 1)
        mine = [r for r in recs if unit_of(r) == unit]
        naive = [
            r
            for r in mine
            if r["labels"]["compiler"] == args.naive_compiler
            and r["labels"]["profile"] == "generic"
            and "@" not in r["labels"]["model"]
        ]
        if not naive:
            print(f"{unit}: no `generic` cell on {args.naive_compiler} in the results: naive not timed")
        if unit in chosen:
            best = [r for r in mine if candidate(r) == chosen[unit]]
        else:
            best = sorted(mine, key=lambda r: r["metrics"]["latency_ms"]["median"])[:1]
        if not best:
            print(f"{unit}: no run of {chosen.get(unit)} in {args.results_dir}; skipped")
            continue
        contenders = {"recommended": best[0], **({"naive": naive[0]} if naive else {})}
        k = {
            n: max(1, min(50, round(args.target_ms / r["metrics"]["latency_ms"]["median"])))
            for n, r in contenders.items()
        }
        peer = Peer(str(python), unit, peer_name, args.threads, Path(f"/tmp/user-view-{os.getpid()}/{unit}"))
        samples: dict[str, list[float]] = {"naive": [], "recommended": [], peer_name: []}
        load = [os.getloadavg()[0]]
        peer_k = max(
            1,
            min(
                50,
                round(
                    args.target_ms / min(r["metrics"]["latency_ms"]["median"] for r in contenders.values())
                ),
            ),
        )
        order = [n for n in ("naive", "recommended") if n in contenders] + [peer_name]
        # The machine's quiet lock, as a timed stage holds it: no iree-matrix run here computes meanwhile.
        with machine_lock(
            True, on_wait=lambda unit=unit: print(f"{unit}: waiting for the machine's quiet lock", flush=True)
        ):
            for number in range(args.rounds):
                turn = number % len(order)
                for name in order[turn:] + order[:turn]:
                    if name == peer_name:
                        if peer.ready:
                            samples[name].append(peer.time(peer_k))
                    else:
                        samples[name].append(time_iree(contenders[name], k[name]))
                load.append(os.getloadavg()[0])
        entry = peer.end() if peer.ready else {"status": "did not start"}
        n, rcm = samples["naive"], samples["recommended"]
        speedup = statistics.median(n) / statistics.median(rcm) if n else None
        row = {
            "function": unit,
            "naive": {"candidate": candidate(naive[0]), "ms": n} if naive else None,
            "recommended": {"candidate": candidate(best[0]), "ms": rcm, "paste": paste_line(best[0])},
            "peer": {"name": peer_name, "ms": samples[peer_name], "check": entry},
            "speedup": speedup,
            "vs_peer": statistics.median(rcm) / statistics.median(samples[peer_name])
            if samples[peer_name]
            else None,
            "load_average": {"min": min(load), "max": max(load)},
            "rounds": args.rounds,
        }
        out.append(row)
        print(f"\n## {unit}  (load average {min(load):.2f}–{max(load):.2f})")
        if naive:
            print(f"  naive       {candidate(naive[0]):40s} {_interval(n)}")
        faster = f"  -> {speedup:.2f}x faster than naive" if speedup else ""
        print(f"  recommended {candidate(best[0]):40s} {_interval(rcm)}{faster}")
        if samples[peer_name]:
            state = f"({entry.get('status')}, matches torch: {entry.get('matches')})"
            print(
                f"  {peer_name:11s} {state:40s} "
                f"{_interval(samples[peer_name])}  -> recommended IREE is {row['vs_peer']:.2f}x the peer"
            )
        print(f"  paste: {row['recommended']['paste']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    print(f"\n# load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
