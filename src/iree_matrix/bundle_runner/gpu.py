"""A run bundle's GPU sitting: per (function, HAL driver), the IREE arms and torch's peers on one GPU in
paired rotating rounds, by synchronised wall time. numpy, iree.runtime and torch are imported only by
the functions a timing worker calls."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from .arrays import check_outputs
from .base import GPU_KINDS, clip, rotating_rounds
from .cell import host_call, load_function
from .gpu_peers import GpuPeer, ordered
from .manifest import within

if TYPE_CHECKING:
    from typing import Protocol

    from .base import Array, Json

    class Asker(Protocol):
        def ask(self, order: Json) -> Json: ...

    Say = Callable[[str], None]  # a line said to the user as the sitting goes
    Workers = Callable[[str], Asker]  # a release's timing worker ("peer": torch's)

SCHEMA = 3  # a sitting document with "timing" and "device" (iree-matrix's findings/advice.py SCHEMAS)
SOFTWARE = ("llvmpipe", "lavapipe", "swiftshader")  # a CPU running the driver: never a GPU's time
# torch.compile records its CUDA graphs in the first calls (mode="reduce-overhead" warms up, then
# records): these calls are neither timed nor the check, which is the last of them.
WARMUP = 5


def device(driver: str, listed: list[str], nvidia: list[dict[str, str]]) -> Json:
    """The sitting's GPU: the first device the runtime lists for `driver`, with nvidia-smi's facts."""
    name = str(listed[0]) if listed else ""
    gpu = next((g for g in nvidia if name and (g["name"] in name or name in g["name"])), None)
    if gpu is None and driver == "cuda" and nvidia:
        gpu = nvidia[0]
    return {
        "driver": driver,
        "name": gpu["name"] if gpu else name,
        "driver_version": gpu["driver"] if gpu else "",
        "compute_capability": gpu["compute_capability"] if gpu else "",
        "software": any(word in name.lower() for word in SOFTWARE),
    }


def is_nvidia(device_: Json) -> bool:
    return bool(device_.get("compute_capability")) or "nvidia" in str(device_.get("name", "")).lower()


def peer_skip(sitting: Json, device_: Json, torch_importable: bool) -> str:
    """Why torch's peers do not run in this sitting ("" where they may)."""
    if not sitting.get("torch"):
        return "the model's torch source did not travel (not one of iree-matrix's reference models)"
    if not torch_importable:
        return "torch is not importable here"
    if not is_nvidia(device_):
        what = device_.get("name") or device_.get("driver")
        return f"the sitting's GPU ({what}) is not an NVIDIA GPU: torch's CUDA time would be another device's"
    return ""


def peer_arm(peer: GpuPeer, version: str, error: str = "", matches: bool = False) -> Json:
    return peer_entry(
        peer.config, peer.source.format(torch=f"torch {version}" if version else "torch"), error, matches
    )


def peer_entry(name: str, source: str, error: str = "", matches: bool = False) -> Json:
    """A peer's arm in a sitting's document (a GPU's torch, a CPU's ONNX Runtime or eager), untimed."""
    entry: Json = {
        "name": name,
        "kind": "peer",
        "config": name,
        "ms": [],
        "matches": matches,
        "source": source,
    }
    return {**entry, "error": error} if error else entry


def document(
    model: str,
    release: str,
    host: Json,
    device_: Optional[Json],
    rounds: int,
    calls: int,
    sat: Json,
    digest: str,
) -> Json:
    """A sitting's document: a CPU sitting's (schema 1), or a GPU's (schema 3, wall timing, the device);
    `sat`: its functions, when it started and finished and the load average around it."""
    kind = {"schema": SCHEMA, "timing": "wall", "device": device_} if device_ is not None else {"schema": 1}
    return {
        **kind,
        "model": model,
        "release": release,
        "llvm_cpu": host.get("llvm_cpu", ""),
        "host": {k: v for k, v in host.items() if k != "gpus"},
        "rounds": rounds,
        "repetitions": calls,
        **sat,
        "bundle_sha256": digest,
    }


def present(sitting: Json, checked: dict[str, Json]) -> bool:
    """Whether the sitting's device is here: one of its arms' cells reached it."""
    return any(checked.get(a["job"], {}).get("status") not in (None, "skip") for a in sitting["arms"])


def listed(sitting: Json, checked: dict[str, Json]) -> list[str]:
    return next((list(d) for a in sitting["arms"] if (d := checked.get(a["job"], {}).get("gpu_devices"))), [])


def ran_here(entry: Json, job: str, cells: dict[str, Json], checked: dict[str, Json]) -> Json:
    """`entry`, an arm's, given its cell's module and whether the cell ran and matched torch here."""
    result = checked.get(job, {})
    entry.update(
        module_sha256=cells[job]["module_sha256"],
        source="run bundle",
        ms=[],
        job=job,
        matches=result.get("status") == "ok",
    )
    if result.get("status") != "ok":
        entry["error"] = result.get("message") or "the cell " + result.get("status", "did not run")
    return result


