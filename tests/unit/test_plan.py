"""Unit tests for the planner: jobs, ids, dependencies, selection (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SelectionError, UserError
from iree_matrix.iree import versions
from iree_matrix.matrix import plan, spec, spec_file
from iree_matrix.matrix.spec import Cell
from iree_matrix.stages import compile as compile_stage
from iree_matrix.stages import run as run_stage

MATRIX_DIR = Path(__file__).resolve().parents[2] / "matrix"
EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"
COMPILERS = ("3.0.0", "3.4.0", "3.8.0", "3.9.0", "3.13.0")
MODELS = ("mobilenet_v2", "quartznet5x5")


@pytest.fixture(scope="module")
def default_spec() -> spec.MatrixSpec:
    return spec_file.load(Path(__file__).parent / "data" / "five_releases.toml")


@pytest.fixture(scope="module")
def default_plan(default_spec) -> plan.Plan:
    return stages.plan(default_spec)


def _ids(p: plan.Plan) -> list[str]:
    return [job.id for job in p.jobs]


def _compile_id(model: str, compiler: str) -> str:
    return f"compile:{model}/{EXPORTER}/iree{compiler}/x86_64/default"


# --- build ------------------------------------------------------------------------------------


def test_default_plan_counts(default_plan):
    # installs: two exporter envs (plain, + transformers), a compiler and a runtime env per version
    assert default_plan.count("install") == 2 + 5 + 5
    # 12 exported functions: 4 single-function models + 4 models with two functions each
    assert default_plan.count("export") == 12  # one per function x exporter
    assert default_plan.count("compile") == 12 * 5  # one per function x compiler (x arch x profile)
    assert default_plan.count("run") == 12 * 7  # one per function x cell
    assert len(default_plan) == 12 + 12 + 60 + 84


def test_install_jobs_are_deduplicated(default_plan):
    installs = {job.id for job in default_plan.jobs if job.stage == "install"}
    assert installs == (
        {f"install:{EXPORTER}", f"install:{EXPORTER}+transformers5.23.0"}
        | {f"install:py3.11-iree-compiler{v}" for v in COMPILERS}
        | {f"install:py3.11-iree-runtime{v}" for v in COMPILERS}
    )
    kinds = [job.env.kind for job in default_plan.jobs if job.stage == "install"]
    assert sorted(kinds) == ["compiler"] * 5 + ["exporter"] * 2 + ["runtime"] * 5


def test_job_ids_are_unique(default_plan):
    ids = _ids(default_plan)
    assert len(ids) == len(set(ids))
    assert all(job.id == f"{job.stage}:{job.cell}" for job in default_plan.jobs)


def test_every_dependency_exists_and_comes_first(default_plan):
    position = {job_id: i for i, job_id in enumerate(_ids(default_plan))}
    for i, job in enumerate(default_plan.jobs):
        for dep in job.deps:
            assert dep in position, f"{job.id} depends on unknown {dep}"
            assert position[dep] < i, f"{job.id} comes before its dependency {dep}"


def test_stages_are_in_pipeline_order(default_plan):
    order = [job.stage for job in default_plan.jobs]
    assert order == sorted(order, key=stages.names().index)


def test_dependency_shapes(default_plan):
    by_id = default_plan.by_id()
    for job in default_plan.jobs:
        dep_stages = sorted(by_id[d].stage for d in job.deps)
        expected = {
            "install": [],
            "export": ["install"],
            "compile": ["export", "install"],
            "run": ["compile", "export", "install"],
        }[job.stage]
        assert dep_stages == expected, job.id


def test_one_export_per_model_reused_by_every_compiler(default_plan):
    by_id = default_plan.by_id()
    for model in MODELS:
        export_id = f"export:{model}/{EXPORTER}"
        assert by_id[export_id].deps == (f"install:{EXPORTER}",)
        assert by_id[export_id].model == model
        for compiler in COMPILERS:
            compile_job = by_id[_compile_id(model, compiler)]
            assert compile_job.deps == (export_id, f"install:py3.11-iree-compiler{compiler}")
            assert compile_job.env.requirements == (f"iree-base-compiler=={compiler}",)


def test_job_ids_exact(default_plan):
    ids = set(_ids(default_plan))
    assert "compile:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default" in ids
    assert "run:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default" in ids
    assert "run:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.8.0/x86_64/default/rt3.13.0" in ids
    assert "run:quartznet5x5/py3.11-torch2.13.0-turbine3.9.0/iree3.8.0/x86_64/default/rt3.9.0" in ids
    assert "export:quartznet5x5/py3.11-torch2.13.0-turbine3.9.0" in ids
    assert "install:py3.11-torch2.13.0-turbine3.9.0" in ids
    # a same-version run has no /rt suffix
    assert not any(i.endswith("/rt3.9.0") and "/iree3.9.0/" in i for i in ids)


def test_cross_run_depends_on_its_compile_and_runtime_install(default_plan):
    by_id = default_plan.by_id()
    compile_id = _compile_id("mobilenet_v2", "3.8.0")
    for runtime in ("3.9.0", "3.13.0"):
        run = by_id[f"run:{compile_id.split(':', 1)[1]}/rt{runtime}"]
        assert run.deps == (
            f"export:mobilenet_v2/{EXPORTER}",
            compile_id,
            f"install:py3.11-iree-runtime{runtime}",
        )
        assert run.env.kind == "runtime"
        assert run.env.requirements == (f"iree-base-runtime=={runtime}",)
        assert run.labels["compiler"] == "3.8.0"
        assert run.labels["runtime"] == runtime


def test_same_version_run_uses_its_compilers_runtime(default_plan):
    by_id = default_plan.by_id()
    compile_id = _compile_id("quartznet5x5", "3.4.0")
    run = by_id["run:" + compile_id.split(":", 1)[1]]
    assert run.deps[1:] == (compile_id, "install:py3.11-iree-runtime3.4.0")


def test_labels(default_plan):
    by_id = default_plan.by_id()
    run = by_id["run:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.8.0/x86_64/default/rt3.13.0"]
    assert dict(run.labels) == {
        "model": "mobilenet_v2",
        "source_model": "mobilenet_v2",
        "function": "main",
        "python": "3.11",
        "torch": "2.13.0",
        "turbine": "3.9.0",
        "exporter": EXPORTER,
        "compiler": "3.8.0",
        "arch": "x86_64",
        "profile": "default",
        "runtime": "3.13.0",
    }
    install = by_id[f"install:{EXPORTER}"]
    assert dict(install.labels) == {"env": EXPORTER, "kind": "exporter", "python": "3.11"}


def test_compile_jobs_carry_their_profile(default_spec, default_plan):
    compiles = [job for job in default_plan.jobs if job.stage == "compile"]
    assert all(job.profile == default_spec.profiles["default"] for job in compiles)
    assert all(job.profile is None for job in default_plan.jobs if job.stage != "compile")


def test_ids_are_stable(default_spec):
    first, second = stages.plan(default_spec), stages.plan(default_spec)
    assert _ids(first) == _ids(second)
    assert first == second


def test_plan_does_not_depend_on_cell_order(default_spec):
    import dataclasses

    shuffled = dataclasses.replace(default_spec, cells=tuple(reversed(default_spec.cells)))
    assert _ids(stages.plan(shuffled)) == _ids(stages.plan(default_spec))


# --- requirements -----------------------------------------------------------------------------


def test_exporter_requirements_pin_iree_for_new_turbine():
    assert versions.exporter_requirements("2.13.0", "3.9.0") == (
        "torch==2.13.0",
        "iree-turbine==3.9.0",
        "numpy",
        "iree-base-compiler==3.9.0",
        "iree-base-runtime==3.9.0",
    )
    assert "iree-base-compiler==2.9.0" in versions.exporter_requirements("2.5.0", "2.9.0")


def test_exporter_requirements_pin_the_date_compiler_of_an_old_turbines_day():
    assert versions.exporter_requirements("2.3.0", "2.3.0") == (
        "torch==2.3.0",
        "iree-turbine==2.3.0",
        "numpy<2",  # torch 2.3 was built against NumPy 1
        "iree-compiler==20240410.859",
        "iree-runtime==20240410.859",
    )
    reqs = versions.exporter_requirements("2.13.0", "2.5.0")
    assert "iree-compiler==20241104.1068" in reqs and "numpy" in reqs
    assert not any(r.startswith("iree-base") for r in reqs)


def test_exporter_requirements_leave_an_unknown_old_turbines_compiler_to_pip():
    reqs = ("torch==2.3.0", "iree-turbine==2.4.0", "numpy<2")
    assert versions.exporter_requirements("2.3.0", "2.4.0") == reqs


def test_turbine_below_2_3_is_shark_turbine():
    assert versions.turbine_package("0.9.3") == "shark-turbine"
    assert versions.turbine_package("2.3.0") == versions.turbine_package("3.9.0") == "iree-turbine"
    assert versions.exporter_requirements("2.1.0", "0.9.3") == (
        "torch==2.1.0",
        "shark-turbine==0.9.3",
        "numpy<2",
        "iree-compiler==20231218.742",
        "iree-runtime==20231218.742",
    )
    assert versions.turbine_importer("0.9.4") == "20240129.785"
    assert versions.turbine_importer("3.9.0") is None


def test_exporter_env_of_the_default_plan(default_plan):
    install = default_plan.by_id()[f"install:{EXPORTER}"]
    assert install.env.requirements == versions.exporter_requirements("2.13.0", "3.9.0")
    assert install.env.name == "torch2.13.0-turbine3.9.0"


def test_date_versioned_compiler_and_runtime_packages():
    cell = Cell("tiny_cnn", "3.11", "2.3.0", "2.4.1", "20240410.865", "20240410.865", "x86_64", "default")
    assert compile_stage.environment(cell).requirements == ("iree-compiler==20240410.865",)
    assert run_stage.environment(cell).requirements == ("iree-runtime==20240410.865",)
    assert compile_stage.environment(cell).id == "py3.11-iree-compiler20240410.865"
    assert versions.compiler_requirement("3.0.0") == "iree-base-compiler==3.0.0"
    assert versions.runtime_requirement("3.0.0") == "iree-base-runtime==3.0.0"


def test_plan_from_a_date_versioned_matrix(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text(
        'python = "3.11"\ntorch = "2.3.0"\nturbine = "2.4.1"\ncompiler = "20240410.865"\n'
        'models = "tiny_cnn"\n',
        encoding="utf-8",
    )
    by_id = stages.plan(spec_file.load(path)).by_id()
    assert by_id["install:py3.11-iree-compiler20240410.865"].env.requirements == (
        "iree-compiler==20240410.865",
    )
    assert by_id["install:py3.11-iree-runtime20240410.865"].env.requirements == (
        "iree-runtime==20240410.865",
    )
    assert by_id["install:py3.11-torch2.3.0-turbine2.4.1"].env.requirements == (
        "torch==2.3.0",
        "iree-turbine==2.4.1",
        "numpy<2",
        "iree-compiler==20240828.999",
        "iree-runtime==20240828.999",
    )


# --- select -----------------------------------------------------------------------------------


def test_select_nothing_returns_the_plan(default_plan):
    assert plan.select(default_plan, []) is default_plan


def test_select_glob_on_cell_includes_the_closure(default_plan):
    selected = plan.select(default_plan, ["mobilenet_v2/*/iree3.8.0/*/rt3.13.0"])
    assert _ids(selected) == [
        "install:py3.11-iree-compiler3.8.0",
        "install:py3.11-iree-runtime3.13.0",
        f"install:{EXPORTER}",
        f"export:mobilenet_v2/{EXPORTER}",
        _compile_id("mobilenet_v2", "3.8.0"),
        "run:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.8.0/x86_64/default/rt3.13.0",
    ]


def test_select_glob_on_stage_and_cell(default_plan):
    selected = plan.select(default_plan, ["compile:quartznet5x5/*"])
    assert selected.count("compile") == 5
    assert selected.count("run") == 0
    assert selected.count("export") == 1
    assert selected.count("install") == 1 + 5  # exporter + every compiler, no runtime
    assert {j.model for j in selected.jobs if j.stage != "install"} == {"quartznet5x5"}


def test_select_keeps_plan_order_and_every_dep(default_plan):
    selected = plan.select(default_plan, ["run:*iree3.9.0*"])
    ids = _ids(selected)
    assert ids == [i for i in _ids(default_plan) if i in set(ids)]
    for job in selected.jobs:
        assert set(job.deps) <= set(ids)


def test_select_patterns_union(default_plan):
    a = plan.select(default_plan, ["*iree3.0.0*"])
    b = plan.select(default_plan, ["*iree3.4.0*"])
    both = plan.select(default_plan, ["*iree3.0.0*", "*iree3.4.0*"])
    assert set(_ids(both)) == set(_ids(a)) | set(_ids(b))
    assert both.count("run") == 12 * 2


def test_select_no_match_raises(default_plan):
    with pytest.raises(SelectionError) as info:
        plan.select(default_plan, ["*iree3.0.0*", "nothing*"])
    assert "'nothing*'" in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, UserError)


# --- describe ---------------------------------------------------------------------------------


def test_describe(default_plan):
    lines = stages.describe(default_plan).splitlines()
    assert lines[0] == "168 jobs: 12 install, 12 export, 60 compile, 84 run"
    assert lines[1:] == [f"  {i}" for i in _ids(default_plan)]


def test_describe_selection(default_plan):
    selected = plan.select(default_plan, ["install:*runtime3.13.0"])
    assert stages.describe(selected).splitlines() == [
        "1 jobs: 1 install, 0 export, 0 compile, 0 run",
        "  install:py3.11-iree-runtime3.13.0",
    ]


def test_each_function_of_a_model_is_its_own_chain(tmp_path):
    model = tmp_path / "two_heads.py"
    model.write_text(
        'FUNCTIONS = ("encoder", "decoder_step")\nREQUIREMENTS = ("transformers==5.0.0",)\n'
        "def build():\n    pass\n"
    )
    matrix = tmp_path / "m.toml"
    matrix.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
        'models = ["two_heads.py:build", "tiny_cnn"]\n'
    )
    the_plan = stages.plan(spec_file.load(matrix))
    exporter = "py3.11-torch2.13.0-turbine3.9.0+transformers5.0.0"
    ids = set(the_plan.by_id())
    assert f"export:two_heads.encoder/{exporter}" in ids
    assert f"run:two_heads.decoder_step/{exporter}/iree3.9.0/x86_64/default" in ids
    assert "export:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0" in ids  # its own env, no transformers
    env = the_plan.by_id()[f"install:{exporter}"].env
    assert "transformers==5.0.0" in env.requirements and "torch==2.13.0" in env.requirements
    compiled = the_plan.by_id()[f"compile:two_heads.encoder/{exporter}/iree3.9.0/x86_64/default"]
    assert compiled.function == "encoder"


# --- dispatches -------------------------------------------------------------------------------


def test_dispatches_job_only_for_the_named_model_and_profile(tmp_path):
    matrix = tmp_path / "m.toml"
    matrix.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = ["3.9.0", "3.13.0"]\n'
        'models = "tiny_cnn"\nprofiles = ["default", "generic"]\n\n'
        '[benchmark]\ndispatches = ["tiny_cnn/default"]\n'
    )
    the_plan = stages.plan(spec_file.load(matrix))
    by_id = the_plan.by_id()
    dispatches = [job for job in the_plan.jobs if job.stage == "dispatches"]
    assert the_plan.count("dispatches") == 2  # one per compiler, none for generic
    assert the_plan.count("compile") == 4
    for compiler in ("3.9.0", "3.13.0"):
        cell = f"tiny_cnn/{EXPORTER}/iree{compiler}/x86_64/default"
        job = by_id[f"dispatches:{cell}"]
        assert job in dispatches
        assert f"compile:{cell}" in job.deps
        assert job.deps == by_id[f"run:{cell}"].deps
        assert job.labels["profile"] == "default"
        assert job.labels["runtime"] == compiler
    assert not any(job.labels["profile"] == "generic" for job in dispatches)
    assert _ids(the_plan)[-2:] == [job.id for job in dispatches]  # the last stage
    assert stages.describe(the_plan).splitlines()[0] == (
        "16 jobs: 5 install, 1 export, 4 compile, 4 run, 2 dispatches"
    )


def test_no_dispatches_jobs_without_the_setting(default_plan):
    assert default_plan.count("dispatches") == 0
    assert "dispatches" not in stages.describe(default_plan).splitlines()[0]


def test_dispatches_are_timed_by_the_modules_own_runtime_only(tmp_path):
    matrix = tmp_path / "m.toml"
    matrix.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
        'runtime = ["same", "3.13.0"]\nmodels = "tiny_cnn"\n\n[benchmark]\ndispatches = ["tiny_cnn/*"]\n'
    )
    the_plan = stages.plan(spec_file.load(matrix))
    assert the_plan.count("run") == 2
    assert [job.id for job in the_plan.jobs if job.stage == "dispatches"] == [
        f"dispatches:tiny_cnn/{EXPORTER}/iree3.9.0/x86_64/default"
    ]


def test_labels_are_one_schema_and_a_tools_runtime_is_named_not_a_path():
    from iree_matrix.core.model.records import Labels, tools_runtime

    assert Labels(model="m", compiler="3.9.0").as_dict() == {"model": "m", "compiler": "3.9.0"}
    assert tools_runtime("/c/runtime-builds/7a92b85a92ce0997/tools") == "source build 7a92b85a"
    assert tools_runtime("/opt/armv6-runtime") == "source build armv6-runtime"
