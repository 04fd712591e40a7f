"""`iree-matrix armv6-smoke` end to end (the matrix part; the hello world has its own test):
real turbine export, real IREE cross-compile for the Pi Zero, the kernel ELF checked, a model
that needs integer division recorded as a link failure naming the missing symbol, and IREE's
runtime built from source (cmake, native + armv6 cross) running the tiny model under qemu ARM1176,
its outputs checked against torch. Then the same builds (one smoke run per module: the runtime
builds take minutes) carried in a run bundle whose `run.py` runs the board's tools through this
machine's binfmt handler, and `merge` taking its record home."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.core.system import binfmt

from .conftest import iree_matrix, iree_source, records, seeded_cache

pytestmark = pytest.mark.integration
ON_CI = os.environ.get("CI", "").lower() == "true"

IDIV = """
import torch
from models.api import ModelSpec


class IntDiv(torch.nn.Module):
    def forward(self, a, b):
        return torch.div(a, b, rounding_mode="trunc")


def build(seed=0):
    a = torch.arange(1, 33, dtype=torch.int32).reshape(4, 8)
    b = torch.full((4, 8), 3, dtype=torch.int32)
    return ModelSpec(IntDiv(), (a, b), atol=0, rtol=0)
"""
MATRIX = """
python = "3.11"
torch = "2.13.0"
turbine = "3.9.0"
compiler = "3.9.0"
arch = "armv6"
models = "tiny_cnn"

