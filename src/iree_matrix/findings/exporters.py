"""The answers about exporter environments: for a (Python, torch, iree-turbine), which IREE compilers
take its MLIR, as text and as bytecode, and how many distinct MLIRs the environments wrote."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.results import Index, Record, Status
from iree_matrix.findings import runs_view
from iree_matrix.findings.runs_view import Runs, grouped_by, natural_key

TEXT, BYTECODE = "text", "bytecode"


@dataclasses.dataclass(frozen=True)
class Take:
    """One compiler reading one exporter's MLIR in one form."""

    compiler: str
    form: str
    status: str  # the compile's status: ok | fail | timeout | skip
    run: Optional[str]  # the text form's run against torch's outputs: ok | mismatch | fail | None
    words: str  # the first line of the tool's message when it did not take it
    job: str

    @property
    def takes(self) -> bool:
        return self.status == Status.OK.value


@dataclasses.dataclass(frozen=True)
class ExporterOutcome:
    function: str
    exporter: str  # the environment's id: py3.10-torch2.5.1-turbine3.6.0
    python: str
    torch: str
    turbine: str
    importer: str  # the compiler package in the environment ("iree-base-compiler 3.6.0")
    export: str  # the export's status
    export_words: str
    export_job: str
    mlir_sha256: str
    mlirbc_sha256: str
    takes: tuple[Take, ...]
    # a finding of an export that stands: its process hung at exit and was killed
    exit_hang: str = ""

    def compilers(self, form: str) -> list[str]:
        """The compilers that take this MLIR in `form`, in release order."""
        return runs_view.sorted_versions(t.compiler for t in self.takes if t.form == form and t.takes)


def exporter_outcomes(records: Iterable[Record]) -> list[ExporterOutcome]:
    """One outcome per (function, exporter environment), on the main architecture and `default`."""
    index = Index.of(records)
    arch = runs_view.main_arch(index.by_job.values())
    compiled = [*index.compiles.items(), *index.bytecode.items()]
    compiles = grouped_by(
        ((m, e), r) for (m, e, p, a, _), r in compiled if p == "default" and a in (arch, "")
    )
    runs = {
        (model, exporter, compiler): r
        for (model, exporter, p, a, compiler, runtime), r in index.runs.items()
        if p == "default" and a in (arch, "") and runtime == compiler
    }
    out = []
    for (function, exporter), export in sorted(index.exports.items(), key=lambda kv: _order(kv[1])):
        takes = []
        for c in compiles.get((function, exporter), []):
            form, compiler = c.label.form or TEXT, c.label.compiler
            # The text form's and an ONNX form's compile is run (a bytecode form's module is not).
            run = runs.get((function, exporter, compiler)) if form != BYTECODE else None
            problem = c if c.status is not Status.OK else run if run and run.status is not Status.OK else None
            words = runs_view.clip(runs_view.first_line(problem.message), 300) if problem else ""
            takes.append(
                Take(compiler, form, c.status.value, run.status.value if run else None, words, c.job)
            )
        made, said = export.metric.of(ExportMetrics), runs_view.first_line(export.message)
        out.append(
            ExporterOutcome(
                function=function,
                exporter=exporter,
                **{k: getattr(export.label, k) for k in ("python", "torch", "turbine")},
                importer=made.importer or "",
                export=export.status.value,
                export_words=runs_view.clip(said, 300) if export.status is not Status.OK else "",
                export_job=export.job,
                mlir_sha256=made.mlir_sha256 or "",
                mlirbc_sha256=made.mlirbc_sha256 or "",
                takes=tuple(sorted(takes, key=lambda t: (runs_view.version_key(t.compiler), t.form))),
                exit_hang=said if made.exit_hang else "",
            )
        )
    return out


def answered(records: Iterable[Record]) -> list[ExporterOutcome]:
    """The exporter environments' answers, when there are several environments or any bytecode (what
    COMPATIBILITY.md, the site and compat.json show); none otherwise."""
    found = exporter_outcomes(records)
    several = len({a.exporter for a in found}) > 1
    return found if several or any(t.form == BYTECODE for a in found for t in a.takes) else []


def _order(export: Record) -> tuple[Any, ...]:
    versions = (runs_view.version_key(getattr(export.label, k)) for k in ("turbine", "torch", "python"))
    return (export.label.model, *versions, export.label.exporter)


@dataclasses.dataclass(frozen=True)
class Distinct:
    """How many different MLIRs the exporter environments wrote for one function."""

    function: str
    exporters: int  # environments whose export succeeded
    texts: int  # distinct MLIR texts among them
    bytecodes: int  # distinct MLIR bytecode files (0: no bytecode was written)


def distinct(found: Sequence[ExporterOutcome]) -> list[Distinct]:
    by_function = grouped_by((a.function, a) for a in found if a.export == Status.OK.value)
    return [
        Distinct(
            function,
            len(items),
            len({a.mlir_sha256 for a in items if a.mlir_sha256}),
            len({a.mlirbc_sha256 for a in items if a.mlirbc_sha256}),
        )
        for function, items in sorted(by_function.items())
    ]


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Compilers that do not read one exporter environment's bytecode, with the compiler's words."""

    exporter: str
    importer: str
    compilers: tuple[str, ...]
    words: str
    functions: tuple[str, ...]


def bytecode_refusals(found: Sequence[ExporterOutcome]) -> list[Refusal]:
    """Grouped by (exporter, the compiler's first line): who cannot read whose bytecode, and why."""
    groups: dict[tuple[str, str], tuple[str, set[str], set[str]]] = {}
    for a in found:
        for t in a.takes:
            if t.form == BYTECODE and not t.takes:
                importer, compilers, functions = groups.setdefault(
                    (a.exporter, t.words), (a.importer, set(), set())
                )
                compilers.add(t.compiler)
                functions.add(a.function)
    return [
        Refusal(exporter, importer, tuple(runs_view.sorted_versions(c)), words, tuple(sorted(f)))
        for (exporter, words), (importer, c, f) in sorted(groups.items())
    ]


# The fields of an environment that compat.json gives (not its export's words and job).
ENVIRONMENT = "function exporter python torch turbine importer export mlir_sha256 mlirbc_sha256".split()


def as_json(found: Sequence[ExporterOutcome]) -> dict[str, Any]:
    """compat.json's `exporters` section."""
    return {
        "environments": [
            {
                **{k: getattr(a, k) for k in ENVIRONMENT},
                **({"exit_hang": a.exit_hang} if a.exit_hang else {}),
                "text": a.compilers(TEXT),
                "bytecode": a.compilers(BYTECODE),
                "refused": [
                    {k: v for k, v in dataclasses.asdict(t).items() if k != "run"}
                    for t in a.takes
                    if not t.takes
                ],
            }
            for a in found
        ],
        "distinct": [dataclasses.asdict(d) for d in distinct(found)],
    }


@dataclasses.dataclass(frozen=True)
class SameMLIR:
    function: str
    sha256: str
    exporters: tuple[str, ...]


def identical_exports(runs: Runs) -> list[SameMLIR]:
    """Per function, the exporters whose MLIR is byte-identical (by the export's content digest)."""
    groups = grouped_by(
        ((function, sha), exporter)
        for (function, exporter), r in runs.exports.items()
        if r.status is Status.OK and (sha := r.metric.of(ExportMetrics).mlir_sha256)
    )
    return [
        SameMLIR(function, sha, tuple(sorted(exporters, key=natural_key)))
        for (function, sha), exporters in sorted(groups.items())
    ]