def sit(
    sitting: Json,
    cells: dict[str, Json],
    checked: dict[str, Json],
    device_: Json,
    rounds: int,
    calls: int,
    say: Say,
    worker: Workers,
    torch_importable: bool,
) -> Json:
    """One function's GPU sitting: its IREE arms that ran and matched torch here, torch's peers, and each
    proof's neighbours, in `rounds` rotating rounds of `calls` calls; the document's entry."""
    arms: list[Json] = []
    for arm in sitting["arms"]:
        entry: Json = {k: arm[k] for k in ("name", "kind", "config", "release", "target", "flags")}
        ran_here(entry, arm["job"], cells, checked)
        arms.append(entry)
    # (the manifest's proof, its centre arm, its neighbours as arms)
    proofs: list[tuple[Json, Json, list[Json]]] = []
    for given in sitting.get("proofs") or ():
        centre = next(
            (a for a in arms if (a["release"], a["target"]) == (given["release"], given["target"])), None
        )
        if centre is None:
            continue
        around = neighbours(given, [centre], cells, checked)
        for n in around:
            n["release"] = given["release"]  # loaded and timed by the centre's worker
        proofs.append((given, centre, around))
    timed_around = [n for _, _, around in proofs for n in around if not n.get("same_as")]
    for arm in arms + timed_around:
        if not arm.get("error"):
            if not (loaded := worker(arm["release"]).ask({"load_gpu": cells[arm["job"]]}))["ok"]:
                arm["error"] = loaded["error"]
    arms.extend(_torch_peers(sitting, device_, say, worker, torch_importable))

    def ask(arm: Json) -> Json:  # `calls` synchronised calls of an arm, timed by its release's worker
        peer = arm["job"].startswith("peer:")
        order = {"time": arm["name"] if peer else arm["job"], "calls": calls, "clock": "wall"}
        return worker("peer" if peer else arm["release"]).ask(order)

    timed = [a for a in arms + timed_around if not a.get("error")]
    rotating_rounds(sitting["function"], timed, rounds, ask, say)
    out: Json = {"function": sitting["function"], "arms": arms}
    if proofs:
        out["proofs"] = [
            {**proof(given, [centre], around), "release": given["release"], "target": given["target"]}
            for given, centre, around in proofs
        ]
    for arm in arms:
        arm.pop("job", None)
    return out


def neighbours(proof: Json, arms: list[Json], cells: dict[str, Json], checked: dict[str, Json]) -> list[Json]:
    """The proof's neighbours as arms, checked here against torch; a module identical to one timed: once."""
    seen = {a["module_sha256"]: a["config"] for a in arms if a.get("module_sha256")}
    out: list[Json] = []
    for n in proof.get("neighbours") or ():
        entry: Json = {
            "name": n["config"],
            "config": n["config"],
            "flags": n.get("flags") or [],
            "ms": [],
            "module_sha256": "",
            "matches": None,
            "error": n.get("error") or "",
            "same_as": "",
        }
        if (job := n.get("job")) in cells:
            entry.update(job=job, module_sha256=cells[job]["module_sha256"])
            result = checked.get(job, {})
            if (status := result.get("status") or "not run") == "ok":
                entry["matches"] = True
            else:  # it did not run and match torch here: in the words of its record
                entry["matches"] = False if status == "mismatch" else None
                entry["error"] = f"{status}: {result.get('message') or 'the cell ' + status}"
            if not entry["error"] and entry["module_sha256"] in seen:
                entry["same_as"] = seen[entry["module_sha256"]]
            seen.setdefault(entry["module_sha256"], entry["config"])
        elif not entry["error"]:
            entry["error"] = "not in this bundle's cells"
        out.append(entry)
    return out


def proof(proof: Json, arms: list[Json], around: list[Json]) -> Json:
    """The proof's one step in advise's form; its verdicts are taken at home from the rounds."""
    keys = ("config", "flags", "module_sha256", "ms", "matches", "error", "same_as")
    centre = next((a for a in arms if a["config"] == proof["centre"]), {"config": proof["centre"]})
    timed = {a["config"]: a.get("ms") or [] for a in arms + around if not a.get("same_as")}
    step_centre = {k: centre.get(k, "" if k != "ms" else []) for k in keys}
    step_centre.update(matches=centre.get("matches"), same_as="")
    neighbours: list[Json] = []
    for n in around:
        entry = {k: n.get(k) for k in keys}
        if n.get("same_as"):
            entry["ms"] = list(timed.get(n["same_as"], []))
        neighbours.append(entry)
    return {
        "start": proof["centre"],
        "max_steps": 1,
        "source": "run bundle",
        "steps": [{"centre": step_centre, "neighbours": neighbours}],
    }


