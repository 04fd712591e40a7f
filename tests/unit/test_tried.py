"""Issue 95, item 1: a hint says a way past a failure passes, or an op compiles as it is, only where a
record of the results folder shows it for the same model on that release; a recipe that failed there
the same way is said tried, not offered again; a flag hint gives the command that tries its flag.
The records are built here (the user's message-passing GNN and ViT, as reported)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from iree_matrix.core import pasted
from iree_matrix.core.model.results import Record, Status, folder_log
from iree_matrix.findings import query
from iree_matrix.iree import hints
from iree_matrix.matrix import tried
from tests.unit.builders import FakeSummary

EXP = "py3.11-torch2.13.0-turbine3.9.0"
INDEX_ADD = (
    "model.mlir:40:10: error: failed to legalize operation 'torch.operator' that was explicitly marked "
    'illegal: %3 = "torch.operator"(%0, %c0, %1, %2) <{name = "torch.aten.index_add"}> : (...)'
)
STACK = (
    "model.mlir:120:5: error: 'func.func' op exceeded stack allocation limit of 32768 bytes for "
    "function. Got 65536 bytes"
)
UNNAMED = "model.mlir:7:3: error: failed to legalize operation 'torch.constant.int'"


def _record(
    model: str,
    stage: str,
    status: Status,
    message: str = "",
    profile: str = "default",
    release: str = "3.10.0",
    file: str = "nets/gnn.py",
) -> Record:
    labels = {"model": model, "source_model": model, "exporter": EXP}
    cell = f"{model}/{EXP}"
    command: tuple[str, ...] = ()
    if stage == "export":
        base, _, recipe = model.partition("~")
        command = ("python", "export_model.py", "--file", file, "--factory", "build")
        command += ("--recipe", recipe) if recipe else ()
    else:
        labels.update(compiler=release, arch="x86_64", profile=profile)
        cell += f"/iree{release}/x86_64/{profile}"
    if stage == "run":
        labels.update(runtime=release)
    return Record(
        f"{stage}:{cell}",
        stage,
        cell,
        "k",
        status,
        labels,
        {},
        message=message or None,
        error_class=f"{stage}-error" if status is Status.FAIL else None,
        command=command,
    )


def _summary(records: list[Record], ran: list[Record], folder: Path) -> str:
    """The summary of a run of `ran` into `folder`, which held `records` before it."""
    from iree_matrix.execution import workflow

    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        folder_log(folder).append(record)

    summary = FakeSummary(ran, [r for r in ran if r.status is Status.FAIL])
    out = io.StringIO()
    here = pasted.Where(None, folder, None, Path("/m/default.toml"))
    logged = folder_log(folder).latest()
    workflow.print_summary(summary, Path("/tmp/c"), folder, out, here, logged)  # type: ignore[arg-type]
    return out.getvalue()


GNN_EXPORT = _record("gnn", "export", Status.OK)
GNN_FAILS = _record("gnn", "compile", Status.FAIL, INDEX_ADD)
DECOMPOSED_EXPORT = _record("gnn~fx+decompose", "export", Status.OK)
DECOMPOSED_FAILS = _record("gnn~fx+decompose", "compile", Status.FAIL, STACK)


def test_a_recipe_tried_here_is_said_tried_and_an_untried_claim_untried(tmp_path):
    """The GNN: its hint said `scatter_reduce` amax compiles as it is and offered `~fx+decompose`,
    which had failed at the amax's stack limit on that release; now both are said as they stand."""
    before = _summary([GNN_EXPORT], [GNN_EXPORT, GNN_FAILS], tmp_path / "a")
    claim = "`scatter_reduce` with `amax`/`mean` compiles as it is"
    assert f"{claim} (measured on other models; untried on this one, on this release)" in before, before
    assert "run it: `iree-matrix matrix --model 'nets/gnn.py:build~fx+decompose' --results-dir" in before
    after = _summary(
        [GNN_EXPORT, DECOMPOSED_EXPORT, DECOMPOSED_FAILS], [GNN_EXPORT, GNN_FAILS], tmp_path / "b"
    )
    assert (
        "tried: `gnn~fx+decompose` on 3.10.0 gets past this and fails (compile: 'func.func' op exceeded "
        "stack allocation limit of 32768 bytes for function. Got 65536 bytes)" in after
    ), after
    assert "~fx+decompose' --results-dir" not in after  # not offered again
    # a compile of this model that passed on the release: the claim stands as measured
    compiled = _record("gnn~fx+decompose", "compile", Status.OK, profile="stack-1m")
    found = hints.find(INDEX_ADD, "compile")
    assert found is not None and tried.advice(found, GNN_FAILS, [compiled]) == found.advice
    other_release = dataclasses.replace(compiled, labels={**compiled.labels, "compiler": "3.13.0"})
    assert tried.advice(found, GNN_FAILS, [other_release]) != found.advice


