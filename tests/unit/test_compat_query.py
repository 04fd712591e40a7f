"""compat.json (schema, determinism) and `iree-matrix query` from hand-made records."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from iree_matrix import cli
from iree_matrix.core.model.records import runtime_name
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.findings import compat, query, release_choice
from tests.unit.test_answers import EXP, _compile, _refused, _run

ROOT = Path(__file__).resolve().parents[2]


def _cross() -> list:
    """Three releases; 3.8.0 and 3.9.0 share a bytecode version, 3.10.0 does not."""
    records = []
    for c, median in (("3.8.0", 20.0), ("3.9.0", 10.0), ("3.10.0", 9.5)):
        records.append(_compile("tiny", c))
        records.append(_run("tiny", c, median=median))
    records += [_run("tiny", "3.8.0", "3.9.0"), _refused("tiny", "3.9.0", "3.10.0")]
    records.append(_run("tiny", "3.8.0", "3.10.0", Status.NOT_RUN))
    return records


def test_compat_document_follows_its_schema_and_carries_the_answers():
    document = compat.derive(_cross())
    compat.validate(document)
    windows = {w["runtime"]: w for w in document["windows"]}
    assert windows["3.9.0"]["loads"] == ["3.8.0", "3.9.0"] and windows["3.9.0"]["low"] == "3.8.0"
    assert windows["3.10.0"]["refuses"] == ["3.9.0"] and windows["3.10.0"]["unknown"] == ["3.8.0"]
    (model,) = document["models"]
    assert model["passing"] == ["3.8.0", "3.9.0", "3.10.0"]
    assert model["newest_passing"]["compiler"] == "3.10.0"
    assert model["fastest"] is None  # 9.5 vs 10 ms is inside the noise
    assert {r["kind"] for r in document["regressions"]} == set()
    refusal = next(p for p in document["pairs"] if p["load"] == "refuses")
    assert refusal["reason"] == "bytecode version mismatch; runtime supports 16.0, module has 15.0"


def test_the_schema_rejects_what_a_reader_could_misread():
    document = compat.derive(_cross())
    document["pairs"][0]["load"] = "probably"
    with pytest.raises(jsonschema.ValidationError):
        compat.validate(document)
    del document["pairs"]
    with pytest.raises(jsonschema.ValidationError):
        compat.validate(document)


def test_compat_json_is_the_same_bytes_for_the_same_records(tmp_path: Path):
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in _cross():
        log.append(record)
    first = compat.write(log, tmp_path / "a.json", log.path).read_bytes()
    second = compat.write(log, tmp_path / "b.json", log.path).read_bytes()
    assert first == second and json.loads(first)["source"]["records"] == len(_cross())


def test_a_source_built_runtime_is_named_by_its_build_not_its_path():
    label = "dir:/root/.cache/iree-matrix/runtime-builds/7a92b85a92ce0997/tools"
    assert runtime_name(label) == "source build 7a92b85a"
    assert runtime_name("3.9.0") == "3.9.0"


def test_query_load_answers_from_the_cell_and_names_it():
    answer = query.load(_cross(), "3.8", "3.9")  # "3.8" is "3.8.0"
    assert answer.answer == "loads" and answer.evidence == ("run:tiny/" + _suffix("3.8.0", "3.9.0"),)
    refused = query.load(_cross(), "3.9.0", "3.10.0")
    assert refused.answer == "refuses" and "bytecode version mismatch" in refused.lines[0]


def test_query_load_says_not_measured_instead_of_guessing():
    # 3.9.0's runtime loads 3.8.0 and 3.9.0 modules; compiler 3.10.0 on runtime 3.8.0 was never
    # run, and the window must not be stretched into an answer.
    answer = query.load(_cross(), "3.10.0", "3.8.0")
    assert answer.answer == query.NOT_MEASURED and not answer.measured
    assert "were run by runtimes" in answer.lines[0]
    unknown = query.load(_cross(), "4.0.0", "3.9.0")
    assert unknown.answer == query.NOT_MEASURED and "no module from compiler 4.0.0" in unknown.lines[0]
    blocked = query.load(_cross(), "3.8.0", "3.10.0")
    assert blocked.answer == "unknown" and "not run" in blocked.lines[0]


def test_query_model():
    answer = query.model(_cross(), "tiny")
    assert answer.answer == "passes" and answer.data["passing"] == ["3.8.0", "3.9.0", "3.10.0"]
    assert any("newest passing: 3.10.0" in line for line in answer.lines)
    # Records of no identified CPU and no paired rounds: nothing decides which release is fastest.
    assert any(line.startswith("  fastest: not decided") for line in answer.lines)
    assert query.model(_cross(), "nope").answer == query.NOT_MEASURED


def test_query_cli_exit_codes_and_json(tmp_path: Path, capsys):
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in _cross():
        log.append(record)
    where = ["--results-dir", str(tmp_path)]
    assert cli.main(["query", "load", "--compiler", "3.9.0", "--runtime", "3.10.0", "--json", *where]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "refuses"
    assert cli.main(["query", "model", "nope", *where]) == 1
    assert "not measured" in capsys.readouterr().out
    assert cli.main(["query", "model", "tiny", "--results-dir", str(tmp_path / "none")]) == 2
    assert "no such results file" in capsys.readouterr().err


def _suffix(compiler: str, runtime: str) -> str:
    from tests.unit.test_answers import EXP

    return f"{EXP}/iree{compiler}/x86_64/default/rt{runtime}"


def test_query_load_with_a_value_that_is_not_a_version_is_a_usage_error(tmp_path: Path, capsys):
    """Issue 29: `--runtime x` answered "not measured" (exit 1); it is a usage error (exit 2)."""
    (tmp_path / "results.jsonl").write_text("")
    argv = ["query", "load", "--compiler", "9.9.9", "--runtime", "x", "--results-dir", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--runtime 'x'" in err and "not a version" in err


def test_compat_json_carries_the_module_and_output_digests_of_schema_2_records():
    import dataclasses

    module, outputs = "a" * 64, "b" * 64
    records = _cross()
    records = [
        dataclasses.replace(
            r,
            metrics={
                **r.metrics,
                "module_sha256": module,
                **({"outputs_sha256": outputs} if r.stage == "run" else {}),
            },
        )
        if r.status is Status.OK and r.labels.get("compiler") == "3.9.0"
        else r
        for r in records
    ]
    document = compat.derive(records)
    compat.validate(document)
    got = {d["job"]: d for d in document["digests"]}
    assert got and all(d["module_sha256"] == module for d in got.values())
    assert {j.split(":")[0] for j in got} == {"compile", "run"}
    assert all(d.get("outputs_sha256") == (outputs if j.startswith("run:") else None) for j, d in got.items())
    document["digests"][0]["module_sha256"] = "not a digest"
    with pytest.raises(jsonschema.ValidationError):
        compat.validate(document)


def test_a_release_whose_module_was_never_run_says_so_not_compile_ok():
    records = [_compile("m", "3.8.0"), _run("m", "3.8.0"), _compile("m", "3.9.0")]  # 3.9.0: never run
    answer = query.model(records, "m")
    # Never run is no evidence of failing: listed apart, not among the failures, not in the count.
    assert "  not run: 3.9.0: compile passed, but no run of its module is recorded" in answer.lines
    assert not any(line.startswith("  fails:") for line in answer.lines)
    assert "passes on 1 of 1 compiler releases run" in answer.lines[0]
    assert answer.data is not None and answer.data["not_run"] == ["3.9.0"] and answer.data["failing"] == []


def test_query_load_counts_only_cells_that_ran_and_unknown_exits_1(tmp_path, capsys):
    """Issue #39 item 5: a cell never run is not evidence; "unknown" is not an answer (exit 1)."""
    records = [_compile("a", "3.9.0"), _run("a", "3.9.0"), _compile("b", "3.9.0", status=Status.FAIL)]
    blocked = _run("b", "3.9.0", status=Status.NOT_RUN)
    records.append(dataclasses.replace(blocked, blocked_by=records[2].job))
    answer = query.load(records, "3.9.0", "3.9.0")
    assert answer.answer == "loads" and answer.evidence == (records[1].job,)
    assert "(1 cell)" in answer.lines[0]
    only_failed = [records[2], records[3]]
    unknown = query.load(only_failed, "3.9.0", "3.9.0")
    assert unknown.answer == "unknown" and not unknown.decided
    assert unknown.evidence == (records[2].job,)  # what stopped it, not the run never made
    assert "compile fail" in unknown.lines[0]
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in only_failed:
        log.append(record)
    assert (
        cli.main(
            ["query", "load", "--compiler", "3.9.0", "--runtime", "3.9.0", "--results-dir", str(tmp_path)]
        )
        == 1
    )
    assert "unknown: no cell" in capsys.readouterr().out


