"""A bundle's paired sittings (`bundle --advise`): each function's arms timed in rotating rounds, an
answer that trails ONNX Runtime profiled op by op; one advice document per model beside the records."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from . import gap, gpu, gpu_peers
from .base import now, rotating_rounds
from .manifest import install, named, wheel_for
from .records import of_bundle, replace
from .tools import benchmark_argv, tools_of
from .worker import Worker, importable

if TYPE_CHECKING:
    from .base import Json

    Say = Callable[[str], None]  # a line said to the user as the sitting goes

# A sitting's peers, each timed where its package is importable here: (arm name, the sitting's key,
# the package, the worker's load order).
PEERS = (("onnxruntime", "onnx", "onnxruntime", "load_onnx"), ("eager", "torch", "torch", "load_torch"))


def sit(
    root: Path,
    manifest: Json,
    sitting: Json,
    checked: dict[str, Json],
    rounds: int,
    calls: int,
    over: float = gap.GAP,
) -> Json:
    """One function's paired sitting: its module arms that ran and matched here and the importable peers,
    in rotating rounds; an arm over `over` times ONNX Runtime's is then profiled (`_profile_gap`)."""
    cells: dict[str, Json] = {c["job"]: c for c in manifest["cells"]}
    arms = [_arm(arm, cells, checked) for arm in sitting["arms"]]
    around = gpu.neighbours(sitting.get("proof") or {}, arms, cells, checked)
    workers: dict[str, Worker] = {}
    try:
        for arm in arms + around:
            if not arm.get("error") and not arm.get("same_as"):
                _load(root, manifest, cells[arm["job"]], arm, workers)
        missing = _peers(root, sitting, arms, workers, _say)
        timed = [a for a in arms + around if not a.get("error") and not a.get("same_as")]

        def ask(arm: Json) -> Json:  # `calls` calls of an arm, timed by its release's worker
            peer = arm["job"].startswith("peer:")
            worker = workers["peer" if peer else cells[arm["job"]]["runtime"]]
            return worker.ask({"time": arm["name"] if peer else arm["job"], "calls": calls})

        rotating_rounds(sitting["function"], timed, rounds, ask, _say)
        profiled = _profile_gap(root, manifest, cells, arms, workers.get("peer"), over)
    finally:
        for worker in workers.values():
            worker.close()
    for arm in arms + around:
        arm.pop("job", None)
    function: Json = {"function": sitting["function"], "arms": arms}
    if missing:
        function["peers_missing"] = missing
    if profiled:
        function["op_profiles"] = profiled
    if sitting.get("proof"):
        function["proof"] = gpu.proof(sitting["proof"], arms, around)
    return function


# A kernel arm's facts (`bundle --advise --kernel`), kept as the manifest gives them.
KERNEL_KEYS = ("base", "kernel", "kernel_dir", "kernel_build", "kernel_run", "applied")


def _arm(arm: Json, cells: dict[str, Json], checked: dict[str, Json]) -> Json:
    """A module arm as its cell's record here left it (never the answer unless it ran and matched torch)."""
    entry: Json = {k: arm[k] for k in ("name", "kind", "config", "release", "flags")}
    entry.update({k: arm[k] for k in KERNEL_KEYS if k in arm})
    if arm.get("job") not in cells:
        entry.update(
            module_sha256="",
            source="run bundle",
            ms=[],
            matches=None,
            error=arm.get("error") or "not in this bundle's cells",
        )
        return entry
    if (result := gpu.ran_here(entry, arm["job"], cells, checked)).get("status") != "ok":
        # As advise's: only a mismatch says its outputs differ from torch's (a crash compared none).
        entry["matches"] = False if result.get("status") == "mismatch" else None
    return entry


def _load(root: Path, manifest: Json, cell: Json, arm: Json, workers: dict[str, Worker]) -> None:
    if cell["runtime"] not in workers:
        workers[cell["runtime"]] = Worker(root, str(install(root, wheel_for(manifest, cell["runtime"]))))
    # Every plugin kernel's plugin: a worker's runtime loads them all when it makes its first arm.
    plugins = sorted({c["plugin"] for c in manifest["cells"] if c.get("plugin")})
    if not (loaded := workers[cell["runtime"]].ask({"load": cell, "plugins": plugins}))["ok"]:
        arm["error"] = loaded["error"]


