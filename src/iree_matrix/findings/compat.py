"""`compat.json`: the answers of findings/ in machine-readable form, versioned (`COMPAT_SCHEMA`),
validated against its JSON Schema, and deterministic (no clock, sorted keys), so a published diff
shows only what the evidence changed."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.model import metrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, latest_by_job
from iree_matrix.findings import (
    advice,
    exporters,
    gpu_advice,
    load_windows,
    release_choice,
    release_regressions,
    results_folder,
    roofline,
    runs_view,
)
from iree_matrix.kernel.findings import kernel_windows

COMPAT_SCHEMA = 1
FILENAME = "compat.json"


def schema() -> dict[str, Any]:
    text = resources.files("iree_matrix").joinpath(f"schemas/compat-{COMPAT_SCHEMA}.schema.json").read_text()
    return dict(json.loads(text))


def derive(
    records: Iterable[Record],
    source: Optional[Path] = None,
    advised: Sequence[advice.Advice] = (),
    gpu: Sequence[gpu_advice.GpuAnswer] = (),
) -> dict[str, Any]:
    """The document for `records` (newest record per job wins), with the answers per function and CPU identity
    `advised` and per function and GPU `gpu` beside them (the set's answers/ folder: results/answers)."""
    latest = list(latest_by_job(records).values())
    arch = runs_view.main_arch(latest)
    runs = runs_view.Runs.of(latest, arch=arch)
    key = runs_view.version_key
    return {
        "schema": COMPAT_SCHEMA,
        "source": _source(source, len(latest)),
        "arch": arch,
        "noise": {
            "load_cores": runs_view.NOISY_LOAD,
            "spread": runs_view.NOISY_SPREAD,
            "ratio": runs_view.NOISE_RATIO,
        },
        "module_versions": load_windows.module_versions(runs),
        "windows": [_window(w) for w in load_windows.windows(runs)],
        "pairs": [
            {**plain(p), "load": p.load.value}
            for p in sorted(
                load_windows.pairs(runs).values(), key=lambda p: (key(p.runtime), key(p.compiler))
            )
        ],
        "models": [recommendation(r) for r in release_choice.recommendations(runs)],
        "regressions": [plain(r) for r in release_regressions.regressions(runs)],
        "identical_exports": [plain(s) for s in exporters.identical_exports(runs)],
        **({"exporters": exporters.as_json(envs)} if (envs := exporters.answered(latest)) else {}),
        **({"roofline": found} if (found := roofline.document(latest)) is not None else {}),
        **({"answers": [_answer(advice.as_json(a), a.source, source) for a in advised]} if advised else {}),
        **({"gpu_answers": [_answer(gpu_advice.as_json(a), a.source, source) for a in gpu]} if gpu else {}),
        **({"kernels": windows} if (windows := _kernels(latest)) else {}),
        "digests": _digests(latest),
    }


def _kernels(latest: list[Record]) -> list[dict[str, Any]]:
    """Each kernel's window (kernel/findings/kernel_windows.py), as `query kernel` and COMPATIBILITY.md
    say it."""
    return [
        {"kernel": name, "releases": [v.as_json() for v in kernel_windows.window(latest, name)]}
        for name in kernel_windows.names(latest)
    ]


def _answer(document: dict[str, Any], sitting: str, source: Optional[Path]) -> dict[str, Any]:
    """An answer's document (a CPU's Advice or a GpuAnswer), its sitting file named relative to the set
    (no publisher's path)."""
    if source is not None:
        with contextlib.suppress(ValueError):
            document["source"] = str(Path(sitting).resolve().relative_to(Path(source).resolve().parent))
    return document


def validate(document: Mapping[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` when the document breaks its schema (a bug here, not a
    user's mistake: the document is derived, never hand-written)."""
    import jsonschema

    jsonschema.validate(document, schema())


def write(
    records: Iterable[Record],
    out_path: Path,
    source: Optional[Path] = None,
    document: Optional[Mapping[str, Any]] = None,
) -> Path:
    """compat.json: `document` where the caller derived it (the report renders from the same one),
    else derived here with the answers published beside it."""
    if document is None:
        folder = results_folder.load(Path(out_path).parent)
        document = derive(records, source, folder.advised, folder.gpu_advised)
    validate(document)
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return write_atomically(Path(out_path), text)


def _source(path: Optional[Path], records: int) -> dict[str, Any]:
    out: dict[str, Any] = {"records": records}
    if path is not None and Path(path).is_file():
        out["file"] = Path(path).name
        out["sha256"] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return out


def _digests(latest: Iterable[Record]) -> list[dict[str, Any]]:
    """Every compile and run record that carries a module digest (schema 2): what `iree-matrix
    reproduce` compares a re-created cell with."""
    out = []
    for r in sorted(latest, key=lambda r: r.job):
        module = metrics.module_sha256(r)
        if r.stage not in ("compile", "run") or module is None:
            continue
        entry: dict[str, Any] = {"job": r.job, "status": r.status.value, "module_sha256": module}
        if r.stage == "run" and r.metric.of(RunMetrics).outputs_sha256 is not None:
            entry["outputs_sha256"] = r.metric.of(RunMetrics).outputs_sha256
        out.append(entry)
    return out


def _window(w: load_windows.Window) -> dict[str, Any]:
    return {**plain(w), "low": w.low, "high": w.high, "text": w.text()}


def release(r: Optional[release_choice.ReleaseResult]) -> Optional[dict[str, Any]]:
    # `via` is the query's (a lowered form answering for the exporter's MLIR); the recommendations
    # here are one exporter's, so it is always empty and compat-1 has no field for it.
    return None if r is None else {k: v for k, v in plain(r).items() if k != "via"}


def recommendation(r: release_choice.Recommendation) -> dict[str, Any]:
    """A model's "Which release should I use?" as compat.json gives it (`wording` words it)."""
    return {
        "model": r.model,
        "functions": list(r.functions),
        "passing": [x.compiler for x in r.releases if x.passes],
        "releases": [release(x) for x in r.releases],
        "newest_passing": release(r.newest_passing),
        "fastest": release(r.fastest),
        "fastest_ratio": r.fastest_ratio,
        "fastest_basis": r.fastest_basis,
        "smallest": release(r.smallest),
    }


def plain(obj: Any) -> dict[str, Any]:
    """A frozen answers dataclass as JSON values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(obj).items()}
