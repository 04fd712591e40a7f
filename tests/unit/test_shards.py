"""`--shard K/N`: a deterministic partition of a plan into independent chains (pure planning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import UserError
from iree_matrix.matrix import plan, shards, spec_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["five_releases", "smoke", "peers"])
def a_plan(request, tmp_path_factory) -> plan.Plan:
    if request.param == "five_releases":
        return stages.plan(spec_file.load(Path(__file__).parent / "data" / "five_releases.toml"))
    if request.param == "smoke":
        return stages.plan(spec_file.load(REPO / "matrix" / "smoke.toml"))
    path = tmp_path_factory.mktemp("peers") / "peers.toml"
    path.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.9.0", "3.13.0"]\n'
        'runtime = "same"\nmodels = ["tiny_cnn", "mobilenet_v2"]\npeers = ["eager"]\n'
        '[benchmark]\ndispatches = ["tiny_cnn/default"]\n'
    )
    return stages.plan(spec_file.load(path))


def _leaves(p: plan.Plan) -> set[str]:
    needed = {d for job in p.jobs for d in job.deps}
    return {job.id for job in p.jobs if job.id not in needed}


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 50])
def test_every_chain_is_in_exactly_one_shard_and_complete(a_plan, count):
    parts = shards.partition(a_plan, count)
    assert len(parts) == count
    leaves = _leaves(a_plan)
    for leaf in leaves:  # each cell's end job runs once
        assert sum(leaf in {j.id for j in part.jobs} for part in parts) == 1, leaf
    covered = set()
    order = [job.id for job in a_plan.jobs]
    for part in parts:
        ids = [job.id for job in part.jobs]
        assert len(ids) == len(set(ids))
        assert set(ids) == a_plan.closure(i for i in ids if i in leaves)  # nothing extra
        for job in part.jobs:  # a shard runs on its own: every dependency is in it
            assert set(job.deps) <= set(ids), job.id
        assert ids == [i for i in order if i in set(ids)]  # the plan's order (deps first)
        covered |= set(ids)
    assert covered == set(order)  # every job of the plan runs somewhere


def test_one_shard_is_the_plan(a_plan):
    assert shards.select(a_plan, shards.parse("1/1")).jobs == a_plan.jobs


def test_partition_is_deterministic(a_plan):
    first = [[j.id for j in p.jobs] for p in shards.partition(a_plan, 3)]
    again = [[j.id for j in p.jobs] for p in shards.partition(plan.Plan(tuple(a_plan.jobs)), 3)]
    assert first == again


def test_runs_of_one_module_stay_together(a_plan):
    for part in shards.partition(a_plan, 4):
        ids = {j.id for j in part.jobs}
        for job in a_plan.jobs:
            compiles = [d for d in job.deps if d.startswith("compile:")]
            if job.stage in ("run", "dispatches") and job.id in ids:
                readers = [j for j in a_plan.jobs if j.stage in ("run", "dispatches")]
                assert {j.id for j in readers if compiles[0] in j.deps} <= ids


def test_shards_are_balanced_on_the_default_matrix():
    p = stages.plan(spec_file.load(Path(__file__).parent / "data" / "five_releases.toml"))
    sizes = [len(part) for part in shards.partition(p, 4)]
    leaves = [len(_leaves(part)) for part in shards.partition(p, 4)]
    assert max(sizes) - min(sizes) <= 0.25 * max(sizes), sizes
    assert sum(sizes) < 1.3 * len(p), "prerequisites duplicated too often"
    assert max(leaves) <= 2 * min(leaves), leaves


def test_smoke_in_two_shards_splits_by_module():
    p = stages.plan(spec_file.load(REPO / "matrix" / "smoke.toml"))
    one, two = shards.partition(p, 2)
    compiles = [[j.id for j in part.jobs if j.stage == "compile"] for part in (one, two)]
    assert sorted(len(c) for c in compiles) == [1, 1]
    assert [len([j for j in part.jobs if j.stage == "run"]) for part in (one, two)] == [2, 2]


def test_more_shards_than_chains_leaves_some_empty():
    p = stages.plan(spec_file.load(REPO / "matrix" / "smoke.toml"))
    parts = shards.partition(p, 5)
    assert sum(1 for part in parts if len(part)) == 2


@pytest.mark.parametrize(
    "text, index, count", [("1/2", 1, 2), ("2/2", 2, 2), ("3/10", 3, 10), (" 1 / 1 ", 1, 1)]
)
def test_parse(text, index, count):
    assert shards.parse(text) == shards.Shard(index, count)
    assert str(shards.parse(text)) == f"{index}/{count}"


@pytest.mark.parametrize("text", ["3/2", "0/2", "1/0", "x", "", "1/", "/2", "-1/2", "1/2/3", "1.5/2", "a/b"])
def test_parse_rejects_with_one_line(text):
    with pytest.raises(UserError) as err:
        shards.parse(text)
    message = str(err.value)
    assert "\n" not in message and "--shard" in message and "K/N" in message