def _peers(
    root: Path, sitting: Json, arms: list[Json], workers: dict[str, Worker], say: Say
) -> list[dict[str, str]]:
    """The peers' arms appended to `arms`, in one process of their own; the peers not importable here."""
    missing: list[dict[str, str]] = []
    for name, key, package, order in PEERS:
        if not (peer := sitting.get(key)):
            continue
        if not importable(package):
            how = f"python3 -m pip install {package}"
            say(f"{package} is not importable here: no {name} arm (`{how}`)")
            missing.append(
                {"name": name, "package": package, "why": "not importable by this Python", "install": how}
            )
            continue
        if "peer" not in workers:  # one worker for every peer: a Worker starts its process when made
            workers["peer"] = Worker(root, "")
        loaded = workers["peer"].ask({order: peer.get("model", True), "name": name, **peer})
        version = loaded.get("version", "")
        entry = gpu.peer_entry(name, f"{package} {version}", matches=bool(loaded.get("matches")))
        entry["job"] = f"peer:{name}"
        if not loaded["ok"]:
            entry["error"] = loaded["error"]
        arms.append(entry)
    return missing


def _profile_gap(
    root: Path,
    manifest: Json,
    cells: dict[str, Json],
    arms: list[Json],
    peer: Optional[Worker],
    over: float,
) -> Json:
    """Each trailing arm and ONNX Runtime profiled once on one thread: the raw rows, or {}."""
    if not (found := gap.trailing(arms, over)) or peer is None:
        return {}
    _say(
        f"{', '.join(a['name'] for a in found)} took more than {over}x ONNX Runtime's time: profiling "
        "both op by op (at most about 2 s of calls each)"
    )
    profiles: list[Json] = []
    t0 = time.monotonic()
    for arm in found:
        cell = cells[arm["job"]]
        wheel = wheel_for(manifest, cell["runtime"])
        tools = tools_of(root, wheel, install(root, wheel))
        benchmark = benchmark_argv(str(tools["iree-benchmark-module"]), cell, root, 1)
        profiler = tools.get("iree-profile") or Path(tools["iree-benchmark-module"]).with_name("iree-profile")
        median = statistics.median(arm["ms"])
        profile = gap.profile_iree(benchmark, profiler, median, dict(os.environ), gap.TIMEOUT)
        # a kernel arm's configuration is its base's: it is told apart by its name ("base+k:NAME")
        config = arm["name"] if arm.get("kind") == "kernel" else arm["config"]
        profiles.append({"config": config, "release": arm["release"], "op_profile": profile})
    ort = next(a for a in arms if a.get("job") == "peer:onnxruntime")
    answer = peer.ask({"profile_onnx": ort["name"], "calls": gap.calls_for(statistics.median(ort["ms"]))})
    theirs = (
        {"status": "ok", "op_profile": answer["op_profile"]}
        if answer["ok"]
        else {"status": "error", "error": answer["error"]}
    )
    _say(f"profiled in {time.monotonic() - t0:.2f} s")
    return {"over": over, "threads": 1, "iree": profiles, "peers": {"onnxruntime": theirs}}


def sittings(
    root: Path, manifest: Json, digest: str, host: Json, out: Path, rounds: int, over: float = gap.GAP
) -> None:
    checked = _checked(out, digest)
    _gpu_sittings(root, manifest, digest, host, out, rounds, checked)
    by_model: dict[str, list[Json]] = {}
    for sitting in manifest["sittings"]:
        if not sitting.get("device"):  # a CPU sitting (a GPU's names its HAL driver)
            by_model.setdefault(sitting["model"], []).append(sitting)
    calls = int(manifest.get("calls", 3))
    for model, found in by_model.items():
        arms = sum(
            len(s["arms"])
            + (1 if s.get("onnx") else 0)
            + (1 if s.get("torch") else 0)
            + len((s.get("proof") or {}).get("neighbours") or ())
            for s in found
        )
        print(
            f"sitting: {model}, {arms} arms x {rounds} rounds x {calls} calls on one thread", file=sys.stderr
        )
        with _sat() as sat:
            sat["functions"] = [sit(root, manifest, s, checked, rounds, calls, over) for s in found]
        document = gpu.document(model, found[0]["release"], host, None, rounds, calls, sat, digest)
        # Made with --no-proof: the answer says so (not "predates"), and names the bundle's CPU, not
        # the one this machine is, in the command that would time the proof.
        if any(s.get("proof_skipped") for s in found):
            document["proof_skipped"] = True
        if found[0].get("cpu"):
            document["bundle_cpu"] = found[0]["cpu"]
        _keep(out, model, sat["started"], document)


