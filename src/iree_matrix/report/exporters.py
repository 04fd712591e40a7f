"""COMPATIBILITY.md's section on exporter environments: per function, which compilers take each
environment's MLIR as text and as bytecode, how many distinct MLIRs the environments wrote, and the
compilers' own words for the bytecode they refuse (derived in `exporters.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import exporters, runs_view
from iree_matrix.report import markdown, markup

TITLE = "Exporter environments: which compilers take their MLIR"
_MARK = {Status.OK.value: "✓", Status.MISMATCH.value: "≠", Status.SKIP.value: "·"}
_FORMS = ((exporters.TEXT, "T"), (exporters.BYTECODE, "B"))  # each cell's letters


def _mark(letter: str, take: exporters.Take) -> str:
    status = take.status if take.status != Status.OK.value or take.run is None else take.run
    return letter + _MARK.get(status, "✗")


def _takes(found: exporters.ExporterOutcome, compiler: str) -> list[tuple[str, exporters.Take]]:
    """(letter, take) of the export's text (T) and bytecode (B), where `compiler` was given them."""
    mine = [t for t in found.takes if t.compiler == compiler]
    takes = [(letter, next((t for t in mine if t.form == form), None)) for form, letter in _FORMS]
    return [(letter, take) for letter, take in takes if take is not None]


def _tables(
    found: Sequence[exporters.ExporterOutcome],
) -> Iterator[tuple[int, str, list[exporters.ExporterOutcome], list[str]]]:
    """Each function (numbered among all) with several exporters or any bytecode: its rows, compilers."""
    for k, function in enumerate(sorted({a.function for a in found})):
        rows = [a for a in found if a.function == function]
        if len(rows) > 1 or any(t.form == exporters.BYTECODE for a in rows for t in a.takes):
            yield k, function, rows, runs_view.sorted_versions({t.compiler for a in rows for t in a.takes})


_HEAD = ("python", "torch", "turbine", "importer")  # each row's environment, then a cell per compiler


def _row(a: exporters.ExporterOutcome, cells: Iterable[str]) -> list[str]:
    return [a.python, a.torch, a.turbine, a.importer.replace("iree-base-compiler ", "") or "?", *cells]


def render(records: Iterable[Record]) -> list[str]:
    """The section's Markdown lines; none when the records have one exporter and no bytecode."""
    if not (found := exporters.answered(records)):
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
    for _, function, rows, compilers in _tables(found):  # one exporter, text only: the model's table
        if (d := distinct.get(function)) is not None:
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
    if refusals := exporters.bytecode_refusals(found):
        lines += ["**Bytecode the compilers do not read** (the compiler's first line of error):", ""]
        lines += [
            f"- `{r.exporter}` ({r.importer or 'importer unknown'}) → IREE {', '.join(r.compilers)} "
            f"({', '.join(r.functions)}): {r.words}"
            for r in refusals
        ]
        lines.append("")
    return lines


def _table(rows: Sequence[exporters.ExporterOutcome], compilers: Sequence[str]) -> str:
    body = [_row(a, (" ".join(_mark(*t) for t in _takes(a, c)) or "–" for c in compilers)) for a in rows]
    return "\n".join(markdown.pipes([*_HEAD, *compilers], body))


# --- the site's page of the same answer --------------------------------------------------------


def html_body(found: Sequence[exporters.ExporterOutcome]) -> list[str]:
    """The site's page: per function, each environment's row of compilers, and the bytecode refused."""
    body = [
        "<p class=lead>Each row an exporter environment: Python, torch, iree-turbine and the IREE compiler "
        "package whose importer turbine used. Each cell: did this compiler take the export's MLIR text "
        "(<code>T</code>, then run against torch's outputs) and its MLIR bytecode (<code>B</code>, "
        "<code>.mlirbc</code>)? ✓ yes, ≠ outputs differ, ✗ refused (hover for the compiler's words). "
        "<code>iree-matrix query export --torch X --turbine Y [--python Z]</code> answers one row.</p>"
    ]
    counts = {d.function: d for d in exporters.distinct(found)}
    for k, function, rows, compilers in _tables(found):  # one exporter, text only: the model's page
        d = counts.get(function)
        body.append(f"<h2 id=env-{k}>{markup.e(function)}</h2>")
        if d is not None:
            body.append(
                f"<p>{d.exporters} environments wrote {d.texts} distinct MLIR texts"
                + (f" and {d.bytecodes} distinct bytecode files" if d.bytecodes else "")
                + " (byte-identical exports share one compile).</p>"
            )
        cells = [
            _row(a, (" ".join(_html_mark(*t) for t in _takes(a, c)) or "–" for c in compilers)) for a in rows
        ]
        body.append(markup.table([*_HEAD, *compilers], cells, raw=range(4, 4 + len(compilers))))
    if refusals := exporters.bytecode_refusals(found):
        said = [
            (r.exporter, r.importer, ", ".join(r.compilers), ", ".join(r.functions), r.words)
            for r in refusals
        ]
        headers = ["exporter", "importer", "compilers", "functions", "the compiler's words"]
        body += ["<h2 id=bytecode>Bytecode the compilers do not read</h2>", markup.table(headers, said)]
    return body


def _html_mark(letter: str, take: exporters.Take) -> str:
    ok = take.takes and take.run in (None, Status.OK.value)
    mark = "✓" if ok else "≠" if take.run == Status.MISMATCH.value else "✗"
    return f'<span title="{markup.e(take.words or take.status)}">{letter}{mark}</span>'
