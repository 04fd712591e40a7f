"""A GPU sitting in a run bundle (`bundle --advise MODEL --target cuda:sm_80`): `default` by each release
for each GPU target, timed on the GPU beside torch's peers (bundle_runner/gpu.py) with `default`'s one-knob
neighbourhood: which targets a bundle takes, and the manifest's sittings, one per (function, HAL driver)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import UserError
from iree_matrix.core.model.records import Labels
from iree_matrix.execution import bundle
from iree_matrix.iree import targets, versions
from iree_matrix.matrix.plan import Plan

CONFIG = "default"  # the profile a GPU sitting compiles: the chip flag is the answer's one knob
GPU_ARM = "gpu"  # an IREE arm's kind in a GPU sitting


def accepted() -> str:
    """Each GPU target as `--target` takes it: `vulkan-spirv`, `cuda[:sm_60|…]`."""
    return ", ".join(
        f"{a.name}[:{'|'.join(a.cpus)}]" if a.cpus else a.name for a in targets.ARCHES.values() if a.gpu
    )


def parse_target(text: str) -> targets.Target:
    """A `--target` value as the matrix files spell a GPU target; one line naming it otherwise."""
    try:
        target = targets.parse(text.strip())
    except targets.UnknownTarget as exc:
        raise UserError(f"bundle --target {text!r}: {exc}; a GPU target is one of {accepted()}") from None
    if target.gpu is None:
        raise UserError(
            f"bundle --target {text!r}: not a GPU target (a CPU sitting names its CPU: --cpu LLVM_CPU); "
            f"a GPU target is one of {accepted()}"
        )
    return target


def spelled(label: str) -> str:
    """A target's label (`cuda-sm_80`, records' spelling) as a user types it (`cuda:sm_80`)."""
    target = targets.parse(label)
    return f"{target.arch.name}:{target.cpu}" if target.cpu else target.arch.name


def releases(given: str | None, default: str) -> list[str]:
    """`--release 3.9.0,3.13.0` as a list (default: `default`), each a release IREE published."""
    names = list(dict.fromkeys(r.strip() for r in (given or default).split(",") if r.strip()))
    bad = [r for r in names if not versions.is_valid(r) or versions.is_source_runtime(r)]
    if not names or bad:
        raise UserError(
            f"bundle --release {given!r}: {', '.join(map(repr, bad)) or 'none given'} is not a release "
            "IREE published; comma-separated X.Y.Z (e.g. 3.9.0,3.13.0)"
        )
    return names


def sittings(
    plan: Plan,
    found: Sequence[Any],
    proofs: Optional[Mapping[str, tuple[str, Sequence[str]]]] = None,
    profile_of: Callable[[str], str] = str,
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """One sitting per (model, function, HAL driver) of the GPU cells in `found`: its arms (`default` by
    each release x target), torch's peer spec where the model's source travels, and `proofs`, one per
    centre arm (its neighbours, each the cell that compiled it, or why none did); and the files to carry."""
    from iree_matrix.stages.compile import gpu_flags

    jobs = plan.by_id()

    def flags_of(cell: Any) -> list[str]:
        # The flags as a user types them, not the recorded command's store paths.
        job = jobs.get(cell.compile_job)
        return gpu_flags(cell.runtime, targets.parse(cell.target), job.profile) if job and job.profile else []

    grouped = bundle.by_function(c for c in found if targets.is_gpu(c.target))
    files: dict[str, Path] = {}
    out = []
    for (model, function, driver), every in sorted(grouped.items()):
        # A cell of another profile is a proof's neighbour only: timed in its proof, never an answer.
        cells = [c for c in every if Labels.of(c.labels).profile in ("", CONFIG)]
        named = {(c.runtime, spelled(c.target), Labels.of(c.labels).profile): c for c in every}
        arms: list[dict[str, Any]] = []
        for cell in sorted(cells, key=lambda c: (versions.release_order(c.runtime), c.target)):
            target = spelled(cell.target)
            arms.append(
                {
                    "name": f"{cell.runtime} {target}",
                    "kind": GPU_ARM,
                    "config": CONFIG,
                    "release": cell.runtime,
                    "target": target,
                    "flags": flags_of(cell),
                    "job": cell.job,
                }
            )
        sitting: dict[str, Any] = {
            "model": model,
            "function": function,
            "device": driver,
            "release": max((c.runtime for c in cells), key=versions.release_order),
            "arms": arms,
        }
        if torch := bundle.torch_spec(model, function, (cells or every)[0], files):
            sitting["torch"] = torch
        proved = []  # each centre arm's proof: the CPU proof's form with its release and target
        for arm in (a for a in arms if a["name"] in (proofs or {})):
            centre, around = (proofs or {})[arm["name"]]
            made = {n: named.get((arm["release"], arm["target"], profile_of(n))) for n in around}
            proof = bundle.proof_of(centre, around, made, flags_of)
            proved.append({**proof, "release": arm["release"], "target": arm["target"]})
        if proved:
            sitting["proofs"] = proved
        out.append(sitting)
    return out, files


def count(sittings_: Sequence[Mapping[str, Any]]) -> str:
    """What the sittings hold, for the line said before packing."""
    drivers = sorted({s["device"] for s in sittings_})
    arms = sum(len(s["arms"]) for s in sittings_)
    around = sum(len(p["neighbours"]) for s in sittings_ for p in s.get("proofs", ()))
    proved = f", {around} proof neighbour(s)" if around else ""
    return f"{len(sittings_)} GPU sitting(s) ({', '.join(drivers)}), {arms} IREE arm(s){proved}"
