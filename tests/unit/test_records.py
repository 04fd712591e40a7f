"""Records are typed (issue #27): labels and metrics are read through `records.Labels` / `Metrics`,
never by string outside records.py; a label that is not in the schema, or one a stage's jobs must
carry, is an error naming the job and the label; a renamed field is a mypy error at every reader;
one record index (`results.Index`) serves the report, the answers and `query`."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.records import NAMES, LabelError, Labels
from iree_matrix.core.model.results import Index, Record, ResultsLog, Status
from iree_matrix.findings import runs_view
from iree_matrix.matrix import releases, spec_file
from tests.unit.builders import STAGE_LABELS, stage_labels

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "iree_matrix"
VIEW = SRC / "core" / "model" / "records.py"

# A label read by its name as a string: `r.labels.get("model")`, `job.labels['arch']`, `x.labels.get(name)`,
# `labels["compiler"]` after `labels = r.labels`, and the `_label(record, "model")` helpers there were.
# (Docker's image labels, `labels.get(f"{LABEL}.manifest")`, are not a record's: an f-string key.)
STRING_ACCESS = re.compile(
    r"""\.labels\s*(?:\.get\(|\[)"""  # any key, through a record's or a job's `.labels`
    r"""|\blabels\s*(?:\.get\(\s*|\[\s*)["']"""  # a literal key on a `labels` alias
    r"""|\bdef _label\(|\b_label\(\w+, ["']"""
)


def _string_accesses(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if STRING_ACCESS.search(line)]


def test_the_pattern_finds_every_kind_of_string_access():
    found = _string_accesses(
        'a = r.labels.get("model")\nb = job.labels["arch"]\nc = x.labels.get(name)\n'
        "d = labels['compiler']\ndef _label(record, name):\ne = _label(r, \"model\")\n"
        'f = r.label.model\ng = image_labels.get(f"{LABEL}.manifest", "{}")\n'
    )
    assert len(found) == 6 and not any(line.startswith(("f =", "g =")) for line in found)


def test_no_label_is_read_by_string_outside_the_typed_view():
    offenders = [
        f"{path.relative_to(ROOT)}: {line}"
        for path in sorted(SRC.rglob("*.py"))
        if path != VIEW
        for line in _string_accesses(path.read_text())
    ]
    assert not offenders, "read labels through Record.label / Job.label (records.Labels):\n" + "\n".join(
        offenders
    )


# A record's metrics read by name: `r.metrics.get("latency_ms")`, `r.metrics["module_sha256"]`, and
# `m = r.metrics`.
METRICS_ACCESS = re.compile(r"\.metrics\s*(?:\.get\(|\[)|= \w+(?:\.\w+)*\.metrics\b|\.metrics if\b")
# Left as they are, each read by the module that writes it: the armv6 hello world's toolchain record
# (armv6_smoke.py), and the export's digests as the stages after it read them (stages/artifacts.py,
# beside the export's files: the stage modules own their metrics).
METRICS_KEPT = {
    "tasks/pi_zero_session.py": ["m = record.metrics"],
    "stages/artifacts.py": ["value = export.record.metrics.get(metric)"],
}


def test_no_metric_is_read_by_string_outside_the_typed_view():
    assert METRICS_ACCESS.search('x = r.metrics.get("latency_ms")') and METRICS_ACCESS.search("m = r.metrics")
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        name = str(path.relative_to(SRC))
        kept = METRICS_KEPT.get(name, [])
        lines = [ln.strip() for ln in path.read_text().splitlines() if METRICS_ACCESS.search(ln)]
        offenders += [f"{name}: {line}" for line in lines if path != VIEW and line not in kept]
    assert not offenders, "read metrics through Record.metric.of(<the stage>Metrics):\n" + "\n".join(
        offenders
    )


# --- the view ------------------------------------------------------------------------------------


def test_a_missing_required_label_names_the_job_and_the_label():
    labels = {"model": "tiny_cnn", "source_model": "tiny_cnn", "function": "main", "python": "3.11",
              "torch": "2.13.0", "turbine": "3.9.0", "exporter": "e", "arch": "x86_64", "profile": "default",
              "runtime": "3.9.0"}  # fmt: skip
    job = "run:tiny_cnn/e/iree3.9.0/x86_64/default"
    with pytest.raises(LabelError) as caught:
        stage_labels(labels, job, "run")
    assert str(caught.value).startswith(f"{job}: no label 'compiler', which every run record carries")
    assert stage_labels({**labels, "compiler": "3.9.0"}, job, "run").compiler == "3.9.0"


def test_a_label_the_schema_does_not_know_names_the_job_and_the_label():
    with pytest.raises(
        LabelError, match=r"^run:m/x: unknown label 'compiler_version' \(the labels are model,"
    ):
        Labels.of({"model": "m", "compiler_version": "3.9.0"}, job="run:m/x")
    record = Record("run:m/x", "run", "m/x", "k", Status.OK, {"model": "m", "compilr": "3.9.0"})
    with pytest.raises(LabelError, match="'compilr'"):
        record.label  # noqa: B018 - the view is built on first read


def test_a_renamed_label_in_a_log_is_a_warning_naming_it_not_a_blank_cell(tmp_path, capsys):
    good = Record(
        "run:m/a", "run", "m/a", "k", Status.OK, {"model": "m", "compiler": "3.9.0", "runtime": "3.9.0"}
    )
    renamed = json.loads(good.to_json())
    renamed.update(job="run:m/b", labels={"model": "m", "iree_compiler": "3.9.0", "runtime": "3.9.0"})
    log = tmp_path / "results.jsonl"
    log.write_text(good.to_json() + "\n" + json.dumps(renamed) + "\n")
    assert [r.job for r in ResultsLog(log)] == ["run:m/a"]
    err = capsys.readouterr().err
    assert "results.jsonl:2: malformed record (LabelError: run:m/b: unknown label 'iree_compiler'" in err


def test_labels_round_trip_and_name_the_runtime_as_the_tables_do():
    labels = Labels(model="m", compiler="3.9.0", runtime="src:3.9.0+static", device="local-sync")
    assert Labels.of(labels.as_dict()) == labels
    assert labels.run_runtime == "src:3.9.0+static (local-sync)"
    assert Labels(runtime="dir:/opt/armv6-runtime").run_runtime == "source build armv6-runtime"


def test_metrics_are_typed_figures():
    metrics = {"latency_ms": {"median": 2.0, "min": 1.5, "max": 3.0, "n": 5}, "eager_ms": 4.0,
               "other_load": 0.1, "module_bytes": 2048, "module_sha256": "a" * 64,
               "timing": "emulated (qemu)", "max_abs_err": "x",
               "module_versions": {"bytecode": 15, "hal": 6}}  # fmt: skip
    metric = Record("run:m", "run", "m", "k", Status.OK, {}, metrics).metric
    m = metric.of(RunMetrics)
    assert m.latency is not None and (m.latency_median, m.latency.low, m.latency.high) == (2.0, 1.5, 3.0)
    assert (m.other_load, m.module_bytes) == (0.1, 2048.0)
    assert m.module_sha256 == "a" * 64 and m.outputs_sha256 is None
    assert m.emulated and m.max_abs_err is None  # text where a number belongs: unknown, not a crash
    exported = metric.of(ExportMetrics)  # each stage's figures by its own dataclass
    assert exported.eager is not None and (exported.eager_median, exported.eager.low) == (4.0, None)
    assert metric.of(CompileMetrics).module_versions == {"bytecode": "15", "hal": "6"}


# What the package index held when the published sets were planned (their releases.json files: the
# record of every selector's meaning), and shark-turbine, which only history-exporters.toml names and
# no published releases.json lists (its releases 0.9.3 and 2.4.1, PyPI's `shark-turbine`).
EXTRA_RELEASES = {"shark-turbine": {"0.9.2", "0.9.3", "2.4.1"}}
# A shipped matrix that cannot be planned by this test, with why; none today. Every other one must plan.
CANNOT_PLAN: dict[str, str] = {}
# A stage no shipped matrix plans yet, with where its jobs' labels are held to STAGE_LABELS instead.
SHIPPED_MATRICES = sorted((ROOT / "matrix").glob("*.toml"))


def _published_index():
    versions: dict[str, set[str]] = {k: set(v) for k, v in EXTRA_RELEASES.items()}
    for found in sorted((ROOT / "results").rglob("releases.json")):
        for package, entry in json.loads(found.read_text()).get("packages", {}).items():
            versions.setdefault(package, set()).update(entry.get("versions", []))

    def query(package: str, python: str) -> releases.Releases:
        return releases.Releases(
            package, releases.final_releases(sorted(versions[package])), "2026-11-23T00:00:00+00:00"
        )

    return query


@functools.cache
def _planned_stages(path: Path) -> frozenset[str]:
    """The stages of a shipped matrix's plan, each job's labels checked against its stage's schema.
    Cached: the test of the union asks again for what the per-file tests planned."""
    matrix = spec_file.load(path, resolver=releases.Resolver(None, query=_published_index()))
    jobs = stages.plan(matrix, runtime_dirs={"armv6": "/opt/armv6-runtime"}).jobs
    for job in jobs:
        stage_labels(job.labels, job.id, job.stage)
    return frozenset(job.stage for job in jobs)


@pytest.mark.parametrize("path", SHIPPED_MATRICES, ids=lambda p: p.name)
def test_every_shipped_matrix_plans_and_gives_each_job_its_stage_s_labels(path):
    if path.name in CANNOT_PLAN:
        pytest.skip(f"{path.name}: {CANNOT_PLAN[path.name]}")
    assert _planned_stages(path), f"{path.name} plans no job"


def test_the_shipped_matrices_together_plan_every_stage():
    plannable = [p for p in SHIPPED_MATRICES if p.name not in CANNOT_PLAN]
    seen = set().union(*(_planned_stages(p) for p in plannable))
    assert set(STAGE_LABELS) <= seen, sorted(set(STAGE_LABELS) - seen)
    assert len(plannable) == len(SHIPPED_MATRICES) - len(CANNOT_PLAN) >= 38


# --- one index -----------------------------------------------------------------------------------


def _run(job: str, compiler: str, runtime: str, *, profile: str = "default", arch: str = "x86_64",
         finished: str = "2026-11-23T10:00:00") -> Record:  # fmt: skip
    labels = {"model": "m", "exporter": "e", "compiler": compiler, "runtime": runtime, "profile": profile,
              "arch": arch}  # fmt: skip
    return Record(job, "run", job.split(":", 1)[1], "k", Status.OK, labels, finished=finished)


def test_one_index_serves_the_answers_scope_and_the_document():
    records = [
        _run("run:a", "3.9.0", "3.9.0"),
        _run("run:b", "3.9.0", "3.9.0", profile="fast"),
        _run("run:c", "3.9.0", "3.9.0", arch="aarch64"),
        _run("run:renamed", "3.9.0", "3.9.0", finished="2026-11-23T11:00:00"),  # same labels as run:a, newer
    ]
    index = Index.of(records)
    assert len(index.runs) == 3  # one per (model, exporter, profile, arch, compiler, runtime)
    assert index.runs[("m", "e", "default", "x86_64", "3.9.0", "3.9.0")].job == "run:renamed"
    scoped = runs_view.Runs(index)
    assert list(scoped.by_cell) == [("m", "e", "3.9.0", "3.9.0")] and scoped.by_job is index.by_job
    assert list(runs_view.Runs(index, profile="fast").by_cell.values())[0].job == "run:b"
    assert list(runs_view.Runs(index, arch="aarch64").by_cell.values())[0].job == "run:c"
    assert runs_view.Runs.of(records).by_cell == scoped.by_cell


def test_every_label_the_schema_has_is_a_field():
    assert NAMES == tuple(Labels.__dataclass_fields__)
    assert all(set(needed) <= set(NAMES) for needed in STAGE_LABELS.values())


def test_one_walk_finds_what_a_not_run_cell_waits_on():
    def rec(job: str, status: Status, blocked_by: str | None = None) -> Record:
        return Record(job, job.split(":")[0], job, "k", status, {"model": "m"}, blocked_by=blocked_by)

    run = rec("run:a", Status.NOT_RUN, "compile:a")
    compile_ = rec("compile:a", Status.NOT_RUN, "install:c")
    install = rec("install:c", Status.FAIL)
    index = Index.of([run, compile_, install])
    assert index.cause(run) is install and index.root_blocker(run) == "install:c"
    without = Index.of([run, compile_])  # the install's record is not in this log
    assert without.cause(run) is compile_ and without.root_blocker(run) == "install:c"
    assert index.root_blocker(install) == "" and index.cause(install) is install
