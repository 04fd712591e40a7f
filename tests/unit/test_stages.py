"""The stages as one ordered list of modules: its order and defaults, each stage's metrics as its
records show them, and the plans of shipped matrices, pinned (a change to what a stage plans must
change `tests/unit/data/plans.json` on purpose: IREE_MATRIX_PIN_PLANS=1 rewrites it)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError
from iree_matrix.core.hashing import digest
from iree_matrix.core.model.results import ResultsLog
from iree_matrix.execution.execute import Executor
from iree_matrix.iree import targets
from iree_matrix.matrix import spec_file
from iree_matrix.matrix.plan import Plan

REPO = Path(__file__).resolve().parents[2]
PINS = Path(__file__).parent / "data" / "plans.json"
PINNED = ("smoke", "bench", "runtime-source", "cortex-m", "armv6")


def test_the_stages_in_pipeline_order_with_their_timeouts():
    """Read from the registry, not a list kept here: a new stage module changes none of this."""
    found = stages.ordered()
    assert [s.rank for s in found] == sorted({s.rank for s in found})  # by rank, none shared
    assert stages.names() == tuple(s.name for s in found)
    # every plan's stages, in this order; any other stage plans only when a matrix asks for it
    assert [s.name for s in found if not s.optional] == ["install", "export", "compile", "run"]
    assert stages.names().index("runtime-build") < stages.names().index("install")  # it provides runs' tools
    assert all(s.timeout > 0 for s in found) and stages.get("runtime-build").timeout == 3600.0
    assert {"export", "run", "peer", "dispatches", "peak"} <= {s.name for s in found if s.exclusive}
    assert not {"install", "compile", "flops"} & {s.name for s in found if s.exclusive}


def test_an_unknown_stage_in_timeouts_is_one_line_naming_the_key(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
                    'models = "tiny_cnn"\n\n[timeouts]\nbuild = 10\n')  # fmt: skip
    with pytest.raises(SpecError) as info:
        stages.plan(spec_file.load(path))
    assert str(info.value).startswith(f"{path}: unknown key 'timeouts.build' (known: compile, dispatches,")


# What the executor adds to any stage's metrics (execute.py): the CPU other programs took, the load
# average and the hypervisor's steal around a timed stage, and which job's stored result a record reuses.
_EVERY_STAGE = {*Executor.TIMING_CONTEXT, "same_result_as"}


@pytest.mark.parametrize("results", sorted(REPO.glob("results/**/results.jsonl")), ids=str)
def test_every_published_metric_is_one_its_stage_declares(results: Path):
    declared = {s.name: set(s.metrics) | _EVERY_STAGE for s in stages.ordered()}
    for record in ResultsLog(results):
        if record.stage in declared:  # (an old log's own stage, e.g. armv6's "toolchain", is its own)
            undeclared = set(record.metrics) - declared[record.stage]
            assert not undeclared, (
                f"{record.job}: {sorted(undeclared)} not in the {record.stage} stage's metrics"
            )


def _pin(the_plan: Plan) -> dict:
    jobs = [
        {**dataclasses.asdict(job), "labels": dict(job.labels)}  # every field: ids, deps, labels, env
        for job in the_plan.jobs
    ]
    return {"jobs": [" ".join([job.id, *(["<-", *job.deps] if job.deps else [])]) for job in the_plan.jobs],
            "sha256": digest(jobs)}  # fmt: skip


@pytest.mark.skipif(targets.host_arch() != "x86_64", reason="the pins were planned on x86_64")
def test_the_plans_of_shipped_matrices_are_pinned():
    got = {name: _pin(stages.plan(spec_file.load(REPO / "matrix" / f"{name}.toml"))) for name in PINNED}
    if os.environ.get("IREE_MATRIX_PIN_PLANS"):
        PINS.write_text(json.dumps(got, indent=1) + "\n")
    pinned = json.loads(PINS.read_text())
    for name in PINNED:
        assert got[name]["jobs"] == pinned[name]["jobs"], name
        assert got[name]["sha256"] == pinned[name]["sha256"], (
            f"{name}: same ids and deps, other labels or envs"
        )
