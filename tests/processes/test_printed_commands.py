"""Every command the tool prints for a model with an export recipe runs as printed (issue #69): the
`run it:` commands under a recipe that passes in `search-recipes`' table, and the one `query model`
names, for a user's model (`FILE:FACTORY~RECIPE`, which `advise` once refused: "does not fit a
job id") and a built-in one; each is run, with `--list` (parse and plan, nothing run), by the tool
itself in a process, and `bundle --advise` and `query model` take the same model."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.findings import query
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.tasks import recipe_search
from tests.unit.test_answers import _compile, _run

pytestmark = pytest.mark.processes  # each printed command runs as a process of the tool

MODEL = """
import torch
from models.api import ModelSpec


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(torch.nn.Linear(4, 4).eval(), (torch.randn(1, 4),), atol=1e-5, rtol=1e-4)
"""
COMMAND = re.compile(r"`(iree-matrix [^`]+)`")


def _tool(argv: list[str], results: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "iree_matrix", *argv, "--results-dir", str(results)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _run_printed(text: str, results: Path) -> list[str]:
    """Each `iree-matrix ...` command in `text`, run as printed with --list; their model names."""
    printed = COMMAND.findall(text)
    assert printed, text
    for command in printed:
        argv = shlex.split(command)[1:]
        done = _tool([*argv, "--list"], results)
        assert done.returncode == 0, (command, done.stderr[-2000:])
        assert "does not fit a job id" not in done.stderr
    return printed


@pytest.fixture
def user_model(tmp_path: Path) -> Path:
    (tmp_path / "nets").mkdir()
    path = tmp_path / "nets" / "my_net.py"
    path.write_text(MODEL)
    return path


def test_search_recipes_run_it_commands_run_as_printed(user_model: Path, tmp_path: Path) -> None:
    table = {
        "my_net": {
            recipe_search.AS_EXPORTED: {("main", "3.13.0"): "compile: x"},
            recipe_search.Way("fx+gaps"): {("main", "3.13.0"): recipes.PASS},
        },
        "llama@transformers": {recipe_search.Way("eager"): {("decode", "3.13.0"): recipes.PASS}},
    }
    text = "\n".join(recipe_search.render(table, {"my_net": f"{user_model}:build"}))
    printed = _run_printed(text, tmp_path / "results")
    assert f"iree-matrix advise {shlex.quote(f'{user_model}:build~fx+gaps')}" in printed
    assert "iree-matrix matrix --model 'llama@transformers~eager'" in printed
    # the same model in bundle and query, named as the tool names it
    bundle = _tool(
        ["bundle", "--advise", f"{user_model}:build~fx+gaps", "--cpu", "znver4", "--list"], tmp_path
    )
    assert bundle.returncode == 0, bundle.stderr[-2000:]
    assert "compile:my_net~fx+gaps/" in bundle.stdout


def test_query_models_recipe_command_runs_as_printed(user_model: Path, tmp_path: Path) -> None:
    reference = f"{user_model}:build"
    recipe = "fx+decompose"
    compiled = _compile("my_net~fx+decompose", "3.13.0")
    cell = "my_net~fx+decompose/" + compiled.label.exporter
    command = (
        "python",
        "export_recipe.py",
        "--recipe",
        recipe,
        "--file",
        str(user_model),
        "--factory",
        "build",
    )
    export = dataclasses.replace(
        compiled, job=f"export:{cell}", stage="export", cell=cell, command=(*command, "--out", "o")
    )
    records = [
        _compile("my_net", "3.13.0", status=Status.FAIL),
        export,
        compiled,
        _run("my_net~fx+decompose", "3.13.0"),
    ]
    answer = query.model(records, "my_net")
    line = next(x for x in answer.lines if "passes via recipe" in x)
    printed = _run_printed(line, tmp_path / "results")
    assert printed == [f"iree-matrix advise {shlex.quote(f'{reference}~{recipe}')}"]
    # `query model` takes the recipe's model as a command line names it, and answers from the records
    results = tmp_path / "published"
    results.mkdir()
    log = ResultsLog(results / "results.jsonl")
    for record in records:
        log.append(record)
    asked = _tool(["query", "model", f"{reference}~{recipe}"], results)
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert "my_net~fx+decompose" in asked.stdout and "passes" in asked.stdout, asked.stdout


def _exported(failed: Record, user_model: Path) -> Record:
    """The export that `failed` (a compile of the user's model) was made from: ok, by the worker on
    `user_model`'s factory `build`."""
    command = ("python", "export_model.py", "--file", str(user_model), "--factory", "build")
    job = f"export:{failed.cell.split('/iree')[0]}"
    return dataclasses.replace(
        failed, job=job, stage="export", status=Status.OK, message=None, command=command
    )


def test_a_run_summarys_route_under_a_hint_runs_as_printed(user_model: Path, tmp_path: Path) -> None:
    """The `run it:` line a run's summary prints under a hint that names an export recipe (the hint
    itself can only say `FILE:FACTORY~fx+gaps`) runs as printed, for the model that failed."""
    from tests.unit.test_hints import LSTM_MESSAGE, LSTM_METRICS, _failed, _summary_of

    failed = _failed("compile", "my_net", "3.13.0", LSTM_MESSAGE, LSTM_METRICS, error_class="compile-error")
    summary = _summary_of(failed, _exported(failed, user_model))
    line = next(x for x in summary.splitlines() if "run it:" in x)
    printed = _run_printed(line, tmp_path / "results")
    model = shlex.quote(f"{user_model}:build~fx+gaps")
    assert printed == [f"iree-matrix matrix --model {model} --results-dir /tmp/r --cache /tmp/c"]


def test_a_run_summarys_recipe_search_offer_runs_as_printed(user_model: Path, tmp_path: Path) -> None:
    """The recipe search a run's summary offers for a user's model failing in words no hint knows
    (issue #69's spatial transformer, at `aten.affine_grid_generator` before its hint) runs as
    printed, for the model that failed."""
    from tests.unit.test_hints import _failed, _summary_of

    words = "failed to legalize operation 'torch.operator' (op: torch.aten.some_new_op)"
    failed = _failed("compile", "my_net", "3.13.0", words, {"failing_op": "torch.aten.some_new_op"})
    summary = _summary_of(failed, _exported(failed, user_model))
    line = next(x for x in summary.splitlines() if "search-recipes" in x)
    printed = _run_printed(line, tmp_path / "results")
    assert printed == [
        f"iree-matrix search-recipes --model {user_model}:build --results-dir /tmp/r --cache /tmp/c"
    ]


def test_query_models_recipe_search_offer_for_a_failed_export_runs_as_printed(
    user_model: Path, tmp_path: Path
) -> None:
    """`query model` offers the recipe search for a user's model whose export failed in unknown
    words, as the run's summary does, and the command runs as printed."""
    from tests.unit.test_hints import _failed

    failed = dataclasses.replace(
        _failed("export", "my_net", "3.13.0", "torch._dynamo.exc.Unsupported: something new"),
        command=("python", "export_model.py", "--file", str(user_model), "--factory", "build"),
    )
    line = next(x for x in query.model([failed], "my_net").lines if "search-recipes" in x)
    printed = _run_printed(line, tmp_path / "results")
    assert printed == [f"iree-matrix search-recipes --model {user_model}:build"]