def _say(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _sat() -> Iterator[Json]:
    """A sitting's times, its "functions" put in by the caller: when it started and finished and the
    load average around it."""
    sat: Json = {"started": now(), "load_average": {"start": os.getloadavg()[0]}}
    yield sat
    sat["load_average"]["end"] = os.getloadavg()[0]
    sat["finished"] = now()


def _checked(out: Path, digest: str) -> dict[str, Json]:
    """What this bundle's records in `out` say of each cell."""
    return {
        data["job"]: {
            "status": data.get("status"),
            "message": data.get("message"),
            "gpu_devices": (data.get("metrics") or {}).get("gpu_devices") or [],
        }
        for data in of_bundle(out / "results.jsonl", digest)
    }


def _keep(out: Path, model: str, started: str, document: Json, driver: str = "") -> None:
    """One file per sitting, named by when it started and (two may start in one second) its GPU driver."""
    stamp = "".join(ch for ch in started[:19] if ch.isdigit() or ch == "T")
    path = out / f"advice-{named(model, 'model')}.{stamp}{'-' + driver if driver else ''}.json"
    replace(path, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
    print(f"sitting kept: {path}", file=sys.stderr)


def _gpu_sittings(
    root: Path, manifest: Json, digest: str, host: Json, out: Path, rounds: int, checked: dict[str, Json]
) -> None:
    """Each (model, HAL driver)'s GPU sitting, a document of its own; no device: said, no document."""
    calls, cells = int(manifest.get("calls", 3)), {c["job"]: c for c in manifest["cells"]}
    by_device: dict[tuple[str, str], list[Json]] = {}
    for sitting in manifest["sittings"]:
        if sitting.get("device"):
            by_device.setdefault((sitting["model"], sitting["device"]), []).append(sitting)
    for (model, driver), found in by_device.items():
        if not any(gpu.present(s, checked) for s in found):
            said = next((checked.get(a["job"], {}).get("message") for s in found for a in s["arms"]), "")
            print(
                f"no GPU sitting of {model} on {driver}: {said or 'its cells did not run'}", file=sys.stderr
            )
            continue
        listed = next((gpu.listed(s, checked) for s in found if gpu.listed(s, checked)), [])
        device = gpu.device(driver, listed, host.get("gpus") or [])
        soft = " (a software device: its times are the CPU's, never a GPU's)" if device["software"] else ""
        around = sum(len(p["neighbours"]) for s in found for p in s.get("proofs") or ())
        arms = sum(len(s["arms"]) + len(gpu_peers.ordered()) for s in found) + around
        print(
            f"sitting: {model} on {device['name'] or driver}{soft}, {arms} arms x {rounds} rounds x {calls} "
            "calls, synchronised wall time",
            file=sys.stderr,
        )
        workers: dict[str, Worker] = {}

        def worker(release: str, workers: dict[str, Worker] = workers) -> Worker:
            if release not in workers:
                path = "" if release == "peer" else str(install(root, wheel_for(manifest, release)))
                workers[release] = Worker(root, path)
            return workers[release]

        torch = importable("torch")
        try:
            with _sat() as sat:
                sat["functions"] = [
                    gpu.sit(s, cells, checked, device, rounds, calls, _say, worker, torch) for s in found
                ]
        finally:
            for each in workers.values():
                each.close()
        release = max((s["release"] for s in found), key=lambda r: tuple(int(p) for p in r.split(".")[:3]))
        document = gpu.document(model, release, host, device, rounds, calls, sat, digest)
        _keep(out, model, sat["started"], document, driver)
