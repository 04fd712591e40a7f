"""The performance table from hand-built records (pure logic)."""

from __future__ import annotations

from typing import Any

from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.report.performance import render_performance


def _record(
    stage: str, labels: dict[str, str], metrics: dict[str, Any], status: Status = Status.OK
) -> Record:
    cell = "/".join(labels.values())
    return Record(f"{stage}:{cell}", stage, cell, "k", status, labels, metrics=metrics)


def _lat(ms: float, spread: float = 0.0) -> dict[str, Any]:
    times = [ms - spread, ms - spread / 2, ms, ms + spread / 2, ms + spread]
    return {"latency_ms": {"median": ms, "min": min(times), "max": max(times), "stdev": 0.0, "n": 5}}


def test_each_release_default_beside_each_peer_with_intervals_and_ratios_to_eager() -> None:
    model = {"model": "mobilenet_v2"}
    peer = _record(
        "peer",
        model,
        {
            "peers": {
                "eager": {"status": "ok", **_lat(40.0, 4.0)},
                "torch_compile": {"status": "ok", **_lat(20.0)},
                "onnxruntime": {"status": "fail", "error": {"phase": "convert", "message": "boom"}},
                "tflite": {"status": "mismatch", **_lat(10.0)},
            }
        },
    )
    own = {"timing": "native"}
    runs = [
        _record("run", {**model, "compiler": "3.9.0", "runtime": "3.9.0", "profile": "default"},
                {**_lat(80.0, 8.0), **own}),
        _record("run", {**model, "compiler": "3.13.0", "runtime": "3.13.0", "profile": "default"},
                {**_lat(60.0), **own}),
        # Not the default profile: the flag search's business, not this table's (no best-of-many pick).
        _record("run", {**model, "compiler": "3.13.0", "runtime": "3.13.0", "profile": "O2"},
                {**_lat(30.0), **own}),
        # A cross-version run and an emulated one never enter it, however small.
        _record("run", {**model, "compiler": "3.9.0", "runtime": "3.13.0", "profile": "default"},
                {**_lat(2.0), **own}),
        _record("run", {**model, "compiler": "3.9.0", "runtime": "3.9.0", "profile": "x"},
                {**_lat(1.0), "timing": "emulated (qemu)"}),
    ]  # fmt: skip
    text = "\n".join(render_performance([peer, *runs]))
    assert "| model        | IREE 3.9.0" in text and "IREE 3.13.0" in text
    row = next(line for line in text.splitlines() if line.startswith("| mobilenet_v2"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == [
        "mobilenet_v2",
        "80.0 ms (72.0 ms–88.0 ms, 2.00×)",
        "60.0 ms (60.0 ms–60.0 ms, 1.50×)",
        "40.0 ms (36.0 ms–44.0 ms, 1.00×)",
        "20.0 ms (20.0 ms–20.0 ms, 0.50×)",
        "❌ convert",
        "⚠️ 10.0 ms (10.0 ms–10.0 ms, 0.25×)",
    ]


def test_no_peer_results_no_section() -> None:
    run = _record("run", {"model": "m", "compiler": "3.9.0", "profile": "default"}, _lat(5.0))
    assert render_performance([run]) == []


HOST = {"cpu": "Intel(R) Xeon(R) Processor", "identity": "x86_64|GenuineIntel|6|167|1|fc7df03f53a7dec4|2"}


def test_kernels_across_releases_with_the_regression_beyond_noise() -> None:
    from iree_matrix.report.sections.ops_across_releases import render_ops

    def cell(version: str, ms: float) -> list[Record]:
        labels = {"model": "ops.softmax", "exporter": "py3.11-torch2.13.0-turbine3.9.0", "compiler": version,
                  "runtime": version, "arch": "x86_64", "profile": "default"}  # fmt: skip
        name = f"ops.softmax/iree{version}"
        size = {"module_bytes": 1000}
        compiled = Record(f"compile:{name}", "compile", name, "k", Status.OK, labels, size)
        timed = {**_lat(ms, ms * 0.02), "other_load": 0.0}
        ran = Record(
            f"run:{name}", "run", name, "k", Status.OK, labels, timed, finished="2026-11-23T05:00:00+00:00",
            # a timing decides a regression only as a figure of one identified CPU
            host=HostIdentity.of(HOST),
        )  # fmt: skip
        return [compiled, ran]

    records = [*cell("3.9.0", 48.0), *cell("3.10.0", 46.5), *cell("3.11.0", 518.0), *cell("3.12.0", 489.0)]
    text = "\n".join(render_ops(records))
    row = next(line for line in text.splitlines() if line.startswith("| ops.softmax"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "ops.softmax",
        "48.0 ms",
        "46.5 ms",
        "518 ms",
        "489 ms",
    ]
    assert "**ops.softmax** 3.10.0 → 3.11.0: 11.14× slower" in text
    assert "measured 2026-11-23" in text
    assert render_ops(records[:6]) == []  # three releases: not a row yet


def test_builds_for_another_cpu_beside_the_hosts_own() -> None:
    from iree_matrix.report.performance import render_other_cpus

    model = {"model": "mobilenet_v2"}
    peer = _record("peer", model, {"peers": {"eager": {"status": "ok", **_lat(40.0)}}})
    own = {"timing": "native"}

    def run(compiler: str, profile: str, ms: float) -> Record:
        labels = {**model, "compiler": compiler, "runtime": compiler, "profile": profile}
        return _record("run", labels, {**_lat(ms), **own})

    records = [peer, run("3.9.0", "default", 20.0), run("3.9.0", "avx2", 180.0),
               run("3.13.0", "default", 19.0), run("3.13.0", "avx2", 38.0),
               run("3.13.0", "O2", 10.0)]  # fmt: skip
    text = "\n".join(render_other_cpus(records))
    assert "IREE 3.9.0 `avx2` (x86-64-v3)" in text and "IREE 3.13.0 `avx2` (x86-64-v3)" in text
    row = next(line for line in text.splitlines() if line.startswith("| mobilenet_v2"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "mobilenet_v2",
        "180 ms (9.00×)",
        "38.0 ms (2.00×)",
    ]
    assert "O2" not in text  # host-CPU profiles are the search's business
    assert render_other_cpus([peer, run("3.9.0", "default", 20.0)]) == []
