"""The exporter-environment answers (text and bytecode per compiler, distinct MLIRs), their report
section, compat.json's `exporters` and `iree-matrix query export`, from hand-made records."""

from __future__ import annotations

import dataclasses

from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import compat, exporters, query
from iree_matrix.report import render_compatibility

SHA = {"a": "a" * 64, "b": "b" * 64, "c": "c" * 64}
REFUSAL = "error: bytecode version 6 is newer than the current version 5"


def _env(python: str, torch: str, turbine: str) -> str:
    return f"py{python}-torch{torch}-turbine{turbine}"


def _export(python, torch, turbine, text="a", bytecode="b", status=Status.OK) -> Record:
    exporter = _env(python, torch, turbine)
    labels = {"model": "tiny", "source_model": "tiny", "python": python, "torch": torch, "turbine": turbine,
              "exporter": exporter}  # fmt: skip
    metrics = {
        "mlir_sha256": SHA[text],
        "mlirbc_sha256": SHA[bytecode],
        "importer": f"iree-base-compiler {turbine}",
    }
    message = "" if status is Status.OK else "TypeError: the importer cannot\nmore"
    return Record(f"export:tiny/{exporter}", "export", f"tiny/{exporter}", "k", status, labels,
                  metrics if status is Status.OK else {}, message=message)  # fmt: skip


def _compile(exporter, compiler, form="text", status=Status.OK, message="") -> Record:
    cell = f"tiny/{exporter}/iree{compiler}/x86_64/default" + ("/mlirbc" if form == "bytecode" else "")
    labels = {
        "model": "tiny",
        "exporter": exporter,
        "compiler": compiler,
        "arch": "x86_64",
        "profile": "default",
    }
    if form == "bytecode":
        labels["form"] = "bytecode"
    return Record(f"compile:{cell}", "compile", cell, "k", status, labels, {}, message=message)


def _run(exporter, compiler, status=Status.OK) -> Record:
    cell = f"tiny/{exporter}/iree{compiler}/x86_64/default"
    labels = {"model": "tiny", "exporter": exporter, "compiler": compiler, "runtime": compiler,
              "arch": "x86_64", "profile": "default"}  # fmt: skip
    return Record(f"run:{cell}", "run", cell, "k", status, labels, {})


def _records() -> list[Record]:
    old, new = _env("3.10", "2.5.1", "3.6.0"), _env("3.13", "2.9.1", "3.9.0")
    records = [_export("3.10", "2.5.1", "3.6.0"), _export("3.13", "2.9.1", "3.9.0", "a", "c"),
               _export("3.12", "2.7.1", "3.7.0", status=Status.FAIL)]  # fmt: skip
    for exporter in (old, new):
        for compiler in ("3.6.0", "3.9.0"):
            records += [_compile(exporter, compiler), _run(exporter, compiler)]
    records += [_compile(old, "3.6.0", "bytecode"), _compile(old, "3.9.0", "bytecode")]
    records += [_compile(new, "3.9.0", "bytecode"), _compile(new, "3.6.0", "bytecode", Status.FAIL, REFUSAL)]
    return records


def test_answers_per_environment_and_form():
    found = {a.exporter: a for a in exporters.exporter_outcomes(_records())}
    new = found[_env("3.13", "2.9.1", "3.9.0")]
    assert new.compilers("text") == ["3.6.0", "3.9.0"] and new.compilers("bytecode") == ["3.9.0"]
    assert new.importer == "iree-base-compiler 3.9.0"
    (refused,) = [t for t in new.takes if not t.takes]
    assert (refused.compiler, refused.form, refused.words) == ("3.6.0", "bytecode", REFUSAL)
    assert found[_env("3.12", "2.7.1", "3.7.0")].export == "fail"


def test_distinct_mlirs_count_texts_and_bytecodes_of_successful_exports():
    (d,) = exporters.distinct(exporters.exporter_outcomes(_records()))
    assert (d.exporters, d.texts, d.bytecodes) == (2, 1, 2)


def test_the_report_section_table_and_refusals():
    text = render_compatibility(_records())
    assert "## Exporter environments: which compilers take their MLIR" in text
    assert "2 environment(s) wrote 1 distinct MLIR text(s) and 2 distinct bytecode file(s)" in text
    assert "| 3.13 | 2.9.1 | 3.9.0 | 3.9.0 | T✓ B✗ | T✓ B✓ |" in text
    assert (
        f"`{_env('3.13', '2.9.1', '3.9.0')}` (iree-base-compiler 3.9.0) → IREE 3.6.0 (tiny): {REFUSAL}"
        in text
    )
    assert "export fail: TypeError: the importer cannot" in text


def test_query_export_answers_with_evidence_and_says_what_was_measured():
    answer = query.export(_records(), "2.9.1", "3.9", "3.13")
    assert answer.measured and answer.answer == "takes"
    assert "  bytecode (.mlirbc): 3.9.0 (of 2 compilers tried)" in answer.lines
    assert any(REFUSAL in line for line in answer.lines)
    assert any(job.endswith("/mlirbc") for job in answer.evidence)
    missing = query.export(_records(), "2.5.1", "3.6.0", "3.12")
    assert not missing.measured and "py3.10 torch 2.5.1 turbine 3.6.0" in missing.lines[0]


def test_a_function_with_one_exporter_and_no_bytecode_gets_no_table():
    lone = _export("3.11", "2.13.0", "3.9.0")
    lone = dataclasses.replace(
        lone, job="export:lone/x", cell="lone/x", labels={**lone.labels, "model": "lone", "exporter": "x"}
    )
    text = render_compatibility([*_records(), lone])
    assert "### `tiny`" in text and "### `lone`" not in text


def test_an_export_whose_process_hung_at_exit_is_taken_with_its_finding() -> None:
    """Issue #51 item 9: the export stands (its MLIR is compiled), and the answer says so."""
    hung = "exported; the importer's Python process hangs at exit (iree-base-compiler 3.6.0): it did not end"
    records = _records()
    records[0] = dataclasses.replace(
        records[0],
        metrics={**records[0].metrics, "exit_hang": {"seconds_after_outputs": 20.2, "idle_seconds": 14.4}},
        message=hung + " 20.2 s after writing its outputs\nmore",
    )
    found = {a.exporter: a for a in exporters.exporter_outcomes(records)}
    old = found[_env("3.10", "2.5.1", "3.6.0")]
    assert old.export == "ok" and old.exit_hang.startswith(hung) and old.compilers(exporters.TEXT)
    assert found[_env("3.13", "2.9.1", "3.9.0")].exit_hang == ""
    document = compat.derive(records)
    compat.validate(document)  # the schema takes the new key
    listed = {e["exporter"]: e for e in document["exporters"]["environments"]}
    assert listed[_env("3.10", "2.5.1", "3.6.0")]["exit_hang"].startswith(hung)
    assert "exit_hang" not in listed[_env("3.13", "2.9.1", "3.9.0")]  # published compat.json unchanged
    assert any(hung in line for line in render_compatibility(records).splitlines())
