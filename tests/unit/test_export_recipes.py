"""Export recipes (issue #50): names, the search's batches and the outcome table (pure logic)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import models
from iree_matrix.tasks import recipe_search as search_recipes

SCRIPTS = Path(__file__).parents[2] / "scripts"


def test_choices_are_the_workers_and_each_is_described():
    tree = ast.parse((SCRIPTS / recipes.WORKER).read_text())
    worker = next(
        ast.literal_eval(n.value) for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "CHOICES" for t in n.targets)
    )  # fmt: skip
    assert recipes.choices() == tuple(worker)
    assert set(recipes.HOW) == set(worker) == set(recipes.ORDER)


def test_parse_orders_choices_and_refuses_bad_ones():
    assert recipes.parse("select-cache+eager") == ("eager", "select-cache")
    assert recipes.name(["fx", "eager", "fx"]) == "eager+fx"
    with pytest.raises(ValueError, match="unknown choice 'flash'"):
        recipes.parse("eager+flash")
    with pytest.raises(ValueError, match="decompose needs fx"):
        recipes.parse("decompose")
    with pytest.raises(ValueError, match="gaps needs fx"):
        recipes.parse("gaps+nonstrict")
    assert recipes.parse("gaps+fx") == ("fx", "gaps")
    with pytest.raises(ValueError, match="named twice"):
        recipes.parse("eager+eager")


def test_a_recipe_model_resolves_to_its_base_module(tmp_path):
    ref = models.resolve("llama@transformers~eager+select-cache", tmp_path)
    base = models.resolve("llama@transformers", tmp_path)
    assert (ref.name, ref.recipe, ref.file, ref.functions) == (
        "llama@transformers~eager+select-cache", "eager+select-cache", base.file, ("prefill", "decode")
    )  # fmt: skip
    assert base.recipe == ""
    with pytest.raises(models.ModelError, match="unknown choice"):
        models.resolve("llama@transformers~flash", tmp_path)
    with pytest.raises(models.ModelError, match="follows a built-in model"):
        models.resolve("nosuch~eager", tmp_path)


def test_batch_one_tries_only_applicable_choices():
    llama = SCRIPTS / "models" / "llama__transformers.py"
    cnn = SCRIPTS / "models" / "tiny_cnn.py"
    both = ["fx+decompose", "fx+gaps"]  # torch's core table; only the ops IREE's lowering lacks
    assert recipes.batch_one(llama) == ["eager", "select-cache", "nonstrict", "fx", *both]
    assert recipes.batch_one(cnn) == ["nonstrict", "fx", *both]
    # the tool's rewrites where the model calls an op they rewrite (issue #86)
    warp = Path(__file__).parents[1] / "data" / "routes" / "affine_warp.py"
    assert recipes.batch_one(warp) == ["nonstrict", "fx", *both, "fx+rewrite"]
    knn = warp.with_name("knn_cdist.py")  # torch.cdist, p=2 by matmul
    assert recipes.batch_one(knn) == ["nonstrict", "fx", *both, "fx+rewrite"]
    for calls in ("fft_mix.py", "gnn_index_add.py"):  # torch.fft.fft2, index_add_ (issue #95)
        assert recipes.batch_one(warp.with_name(calls)) == ["nonstrict", "fx", *both, "fx+rewrite"]
    assert recipes.parse("rewrite+fx") == ("fx", "rewrite")
    with pytest.raises(ValueError, match="rewrite needs fx"):
        recipes.parse("rewrite")


def test_batch_two_combines_the_choices_that_changed_an_outcome():
    sdpa = "compile: failed to legalize operation 'torch.aten.scaled_dot_product_attention'"
    scatter = "compile: 'linalg.generic' op write affecting operations on global resources"
    baseline = {("decode", "3.10.0"): sdpa, ("decode", "3.13.0"): scatter}
    outcomes = {
        "eager": {("decode", "3.10.0"): scatter, ("decode", "3.13.0"): scatter},
        "select-cache": {("decode", "3.10.0"): sdpa, ("decode", "3.13.0"): recipes.PASS},
        "nonstrict": {("decode", "3.10.0"): sdpa, ("decode", "3.13.0"): scatter},
    }
    # 3.10.0 passes by no recipe: eager removed its first blocker, select-cache the second (on 3.13.0)
    assert recipes.batch_two(outcomes, baseline) == ["eager+select-cache"]
    assert recipes.batch_two({**outcomes, "eager+select-cache": {}}, baseline) == []
    # every release passes by some recipe: nothing to combine
    outcomes["eager"][("decode", "3.10.0")] = recipes.PASS
    assert recipes.batch_two(outcomes, baseline) == []


def _record(job: str, stage: str, status: Status, message: str = "", **labels: str) -> Record:
    return Record(job=job, stage=stage, cell=job.partition(":")[2], key="k", status=status,
                  labels=labels, message=message or None)  # fmt: skip


def test_outcomes_take_each_releases_first_failing_stage():
    m = "llama@transformers~eager"
    common = {"source_model": m, "function": "decode"}

    def staged(job: str, stage: str, status: Status, release: str, message: str = "") -> Record:
        labels = {"model": f"{m}.decode", "compiler": release, "runtime": release, "profile": "default"}
        return _record(job, stage, status, message, **labels, **common)

    records = [
        _record("export:a", "export", Status.OK, model=f"{m}.decode", **common),
        staged("compile:a", "compile", Status.FAIL, "3.13.0", "error: global resources\nmore"),
        staged("run:a", "run", Status.NOT_RUN, "3.13.0", "not run because"),
        staged("compile:b", "compile", Status.OK, "3.9.0"),
        staged("run:b", "run", Status.OK, "3.9.0"),
    ]
    table = search_recipes.outcomes(records)
    assert table == {"llama@transformers": {search_recipes.Way("eager"): {
        ("decode", "3.13.0"): "compile: error: global resources", ("decode", "3.9.0"): recipes.PASS,
    }}}  # fmt: skip
    assert search_recipes.passes(table["llama@transformers"]) == {search_recipes.Way("eager"): ["3.9.0"]}
    text = "\n".join(search_recipes.render(table))
    assert "passes via recipe eager on 3.9.0" in text and "3.13.0: compile: error: global resources" in text
    # the commands that run it, as a command line takes the model (tests/processes runs them)
    assert "run it: `iree-matrix advise 'llama@transformers~eager'`" in text
    mine = "\n".join(search_recipes.render({"my_net": table["llama@transformers"]}, {"my_net": "n.py:build"}))
    assert "`iree-matrix matrix --model 'n.py:build~eager'`" in mine


def test_query_model_names_the_recipe_that_passes():
    from iree_matrix.findings import query
    from tests.unit.test_answers import _compile, _run

    recipe = "llama@transformers~eager+select-cache"
    records = []
    for release in ("3.10.0", "3.13.0"):
        for function in ("prefill", "decode"):
            records.append(_compile(f"llama@transformers.{function}", release, status=Status.FAIL))
            records += [_compile(f"{recipe}.{function}", release), _run(f"{recipe}.{function}", release)]
    answer = query.model(records, "llama@transformers")
    assert answer.answer == "fails"  # the default export still fails: that is not hidden
    line = next(x for x in answer.lines if "passes via recipe" in x)
    assert "eager+select-cache on 3.10.0, 3.13.0" in line and f"`{recipe}`" in line and "torch.where" in line
    assert f"`iree-matrix advise '{recipe}'`" in line  # a command that runs as printed
    assert answer.data["recipes"] == {"eager+select-cache": ["3.10.0", "3.13.0"]}
    # a recipe that fails on a release is not said to pass there
    records = [r for r in records if not (r.stage == "run" and "3.10.0" in r.job and "decode" in r.job)]
    assert query.model(records, "llama@transformers").data["recipes"] == {"eager+select-cache": ["3.13.0"]}


def test_a_route_names_the_model_by_its_file_and_only_recipes_left_to_try():
    assert recipes.route("nets/kws.py:build", ("fx+gaps", "fx+decompose")) == (
        "run it: `iree-matrix matrix --model 'nets/kws.py:build~fx+gaps'` "
        "(or `iree-matrix matrix --model 'nets/kws.py:build~fx+decompose'`)"
    )
    assert recipes.route("nets/kws.py:build~fx+gaps", ("fx+gaps", "fx+decompose")) == (
        "run it: `iree-matrix matrix --model 'nets/kws.py:build~fx+decompose'`"
    )
    assert recipes.route("nets/kws.py:build~fx+gaps", ("fx+gaps",)) == ""
    # a `~` in the file's path is not a recipe
    assert recipes.route("/home/a~b/kws.py:build", ("fx+gaps",)) == (
        "run it: `iree-matrix matrix --model '/home/a~b/kws.py:build~fx+gaps'`"
    )


def test_a_cut_compile_failure_still_names_the_op():
    """The search's table cut a compile error's first line at 160 characters, before the op it
    could not lower (the second newcomer's `torch.aten.affine_grid_generator`): the op is named."""
    line = (
        "model.mlir:47:11: error: failed to legalize operation 'torch.operator' that was explicitly "
        'marked illegal: %40 = "torch.operator"(%38, %39, %11) <{name = "torch.aten.affine_grid_generator"}>'
    )
    said = recipes.outcome([("export", "ok", ""), ("compile", "fail", line)])
    assert said.startswith("compile: model.mlir:47:11") and said.endswith(
        "(op: torch.aten.affine_grid_generator)"
    )
    short = recipes.outcome([("compile", "fail", "error: unknown op 'x'")])
    assert short == "compile: error: unknown op 'x'"


def test_a_compiler_crash_is_said_as_one_in_the_search_table():
    """The fourth newcomer's mixture-of-experts gate crashed iree-compile, and the search's table
    showed a backtrace frame (`#16 0x00007f16833c3b2d void llvm::function_ref<…`) as the failure: it
    says the compiler crashed and on lowering which torch op, as the run's summary does."""
    crash = (
        "Stack dump:\n"
        "#16 0x00007f16833c3b2d void llvm::function_ref<void ()>::callback_fn<mlir::PatternApplicator>\n"
        "#17 0x00007f16833c0000 (anonymous namespace)::ConvertAtenScatterOp<mlir::torch::Torch::"
        "AtenScatterSrcOp>::matchAndRewrite(mlir::torch::Torch::AtenScatterSrcOp) TorchToTMTensor.cpp:0:0\n"
    )
    m = "nc_moe~fx+decompose"
    labels = {"source_model": m, "model": m, "compiler": "3.13.0", "runtime": "3.13.0", "profile": "default"}
    records = [
        _record("export:a", "export", Status.OK, source_model=m, model=m),
        _record("compile:a", "compile", Status.FAIL, crash, **labels),
    ]
    said = search_recipes.outcomes(records)["nc_moe"][search_recipes.Way("fx+decompose")][("main", "3.13.0")]
    assert said.startswith("compile: iree-compile crashed while lowering torch's AtenScatterSrcOp"), said
    assert "0x00007f" not in said


def test_eager_is_tried_only_for_a_factory_that_takes_an_attention_implementation(tmp_path):
    """The fourth newcomer's recommender had `build(seed=0, by_hand=False)`: the search tried
    `eager`, the worker called `build(seed, "eager")`, which built the model written out (a truthy
    `by_hand`), and the table said "passes via recipe eager ... the model's eager attention". Only a
    second parameter named `attn_implementation` (transformers', the built-ins') makes `eager` a
    choice."""
    user = tmp_path / "dlrm.py"
    user.write_text("def build(seed=0, by_hand=False):\n    pass\n")
    assert "eager" not in recipes.applicable(user)
    hf = tmp_path / "hf.py"
    hf.write_text(
        'def build(seed=0, attn_implementation="sdpa"):\n    pass\n\n\ndef other(seed=0):\n    pass\n'
    )
    assert recipes.applicable(hf)[0] == "eager" and "eager" not in recipes.applicable(hf, "other")


def test_printed_commands_keep_the_runs_matrix_results_and_cache(tmp_path):
    """Issue #86: `run it:` without the run's settings fell back to the default matrix (another
    release installed) and wrote under the working directory's runs/: every printed command now
    carries the run's `--matrix` (a user's), `--results-dir` and `--cache` (not the default)."""
    from iree_matrix.core import pasted
    from iree_matrix.core.shipped import matrix_dir
    from iree_matrix.envs.cache_usage import default_cache
    from iree_matrix.execution.workflow import where

    here = where(tmp_path / "lab.toml", tmp_path / "runs/lab", tmp_path / "c")
    assert here == pasted.Where(tmp_path / "lab.toml", tmp_path / "runs/lab", tmp_path / "c")
    assert recipes.route("lab_nets.py:edgeconv", ("fx+decompose",), here) == (
        "run it: `iree-matrix matrix --model 'lab_nets.py:edgeconv~fx+decompose' "
        f"--matrix {tmp_path}/lab.toml --results-dir {tmp_path}/runs/lab --cache {tmp_path}/c`"
    )
    assert recipes.commands("x.py:build", "fx+gaps", here)[0] == (
        f"iree-matrix advise 'x.py:build~fx+gaps' --matrix {tmp_path}/lab.toml "
        f"--results-dir {tmp_path}/runs/lab --cache {tmp_path}/c"
    )
    assert f"search-recipes --model x.py:build --matrix {tmp_path}/lab.toml" in recipes.search_offer(
        "x.py:build", here
    )
    # a shipped matrix is each command's own default; the default cache is left out; paths quoted
    shipped = where(matrix_dir() / "default.toml", Path("my runs"), default_cache())
    assert shipped == pasted.Where(None, Path("my runs"), None, matrix_dir() / "default.toml")
    assert shipped.line("iree-matrix show JOB") == "iree-matrix show JOB --results-dir 'my runs'"
    assert pasted.HERE.line("iree-matrix advise m") == "iree-matrix advise m"


def test_where_no_recipe_passes_the_search_takes_the_hints_profile_next():
    """The GNN's recipe failed at a stack limit whose hint names a flag: the search compiles that
    recipe with the built-in profile next and prints the one command that passed (issue 95)."""
    m = "gnn~fx+decompose"
    stack = (
        "error: 'func.func' op exceeded stack allocation limit of 32768 bytes for function. Got 65536 bytes"
    )

    def cell(job: str, stage: str, status: Status, profile: str, message: str = "") -> Record:
        labels = {"source_model": m, "model": m, "compiler": "3.13.0", "runtime": "3.13.0"}
        return _record(job, stage, status, message, **labels, profile=profile)

    records = [
        _record("export:a", "export", Status.OK, source_model=m, model=m),
        cell("compile:a", "compile", Status.FAIL, "default", stack),
        cell("run:a", "run", Status.NOT_RUN, "default", "not run because"),
    ]
    table = search_recipes.outcomes(records)
    assert search_recipes.profile_routes(records, table) == {m: "stack-1m"}
    records += [
        cell("compile:b", "compile", Status.OK, "stack-1m"),
        cell("run:b", "run", Status.OK, "stack-1m"),
    ]
    assert search_recipes.outcomes(records) == table  # a profile no hint named is not the table's
    table = search_recipes.outcomes(records, {"stack-1m"})
    route = search_recipes.Way("fx+decompose", "stack-1m")
    assert table["gnn"][route] == {("main", "3.13.0"): recipes.PASS}
    assert search_recipes.passes(table["gnn"]) == {route: ["3.13.0"]}
    assert route.text() == "fx+decompose|stack-1m"  # as recipes.json names it
    assert search_recipes.profile_routes(records, table) == {}  # a way passes: nothing more to try
    text = "\n".join(search_recipes.render(table, {"gnn": "nets/gnn.py:build"}))
    assert "passes via recipe fx+decompose with profile stack-1m on 3.13.0" in text
    assert "run it: `iree-matrix tune --model 'nets/gnn.py:build~fx+decompose' --profiles stack-1m`" in text
    assert "fx+decompose with profile stack-1m · main" in text
    # the default export's own route has no recipe to name
    assert search_recipes.Way("", "stack-1m").words() == "(default export) with profile stack-1m"
    assert search_recipes.Way("", "stack-1m").text("default") == "default|stack-1m"
