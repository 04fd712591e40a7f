"""BOARDS.md's answers (issue #24) from hand-made records: the newest release that runs a function
on a board, a refusal is not the function's reason, devices side by side, vmvx against llvm-cpu,
runtime builds' sizes."""

from __future__ import annotations

from typing import Optional

from iree_matrix.report import boards
from iree_matrix.results import Record, Status

PI0 = "armv6-arm1176jzf-s"


def _run(model: str, compiler: str, runtime: str, status: Status = Status.OK, *, ms: float = 100.0,
         device: Optional[str] = None, profile: str = "default", arch: str = PI0, error: str = "",
         message: str = "") -> Record:  # fmt: skip
    labels = {"model": model, "function": "main", "compiler": compiler, "runtime": runtime, "arch": arch,
              "profile": profile, **({"device": device} if device else {})}  # fmt: skip
    job = f"run:{model}/{compiler}/{arch}/{profile}/{runtime}/{device or ''}"
    metrics = {"latency_ms": {"median": ms}} if status is Status.OK else {}
    return Record(job, "run", job[4:], "k", status, labels, metrics, error or None, message or None)


def test_the_answer_is_the_newest_release_that_ran_and_otherwise_the_functions_own_reason():
    records = [
        _run("tiny_cnn", "3.3.0", "src:3.3.0+static"),
        _run("tiny_cnn", "3.9.0", "src:3.9.0+static"),
        _run("tiny_cnn", "3.13.0", "src:3.13.0+static", Status.FAIL, error="runtime-source",
             message="no runtime source for 3.13.0: pass --iree-source [3.13.0=]PATH"),
        _run("quartznet5x5", "3.9.0", "src:3.9.0+static", Status.FAIL, error="empty-function-call",
             message="19 calls to a function with no code"),
        _run("quartznet5x5", "3.13.0", "src:3.9.0+static", Status.FAIL, error="incompatible-module"),
    ]  # fmt: skip
    rows = dict(
        (unit, (best, others)) for unit, best, others in boards.answer_rows(boards.cells(records), PI0)
    )
    assert rows["tiny_cnn"] == ("3.9.0 on 3.9.0 (built here, static)", "3.3.0")
    best, _ = rows["quartznet5x5"]
    assert best.startswith("none (3.9.0: ❌ empty-function-call 19 calls")  # not 3.13.0's refusal


def test_the_cross_puts_devices_side_by_side_and_vmvx_against_llvm_cpu():
    records = [
        _run("mobilenet_v2", "3.9.0", "src:3.9.0+static", ms=2600.0),
        _run("mobilenet_v2", "3.9.0", "src:3.9.0+static", ms=2500.0, device="local-sync"),
        _run("mobilenet_v2", "3.9.0", "src:3.9.0+static", ms=50000.0, device="local-sync", profile="vmvx"),
    ]
    cells = boards.cells(records)
    headers, rows = boards.cross_table(cells, PI0, "mobilenet_v2")
    assert headers == ["compiler \\ runtime", "3.9.0 (built here, static)"]
    assert rows == [["3.9.0", "✅ 2.60 s · sync ✅ 2.50 s"]]
    (vm,) = boards.vmvx_rows(cells)
    assert vm[-1] == "20.0×" and vm[4] == "local-sync"


def test_runtime_builds_show_sizes_and_a_failed_build_its_own_words():
    ok = Record("runtime-build:src:3.9.0+static+Os/armv6", "runtime-build", "x", "k", Status.OK,
                {"runtime": "src:3.9.0+static+Os", "arch": "armv6", "linkage": "static"},
                {"build_seconds": 60.0, "iree-run-module_bytes": 2 << 20,
                 "iree-run-module_stripped_bytes": 1 << 20, "needed": []})  # fmt: skip
    bad = Record("runtime-build:src:3.3.0/armv6", "runtime-build", "y", "k", Status.FAIL,
                 {"runtime": "src:3.3.0", "arch": "armv6", "linkage": "dynamic"}, {}, "runtime-build",
                 "cpuinfo: error: unsupported")  # fmt: skip
    rows = boards.build_rows([ok, bad])
    assert (
        rows[0][:4] == ["3.3.0", "armv6", "dynamic", "-O3 (Release)"]
        and rows[0][5] == "cpuinfo: error: unsupported"
    )
    assert rows[1][3] == "-Os (MinSizeRel)" and rows[1][5:7] == ["2.00 MiB", "1.00 MiB"]
    assert "Pi Zero" in boards.render_markdown([_run("tiny_cnn", "3.9.0", "src:3.9.0+static"), ok, bad])


def test_peak_memory_is_flagged_against_the_ram_of_the_boards_of_that_cpu():
    def peak(arch: str, mib: int) -> str:
        record = _run("whisper_tiny", "3.13.0", "3.13.0", arch=arch)
        record.metrics["peak_memory_bytes"] = mib * 2**20
        return boards.run_text(record, short=True)

    assert peak(PI0, 400) == "✅ 100 ms (400 MiB)"
    assert peak(PI0, 600).endswith(", over the Pi Zero's 512 MiB)")
    assert peak("aarch64-cortex-a72", 600) == "✅ 100 ms (600 MiB)"  # every Pi 4 has 1 GB or more
    assert peak("aarch64-cortex-a72", 1100).endswith(", over the smallest Pi 4's 1.00 GiB)")
    assert peak("aarch64-cortex-a53", 600).endswith(", over the Zero 2 W's 512 MiB)")
    assert peak("aarch64-cortex-a53", 1100).endswith(", over the Pi 3's 1.00 GiB)")