def test_the_stack_limit_gives_the_command_that_raises_it(tmp_path):
    """The next hint (raise the stack limit) was right but gave no command: now one, on the run's
    matrix (named: `tune`'s own default is another), with a built-in profile that covers the need."""
    out = _summary([GNN_EXPORT, DECOMPOSED_EXPORT], [DECOMPOSED_EXPORT, DECOMPOSED_FAILS], tmp_path)
    assert "--iree-llvmcpu-stack-allocation-limit=65536" in out  # the advice, as it was
    assert (
        "run it: `iree-matrix tune --model 'nets/gnn.py:build~fx+decompose' --profiles stack-1m "
        f"--matrix /m/default.toml --results-dir {tmp_path}`" in out
    ), out
    # a built-in model (no FILE:FACTORY): its name, the user's own matrix kept
    builtin = dataclasses.replace(DECOMPOSED_FAILS, labels={**DECOMPOSED_FAILS.labels, "profile": "O3"})
    found = hints.find(STACK, "compile")
    assert found is not None and found.profile == "stack-1m"
    mine = pasted.Where(Path("lab.toml"), Path("runs/lab"))
    assert tried.lines(found, builtin, [], None, mine) == [
        "run it: `iree-matrix tune --model 'gnn~fx+decompose' --profiles O3+stack-1m --matrix lab.toml "
        "--results-dir runs/lab`"
    ]
    # tried with the profile: how it went, no command
    raised = _record("gnn~fx+decompose", "run", Status.OK, profile="stack-1m")
    assert tried.lines(found, DECOMPOSED_FAILS, [raised], None) == [
        f"tried: `gnn~fx+decompose` with profile stack-1m passes on 3.10.0 here ({raised.job})"
    ]
    # a need past every built-in profile's limit: the advice alone
    huge = hints.find(STACK.replace("65536", "2097152"), "compile")
    assert huge is not None and huge.profile == "" and tried.lines(huge, DECOMPOSED_FAILS, [], None) == []


def test_a_recipe_that_failed_the_same_way_on_the_release_is_not_offered_again():
    """The ViT: `fx+decompose`, offered for the constant its resize left, had failed on 3.10.0 with
    the same error (at another line of its own export)."""
    vit = _record("vit", "compile", Status.FAIL, UNNAMED, file="nets/vit.py")
    again = _record("vit~fx+decompose", "compile", Status.FAIL, UNNAMED.replace("7:3", "12:9"))
    found = hints.find(UNNAMED, "compile")
    assert found is not None and found.hint.recipes == ("fx+decompose",)
    said = tried.lines(found, vit, [vit, again], "nets/vit.py:build")
    assert said == [
        "tried: `vit~fx+decompose` on 3.10.0 fails the same way "
        "(compile: failed to legalize operation 'torch.constant.int')"
    ], said
    # on another release it was not tried: offered there
    newer = dataclasses.replace(vit, labels={**vit.labels, "compiler": "3.13.0"})
    assert tried.lines(found, newer, [vit, again], "nets/vit.py:build") == [
        "run it: `iree-matrix matrix --model 'nets/vit.py:build~fx+decompose'`"
    ]
    # `query model` says the same
    export = _record("vit", "export", Status.OK, file="nets/vit.py")
    text = query.model([export, vit, again], "vit").text()
    assert "tried: `vit~fx+decompose` on 3.10.0 fails the same way" in text, text
    assert "run it:" not in text, text


def test_no_evidence_leaves_a_hint_without_claims_as_it_was():
    found = hints.find(STACK, "compile")
    assert found is not None and tried.advice(found, DECOMPOSED_FAILS, []) == found.advice


def test_a_claim_is_marked_in_the_hints_data_and_never_printed_with_its_marks():
    found = hints.find(INDEX_ADD, "compile")
    assert found is not None and "«" not in found.advice and "»" not in found.advice
    assert found.hint.claims == ("`scatter_reduce` with `amax`/`mean` compiles as it is",)
    assert all(c in h.advice for h in hints.HINTS for c in h.claims)
