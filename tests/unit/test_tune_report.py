"""The flag-search (tune) and top-dispatches sections of the performance report (pure logic)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.report.sections.dispatches import render_dispatches
from iree_matrix.report.sections.tune import render_tune

MODEL = "tiny_cnn"


def _record(
    stage: str,
    labels: dict[str, str],
    metrics: dict[str, Any],
    status: Status = Status.OK,
    error_class: Optional[str] = None,
) -> Record:
    # A same-version run shares its compile's cell, as in the plan.
    cell = f"{labels['model']}/iree{labels['compiler']}/{labels['arch']}/{labels['profile']}"
    if stage != "compile" and labels.get("runtime") != labels["compiler"]:
        cell += f"/rt{labels.get('runtime')}"
    return Record(f"{stage}:{cell}", stage, cell, "k", status, labels, metrics, error_class)


def _labels(profile: str, compiler: str = "3.9.0", runtime: Optional[str] = None) -> dict[str, str]:
    labels = {"model": MODEL, "arch": "x86_64", "compiler": compiler, "profile": profile}
    if runtime is not None:
        labels["runtime"] = runtime
    return labels


def _compiled(profile: str, compiler: str = "3.9.0", **metrics: Any) -> Record:
    return _record("compile", _labels(profile, compiler), {"seconds": 2.0, "module_bytes": 20480, **metrics})


def _ran(profile: str, ms: float, compiler: str = "3.9.0", status: Status = Status.OK) -> Record:
    metrics = {"latency_ms": {"median": ms, "min": ms, "max": ms, "stdev": 0.0, "n": 3}}
    return _record("run", _labels(profile, compiler, compiler), metrics, status)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _rows(text: str, first: str = f"| {MODEL}") -> list[list[str]]:
    return [_cells(line) for line in text.splitlines() if line.startswith(first)]


def _tune_sections(records: list[Record]) -> tuple[list[list[str]], list[list[str]]]:
    """The best-profile table's rows and the every-profile table's rows."""
    best, detail = "\n".join(render_tune(records)).split("### Every profile")
    return _rows(best), _rows(detail)


def _three_profiles(compiler: str = "3.9.0") -> list[Record]:
    return [
        _compiled("default", compiler, peak_memory_bytes=300 * 2**20, dispatch_count=56),
        _ran("default", 10.0, compiler),
        _compiled("generic", compiler),
        _ran("generic", 5.0, compiler),
        _record("compile", _labels("no-data-tiling", compiler), {}, Status.FAIL, error_class="compile-error"),
        _record("run", _labels("no-data-tiling", compiler, compiler), {}, Status.NOT_RUN),
    ]


# --- render_tune ------------------------------------------------------------------------------


def test_tune_best_profile_with_speed_up_against_default():
    best, _ = _tune_sections(_three_profiles())
    assert best == [
        [
            MODEL,
            "x86_64",
            "3.9.0",
            "generic",
            "5.00 ms",
            "10.0 ms",
            "2.00×",
            "no-data-tiling: fail (compile-error)",
        ]
    ]


def test_tune_lists_every_profile_with_its_status_and_costs():
    _, detail = _tune_sections(_three_profiles())
    assert detail == [
        [MODEL, "3.9.0", "default", "ok", "10.0 ms", "20.0 KiB", "2.00 s", "300 MiB", "", "56", ""],
        [MODEL, "3.9.0", "generic", "ok", "5.00 ms", "20.0 KiB", "2.00 s", "", "", "", ""],
        [MODEL, "3.9.0", "no-data-tiling", "fail (compile-error)", "", "", "", "", "", "", ""],
    ]


def test_tune_with_one_profile_renders_nothing():
    records = [_compiled("default"), _ran("default", 10.0), _compiled("default", "3.13.0")]
    assert render_tune(records) == []


def test_tune_without_a_correct_profile_says_none_correct():
    records = [
        _compiled("default"),
        _ran("default", 1.0, status=Status.MISMATCH),
        _compiled("generic"),
        _ran("generic", 2.0, status=Status.MISMATCH),
    ]
    records = [r if r.stage == "compile" else dataclasses.replace(r, error_class="mismatch") for r in records]
    best, _ = _tune_sections(records)
    assert best == [
        [
            MODEL,
            "x86_64",
            "3.9.0",
            "none correct",
            "",
            "",
            "",
            "default: mismatch (mismatch); generic: mismatch (mismatch)",
        ]
    ]


def test_tune_a_skipped_profile_says_why():
    skipped = dataclasses.replace(
        _record("compile", _labels("ukernels"), {}, Status.SKIP),
        message="profile 'ukernels' uses --x, which ...\nmore",
    )
    best, _ = _tune_sections([_compiled("default"), _ran("default", 4.0), skipped])
    assert best[0][3] == "default"
    assert best[0][6] == "1.00×"
    assert best[0][7] == "ukernels: skipped: profile 'ukernels' uses --x, which ..."


def test_tune_orders_compiler_versions_numerically():
    records = _three_profiles("3.13.0") + _three_profiles("3.9.0")
    best, _ = _tune_sections(records)
    assert [row[2] for row in best] == ["3.9.0", "3.13.0"]


# --- render_dispatches ------------------------------------------------------------------------


def _dispatch(ordinal: int, op: str, us: float) -> dict[str, Any]:
    return {
        "name": f"main$async_dispatch_{ordinal}_{op}",
        "op": op,
        "median_us": us,
        "min_us": us,
        "max_us": us,
        "n": 5,
    }


def _profiled(compiler: str, *dispatches: dict[str, Any], runtime: Optional[str] = None) -> Record:
    metrics = {
        "dispatches": list(dispatches),
        "benchmarked": len(dispatches),
        "sum_median_us": sum(d["median_us"] for d in dispatches),
        "not_benchmarked": [],
    }
    return _record("dispatches", _labels("default", compiler, runtime or compiler), metrics)


def _dispatch_table(records: list[Record]) -> tuple[list[str], list[list[str]]]:
    text = "\n".join(render_dispatches(records))
    header = next(line for line in text.splitlines() if line.startswith("| op"))
    return _cells(header), [
        _cells(line) for line in text.splitlines() if line.startswith("| ") and line != header
    ]


def test_dispatches_side_by_side_with_the_ratio_newest_over_oldest():
    records = [
        _profiled("3.13.0", _dispatch(3, "conv_x_f32", 150.0)),
        _profiled("3.9.0", _dispatch(3, "conv_x_f32", 100.0)),
    ]
    header, rows = _dispatch_table(records)
    assert header == ["op", "IREE 3.9.0", "IREE 3.13.0", "ratio"]
    assert rows == [["conv_x_f32", "100.0 µs (d3)", "150.0 µs (d3)", "1.50×"]]
    text = "\n".join(render_dispatches(records))
    assert f"## Top dispatches: {MODEL} (x86_64, profile default)" in text
    assert "IREE 3.9.0: 0.100 ms over 1 executables; IREE 3.13.0: 0.150 ms over 1 executables" in text


@pytest.mark.parametrize(
    "old, new, expected",
    [
        pytest.param(  # matched by op across ordinals
            [(3, "conv_x_f32", 100.0), (4, "add_f32", 10.0)],
            [(7, "add_f32", 5.0), (11, "conv_x_f32", 50.0)],
            [
                ["conv_x_f32", "100.0 µs (d3)", "50.0 µs (d11)", "0.50×"],
                ["add_f32", "10.0 µs (d4)", "5.0 µs (d7)", "0.50×"],
            ],
            id="matched-by-op-across-ordinals",
        ),
        pytest.param(  # an op's repeats are numbered in dispatch order
            [(9, "conv_x_f32", 100.0), (2, "conv_x_f32", 30.0)],
            [(1, "conv_x_f32", 20.0), (5, "conv_x_f32", 200.0)],
            [
                ["conv_x_f32 #2", "100.0 µs (d9)", "200.0 µs (d5)", "2.00×"],
                ["conv_x_f32", "30.0 µs (d2)", "20.0 µs (d1)", "0.67×"],
            ],
            id="repeats-of-an-op-numbered-in-dispatch-order",
        ),
    ],
)
def test_dispatches_pair_ops_across_versions(old, new, expected):
    records = [
        _profiled("3.9.0", *(_dispatch(*d) for d in old)),
        _profiled("3.13.0", *(_dispatch(*d) for d in new)),
    ]
    _, rows = _dispatch_table(records)
    assert rows == expected


def test_dispatches_an_op_one_version_lacks_has_a_dash_and_no_ratio():
    records = [
        _profiled("3.9.0", _dispatch(3, "conv_x_f32", 100.0), _dispatch(4, "old_only_f32", 1.0)),
        _profiled("3.13.0", _dispatch(3, "conv_x_f32", 100.0)),
    ]
    _, rows = _dispatch_table(records)
    assert rows[1] == ["old_only_f32", "1.0 µs (d4)", "—", ""]


def test_dispatches_cross_runtime_records_are_ignored():
    cross = _profiled("3.13.0", _dispatch(3, "cross_only_f32", 999.0), runtime="3.9.0")
    assert render_dispatches([cross]) == []
    header, rows = _dispatch_table([_profiled("3.9.0", _dispatch(3, "conv_x_f32", 100.0)), cross])
    assert header == ["op", "IREE 3.9.0", "ratio"]
    assert rows == [["conv_x_f32", "100.0 µs (d3)", ""]]


def test_dispatches_failed_records_are_ignored():
    failed = _record(
        "dispatches", _labels("default", "3.9.0", "3.9.0"), {}, Status.FAIL, "dispatch-benchmark"
    )
    assert render_dispatches([failed]) == []


def test_dispatches_top_keeps_the_slowest():
    ops = [_dispatch(i, f"op{i}_f32", float(i)) for i in range(1, 13)]
    text = "\n".join(render_dispatches([_profiled("3.9.0", *ops)]))
    rows = [_cells(line) for line in text.splitlines() if line.startswith("| op")][1:]
    assert [row[0] for row in rows] == [f"op{i}_f32" for i in range(12, 2, -1)]  # the ten slowest


def test_tune_a_profile_whose_run_did_not_happen_is_not_reported_ok():
    records = [
        _compiled("default"),
        _ran("default", 10.0),
        _compiled("generic"),
        dataclasses.replace(
            _record("run", _labels("generic", "3.9.0", "3.9.0"), {}, Status.NOT_RUN),
            message="not run because install:py3.11-iree-runtime3.9.0 ended 'fail'",
        ),
    ]
    best, detail = _tune_sections(records)
    assert best[0][3] == "default"
    assert "generic: not run" in best[0][-1]
    generic = next(row for row in detail if row[2] == "generic")
    assert generic[3].startswith("not run")


def test_emulated_runs_get_their_own_section_and_never_the_native_tables():
    from iree_matrix.report.performance import render_all, render_emulated

    emulated = dataclasses.replace(
        _ran("default", 65.0),
        labels={**_labels("default", "3.9.0", "3.9.0"), "arch": "aarch64-cortex-a72"},
        metrics={**_ran("default", 65.0).metrics, "timing": "emulated (qemu-user, cortex-a72)"},
    )
    text = "\n".join(render_emulated([emulated, _ran("default", 1.0)]))
    assert "## Emulated runs" in text
    assert "| tiny_cnn | aarch64-cortex-a72 | 3.9.0  | default   | 65.0 ms" in text
    assert "| 1.00 ms" not in text  # the native run is not in it
    assert render_tune([_compiled("default"), emulated]) == []
    assert "## Emulated runs" in "\n".join(render_all([emulated]))
