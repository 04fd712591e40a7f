"""Unit tests for the COMPATIBILITY.md renderer, on hand-built records (no IREE, no torch)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.report import render_compatibility, write_compatibility

EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"
REFUSAL = (
    "c/runtime/src/iree/vm/bytecode/verifier.c:184: INVALID_ARGUMENT; bytecode version mismatch; "
    "runtime supports 17.0, module has 15.0; loading bytecode module at 'm.vmfb'; loading modules "
    "and dependencies; creating run context"
)
PIP_FAILURE = (
    "ERROR: Cannot install iree-base-runtime==3.13.0 | numpy>=3 because these package versions "
    "have conflicting dependencies.\n"
    "The conflict is caused by:\n"
    "    iree-base-runtime 3.13.0 depends on numpy | python<3.14"
)
HOST = {"machine": "x86_64", "cpu": "Test CPU", "system": "Linux", "python": "3.11.7"}


def _labels(model: str, compiler: str = "", runtime: str = "") -> dict[str, str]:
    labels = {
        "model": model,
        "python": "3.11",
        "torch": "2.13.0",
        "turbine": "3.9.0",
        "exporter": EXPORTER,
    }
    if compiler:
        labels.update(compiler=compiler, arch="x86_64", profile="default")
    if runtime:
        labels["runtime"] = runtime
    return labels


def _cell(model: str, compiler: str = "", runtime: str = "") -> str:
    parts = [model, EXPORTER]
    if compiler:
        parts += [f"iree{compiler}", "x86_64", "default"]
    if runtime:
        parts.append(f"rt{runtime}")
    return "/".join(parts)


def _record(stage: str, status: Status, labels: dict[str, str], cell: str, **kw: Any) -> Record:
    kw.setdefault("finished", "2025-01-01T00:00:00+00:00")
    return Record(
        job=f"{stage}:{cell}",
        stage=stage,
        cell=cell,
        key="" if status is Status.NOT_RUN else f"k-{stage}-{cell}",
        status=status,
        labels=labels,
        host=HostIdentity.of(HOST),
        **kw,
    )


def export(model: str, status: Status = Status.OK, **kw: Any) -> Record:
    kw.setdefault("metrics", {"seconds": 3.2, "mlir_bytes": 2_500_000, "eager_ms": {"median": 42.0, "n": 5}})
    return _record("export", status, _labels(model), _cell(model), **kw)


def compile_(model: str, compiler: str, status: Status = Status.OK, **kw: Any) -> Record:
    kw.setdefault("metrics", {"seconds": 4.21, "module_bytes": 3_250_000})
    return _record("compile", status, _labels(model, compiler), _cell(model, compiler), **kw)


def run(model: str, compiler: str, runtime: str, status: Status = Status.OK, **kw: Any) -> Record:
    labels = _labels(model, compiler, runtime)
    return _record("run", status, labels, _cell(model, compiler, runtime), **kw)


def install(env_id: str, kind: str, status: Status = Status.OK, **kw: Any) -> Record:
    labels = {"env": env_id, "kind": kind, "python": "3.11"}
    return _record("install", status, labels, env_id, **kw)


def latency(median: float) -> dict[str, Any]:
    return {"latency_ms": {"median": median, "min": median, "max": median, "stdev": 0.0, "n": 5}}


MOBILENET = "mobilenet_v2"
RESNET = "resnet18"
COMPILE_ERROR = (
    "iree-compile: loading model.mlir\n"
    "model.mlir:12:3: error: failed to legalize operation 'torch.aten.foo'\n"
    "note: see current operation"
)


def fixture_records() -> list[Record]:
    export_job = f"export:{_cell(RESNET)}"
    compile_job_313 = f"compile:{_cell(MOBILENET, '3.13.0')}"
    return [
        install("py3.11-iree-compiler3.9.0", "compiler", env={"packages": {"a": "1", "b": "2"}}),
        install(
            "py3.11-iree-runtime3.13.0",
            "runtime",
            Status.FAIL,
            error_class="resolve",
            message=PIP_FAILURE,
        ),
        export(MOBILENET),
        # 3.4.0: compiles, numerically wrong on its own runtime, refused by the 3.9.0 runtime.
        compile_(MOBILENET, "3.4.0"),
        run(
            MOBILENET,
            "3.4.0",
            "3.4.0",
            Status.MISMATCH,
            metrics={**latency(15.0), "max_abs_err": 0.031, "max_rel_err": 0.2, "atol": 1e-3},
            error_class="mismatch",
            message="outputs differ from torch: max abs err 3.1e-02 > atol 1.0e-03",
        ),
        run(
            MOBILENET,
            "3.4.0",
            "3.9.0",
            Status.FAIL,
            error_class="incompatible-module",
            message="Traceback (most recent call last):\n  File 'run.py', line 3\n" + REFUSAL,
        ),
        # 3.9.0: an old failure, then a newer green run for the same job.
        compile_(MOBILENET, "3.9.0"),
        run(
            MOBILENET,
            "3.9.0",
            "3.9.0",
            Status.FAIL,
            metrics=latency(99.9),
            error_class="run-error",
            message="stale failure from an older campaign",
            finished="2024-06-01T00:00:00+00:00",
        ),
        run(MOBILENET, "3.9.0", "3.9.0", metrics=latency(12.34)),
        # 3.13.0: the compiler fails, so its run is not run.
        compile_(
            MOBILENET,
            "3.13.0",
            Status.FAIL,
            metrics={},
            error_class="compile-error",
            message=COMPILE_ERROR,
        ),
        run(
            MOBILENET,
            "3.13.0",
            "3.13.0",
            Status.NOT_RUN,
            blocked_by=compile_job_313,
            message=f"blocked by {compile_job_313}",
        ),
        # resnet18: the export fails, everything after it is not run.
        export(
            RESNET,
            Status.FAIL,
            metrics={},
            error_class="export-error",
            message="torch._dynamo.exc.Unsupported: data-dependent | control flow\nin forward()",
        ),
        compile_(RESNET, "3.9.0", Status.NOT_RUN, metrics={}, blocked_by=export_job),
        run(RESNET, "3.9.0", "3.9.0", Status.NOT_RUN, blocked_by=export_job),
    ]


def table_after(markdown: str, heading: str, nth: int = 0) -> list[dict[str, str]]:
    """The nth GitHub table after `heading`, as one dict per row keyed by the header cells."""
    lines = markdown.splitlines()
    start = [i for i, line in enumerate(lines) if line == heading][nth]
    table_lines = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table_lines.append(line)
        elif table_lines:
            break
    header, _, *rows = (split_row(line) for line in table_lines)
    return [dict(zip(header, row)) for row in rows]


def split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [cell.strip() for cell in cells]


@pytest.fixture(scope="module")
def markdown() -> str:
    return render_compatibility(fixture_records())


def test_green_run_shows_latency_under_its_compiler_column(markdown: str) -> None:
    (row,) = table_after(markdown, f"### {MOBILENET}")
    assert row["exporter"] == EXPORTER
    assert row["3.9.0"] == "✅ 12.3 ms"


def test_compile_failure_and_mismatch_cells(markdown: str) -> None:
    (row,) = table_after(markdown, f"### {MOBILENET}")
    assert row["3.13.0"].startswith("❌ compile [F")
    assert row["3.4.0"].startswith("⚠️ run (max err 3.1e-02)")


def test_compiler_columns_sort_numerically(markdown: str) -> None:
    lines = markdown.splitlines()
    header = lines[lines.index(f"### {MOBILENET}") + 4]
    assert split_row(header) == ["exporter", "3.4.0", "3.9.0", "3.13.0"]


def test_profile_and_arch_go_to_the_heading_line_when_single(markdown: str) -> None:
    lines = markdown.splitlines()
    assert lines[lines.index(f"### {MOBILENET}") + 2].startswith("profile `default`, arch `x86_64`.")


def test_failed_export_fills_every_column(markdown: str) -> None:
    (row,) = table_after(markdown, f"### {RESNET}")
    assert row["exporter"] == EXPORTER
    assert row["3.9.0"].startswith("❌ export [F")


def test_baseline_and_compile_stats(markdown: str) -> None:
    assert f"- torch eager: 42.0 ms ({EXPORTER}; export 3.20 s, MLIR 2.38 MiB)" in markdown
    (stats,) = table_after(markdown, "Compile time and module size:")
    assert stats["3.4.0"] == "4.21 s, 3.10 MiB"
    assert stats["3.13.0"] == ""


def test_newer_record_overrides_older(markdown: str) -> None:
    assert "99.9" not in markdown
    assert "stale failure" not in markdown


def test_load_table_shows_refusal_reason(markdown: str) -> None:
    rows = {row["compiler ↓ runtime →"]: row for row in table_after(markdown, f"### {MOBILENET}", 1)}
    assert list(rows) == ["3.4.0", "3.9.0", "3.13.0"]
    refused = rows["3.4.0"]["3.9.0"]
    # A cross cell's refusal is an answer: its own mark and its own number (R…), never ❌ or F….
    assert refused.startswith("🚫 bytecode version mismatch; runtime supports 17.0, module has 15.0 [R1]")
    assert "loading bytecode module" not in refused
    assert rows["3.4.0"]["3.4.0"].startswith("⚠️ loads, mismatch")
    assert rows["3.9.0"]["3.9.0"] == "✅ loads"
    assert rows["3.9.0"]["3.4.0"] == ""  # not in the matrix
    assert rows["3.13.0"]["3.13.0"].startswith("⛔ compile [F")


def test_combined_load_table_aggregates_models(markdown: str) -> None:
    rows = {row["compiler ↓ runtime →"]: row for row in table_after(markdown, "### All models")}
    assert rows["3.4.0"]["3.9.0"] == ("🚫 bytecode version mismatch; runtime supports 17.0, module has 15.0")
    assert rows["3.4.0"]["3.4.0"] == "⚠️ loads, mismatch"
    assert rows["3.9.0"]["3.9.0"] == "✅ loads"  # resnet18 never ran, so it does not count
    assert rows["3.13.0"]["3.13.0"] == "⛔ not run"


def test_failures_section_has_message_in_code_block(markdown: str) -> None:
    failures = markdown.split("## Failures and their reasons", 1)[1].split("## Can runtime", 1)[0]
    assert "compile ❌ fail (`compile-error`)" in failures
    assert "```text\n" + COMPILE_ERROR + "\n```" in failures
    assert f"`{_cell(MOBILENET, '3.13.0')}`" in failures
    assert "run ⚠️ mismatch (`mismatch`)" in failures
    assert "max abs err 3.1e-02" in failures
    # Messages in code blocks keep their pipes and line breaks verbatim.
    assert "data-dependent | control flow\nin forward()" in failures


def test_refusals_are_listed_apart_from_failures_and_never_called_one(markdown: str) -> None:
    failures = markdown.split("## Failures and their reasons", 1)[1].split("\n## ", 1)[0]
    assert "incompatible-module" not in failures and "bytecode version mismatch" not in failures
    refused = markdown.split("## Refusals and the runtimes' reasons", 1)[1].split("\n## ", 1)[0]
    assert "### R1: run 🚫 refused (`incompatible-module`)" in refused
    assert "bytecode version mismatch; runtime supports 17.0" in refused
    assert "What to do" not in refused  # an answer needs no fixing
    assert "❌" not in refused and "fail" not in refused.split("not a failure", 1)[1]


def test_cells_reference_their_failure_number(markdown: str) -> None:
    (row,) = table_after(markdown, f"### {MOBILENET}")
    fid = re.search(r"\[(F\d+)\]", row["3.13.0"]).group(1)
    assert f"### {fid}: compile ❌ fail (`compile-error`)" in markdown


def test_environments_escape_pipes_and_keep_first_line(markdown: str) -> None:
    rows = {row["environment"]: row for row in table_after(markdown, "## Environments")}
    ok = rows["py3.11-iree-compiler3.9.0"]
    assert (ok["status"], ok["packages"]) == ("✅ ok", "2")
    failed = rows["py3.11-iree-runtime3.13.0"]
    assert failed["status"] == "❌ fail"
    assert failed["note"].startswith(r"ERROR: Cannot install iree-base-runtime==3.13.0 \| numpy>=3")
    assert "conflict is caused" not in failed["note"]


def test_every_table_row_has_as_many_columns_as_its_header(markdown: str) -> None:
    widths: list[int] = []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            widths.append(len(split_row(line)))
        elif widths:
            assert len(set(widths)) == 1, widths
            widths = []
    assert markdown.count("|---") >= 6


def test_header_legend_and_generation_note(markdown: str) -> None:
    assert markdown.startswith("# IREE compatibility matrix\n")
    assert "⚠️ mismatch" in markdown and "⛔ not run" in markdown
    assert "by `nox -s report`" in markdown
    assert "13 records (the newest per job, of 14 in the log)" in markdown
    # The CPU identity as a reader names it (a fixture host lacks family / model: a legacy identity).
    assert "hosts: Test CPU (family/model not recorded) (x86_64, Linux)" in markdown


def test_missing_metrics_and_seconds_switch() -> None:
    records = [
        export("tiny", metrics={}),
        compile_("tiny", "3.9.0", metrics={}),
        run("tiny", "3.9.0", "3.9.0", metrics=latency(1234.0)),
        compile_("tiny", "3.10.0", metrics={}),
        run("tiny", "3.10.0", "3.10.0", metrics={}),
    ]
    (row,) = table_after(render_compatibility(records), "### tiny")
    assert (row["3.9.0"], row["3.10.0"]) == ("✅ 1.23 s", "✅ run")


def test_long_message_is_trimmed_around_the_first_error() -> None:
    noise = [f"note: pass {i}" for i in range(30)]
    message = "\n".join([*noise, "foo.mlir:1:1: error: boom", *noise])
    records = [compile_("tiny", "3.9.0", Status.FAIL, message=message, error_class="x")]
    markdown = render_compatibility(records)
    assert "… (29 lines omitted)\nnote: pass 29\nfoo.mlir:1:1: error: boom\nnote: pass 0" in markdown
    assert "… (17 more lines omitted)" in markdown
    assert "note: pass 28\n" not in markdown


def test_identical_messages_are_shown_once() -> None:
    records = [
        compile_(m, "3.9.0", Status.FAIL, message=COMPILE_ERROR, error_class="compile-error")
        for m in ("a", "b")
    ]
    markdown = render_compatibility(records)
    assert markdown.count(COMPILE_ERROR) == 1
    assert f"Affects 2 cells: `{_cell('a', '3.9.0')}`, `{_cell('b', '3.9.0')}`." in markdown


@pytest.mark.parametrize("create", [False, True])
def test_write_compatibility_without_results(tmp_path, create: bool) -> None:
    results = tmp_path / "results.jsonl"
    if create:
        results.write_text("")
    with pytest.raises(UserError, match="no results yet; run `nox -s matrix` first"):
        write_compatibility(results, tmp_path / "COMPATIBILITY.md")
    assert not (tmp_path / "COMPATIBILITY.md").exists()


def test_profile_gets_a_column_when_it_varies() -> None:
    fast = _labels("tiny", "3.9.0", "3.9.0") | {"profile": "fast"}
    records = [
        run("tiny", "3.9.0", "3.9.0", metrics=latency(5.0)),
        _record("run", Status.OK, fast, "tiny/fast", metrics=latency(2.5)),
    ]
    markdown = render_compatibility(records)
    rows = {row["profile"]: row for row in table_after(markdown, "### tiny")}
    assert (rows["default"]["3.9.0"], rows["fast"]["3.9.0"]) == ("✅ 5.00 ms", "✅ 2.50 ms")
    assert "arch `x86_64`. Rows:" in markdown


def test_emulated_board_runs_are_marked_and_a_runtime_directory_counts_as_the_boards_runtime() -> None:
    board = "aarch64-cortex-a72"

    def on_board(record: Record, runtime: str = "") -> Record:
        labels = {**record.labels, "arch": board}
        cell = record.cell.replace("/x86_64/", f"/{board}/")
        return dataclasses.replace(record, labels=labels, cell=cell, job=f"{record.stage}:{cell}")

    emulated = {**latency(7400.0), "timing": "emulated (qemu-user, cortex-a72)"}
    user_runtime = run("tiny", "3.9.0", "dir:/opt/armv6-runtime", metrics=emulated)
    records = [
        export("tiny"),
        compile_("tiny", "3.9.0"),
        run("tiny", "3.9.0", "3.9.0", metrics=latency(12.3)),
        on_board(compile_("tiny", "3.9.0")),
        on_board(user_runtime),
    ]
    text = render_compatibility(records)
    assert "✅ 12.3 ms |" in text or "✅ 12.3 ms " in text
    assert "✅ 7.40 s (emulated)" in text
    assert "12.3 ms (emulated)" not in text


def test_a_runtime_source_is_named_by_its_file_not_by_where_it_lay() -> None:
    from iree_matrix.report.loads import source_name as _source_name

    assert _source_name("/work/somewhere/iree-v3.9.0-runtime-src.tar.xz") == "iree-v3.9.0-runtime-src.tar.xz"
    assert (
        _source_name("git+https://github.com/iree-org/iree@v3.9.0")
        == "git+https://github.com/iree-org/iree@v3.9.0"
    )
