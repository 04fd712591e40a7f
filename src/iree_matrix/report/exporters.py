"""COMPATIBILITY.md's section on exporter environments: per function, which compilers take each
environment's MLIR as text and as bytecode, how many distinct MLIRs the environments wrote, and the
compilers' own words for the bytecode they refuse (derived in `exporters.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import exporters, runs_view
from iree_matrix.report import markup

TITLE = "Exporter environments: which compilers take their MLIR"
_MARK = {Status.OK.value: "✓", Status.MISMATCH.value: "≠", Status.SKIP.value: "·"}


def _mark(take: exporters.Take) -> str:
    status = take.status if take.status != Status.OK.value or take.run is None else take.run
    return _MARK.get(status, "✗")


def _cell(found: exporters.ExporterOutcome, compiler: str) -> str:
    marks = []
    for form, letter in ((exporters.TEXT, "T"), (exporters.BYTECODE, "B")):
        take = next((t for t in found.takes if t.compiler == compiler and t.form == form), None)
        if take is not None:
            marks.append(letter + _mark(take))
    return " ".join(marks) or "–"


def render(records: Iterable[Record]) -> list[str]:
    """The section's Markdown lines; none when the records have one exporter and no bytecode."""
    found = exporters.exporter_outcomes(records)
    environments = {a.exporter for a in found}
    if len(environments) < 2 and not any(t.form == exporters.BYTECODE for a in found for t in a.takes):
        return []
    lines = [
        f"## {TITLE}",
        "",
        "Rows: an exporter environment (Python, torch, iree-turbine, and the IREE compiler package "
        "whose importer turbine used); columns: IREE compiler releases. `T` = the MLIR text, `B` = "
        "the MLIR bytecode (`.mlirbc`, turbine's `save_mlir`) of the same export. ✓ = compiled (for "
        "text: and the module's outputs matched torch's), ≠ = compiled but outputs differ, ✗ = "
        "refused (the bytecode refusals are listed with the compiler's words below), – = not in "
        "the matrix. Ask one row with `iree-matrix query export --torch X --turbine Y [--python Z]`.",
        "",
    ]
    distinct = {d.function: d for d in exporters.distinct(found)}
    for function in sorted({a.function for a in found}):
        rows = [a for a in found if a.function == function]
        if len(rows) < 2 and not any(t.form == exporters.BYTECODE for a in rows for t in a.takes):
            continue  # one exporter, text only: the model's own table says it all
        compilers = runs_view.sorted_versions({t.compiler for a in rows for t in a.takes})
        d = distinct.get(function)
        if d is not None:
            forms = f"{d.texts} distinct MLIR text(s)" + (
                f" and {d.bytecodes} distinct bytecode file(s)" if d.bytecodes else ""
            )
            lines.append(f"### `{function}`: {d.exporters} environment(s) wrote {forms}")
        else:
            lines.append(f"### `{function}`: no export succeeded")
        lines += ["", _table(rows, compilers), ""]
        failed = [a for a in rows if a.export != Status.OK.value]
        lines += [f"- `{a.exporter}`: export {a.export}: {a.export_words}" for a in failed]
        hung = [a for a in rows if a.exit_hang]
        lines += [f"- `{a.exporter}`: {a.exit_hang}" for a in hung]
        if failed or hung:
            lines.append("")
    refusals = exporters.bytecode_refusals(found)
    if refusals:
        lines += ["**Bytecode the compilers do not read** (the compiler's first line of error):", ""]
        for r in refusals:
            lines.append(
                f"- `{r.exporter}` ({r.importer or 'importer unknown'}) → IREE {', '.join(r.compilers)} "
                f"({', '.join(r.functions)}): {r.words}"
            )
        lines.append("")
    return lines


def _table(rows: Sequence[exporters.ExporterOutcome], compilers: Sequence[str]) -> str:
    headers = ["python", "torch", "turbine", "importer", *compilers]
    body = [
        [a.python, a.torch, a.turbine, a.importer.replace("iree-base-compiler ", "") or "?",
         *(_cell(a, c) for c in compilers)]
        for a in rows
    ]  # fmt: skip
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(out)


# --- the site's page of the same answer --------------------------------------------------------


def answered(records: Iterable[Record]) -> list[exporters.ExporterOutcome]:
    """The exporter environments' answers, when there are several environments or any bytecode."""
    found = exporters.exporter_outcomes(records)
    several = len({a.exporter for a in found}) > 1
    return found if several or any(t.form == exporters.BYTECODE for a in found for t in a.takes) else []


def html_body(found: Sequence[exporters.ExporterOutcome]) -> list[str]:
    """The site's page: per function, each environment's row of compilers, and the bytecode refused."""
    body = [
        "<p class=lead>Each row an exporter environment: Python, torch, iree-turbine and the IREE "
        "compiler package whose importer turbine used. Each cell: did this compiler take the "
        "export's MLIR text (<code>T</code>, then run against torch's outputs) and its MLIR bytecode "
        "(<code>B</code>, <code>.mlirbc</code>)? ✓ yes, ≠ outputs differ, ✗ refused (hover for the "
        "compiler's words). <code>iree-matrix query export --torch X --turbine Y [--python Z]</code> "
        "answers one row.</p>"
    ]
    counts = {d.function: d for d in exporters.distinct(found)}
    for k, function in enumerate(sorted({a.function for a in found})):
        rows = [a for a in found if a.function == function]
        if len(rows) < 2 and not any(t.form == exporters.BYTECODE for a in rows for t in a.takes):
            continue  # one exporter, text only: the model's page says it all
        compilers = runs_view.sorted_versions({t.compiler for a in rows for t in a.takes})
        d = counts.get(function)
        body.append(f"<h2 id=env-{k}>{markup.e(function)}</h2>")
        if d is not None:
            body.append(
                f"<p>{d.exporters} environments wrote {d.texts} distinct MLIR texts"
                + (f" and {d.bytecodes} distinct bytecode files" if d.bytecodes else "")
                + " (byte-identical exports share one compile).</p>"
            )
        table_rows = []
        for a in rows:
            cells = []
            for c in compilers:
                marks = []
                for form, letter in ((exporters.TEXT, "T"), (exporters.BYTECODE, "B")):
                    take = next((t for t in a.takes if t.compiler == c and t.form == form), None)
                    if take is not None:
                        ok = take.takes and take.run in (None, Status.OK.value)
                        mark = "✓" if ok else "≠" if take.run == Status.MISMATCH.value else "✗"
                        marks.append(
                            f'<span title="{markup.e(take.words or take.status)}">{letter}{mark}</span>'
                        )
                cells.append(" ".join(marks) or "–")
            importer = a.importer.replace("iree-base-compiler ", "") or "?"
            table_rows.append([a.python, a.torch, a.turbine, importer, *cells])
        raw = list(range(4, 4 + len(compilers)))
        body.append(markup.table(["python", "torch", "turbine", "importer", *compilers], table_rows, raw=raw))
    refusals = exporters.bytecode_refusals(found)
    if refusals:
        body.append("<h2 id=bytecode>Bytecode the compilers do not read</h2>")
        body.append(
            markup.table(
                ["exporter", "importer", "compilers", "functions", "the compiler's words"],
                [
                    (r.exporter, r.importer, ", ".join(r.compilers), ", ".join(r.functions), r.words)
                    for r in refusals
                ],
            )
        )
    return body