[benchmark]
repetitions = 2
threads = 1
devices = ["local-task", "local-sync"]
"""
BASE = "py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/armv6-arm1176jzf-s/default"
REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Smoke:
    cache: Path
    results: Path
    models: Path
    done: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory, source_runtime_store: Path) -> Smoke:
    """One armv6-smoke run (its runtime builds, exports and compiles) that both tests read. Its
    native runtime build (the armv6 build's host tools) is the run's shared one; the armv6 ones run."""
    tmp_path = tmp_path_factory.mktemp("armv6")
    cache = seeded_cache(tmp_path / "cache", source_runtime_store)
    models = tmp_path / "models"
    models.mkdir(mode=0o755)
    (models / "idiv.py").write_text(IDIV)
    (models / "idiv.py").chmod(0o644)
    matrix = tmp_path / "armv6.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    done = iree_matrix(
        "armv6-smoke", "--no-hello", "--matrix", str(matrix), "--iree-source", iree_source(),
        "--model", "tiny_cnn", "--model", f"{models / 'idiv.py'}:build",
        cache=cache, results=results,
    )  # fmt: skip
    return Smoke(cache, results, models, done)


def test_armv6_smoke_builds_checks_kernels_and_names_link_gaps(smoke: Smoke) -> None:
    done, results = smoke.done, smoke.results
    assert done.returncode == 0, done.stderr
    got = records(results)

    tiny = got[f"compile:tiny_cnn/{BASE}"]
    assert tiny.status is Status.OK, tiny.message
    assert "--iree-llvmcpu-target-cpu=arm1176jzf-s" in tiny.command
    assert "--iree-llvmcpu-target-cpu-features=+vfp2" in tiny.command
    kernel = tiny.metrics["kernel"]
    assert kernel["armv6_ok"] and kernel["Tag_CPU_arch"] == "v6" and kernel["Tag_FP_arch"] == "VFPv2"
    assert not kernel["Tag_Advanced_SIMD_arch"]
    assert kernel["float_abi"] == "soft"  # armel's calling convention, like the runtime it runs on
    assert "--iree-llvmcpu-target-float-abi=soft" in tiny.command

    idiv = got[f"compile:idiv/{BASE}"]
    assert idiv.status is Status.FAIL and idiv.error_class == "link-error"
    assert idiv.message.startswith("undefined symbols at link: __aeabi_idiv")

    # The board's runtime is planned as `src:3.9.0+static` (its source: --iree-source), built by
    # runtime-build jobs: the native one for the host tools, the static one runs, its dynamic twin.
    builds = {job: r for job, r in got.items() if job.startswith("runtime-build:")}
    assert set(builds) == {
        "runtime-build:src:3.9.0/x86_64",
        "runtime-build:src:3.9.0+static/armv6",
        "runtime-build:src:3.9.0/armv6",
    }
    assert {r.status for r in builds.values()} == {Status.OK}, [r.message for r in builds.values()]
    static = builds["runtime-build:src:3.9.0+static/armv6"].metrics
    assert static["interpreter"] is None and static["needed"] == []
    assert static["attributes"]["armv6_ok"]  # the runtime itself is ARMv6 code
    dynamic = builds["runtime-build:src:3.9.0/armv6"].metrics
    assert "libc.so.6" in dynamic["needed"] and dynamic["glibc_versions"]
    assert static["iree-run-module_stripped_bytes"] < static["iree-run-module_bytes"]

    # The module loads and runs on the emulated ARM1176 with the runtime built here, and is right,
    # on IREE's task system and on local-sync (no threads: the Pi Zero has one core).
    run = got[f"run:tiny_cnn/{BASE}/rtsrc3.9.0+static"]
    assert run.status is Status.OK, run.message
    assert run.metrics["matches"] and run.metrics["timing"].startswith("emulated")
    assert run.labels["runtime"] == "src:3.9.0+static" and run.metrics["device"] == "local-task"
    sync = got[f"run:tiny_cnn/{BASE}/rtsrc3.9.0+static/local-sync"]
    assert sync.status is Status.OK and sync.metrics["matches"], sync.message
    assert "--device=local-sync" in sync.command and sync.labels["device"] == "local-sync"

    assert "== armv6 summary" in done.stdout
    summary = done.stdout.split("== armv6 summary", 1)[1]
    assert (
        "v6, VFPv2, no NEON" in summary and "link-error: undefined symbols at link: __aeabi_idiv" in summary
    )


# Minutes: the module's smoke run builds IREE's runtime twice (native for the host tools, then
# armv6): 8-9.5 min with this test on 2 busy cores (2026-11-26), of which the bundle, run.py under
# qemu-arm and merge take under a minute.
@pytest.mark.qemu
@pytest.mark.slow
def test_an_arm32_bundle_carries_the_built_runtime_runs_under_binfmt_and_comes_home(
    smoke: Smoke, tmp_path: Path
) -> None:
    """No wheel exists for 32-bit ARM: the bundle carries the runtime-build stage's static tools,
    stripped, and run.py (Python and numpy only) runs them; on this x86_64 host through binfmt's
    qemu-arm, which the record says instead of claiming the host's CPU ran the board's code."""
    handler = binfmt.entry("qemu-arm")
    if handler is None or not handler.enabled or not Path(handler.interpreter).exists():
        said = f"no usable qemu-arm binfmt handler ({handler}): bash images/setup-host.sh registers it"
        pytest.fail(said) if ON_CI else pytest.skip(said)
    matrix = tmp_path / "armv6.toml"
    matrix.write_text(MATRIX.replace('arch = "armv6"', 'runtime = "src:3.9.0+static"\narch = "armv6"'))
    to, here = tmp_path / "pi", tmp_path / "here"
    # The smoke run's own backend (Docker where dockerd answers, as in CI; else host venvs): a stage's
    # key names where it ran (the toolchain image's compilers, the export's environment), so only
    # the same backend finds what the smoke run stored.
    (backend,) = {r.env.get("backend") for r in records(smoke.results).values() if r.stage == "export"}
    done = iree_matrix(
        "bundle", "--matrix", str(matrix), "--iree-source", iree_source(), "--to", str(to),
        "--model", "tiny_cnn", "--model", f"{smoke.models / 'idiv.py'}:build", "--backend", str(backend),
        cache=smoke.cache, results=here,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Everything was built by the smoke run: the bundle reused its runtime builds and compiles.
    assert "0 executed" in done.stdout, done.stdout
    assert f"not in the bundle: compile:idiv/{BASE}: its compile ended 'fail'" in done.stdout
    assert "1 cells, 0 runtime wheel(s), 1 runtime(s) built from source" in done.stdout

    manifest = json.loads((to / "bundle.json").read_text())
    (runtime,) = manifest["runtimes"]
    assert runtime["kind"] == "tools" and runtime["elf_machine"] == "ARM" and runtime["stripped"]
    assert runtime["release"] == "src:3.9.0+static" and runtime["qemu_cpu"] == "arm1176"
    built = ResultsLog(here / "results.jsonl").latest()["runtime-build:src:3.9.0+static/armv6"]
    carried = to / runtime["tools"]["iree-run-module"]
    assert carried.stat().st_size < built.metrics["iree-run-module_bytes"]  # stripped
    sums = dict(reversed(line.split("  ", 1)) for line in (to / "SHA256SUMS").read_text().splitlines())
    assert sums[runtime["tools"]["iree-run-module"]] == runtime["tools_sha256"]["iree-run-module"]

    out = tmp_path / "answered"
    # -I: run.py needs Python and numpy only (no iree-matrix, no IREE package on its path).
    ran = subprocess.run([sys.executable, "-I", str(to / "run.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=900)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    (line,) = (out / "results.jsonl").read_text().splitlines()
    answer = json.loads(line)
    assert answer["status"] == "ok", answer["message"]
    metrics, env = answer["metrics"], answer["env"]
    assert metrics["matches"] and metrics["device"] == "local-sync"
    assert metrics["emulated"] == "qemu-user" and metrics["timing"] == "emulated (qemu-user, arm1176)"
    assert metrics["cpu_ms"]["n"] == 5 and metrics["cpu_ms"]["median"] > 0
    assert env["runtime"] == "source-built tools" and env["runtime_tools_sha256"] == runtime["tools_sha256"]
    assert answer["host"]["machine"] == os.uname().machine  # who ran the emulator, not the board

    home = tmp_path / "home"
    merge = [
        sys.executable,
        "-m",
        "iree_matrix",
        "merge",
        str(out),
        "--to",
        str(home),
        "--cache",
        str(smoke.cache),
    ]
    merged = subprocess.run(merge, capture_output=True, text=True, timeout=600)
    assert merged.returncode == 0, merged.stderr
    (record,) = [r for r in records(home).values() if r.stage == "run"]
    assert record.status is Status.OK and record.label.runtime == "src:3.9.0+static"
    assert record.metric.of(RunMetrics).timing == "emulated (qemu-user, arm1176)"
