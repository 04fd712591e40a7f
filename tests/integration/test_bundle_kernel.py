"""`bundle --advise MODEL --cpu CPU --kernel DIR`: the kernel arm travels. With real components: the
tiny test kernel (tests/data/kernels/negabs) built by Zig's clang for a named CPU (x86-64-v3) and
linked into the modules by IREE 3.13.0 here (into default and a pick, as advise plans its kernel
arms), a copy that computes the wrong thing beside it; run.py run by a fresh venv that holds only
numpy (no torch, no C compiler, nothing on PATH but that venv's bin and no network); the kernel arm
checked against torch's outputs and timed in the bundle's paired rounds beside `default`, the wrong
one named as such; the sitting merged home, where it is read as advise's own kernel arm."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.findings import advice

from .conftest import REPO, iree_matrix
from .test_bundle import PYTHON, _cli, _offline, _there

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"
MODEL = f"{DATA}/negabs_model.py:negabs"
NAME = "negabs_model-negabs"
ROUNDS = 6  # run.py's least: fewer decide nothing
PICK = "loop-unrolling"  # a pick the kernel is swapped into too


def test_a_sitting_bundle_carries_the_kernel_arm_and_it_runs_there_without_a_compiler(
    warm_cache: Path, tmp_path: Path
) -> None:
    cache = warm_cache
    wrong = tmp_path / "negabs_wrong"  # off by 0.5: its outputs differ from torch's
    shutil.copytree(DATA / "negabs", wrong)
    toml = (wrong / "kernel.toml").read_text().replace('name = "negabs"', 'name = "negabs_wrong"')
    (wrong / "kernel.toml").write_text(toml + 'cflags = ["-DNEGABS_BIAS=0.5f"]\n')

    # Bad input first: a directory that is no kernel is one line naming it, before anything builds.
    refused = iree_matrix(
        "bundle", "--advise", MODEL, "--cpu", "x86-64-v3", "--kernel", str(tmp_path), "--to",
        str(tmp_path / "never"), cache=cache, results=tmp_path / "runs",
    )  # fmt: skip
    assert refused.returncode == 2 and not (tmp_path / "never").exists()
    (line,) = refused.stderr.strip().splitlines()[-1:]
    assert line.startswith(f"iree-matrix: error: bundle --kernel {tmp_path}: ") and "kernel.toml" in line
    assert "Traceback" not in refused.stderr

    bundle = tmp_path / "kb"
    done = iree_matrix(
        "bundle", "--advise", MODEL, "--cpu", "x86-64-v3", "--release", "3.13.0", "--no-proof",
        "--picks", PICK, "--kernel", str(DATA / "negabs"), "--kernel", str(wrong), "--to", str(bundle),
        "--python", PYTHON,
        "--backend", "venv", cache=cache, results=tmp_path / "runs", timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((bundle / "bundle.json").read_text())
    (sitting,) = manifest["sittings"]
    arms = {a["name"]: a for a in sitting["arms"]}
    # advise's kernel arms (advise_plan.arms): each kernel into default and into the pick.
    kernel_arms = {f"{base}+k:{k}" for base in ("default", PICK) for k in ("negabs", "negabs_wrong")}
    assert set(arms) == {"default", "generic", PICK, *kernel_arms}
    assert "--iree-llvmcpu-target-cpu=x86-64-v3" in arms[f"{PICK}+k:negabs"]["flags"]
    kernel = arms["default+k:negabs"]
    assert (kernel["kind"], kernel["base"], kernel["kernel"], kernel["applied"]) == (
        advice.KERNEL,
        "default",
        "negabs",
        True,
    )
    shown = (DATA / "negabs").relative_to(REPO).as_posix()  # as advise shows it: never this machine's path
    assert "--iree-llvmcpu-target-cpu=x86-64-v3" in kernel["flags"]
    assert f"--iree-hal-executable-object-search-path={shown}" in kernel["flags"]
    # The object was built here for the bundle's CPU, not this machine's (-mcpu=native).
    assert kernel["kernel_build"].startswith(f"(cd {shown} && python -m ziglang cc ")
    assert "-mcpu=x86_64_v3" in kernel["kernel_build"] or "-mcpu=x86-64-v3" in kernel["kernel_build"]
    # What travels is the modules (the object linked in): no C source, object or compiler.
    out = _run_there(bundle, tmp_path, cache, "--allow-plugins")  # native code: only when asked
    records = {r["job"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert records[kernel["job"]]["status"] == "ok" and records[kernel["job"]]["metrics"]["matches"] is True
    assert records[arms["default+k:negabs_wrong"]["job"]]["status"] == "mismatch"
    assert records[arms[f"{PICK}+k:negabs"]["job"]]["metrics"]["matches"] is True

    (sat,) = out.glob(f"advice-{NAME}*.json")
    document = json.loads(sat.read_text())
    (entry,) = document["functions"]
    timed = {a["name"]: a for a in entry["arms"]}
    there = timed["default+k:negabs"]
    assert there["matches"] is True and len(there["ms"]) == ROUNDS and all(ms > 0 for ms in there["ms"])
    assert there["kind"] == advice.KERNEL and there["kernel"] == "negabs" and there["applied"] is True
    assert len(timed["default"]["ms"]) == ROUNDS  # the kernel's base, in the same rounds
    assert len(timed[f"{PICK}+k:negabs"]["ms"]) == ROUNDS and timed[f"{PICK}+k:negabs"]["base"] == PICK
    assert timed["default+k:negabs_wrong"]["matches"] is False and not timed["default+k:negabs_wrong"]["ms"]
    assert {p["package"] for p in entry.get("peers_missing", ())} == {"onnxruntime"}  # numpy only there
    # Made with --no-proof for another CPU: the sitting says so, and names the bundle's CPU, not this one's.
    assert document.get("proof_skipped") is True and document.get("bundle_cpu") == "x86-64-v3"

    published = tmp_path / "published"
    merged = _cli("merge", str(out), "--to", str(published), "--cache", str(cache))
    assert merged.returncode == 0, merged.stderr
    (folder,) = [p for p in (published / "answers").iterdir() if p.is_dir()]
    (answer,) = advice.derive(json.loads((folder / sat.name).read_text()))
    trials = {t.kernel: t for t in answer.kernel_trials}
    assert trials["negabs"].against_base is not None and trials["negabs"].against_base.paired.rounds == ROUNDS
    assert trials["negabs"].matches is True and trials["negabs_wrong"].matches is False
    assert not trials["negabs_wrong"].taken
    assert answer.proof_skipped and answer.proof_cpu == "x86-64-v3"  # at home: skipped, for the bundle's CPU
    asked = subprocess.run(
        [sys.executable, "-m", "iree_matrix", "query", "model", NAME, "--results-dir", str(published)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    # Each trial with the build it went into: the answer itself may be the naive build, faster beyond
    # noise on this 0.02 ms model (CI's Zen 3 once answered `generic`, which no kernel went into).
    base = trials["negabs"].base
    assert base in ("default", PICK) and trials["negabs_wrong"].base == base
    assert f"kernel `negabs` with `{base}`" in asked.stdout
    assert f"kernel `negabs_wrong` with `{base}`: its outputs differ from torch's" in asked.stdout


def test_a_plugin_kernel_travels_beside_its_modules_and_loads_there(warm_cache: Path, tmp_path: Path) -> None:
    """The same with the plugin mechanism (tests/data/kernels/negabs_plugin): the plugin built here
    for the bundle's CPU against IREE's header, carried beside the modules (no C source or compiler),
    loaded there by run.py's checked run and its timing worker with `--executable_plugin`, matching
    torch, and read at home as advise's plugin arm, with the flag a user gives the runtime. ~3 min."""
    from .conftest import iree_source

    cache, bundle = warm_cache, tmp_path / "pb"
    done = iree_matrix(
        "bundle", "--advise", MODEL, "--cpu", "x86-64-v3", "--release", "3.13.0", "--no-proof",
        "--kernel", str(DATA / "negabs_plugin"), "--iree-source", iree_source(), "--to", str(bundle),
        "--python", PYTHON, "--backend", "venv", cache=cache, results=tmp_path / "runs", timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((bundle / "bundle.json").read_text())
    (sitting,) = manifest["sittings"]
    kernel = next(a for a in sitting["arms"] if a["name"] == "default+k:negabs_plugin")
    shown = (DATA / "negabs_plugin").relative_to(REPO).as_posix()
    assert kernel["applied"] is True and kernel["kernel_run"] == [
        f"--executable_plugin=embedded:{shown}/negabs_plugin.so"
    ]
    cell = next(c for c in manifest["cells"] if c["job"] == kernel["job"])
    assert cell["plugin"].startswith("plugins/") and (bundle / cell["plugin"]).is_file()
    assert not [c for c in manifest["cells"] if c.get("plugin") and "+k:" not in c["labels"]["profile"]]
    out = _run_there(bundle, tmp_path, cache, "--allow-plugins")  # native code: only when asked
    records = {r["job"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert records[kernel["job"]]["status"] == "ok" and records[kernel["job"]]["metrics"]["matches"] is True
    (sat,) = out.glob(f"advice-{NAME}*.json")
    (entry,) = json.loads(sat.read_text())["functions"]
    there = next(a for a in entry["arms"] if a["name"] == "default+k:negabs_plugin")
    assert there["matches"] is True and len(there["ms"]) == ROUNDS and all(ms > 0 for ms in there["ms"])

    published = tmp_path / "published"
    merged = _cli("merge", str(out), "--to", str(published), "--cache", str(cache))
    assert merged.returncode == 0, merged.stderr
    (folder,) = [p for p in (published / "answers").iterdir() if p.is_dir()]
    (answer,) = advice.derive(json.loads((folder / sat.name).read_text()))
    (trial,) = answer.kernel_trials
    assert trial.kernel == "negabs_plugin" and trial.matches is True
    assert trial.run_flags == (f"--executable_plugin=embedded:{shown}/negabs_plugin.so",)  # said at home
    assert trial.against_base is not None and trial.against_base.paired.rounds == ROUNDS


def _run_there(bundle: Path, tmp_path: Path, cache: Path, *given: str) -> Path:
    """run.py as the machine there runs it: no C source, object or compiler in the bundle, a fresh
    venv holding only numpy (no ziglang), nothing else on PATH (no cc, clang, zig or iree-compile to
    fall back on), offline; its output folder."""
    carried = [p.name for p in bundle.rglob("*") if p.is_file()]
    assert not [n for n in carried if n.endswith((".c", ".o", ".h")) or "zig" in n], carried
    python = _there(tmp_path, cache)
    assert subprocess.run([str(python), "-c", "import ziglang"], capture_output=True).returncode != 0
    out = tmp_path / "answered"
    path_env = {"PATH": str(python.parent), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    ran = subprocess.run(
        _offline([str(python), str(bundle / "run.py"), "--out", str(out), "--rounds", str(ROUNDS), *given]),
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env=path_env,
    )  # fmt: skip
    print(ran.stdout, ran.stderr)
    assert ran.returncode == 0, ran.stderr[-3000:]
    return out