def _torch_peers(
    sitting: Json, device_: Json, say: Say, worker: Workers, torch_importable: bool
) -> list[Json]:
    """torch's peer arms on the GPU; where `peer_skip` says why not, each carries that as its error."""
    if skip := peer_skip(sitting, device_, torch_importable):
        say(f"no torch peers: {skip}")
        return [peer_arm(peer, "", skip) for peer in ordered()]
    say(f"torch on CUDA: {', '.join(p.described for p in ordered())}, each made and warmed up first")
    loaded = worker("peer").ask({"load_torch_cuda": True, **sitting["torch"]})
    version: str = loaded.get("version", "")
    arms: list[Json] = []
    for peer in ordered():
        got = (loaded.get("arms") or {}).get(peer.config) or {"ok": False, "error": loaded.get("error", "")}
        arms.append(peer_arm(peer, version, "" if got["ok"] else got["error"], bool(got.get("matches"))))
        arms[-1]["job"] = f"peer:{peer.config}"
    return arms


def load_arm(rt: Any, root: Path, cell: Json) -> tuple[Optional[Callable[[], list[Array]]], Json]:
    """A module loaded on its driver's device, inputs there: (a call reading outputs back, the answer)."""
    import numpy as np

    driver = cell["device"]
    try:
        config = rt.Config(driver)
    except Exception as exc:  # noqa: BLE001 - the runtime's words are the answer
        said = f"not run: no {GPU_KINDS.get(driver, driver)} device here ({clip(exc)})"
        return None, {"ok": False, "error": said}
    function = load_function(rt, rt.SystemContext(config=config), root, cell)
    export = root / cell["export"]
    arguments = [rt.asdevicearray(config.device, np.load(export / "inputs" / n)) for n in cell["inputs"]]
    return host_call(rt, function, arguments), {"ok": True}


def load_torch_cuda(
    root: Path,
    order: Json,
    arms: dict[str, Callable[[], object]],
    syncs: dict[str, Callable[[], object]],
    on: str = "cuda",
) -> Json:
    """torch's peers on the first CUDA device, each warmed up and checked against the reference (`on`:
    "cpu" only in a test without a GPU)."""
    import torch  # type: ignore[import-not-found,unused-ignore]  # absent where mypy runs

    version = str(torch.__version__)
    if on == "cuda" and not torch.cuda.is_available():
        said = "torch sees no CUDA device (torch.cuda.is_available())"
        return {"ok": False, "version": version, "error": said}
    module, inputs, references = torch_model(root, order, on)
    answers: dict[str, Json] = {}
    for peer in ordered():
        name = peer.config
        try:
            run = peer.load(torch, module)

            def call(run: Any = run) -> list[Array]:
                with torch.no_grad():
                    out = run(*inputs)
                outs = out if isinstance(out, (list, tuple)) else [out]
                return [o.detach().cpu().numpy() for o in outs]  # read back, as IREE's are

            for _ in range(WARMUP):
                got = call()
            check = check_outputs(got, references, order)
            arms[name] = call
            if on == "cuda":
                syncs[name] = torch.cuda.synchronize
            answers[name] = {"ok": "error" not in check, **check}
        except Exception as exc:  # noqa: BLE001 - the arm's failure is the answer
            answers[name] = {"ok": False, "error": clip(exc)}
    return {"ok": True, "version": version, "arms": answers}


def torch_model(root: Path, order: Json, on: str = "cpu") -> tuple[Any, list[Any], list[Array]]:
    """The model built from its own file and seed in eval mode on `on`, its inputs, the reference outputs."""
    import importlib

    import numpy as np
    import torch  # type: ignore[import-not-found,unused-ignore]  # absent where mypy runs

    sys.path.insert(0, str(within(root, order["root"])))
    built = importlib.import_module(order["module"]).build(seed=int(order.get("seed", 0)))
    spec = built[order["function"]] if isinstance(built, dict) else built
    export = within(root, order["export"])
    inputs = [torch.from_numpy(np.load(export / "inputs" / n)).to(on) for n in order["inputs"]]
    references = [np.load(export / "reference" / n) for n in order["references"]]
    return spec.module.eval().to(on), inputs, references


def time_calls(
    call: Callable[[], object],
    calls: int,
    sync: Optional[Callable[[], object]] = None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """`calls` calls after one untimed, each by `clock` (ms), `sync` before and after a GPU's call."""
    call()
    times: list[float] = []
    for _ in range(calls):
        if sync is not None:
            sync()
        t0 = clock()
        call()
        if sync is not None:
            sync()
        times.append((clock() - t0) * 1e3)
    return times
