"""A `src:<release>` runtime for real (issue #12 item 4): IREE's runtime built from source with
cmake by the planner's runtime-build stage, installed as a runtime environment, and tiny_cnn's
module run by it and by the pip runtime of the same release in one matrix, on host venvs."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import iree_matrix, iree_source, records, seeded_cache

pytestmark = pytest.mark.integration

MATRIX = """
python = "3.11"
torch = "2.13.0"
turbine = "3.9.0"
compiler = "3.9.0"
runtime = ["3.9.0", "src:3.9.0"]
models = "tiny_cnn"

[benchmark]
repetitions = 2
devices = ["local-task", "local-sync"]
"""
CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"


def test_a_source_built_runtime_beside_the_pip_one(
    tmp_path: Path, smoke_store: Path, source_runtime_store: Path
) -> None:
    # The build itself was made once for the run (conftest.source_runtime_store), by this stage.
    cache = seeded_cache(tmp_path / "cache", smoke_store, source_runtime_store)
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    argv = ["matrix", "--matrix", str(matrix), "--backend", "venv", "--iree-source", iree_source()]
    done = iree_matrix(*argv, cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)

    build = got["runtime-build:src:3.9.0/x86_64"]
    assert build.status is Status.OK, build.message
    assert build.metrics["iree-run-module_bytes"] > build.metrics["iree-run-module_stripped_bytes"] > 0
    assert "libc.so.6" in build.metrics["needed"]
    tools = cache / "store" / "runtime-build" / build.key / "tools"
    assert (tools / "iree-run-module").is_file()  # in the store, under the build's key

    pip, src = got[f"run:{CELL}"], got[f"run:{CELL}/rtsrc3.9.0"]
    for run in (pip, src):
        assert run.status is Status.OK and run.metrics["matches"], run.message
        assert run.metrics["iree_run_module_bytes"] > 100_000
    assert src.labels["runtime"] == "src:3.9.0" and src.command[0] == str(tools / "iree-run-module")
    assert src.env["tools"] == str(tools)
    sync = got[f"run:{CELL}/rtsrc3.9.0/local-sync"]
    assert sync.status is Status.OK and "--device=local-sync" in sync.command

    report = (results / "COMPATIBILITY.md").read_text()
    assert "## One module, several runtimes" in report and "src:3.9.0 (local-sync)" in report

    # Stored: a second run builds nothing.
    again = iree_matrix(*argv, cache=cache, results=results)
    assert again.returncode == 0
    assert records(results)["runtime-build:src:3.9.0/x86_64"].finished == build.finished


def test_on_docker_the_runtime_is_built_in_the_toolchain_image(cache: Path, tmp_path: Path) -> None:
    """The docker backend needs no compiler on the host: cmake, ninja and GCC come from a Debian
    image debootstrapped once (the toolchain base, kept with the other bases)."""
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    argv = ["matrix", "--matrix", str(matrix), "--backend", "docker", "--iree-source", iree_source()]
    done = iree_matrix(*argv, "--select", "runtime-build:*", cache=cache, results=results, timeout=2400)
    assert done.returncode == 0, done.stderr
    build = records(results)["runtime-build:src:3.9.0/x86_64"]
    assert build.status is Status.OK, build.message
    assert build.metrics["built_in"] == "the toolchain image"
    assert build.metrics["toolchain"]["image"].startswith("sha256:")
    assert build.metrics["toolchain"]["gcc"].startswith("gcc (Debian 12")
    assert "libc.so.6" in build.metrics["needed"]
