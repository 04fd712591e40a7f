"""One figure per thing (issue #30): no two published latencies of one module on one host (function,
exporter, compiler, runtime, profile, target, CPU) disagree beyond their spreads unless the slower is
marked noisy — in every view, since every view reads the logs through `results_folder.read`. Every published
log checked so: tests/processes/test_one_figure.py (heavy)."""

from __future__ import annotations

from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import runs_view


def _run(median: float, spread: float, started: str, *, cpu: str = "AMD EPYC") -> Record:
    labels = {"model": "m", "exporter": "e", "compiler": "3.13.0", "runtime": "3.13.0", "profile": "default",
              "arch": "x86_64"}  # fmt: skip
    latency = {"median": median, "min": median - spread, "max": median + spread, "n": 5}
    host = {"cpu": cpu, "machine": "x86_64", "cpu_features": ["avx512f"]}
    return Record(f"run:m/{started}", "run", "m", "k", Status.OK, labels, {"latency_ms": latency},
                  started=started, host=HostIdentity.of(host))  # fmt: skip


def test_the_slower_of_two_figures_that_do_not_overlap_is_marked_with_the_other():
    quiet, loaded = _run(19.6, 0.5, "2026-11-23T09:12:27+00:00"), _run(36.9, 3.0, "2026-11-23T03:03:48+00:00")
    marked = {
        r.job: runs_view.timing(r) for r in runs_view.cross_checked([loaded], {"results/bench": [quiet]})
    }
    timing = marked[loaded.job]
    assert timing.noisy
    assert timing.why_noisy().endswith(
        "a quieter measurement of the same module gave 19.6 ms (results/bench, 2026-11-23 09:12 UTC on "
        "AMD EPYC (x86_64))"
    )
    (kept,) = runs_view.cross_checked([quiet], {"results": [loaded]})
    assert not runs_view.timing(kept).noisy  # the quiet one stands
    other_host = _run(36.9, 4.0, "2026-11-23T03:03:48+00:00", cpu="Intel Xeon")
    (alone,) = runs_view.cross_checked([other_host], {"results/bench": [quiet]})
    assert runs_view.timing(alone).disagrees is None  # another CPU: another thing
