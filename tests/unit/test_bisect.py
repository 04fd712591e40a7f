"""`iree-matrix bisect`'s pure parts (tasks/bisect.py, iree/miscompiled.py's offer, the verdict line of
scripts/bisect_outputs.py): a run's cell read back from its records, a record that is not a mismatch
refused in one line, and the exact command a mismatch no known op explains gets in the run's summary.
The real bisection of a real miscompile is tests/processes/test_bisect_command.py."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.iree import miscompiled
from iree_matrix.tasks import bisect
from tests.scripts_path import scripts_importable
from tests.unit.builders import FakeSummary

scripts_importable()

import bisect_outputs  # noqa: E402  (scripts/ is on sys.path now)

EXP = "py3.11-torch2.13.0-turbine3.9.0"
CELL = f"net/{EXP}/iree3.13.0/x86_64/default"
VENVS = "/cache/envs/venv"


def _record(stage: str, cell: str, status: Status = Status.OK, **changes: object) -> Record:
    labels = {"model": "net", "arch": "x86_64", "compiler": "3.13.0", "exporter": EXP}
    made = Record(job=f"{stage}:{cell}", stage=stage, cell=cell, key="k", status=status, labels=labels)
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def _env(env_id: str) -> dict[str, str]:
    return {"backend": "venv", "id": env_id, "lock_digest": "ab" * 32, "path": f"{VENVS}/{env_id}-{'ab' * 8}"}


EXPORT_COMMAND = (
    f"{VENVS}/x/bin/python", "/src/scripts/export_model.py", "--file", "/home/me/nets/net.py", "--factory",
    "build", "--function", "main", "--seed", "0", "--repetitions", "1", "--threads", "2",
    "--out", "/staging/1",
)  # fmt: skip
COMPILE_COMMAND = (
    f"{VENVS}/c/bin/iree-compile", "model.mlir", "--iree-hal-target-backends=llvm-cpu",
    "--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu", "--iree-llvmcpu-target-cpu=znver4",
    "--iree-scheduling-dump-statistics-format=json",
    "--iree-scheduling-dump-statistics-file=/s/statistics.json",
    "-o", "/s/module.vmfb",
)  # fmt: skip


def _cell(**export_changes: object) -> dict[str, Record]:
    export = {"command": EXPORT_COMMAND, "env": _env(EXP), **export_changes}
    records = [
        _record("export", f"net/{EXP}", **export),
        _record("compile", CELL, command=COMPILE_COMMAND, env=_env("py3.11-iree-compiler3.13.0")),
        _record("run", CELL, Status.MISMATCH, env=_env("py3.11-iree-runtime3.13.0"),
                message="outputs differ from torch: max abs err 1.36"),
    ]  # fmt: skip
    return {r.job: r for r in records}


def test_a_runs_cell_is_read_from_its_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Path, "is_file", lambda self: str(self) == "/home/me/nets/net.py")
    latest = _cell()
    found = bisect.cell(bisect.find_run(latest, "run:net/*", Path("r.jsonl")), latest)
    assert found.model_args == ("--file", "/home/me/nets/net.py", "--factory", "build", "--function", "main",
                                "--seed", "0")  # fmt: skip
    # the flags that decide the module, not the compile's own outputs
    assert found.flags == (
        "--iree-hal-target-backends=llvm-cpu", "--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu",
        "--iree-llvmcpu-target-cpu=znver4",
    )  # fmt: skip
    assert found.reads == (Path("/home/me/nets"),)  # the model's directory, as the export reads it
    assert found.exporter["id"] == EXP and found.runtime["id"] == "py3.11-iree-runtime3.13.0"


def test_a_record_that_is_not_a_mismatching_run_is_refused_in_one_line() -> None:
    latest = _cell()
    with pytest.raises(
        UserError, match=r"^compile:net/.*: a compile record whose status is ok, not a mismatch"
    ):
        bisect.find_run(latest, f"compile:{CELL}", Path("r.jsonl"))
    matched = dataclasses.replace(latest[f"run:{CELL}"], status=Status.OK)
    with pytest.raises(UserError, match="a run record whose status is ok, not a mismatch") as raised:
        bisect.find_run({matched.job: matched}, matched.job, Path("r.jsonl"))
    assert "\n" not in str(raised.value)
    with pytest.raises(UserError, match="no job matching 'run:other/\\*'"):
        bisect.find_run(latest, "run:other/*", Path("r.jsonl"))


def test_a_model_file_that_is_not_here_is_refused_with_its_path() -> None:
    latest = _cell()
    with pytest.raises(UserError, match="the export read /home/me/nets/net.py, which is not here"):
        bisect.cell(latest[f"run:{CELL}"], latest)


def test_a_recipes_export_and_a_docker_cell_are_refused_with_why() -> None:
    recipe = (
        *EXPORT_COMMAND[:1],
        "/src/scripts/export_recipe.py",
        *EXPORT_COMMAND[2:],
        "--recipe",
        "fx+gaps",
    )
    latest = _cell(command=recipe)
    with pytest.raises(UserError, match="export_recipe.py \\(a recipe's export\\)"):
        bisect.cell(latest[f"run:{CELL}"], latest)
    latest = _cell(env={**_env(EXP), "backend": "docker"})
    with pytest.raises(UserError, match="not all venvs \\(docker, venv, venv\\)"):
        bisect.cell(latest[f"run:{CELL}"], latest)


def test_the_offer_is_the_exact_command_with_its_results_dir() -> None:
    job = f"run:{CELL}"
    said = miscompiled.bisect_offer(job, "runs/mine")
    assert f"`iree-matrix bisect 'run:{CELL}' --results-dir runs/mine`" in said
    assert f"`iree-matrix bisect 'run:{CELL}'` compiles" in miscompiled.bisect_offer(job, "results")
    assert "(with --results-dir DIR where" in miscompiled.bisect_offer(job)


def test_the_runs_summary_offers_the_bisection_only_where_no_hint_explains_it() -> None:
    from iree_matrix.execution import workflow

    unexplained = _cell()[f"run:{CELL}"]
    explained = dataclasses.replace(
        unexplained, job=f"run:{CELL}b",
        message="outputs differ from torch: max abs err 1.36\nthe model has an op IREE computes wrongly: "
        "torch.aten.pad with a negative padding [0, 0, 1, -1]",
    )  # fmt: skip

    summary = FakeSummary([unexplained, explained], [unexplained, explained], "2 mismatch")
    out = io.StringIO()
    workflow.print_summary(summary, Path("/tmp/c"), Path("/tmp/r"), out)  # type: ignore[arg-type]
    text = out.getvalue()
    assert f"what to do: no known op explains this mismatch; `iree-matrix bisect 'run:{CELL}' " \
        "--results-dir /tmp/r`" in text, text  # fmt: skip
    assert text.count("iree-matrix bisect") == 1  # the negative padding's hint says what to do there


def test_the_verdict_line_names_the_module_holding_the_divergence() -> None:
    classes = {
        "proj": "Linear",
        "blocks.0": "Block",
        "blocks.0.attn": "Attention",
        "blocks.0.attn.out": "Linear",
    }
    said = bisect_outputs.where_it_leaves("proj (input)", classes, "TokenShift", 2.94)
    assert said.startswith(
        "IREE leaves torch in the model's own forward (TokenShift), before it calls `proj`"
    )
    said = bisect_outputs.where_it_leaves("blocks.0.attn.out (input)#1", classes, "Net", 0.5)
    assert "in `blocks.0.attn` (Attention), before it calls `blocks.0.attn.out` (Linear)" in said
    said = bisect_outputs.where_it_leaves("blocks.0", classes, "Net", 0.5)
    assert said.startswith("IREE leaves torch in `blocks.0` (Block): its output differs")
    assert bisect_outputs.where_it_leaves(None, classes, "Net", 0.0) == "every recorded tensor matches"
    assert "model's own forward (Net): output 0 differs" in bisect_outputs.where_it_leaves(
        "output 0", {}, "Net", 1
    )


def test_a_users_model_is_named_as_the_export_names_it() -> None:
    got = bisect_outputs.model_arguments(["--model", "nets/kws.py:build", "--out", "o"])
    assert got == ["--file", "nets/kws.py", "--factory", "build", "--out", "o"]
    got = bisect_outputs.model_arguments(["--model=mypkg.nets:make", "--out", "o"])
    assert got[:2] == ["--module", "mypkg.nets"] and got[-4:] == ["--factory", "make", "--out", "o"]
    with pytest.raises(SystemExit, match="a recipe"):
        bisect_outputs.model_arguments(["--model", "kws.py:build~fx+gaps"])
    with pytest.raises(SystemExit, match="a model is FILE:FACTORY"):
        bisect_outputs.model_arguments(["--model", "kws.py"])


def test_the_offer_goes_only_to_cells_bisect_takes() -> None:
    """A GPU's, a firmware's, an ONNX form's, a lowered export's or a recipe's mismatch gets no
    command that would refuse it (the published GPU, ONNX and history sets hold such mismatches)."""
    run = _cell()[f"run:{CELL}"]
    assert miscompiled.bisectable(run.label)
    for changed in (
        {"arch": "vulkan-spirv"}, {"arch": "cortex-m:cortex-m4"}, {"form": "onnx:17"},
        {"model": "net~fx+gaps"},
        {"exporter": f"{EXP}+linalg-iree20231113.707"},
    ):  # fmt: skip
        other = dataclasses.replace(run, labels={**run.labels, **changed})
        assert not miscompiled.bisectable(other.label), changed
    assert miscompiled.bisectable(dataclasses.replace(run, labels={**run.labels, "form": "bytecode"}).label)
