"""Where a bundle sitting's answer trails ONNX Runtime: each such arm profiled once with the wheel's own
tools (iree-benchmark-module with the in-context HAL profiler, then `iree-profile dispatch`), and ONNX
Runtime's one-thread session once with its profiler on. Only the raw rows travel back; home names the op
kinds (findings/gap.py). The run stage profiles with these too (stages/op_timings.py); `onnx_ops` copies
the peer's own reader (scripts/peer_frameworks/onnxruntime.py), held equal by test_bundle_gap.py."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

if TYPE_CHECKING:
    from .base import Array, Json

GAP = 1.2  # findings/gap.py's GAP: the bundle's manifest names it ("gap"), this is the fallback
# stages/op_timings.py's: about this much profiled time, within these many calls
PROFILE_SECONDS = 2.0
CALLS = (3, 50)
ANSWERS = ("default", "pick", "kernel")  # the arms home can choose as the answer (a kernel swapped in too)
WORDS = 400  # a tool's words kept when it refuses
TIMEOUT = 600.0  # seconds per tool: a profile is about PROFILE_SECONDS of calls and the tools' start


def calls_for(median_ms: float) -> int:
    low, high = CALLS
    return max(low, min(high, math.ceil(PROFILE_SECONDS * 1000.0 / max(median_ms, 1e-3))))


def trailing(arms: list[Json], over: float) -> list[Json]:
    """The arms that can be the answer and took more than `over` times ONNX Runtime's median (none
    when ONNX Runtime was no arm or did not run and match torch)."""
    peer = next((a for a in arms if a.get("job") == "peer:onnxruntime"), None)
    if peer is None or peer.get("error") or not peer.get("matches") or not peer.get("ms"):
        return []
    theirs = statistics.median(peer["ms"])
    return [
        a
        for a in arms
        if a.get("kind") in ANSWERS
        and not a.get("error")
        and a.get("matches")
        and a.get("ms")
        and statistics.median(a["ms"]) > over * theirs
    ]


def profile_iree(
    benchmark: list[str], profiler: Path, median_ms: float, env: dict[str, str], timeout: float
) -> Json:
    """One arm's module profiled in context (stages/op_timings.py's flags): its `op_profile`, or
    {"unavailable": why} in the tools' words (a runtime before 3.12.0 ships no iree-profile)."""
    if not profiler.is_file():
        return {"unavailable": f"its wheel has no {profiler.name}: no in-context profiler (IREE 3.12.0 on)"}
    calls = calls_for(median_ms)
    with tempfile.TemporaryDirectory(prefix="iree-matrix-profile-") as tmp:
        profile = Path(tmp) / "dispatches.ireeprof"
        argv = [
            *benchmark,
            "--benchmark_repetitions=1",
            f"--benchmark_min_time={calls}x",
            "--device_profiling_mode=host-execution",
            f"--device_profiling_output={profile}",
        ]
        done = _run(argv, env, timeout)
        if isinstance(done, str) or done.returncode != 0:
            return {"unavailable": _words(done, argv[0])}
        if not profile.exists():
            return {"unavailable": f"{Path(argv[0]).name} ran, and wrote no profile"}
        listing = _run([str(profiler), "dispatch", "--format=jsonl", str(profile)], env, timeout)
        if isinstance(listing, str) or listing.returncode != 0:
            return {"unavailable": _words(listing, profiler.name)}
        try:
            dispatches = parse_dispatch_groups(listing.stdout, calls)
        except (ValueError, KeyError, TypeError) as exc:
            return {"unavailable": f"iree-profile's output not understood: {exc}"[:WORDS]}
    return iree_profile(calls, dispatches)


def _run(
    argv: list[str], env: dict[str, str], timeout: float
) -> Union[subprocess.CompletedProcess[str], str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"{Path(argv[0]).name}: no answer within {timeout:.0f} s"
    except OSError as exc:
        return f"{Path(argv[0]).name}: {exc}"


def _words(done: Union[subprocess.CompletedProcess[str], str], tool: str) -> str:
    if isinstance(done, str):
        return done[:WORDS]
    lines = (done.stderr.strip() or done.stdout.strip()).splitlines()
    said = " ".join(line.strip() for line in lines[-3:]) or f"exit code {done.returncode}"
    return f"{Path(tool).name}: {said}"[:WORDS]


def parse_dispatch_groups(jsonl: str, calls: int) -> list[Json]:
    """`iree-profile dispatch --format=jsonl` -> per function: name, dispatches per call, ms per call
    (the run stage's too: stages/op_timings.py)."""
    found = [json.loads(line) for line in jsonl.splitlines() if line.strip().startswith("{")]
    rows = [
        {"name": row["key"], "per_call": row["count"] / calls, "ms_per_call": row["total_ns"] / 1e6 / calls}
        for row in found
        if row.get("type") == "host_dispatch_group"
    ]
    return sorted(rows, key=lambda r: r["ms_per_call"], reverse=True)


def iree_profile(calls: int, dispatches: list[Json]) -> Json:
    """An in-context IREE profile as the run stage and a bundle's sitting keep it (their `op_profile`)."""
    return {
        "source": "iree-profile host-execution",
        "calls": calls,
        "dispatches": dispatches,
        "sum_ms": sum(d["ms_per_call"] for d in dispatches),
    }


def profile_onnx(ort: Any, model: Path, feeds: Mapping[str, Array], calls: int) -> Json:
    """ONNX Runtime's session on one thread with its profiler on (the timed one ran without it),
    one warm-up call in a profile of its own, then `calls` calls: the peer stage's `op_profile`."""
    with tempfile.TemporaryDirectory(prefix="iree-matrix-ort-profile-") as tmp:
        options = one_thread(ort)
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "onnxruntime-profile")
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        session.run(None, feeds)
        session.end_profiling()  # the warm-up call goes into a file of its own
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        for _ in range(calls):
            session.run(None, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
    return {"source": "onnxruntime profiling (Node kernel_time)", "calls": calls, **onnx_ops(events, calls)}


def one_thread(ort: Any) -> Any:
    """ONNX Runtime's session options for one thread, sequential: the timed session's and its profile's."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


def onnx_ops(events: list[Json], calls: int) -> Json:
    """scripts/peer_frameworks/onnxruntime.py's `ops` and the peers' `ops_per_call`: the profile's
    events -> per (op type, weight shape): ms and nodes per call, slowest first, and their sum."""
    rows: dict[tuple[str, Optional[tuple[int, ...]]], Json] = {}
    for event in events:
        args = event.get("args") or {}
        if event.get("cat") != "Node" or not str(event.get("name", "")).endswith("_kernel_time"):
            continue
        op = args.get("op_name", "?")
        typed = args.get("input_type_shape", [])  # [{"float": [1, 3, 224, 224]}, ...]
        shapes = [list(s.values())[0] for s in typed if isinstance(s, dict) and s]
        weight = [int(d) for d in shapes[1]] if op.endswith("Conv") and len(shapes) > 1 else None
        key = (op, tuple(weight) if weight else None)
        row = rows.setdefault(key, {"op": op, "weight_shape": weight, "ms_per_call": 0.0, "per_call": 0.0})
        row["ms_per_call"] += float(event.get("dur", 0)) / 1000.0 / calls
        row["per_call"] += 1 / calls
    ops = sorted(rows.values(), key=lambda r: r["ms_per_call"], reverse=True)
    return {"ops": ops, "sum_ms": sum(r["ms_per_call"] for r in ops)}
