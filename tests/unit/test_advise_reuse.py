"""advise after `nox -s matrix`, on one cache (issue 95): it plans the export, the peer and `default`'s
jobs that run stored (the same ids and keys), and its sitting and its gap still have torch eager."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.advise import advise_plan
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import advice


def test_advises_peer_stage_is_the_default_matrixs_and_its_sitting_still_times_eager() -> None:
    """advise's peer stage times what matrix/default.toml's does (ONNX Runtime; torch eager's figure is
    the export stage's), so after `nox -s matrix` it is the same job by key and not made again (issue
    95); the sitting still times torch eager first, the answers' reference."""
    import dataclasses

    from iree_matrix.matrix import spec_file

    matrices = Path(__file__).parents[2] / "matrix"
    plan = advise_plan.SittingPlan("3.13.0", (), ())
    file = spec_file.load(matrices / advice.MATRIX)
    assert file.peers == ("eager", "onnxruntime")  # what the file asks the sitting for
    made = advise_plan.adjusted(file, "mobilenet_v2", plan)
    assert made.peers == spec_file.load(matrices / "default.toml").peers == ("onnxruntime",)
    assert advise_plan.sitting_peers(made.peers) == ("eager", "onnxruntime")
    only_eager = advise_plan.adjusted(dataclasses.replace(file, peers=("eager",)), "mobilenet_v2", plan)
    assert only_eager.peers == ("eager",)  # its peer stage is then the one that times it
    assert advise_plan.sitting_peers(()) == ()  # a file that asks for no peer: none


def test_advise_plans_the_export_and_peer_jobs_the_default_matrix_stored(tmp_path, monkeypatch) -> None:
    """On one cache, `advise MODEL` and `search-recipes --model MODEL` after `nox -s matrix` ask for the
    export (advise: and the peer) that run stored: the same job ids and keys (issue 95: both re-exported)."""
    from iree_matrix import stages
    from iree_matrix.core.model.store import Entry
    from iree_matrix.core.system import host
    from iree_matrix.matrix import spec_file

    monkeypatch.setattr(host, "identity", lambda: "x86_64|AuthenticAMD|25|1|1|1ddebed04610ae65|2")
    matrices = Path(__file__).parents[2] / "matrix"

    def keys(matrix):  # stage -> {job id: key} of the plan's exports and peers, each beside one install
        found: dict[str, dict[str, str]] = {}
        for job in stages.plan(matrix).jobs:
            if job.stage in ("export", "peer"):
                (install,) = [d for d in job.deps if d.startswith("install:")]
                env = {"backend": "venv", "lock_digest": install, "python": "3.11.7"}
                record = Record(install, "install", install[8:], "k", Status.OK, {}, env=env)
                ctx = stages.Context(
                    matrix, None, None, {install: Entry(record, tmp_path)}, 60.0, tmp_path / "log"
                )
                found.setdefault(job.stage, {})[job.id] = stages.get(job.stage).key(job, ctx)
        return found

    default = keys(spec_file.load(matrices / "default.toml", models=["mobilenet_v2"]))
    plan = advise_plan.SittingPlan("3.13.0", (), ())
    advised = keys(advise_plan.adjusted(spec_file.load(matrices / advice.MATRIX), "mobilenet_v2", plan))
    assert set(advised) == {"export", "peer"} and all(len(jobs) == 1 for jobs in advised.values())
    assert all(advised[stage].items() <= default[stage].items() for stage in advised), (advised, default)
    # and the recipe search's (matrix/export-recipes.toml) default export, which it tries beside its recipes
    searched = keys(spec_file.load(matrices / "export-recipes.toml", models=["mobilenet_v2"]))
    assert searched["export"].items() == default["export"].items()


def test_the_gaps_profiled_build_profiles_torch_eager_beside_the_planned_peers() -> None:
    """The gap is read against the sitting's best peer, which may be torch eager: the profiled build
    that gives the peers' op profiles asks for eager again (advise's plain peer stage leaves it to the
    export), or a model whose best peer is eager lost its gap's kinds (the library tried less)."""
    from iree_matrix.matrix import spec_file
    from iree_matrix.tasks import advise as advise_task

    matrices = Path(__file__).parents[2] / "matrix"
    plan = advise_plan.SittingPlan("3.13.0", (), ())
    made = advise_plan.adjusted(spec_file.load(matrices / advice.MATRIX), "mobilenet_v2", plan)
    assert made.peers == ("onnxruntime",)
    assert advise_task._with_op_profile(made, [Config()]).peers == ("eager", "onnxruntime")
