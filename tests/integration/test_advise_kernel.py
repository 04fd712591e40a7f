"""`iree-matrix advise MODEL --kernel DIR`: a real sitting (torch, IREE 3.13.0, ONNX Runtime and a
real C compiler, Zig's clang from PyPI) times the tiny test kernel (tests/data/kernels/negabs)
swapped into `default` (the answer's configuration; a pick's kernel arm is the same code,
tests/unit/test_kernel_advice.py) as an arm of the same paired rounds, and a kernel computing the
wrong thing is named as such and never taken; the answer and `query model` say each."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.findings import advice

from .conftest import REPO, iree_matrix

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"
MODEL = f"{DATA}/negabs_model.py:negabs"
NAME = "negabs_model-negabs"


def test_advise_times_a_kernel_beside_the_pick_and_names_a_wrong_one(warm_cache: Path, tmp_path: Path):
    wrong = tmp_path / "negabs_wrong"  # off by 0.5: its outputs differ from torch's
    shutil.copytree(DATA / "negabs", wrong)
    toml = (wrong / "kernel.toml").read_text().replace('name = "negabs"', 'name = "negabs_wrong"')
    (wrong / "kernel.toml").write_text(toml + 'cflags = ["-DNEGABS_BIAS=0.5f"]\n')
    # advise's own matrix without the peers (tests/integration/test_advise.py times them): the
    # subject is the kernel arm, and the peer stage and its two arms would cost a third of the test.
    matrix = tmp_path / "advise.toml"
    text = (REPO / "matrix" / "advise.toml").read_text()
    matrix.write_text(text.replace('peers = ["eager", "onnxruntime"]\n', ""))
    results = tmp_path / "advise"
    done = iree_matrix(
        "advise", MODEL, "--matrix", str(matrix), "--kernel", str(DATA / "negabs"), "--kernel", str(wrong),
        "--release", "3.13.0",
        "--picks", "default", "--no-proof", "--no-gap", "--rounds", "6", "--repetitions", "1",
        "--backend", "venv", cache=warm_cache, results=results, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (kept,) = results.glob(f"advice-{NAME}.*.json")
    document = json.loads(kept.read_text())
    (entry,) = document["functions"]
    arms = {a["name"]: a for a in entry["arms"]}
    # `--picks default`: no pick beside default (the cheapest sitting), so the kernels go into default.
    assert set(arms) == {"default", "generic", "default+k:negabs", "default+k:negabs_wrong"}
    timed = arms["default+k:negabs"]
    assert timed["kind"] == advice.KERNEL and timed["base"] == "default" and timed["applied"] is True
    assert timed["matches"] is True and len(timed["ms"]) == 6 and all(ms > 0 for ms in timed["ms"])
    # The kernel's directory as the user reads it: relative to the checkout (the test runs the tool
    # from there), never this machine's absolute path (Kernel.shown_directory).
    shown = (DATA / "negabs").relative_to(REPO).as_posix()
    assert f"--iree-hal-executable-object-search-path={shown}" in timed["flags"]
    assert timed["kernel_build"].startswith(f"(cd {shown} && python -m ziglang cc ")
    assert Path(timed["kernel_object"], "negabs.o").is_file()  # the object the sitting's module linked
    assert arms["default+k:negabs_wrong"]["matches"] is False  # checked against torch like every arm
    (answer,) = advice.derive(document)
    trials = {(t.kernel, t.base): t for t in answer.kernel_trials}
    # The kernels went into default; the answer may still be the naive build where that ran faster
    # beyond noise (a 0.02 ms model: CI's Zen 3 once answered `generic`), so the trials' base is named.
    base = "default"
    right = trials[("negabs", base)]
    assert right.against_base is not None and right.against_base.paired.rounds == 6
    assert not trials[("negabs_wrong", base)].taken
    proof = {(p["kernel"], p["base"]): p for p in entry["kernel_proof"]}  # kept in the sitting
    assert proof[("negabs", base)]["time_over_base"]["rounds"] == 6
    assert f"kernel `negabs` with `{base}`" in done.stdout
    assert f"kernel `negabs_wrong` with `{base}`: its outputs differ from torch's: never taken" in (
        done.stdout
    )

    query = subprocess.run(
        [sys.executable, "-m", "iree_matrix", "query", "model", NAME, "--results-dir", str(results)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert query.returncode == 0, query.stderr
    assert f"kernel `negabs` with `{base}`" in query.stdout