LOWERED = f"{EXP}+linalg-iree20231113.707"


def _compile_of(function: str, compiler: str, exporter: str, status: Status = Status.OK, message: str = ""):
    record = _compile(function, compiler, status=status)
    cell = f"{function}/{exporter}/iree{compiler}/x86_64/default"
    labels = {**record.labels, "exporter": exporter}
    return dataclasses.replace(record, job=f"compile:{cell}", cell=cell, labels=labels, message=message)


def _history() -> list:
    """turbine's MLIR compiles on 20231113.707 on; the two older releases take it lowered by
    20231113.707: one matches torch, the other computes it wrong (matrix/history.toml)."""
    no_torch = "Dialect `torch' not found for custom op 'torch.vtensor.literal'"
    out = []
    for compiler in ("20230209.425", "20230815.614"):
        out += [
            _compile_of("tiny", compiler, EXP, Status.FAIL, no_torch),
            _compile_of("tiny", compiler, LOWERED),
        ]
    out.append(_run("tiny", "20230209.425", exporter=LOWERED))
    out.append(
        _run("tiny", "20230815.614", status=Status.MISMATCH, exporter=LOWERED, message="max abs error 0.327")
    )
    for compiler in ("20231113.707", "3.13.0"):
        out += [_compile_of("tiny", compiler, EXP), _run("tiny", compiler)]
    return out


