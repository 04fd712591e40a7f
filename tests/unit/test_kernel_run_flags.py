"""A kernel's runtime flags (kernel.toml `run_flags`): read and checked, given by every run of its
cells, in the answer's run line and in a bundle's cells (tests/integration/test_kernels.py runs them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iree_matrix.bundle_runner import modules
from iree_matrix.bundle_runner.base import BundleError
from iree_matrix.kernel import kernels

# A kernel's files are taken only from folders others may enter (core/system/shared_files.py).
pytestmark = pytest.mark.shared_tmp

DATA = Path(__file__).resolve().parents[1] / "data" / "kernels"
STACK = "--task_worker_stack_size=196608"


def _kernel(tmp_path: Path, source: str, run_flags: str) -> Path:
    where = tmp_path / source
    shutil.copytree(DATA / source, where)
    with open(where / "kernel.toml", "a") as toml:
        toml.write(f"run_flags = {run_flags}\n")
    return where


def test_run_flags_follow_the_plugin_in_what_a_run_adds(tmp_path: Path) -> None:
    embedded = kernels.load(_kernel(tmp_path, "negabs", f'["{STACK}", "{STACK}"]'))
    assert embedded.run_flags == (STACK,)  # said once
    assert embedded.load_flags() == [STACK]
    assert embedded.arm_flags(["--iree-opt-level=O2"])["kernel_run"] == [STACK]
    plugin = kernels.load(_kernel(tmp_path, "negabs_plugin", f'["{STACK}"]'))
    first, second = plugin.load_flags()
    assert first.startswith("--executable_plugin=embedded:") and second == STACK
    assert kernels.load(DATA / "negabs").load_flags() == []  # none: nothing added


@pytest.mark.parametrize(
    ("flag", "said"),
    [
        ("--iree-opt-level=O3", "an iree-compile flag: it belongs in requires_flags"),
        ("--task_worker_stack_size", "expected an IREE runtime flag --name=value"),
        ("-v=1", "expected an IREE runtime flag --name=value"),
        ("--module=/etc/passwd", "each run gives --module itself"),
        ("--executable_plugin=embedded:/x.so", "each run gives --executable_plugin itself"),
        ("--flagfile=/etc/flags", "each run gives --flagfile itself"),
        ("--task_topology_group_count=8", "each run gives --task_topology_group_count itself"),
    ],
)
def test_a_bad_run_flag_is_one_line_naming_the_file_key_and_value(
    tmp_path: Path, flag: str, said: str
) -> None:
    where = _kernel(tmp_path, "negabs", f'["{flag}"]')
    with pytest.raises(kernels.KernelError) as caught:
        kernels.load(where)
    message = str(caught.value)
    assert f"run_flags = {flag!r}: {said}" in message and str(where / "kernel.toml") in message
    assert "\n" not in message


def test_a_bundle_cell_gives_its_kernels_run_flags_after_its_plugin(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "p.so").write_bytes(b"\0")
    cell = {"job": "run:x", "plugin": "plugins/p.so", "run_flags": [STACK]}
    assert modules.plugin_flags(tmp_path, cell) == [
        f"--executable_plugin=embedded:{tmp_path / 'plugins' / 'p.so'}",
        STACK,
    ]
    assert modules.plugin_flags(tmp_path, {"job": "run:y"}) == []
    with pytest.raises(BundleError, match="run:z: its run_flags are not a list of runtime flags"):
        modules.plugin_flags(tmp_path, {"job": "run:z", "run_flags": ["--stack 1"]})
