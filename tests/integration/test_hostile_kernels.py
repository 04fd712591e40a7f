"""A kernel is as untrusted as a model (issue 85): real bubblewrap, Zig's clang and IREE 3.9.0.

A kernel whose C (tests/data/kernels/hostile) makes raw system calls from inside the run: reading a
canary only root may read, connecting to a unix socket, SIGKILLing a host process, writing outside
its output, and copying torch's reference output as its own. Each is refused (its output holds the
-errno each got), nothing outside changed, and the cheat is a mismatch. The same C built with an
`#include` of the canary fails to compile without the canary's bytes in any message; a kernel whose
`requires_flags` runs a program is refused at plan, before anything runs."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from iree_matrix.core.model.results import Status

from .conftest import REPO, iree_matrix, matrix_toml, records

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"
NEGABS = "negabs_model-negabs/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"
SECRET = "CANARY-7f3a9c-NEVER-SEEN"


def _matrix(*kernels: Path) -> str:
    """The test kernel's model with these kernels, one repetition."""
    tables = {"benchmark": {"repetitions": 1}}
    return matrix_toml(
        models=[f"{DATA}/negabs_model.py:negabs"], kernels=list(map(str, kernels)), tables=tables
    )


def _hostile(tmp_path: Path, name: str, cflags: list[str]) -> Path:
    where = tmp_path / name
    shutil.copytree(DATA / "hostile", where)  # the spec's link copied as a file
    toml = where / "kernel.toml"
    listed = ", ".join(f"'{flag}'" for flag in cflags)
    renamed = toml.read_text().replace('name = "hostile"', f'name = "{name}"')
    toml.write_text(renamed + f"cflags = [{listed}]\n")
    return where


def test_a_hostile_kernel_reaches_nothing_from_its_run_or_its_build(cache: Path, tmp_path: Path) -> None:
    # Where uid 65534 cannot reach: as root, a 0700 folder it may see but not enter; else the home
    # it sees empty.
    private = Path(tempfile.mkdtemp(dir="/var/tmp" if os.geteuid() == 0 else Path.home(), prefix="canary-"))
    victim = subprocess.Popen(["sleep", "600"])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        canary, outside = private / "canary", private / "written"
        canary.write_text(f'"{SECRET}"\n')
        canary.chmod(0o600)
        listener.bind(str(private / "sock"))
        listener.listen(1)
        cflags = [f'-DCANARY_PATH="{canary}"', f'-DSOCKET_PATH="{private / "sock"}"',
                  f"-DVICTIM_PID={victim.pid}", f'-DOUTSIDE_PATH="{outside}"']  # fmt: skip
        runs = _hostile(tmp_path, "hostile", cflags)
        builds = _hostile(tmp_path, "hostile_include", [*cflags, "-DINCLUDE_CANARY"])
        matrix = tmp_path / "m.toml"
        matrix.write_text(_matrix(runs, builds))
        results = tmp_path / "results"
        done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache,
                           results=results, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr
        got = records(results)

        # The build: the canary's path is not there for the compiler (the sandbox's home, or a folder
        # it may not enter), and its bytes are in no message, log or record.
        build = got["kernel:hostile_include/x86_64/host"]
        assert (build.status, build.error_class) == (Status.FAIL, "kernel-c-error"), build.message
        said = build.message or ""
        assert "Permission denied" in said or "not found" in said, said
        assert SECRET not in (results / "results.jsonl").read_text()
        assert not any(SECRET in p.read_text(errors="replace") for p in cache.glob("logs/**/*.log"))

        # The run: every probe refused from inside, nothing outside changed, and the cheat's output
        # (not torch's reference, which it cannot see) a mismatch.
        run = got[f"run:{NEGABS}+k:hostile"]
        assert (run.status, run.error_class) == (Status.MISMATCH, "kernel-mismatch"), run.message
        probes = np.load(cache / "store" / "run" / run.key / "output0.npy")[:5].astype(int).tolist()
        read, connected, killed, wrote, cheated = probes
        assert -read in (errno.EACCES, errno.ENOENT), probes
        assert -connected in (errno.EACCES, errno.ENOENT, errno.ECONNREFUSED), probes
        assert -killed in (errno.ESRCH, errno.EPERM), probes  # its own pid namespace
        assert wrote < 0 or os.geteuid() != 0, probes  # not root: it wrote in the empty home it sees
        assert cheated < 0, probes
        assert victim.poll() is None and not outside.exists()
    finally:
        listener.close()
        victim.kill()
        shutil.rmtree(private, ignore_errors=True)


def test_a_kernel_flag_that_runs_a_program_is_refused_at_plan(cache: Path, tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    kernel = tmp_path / "runs_a_program"
    shutil.copytree(DATA / "negabs", kernel)
    toml = kernel / "kernel.toml"
    flag = f"--iree-hal-preprocess-executables-with=sh -c 'touch {witness}'"
    renamed = toml.read_text().replace('"negabs"', '"runs_a_program"', 1)
    toml.write_text(renamed + f'requires_flags = ["{flag}"]\n')
    matrix = tmp_path / "m.toml"
    matrix.write_text(_matrix(kernel))
    done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache,
                       results=tmp_path / "results", timeout=300)  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "requires_flags" in line]
    assert len(said) == 1 and str(toml) in said[0] and "runs a program" in said[0], done.stderr
    assert not witness.exists()