def test_query_model_counts_the_lowered_form_naming_its_exporter():
    answer = query.model(_history(), "tiny")
    assert answer.data["passing"] == ["20230209.425", "20231113.707", "3.13.0"]
    assert answer.data["via"] == {"20230209.425": "linalg lowered by 20231113.707"}
    assert answer.data["failing"] == ["20230815.614"]
    text = "\n".join(answer.lines)
    assert "passes on 3 of 4" in text
    assert (
        "via linalg lowered by 20231113.707 (the exporter's own MLIR does not pass there): 20230209.425"
        in text
    )
    # A release failing in both forms says both reasons, the lowered one named.
    failing = next(line for line in answer.lines if "20230815.614" in line and "fails" in line)
    assert "Dialect `torch' not found" in failing and "via linalg lowered by 20231113.707: run:" in failing
    assert "newest passing: 3.13.0" in text


def test_the_lowered_exporter_is_known_by_its_name():
    assert release_choice.lowered_by(LOWERED, EXP) == "20231113.707"
    assert release_choice.lowered_by(EXP, EXP) is None
    assert release_choice.lowered_by("py3.10-torch2.5.1-turbine3.6.0+linalg-iree20231113.707", EXP) is None


def test_an_exporters_refusal_names_its_front_door_and_the_schema_checks_it():
    """The ONNX front door's compiles are exporter cells too: a refusal's form is `onnx:17` (or
    `linalg:<release>`), which the schema takes; a form it does not know is refused."""
    document = json.loads((ROOT / "results" / "onnx" / compat.FILENAME).read_text())
    refused = [r for e in document["exporters"]["environments"] for r in e["refused"]]
    assert any(r["form"] == "onnx:17" for r in refused)
    compat.validate(document)
    next(r for r in refused if r["form"] == "onnx:17")["form"] = "yaml"
    with pytest.raises(jsonschema.ValidationError):
        compat.validate(document)


REPO_RESULTS = Path(__file__).resolve().parents[2] / "results"


@pytest.mark.parametrize(
    ("results", "said"),
    [
        ("gpu", "on vulkan-spirv (emulated: software Vulkan device: SwiftShader"),
        ("cortex-m", "on cortex-m-cortex-m4 (emulated under qemu-system-arm mps2-an386)"),
        ("armv6", "on armv6-arm1176jzf-s (emulated under qemu-user, arm1176)"),
    ],
)
def test_a_targets_runs_are_named_as_their_records_say_they_ran(results: str, said: str) -> None:
    """#51: GPU-only results said "vulkan-spirv (emulated under qemu-user)", and so did Cortex-M."""
    records = list(ResultsLog(REPO_RESULTS / results / "results.jsonl"))
    first = query.model(records, "tiny_cnn").lines[0]
    assert said in first and (results == "armv6" or "qemu-user" not in first), first


def test_a_model_whose_only_export_failed_is_not_called_absent() -> None:
    from iree_matrix.core.model.results import Record

    cell = "m/py3.11-torch2.13.0-turbine3.9.0"
    said = "AttributeError: module has no attribute 'export'"
    failed = Record(f"export:{cell}", "export", cell, "k", Status.FAIL, {"model": "m"},
                    error_class="export-error", message=said)  # fmt: skip
    answer = query.model([failed], "m")
    assert answer.answer == "fails" and answer.evidence == (failed.job,), answer.text()
    assert "no model" not in answer.text() and "export (export-error): AttributeError" in answer.text()
    assert query.model([failed], "other").answer == query.NOT_MEASURED


@pytest.mark.parametrize("argv", [["tiny_cnn", "--target", ""], ["tiny_cnn", "--arch", " "], [""]])
def test_an_empty_query_value_is_one_line(argv: list, tmp_path: Path, capsys) -> None:
    """#51: `query model tiny_cnn --target ''` was a traceback."""
    (tmp_path / "results.jsonl").write_text("")
    assert cli.main(["query", "model", *argv, "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("iree-matrix: error: query model: ") and "is empty" in err and "Traceback" not in err
    )
