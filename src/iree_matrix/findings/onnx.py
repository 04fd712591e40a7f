"""`query export --onnx-opset N`: which IREE compilers import an ONNX model of that opset (each
compiler's own iree-import-onnx, then iree-compile, then a run checked against torch), and the
turbine install answers `query export` prints beside its exporters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from iree_matrix.core.model.results import Record
from iree_matrix.findings import exporters, runs_view
from iree_matrix.findings.query import Answer, matching_version, version_listing
from iree_matrix.iree.versions import ONNX_REQUIREMENT


def export(records: Iterable[Record], opset: int, torch: Optional[str] = None) -> Answer:
    """Which compilers import (and compile, and run correctly) torch.onnx.export's model at `opset`?"""
    form = f"onnx:{opset}"
    every = exporters.exporter_outcomes(records)
    found = [a for a in every if any(t.form == form for t in a.takes)]
    who = f"torch.onnx.export at opset {opset}" + (f" (torch {torch})" if torch else "")
    question = f"which IREE compilers import an ONNX model from {who} (iree-import-onnx, compile, run)?"
    if torch:
        matched = matching_version(torch, {a.torch for a in found})
        found = [a for a in found if a.torch == matched]
    if not found:
        measured = ", ".join(sorted({t.form for a in every for t in a.takes if t.form.startswith("onnx:")}))
        return Answer.unmeasured(
            question, f"no ONNX export at opset {opset} in the results (measured: {measured or 'none'})"
        )
    lines: list[str] = []
    evidence: list[str] = []
    data: dict[str, Any] = {}
    for a in found:
        head = f"{a.function} from {a.exporter} (torch {a.torch}, opset {opset})"
        if a.export != "ok":
            lines.append(f"{head}: torch.onnx.export itself {a.export}: {a.export_words}")
            evidence.append(a.export_job)
            continue
        takes = [t for t in a.takes if t.form == form]
        imports = [t.compiler for t in takes if t.takes]
        correct = [t.compiler for t in takes if t.takes and t.run == "ok"]
        lines.append(head + ":")
        lines.append(f"  imports and compiles: {version_listing(imports)} (of {len(takes)} compilers tried)")
        lines.append(f"  runs and matches torch: {version_listing(correct)}")
        for t in takes:
            if not t.takes:
                lines.append(f"  {t.compiler}: {t.status}: {t.words}")
            elif t.run not in ("ok", None):
                lines.append(f"  {t.compiler}: run {t.run}: {t.words}")
        evidence += [t.job for t in takes if not t.takes][:2] + [t.job for t in takes if t.takes][:2]
        data[f"{a.function}/{a.exporter}"] = {
            "imports": runs_view.sorted_versions(imports),
            "correct": correct,
        }
    answer = "imports" if any(v["imports"] for v in data.values()) else "refuses"
    lines.append(
        f"  (each compiler's environment: its iree-base-compiler / iree-compiler with {ONNX_REQUIREMENT}, "
        "which iree-import-onnx imports: pip install 'iree-base-compiler[onnx]==X')"
    )
    return Answer(question, answer, tuple(lines), tuple(dict.fromkeys(evidence)), data)


# What a plain `pip install torch==T iree-turbine==B` resolves to (turbine does not pin the compiler,
# so pip takes the newest), and whether it exports: measured with pip's --dry-run (docs/exporters.md).
_FLOAT8 = (
    "`import iree.turbine.aot` fails: module 'torch' has no attribute 'float8_e8m0fnu' (iree-base-compiler "
    ">= 3.12.0's fx_importer.py reads torch.float8_e8m0fnu when ml_dtypes is installed, which turbine "
    "requires; torch has that dtype from 2.7)"
)
_OLDER = "3.11.0 is the newest without that line)"
# iree-base-compiler 3.6.0's bindings keep a process from ending after an export (hung at exit 3 of 3
# times; with `del` and gc.collect() it exited 2 of 2); the export stage says so (versions.EXIT_HANGS).
_HANGS_AT_EXIT = (
    "; the export works, but the Python process never ends after it (3.6.0's bindings hang at exit, in "
    "PyGILState_Ensure while MLIR's resources are destroyed): `del` the export's output and "
    "gc.collect() before the script ends, or end it with os._exit(0) once the MLIR is saved"
)
_PUBLISHED = "(turbine's own release, what results/environments exported with)"
_NOT_TRIED = "resolves; the export was not tried here (a CUDA build of torch), the float8 import line is met"
_EXPORTS = "imports and exports (installed and exported here: torch 2.13.0+cpu, a Conv2d + ReLU)"
_TODAY = "3.13.0"  # the iree-base-compiler pip takes today for every pair below


def _own(release: str) -> str:
    return f"iree-base-compiler=={release} iree-base-runtime=={release} "


# (torch, turbine) -> (what that install does, the pin that imports)
INSTALL_ANSWERS: dict[tuple[str, str], tuple[str, str]] = {
    ("2.5.1", "3.2.0"): (_FLOAT8, _own("3.2.0") + "(turbine's own release; " + _OLDER),
    ("2.5.1", "3.6.0"): (_FLOAT8, _own("3.6.0") + "(turbine's own release; " + _OLDER + _HANGS_AT_EXIT),
    ("2.7.1", "3.7.0"): (_NOT_TRIED, _own("3.7.0") + _PUBLISHED),
    ("2.9.1", "3.9.0"): (_NOT_TRIED, _own("3.9.0") + _PUBLISHED),
    ("2.13.0", "3.6.0"): (_EXPORTS, "none needed (torch 2.13.0 is outside 3.6's tested >=2.5,<2.8)"),
    ("2.13.0", "3.9.0"): (
        _EXPORTS,
        "none needed; iree-base-compiler==3.9.0 pins what the published results/ used",
    ),
}


def install_lines(torch: str, turbine: str) -> list[str]:
    """The install answer for (torch, turbine) as lines, or none when it was not measured."""
    if (found := INSTALL_ANSWERS.get((torch, turbine))) is None:
        return []
    verdict, pin = found
    return [
        f"a plain `pip install torch=={torch} iree-turbine=={turbine}` gives iree-base-compiler "
        f"{_TODAY} today: {verdict}",
        f"  the pin that imports: {pin}",
    ]
