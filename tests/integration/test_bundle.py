"""A run bundle end to end, with real components: the tiny CNN and MobileNetV2 compiled by IREE
3.13.0 for a named CPU (x86-64-v3) and CUDA sm_80, the tiny CNN also for Vulkan (and a GPU sitting of
it on lavapipe); `run.py` run by a
fresh venv that holds only numpy (torch not importable), with no network (its own network
namespace, where `unshare` allows); the records merged home and queried; a tampered record refused
with nothing written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.system import host
from iree_matrix.findings import advice
from iree_matrix.findings import gap as gaps

from .conftest import REPO, iree_matrix

pytestmark = pytest.mark.integration

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


_THERE: dict[Path, Path] = {}  # numpy wheel -> the venv's python: one venv for the module's tests


def _there(tmp_path: Path, cache: Path) -> Path:
    """A venv with numpy only, installed from the wheelhouse the bundle's lock filled (offline);
    made by the first test that asks and reused by the others (run.py writes nothing into it)."""
    wheel = _installable(cache, "numpy")
    assert wheel is not None, "no numpy wheel for this Python in the wheelhouse"
    if wheel in _THERE:
        return _THERE[wheel]
    venv = tmp_path / "there"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)], check=True
    )
    assert subprocess.run([str(python), "-c", "import torch"], capture_output=True).returncode != 0
    assert subprocess.run([str(python), "-c", "import iree.runtime"], capture_output=True).returncode != 0
    _THERE[wheel] = python
    return python


def _installable(cache: Path, name: str) -> Path | None:
    """The newest wheel of `name` in the wheelhouse that this interpreter can install: the
    wheelhouse also holds other Pythons' and other machines' wheels (aarch64 images, bundles)."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    here = set(sys_tags())
    fitting = []
    for wheel in (cache / "wheelhouse" / "files").glob(f"{name}-*.whl"):
        _, version, _, tags = parse_wheel_filename(wheel.name)
        if tags & here:
            fitting.append((version, wheel))
    return max(fitting)[1] if fitting else None


def _offline(argv: list[str]) -> list[str]:
    """`argv` in a network namespace of its own (no interface but loopback), where root may make one."""
    unshare = shutil.which("unshare")
    if unshare and os.geteuid() == 0 and subprocess.run([unshare, "-n", "true"]).returncode == 0:
        return [unshare, "-n", *argv]
    return argv


def test_a_bundle_answers_with_numpy_only_and_its_records_come_home_checked(
    warm_cache: Path, tmp_path: Path
) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    bundle = tmp_path / "bundle"
    done = iree_matrix(
        "bundle", "--matrix", str(REPO / "matrix" / "bundle.toml"), "--to", str(bundle), "--python", PYTHON,
        cache=cache, results=tmp_path / "runs",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"bundle: 5 cells, 1 runtime wheel\(s\), [\d.]+ MiB -> ", done.stdout), done.stdout
    assert (tmp_path / "bundle.tar.gz").is_file() and (bundle / "run.py").is_file()

    python = _there(tmp_path, cache)
    out = tmp_path / "answered"
    ran = subprocess.run(
        _offline([str(python), str(bundle / "run.py"), "--out", str(out)]),
        capture_output=True, text=True, timeout=1200, cwd=tmp_path,
    )  # fmt: skip
    print(ran.stdout, ran.stderr)
    assert ran.returncode == 0, ran.stderr
    records = {r["job"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert len(records) == 5
    by_target = {(r["labels"]["model"], r["labels"]["arch"]): r for r in records.values()}
    for model in ("tiny_cnn", "mobilenet_v2"):
        cpu = by_target[(model, "x86_64")]
        assert cpu["status"] == "ok" and cpu["metrics"]["matches"] is True, cpu
        assert cpu["metrics"]["cpu_ms"]["n"] >= 5 and cpu["metrics"]["cpu_ms"]["median"] > 0
        assert (
            cpu["host"]["identity"] == host.describe()["identity"]
        )  # the runner names this CPU as home does
        cuda = by_target[(model, "cuda-sm_80")]
        assert cuda["status"] == "skip" and cuda["message"].startswith("not run: no CUDA device here"), cuda
    vulkan = by_target[("tiny_cnn", "vulkan-spirv")]
    assert vulkan["status"] == "ok" and vulkan["metrics"]["matches"] is True, vulkan
    assert vulkan["metrics"]["timing"].startswith("emulated (software Vulkan device: llvmpipe")
    assert "Ctrl-C" not in ran.stderr and "[5/5 " in ran.stderr  # progress with an ETA, to the end

    home = tmp_path / "home"
    merged = _cli("merge", str(out), "--to", str(home), "--cache", str(cache))
    assert merged.returncode == 0, merged.stderr
    asked = _cli("query", "model", "tiny_cnn", "--results-dir", str(home))
    assert asked.returncode == 0, asked.stderr
    here = host.describe()
    assert (
        f"run elsewhere by a bundle, on {here['cpu']}, family {here['family']} model {here['model']}"
        in asked.stdout
    )
    assert "x86_64/x86-64-v3 IREE 3.13.0: matches torch" in asked.stdout
    assert "cuda-sm_80/default IREE 3.13.0: skip: not run: no CUDA device here" in asked.stdout

    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    lines = (tampered / "results.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["metrics"]["module_sha256"] = "0" * 64
    (tampered / "results.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    before = (home / "results.jsonl").read_bytes()
    refused = _cli("merge", str(tampered), "--to", str(home), "--cache", str(cache))
    assert refused.returncode == 2
    assert "is not the one bundle" in refused.stderr and "nothing merged" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert (home / "results.jsonl").read_bytes() == before
    fresh = _cli("merge", str(tampered), "--to", str(tmp_path / "home2"), "--cache", str(cache))
    assert fresh.returncode == 2 and not (tmp_path / "home2").exists()


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", *args], capture_output=True, text=True, timeout=600
    )
    print(done.stdout, done.stderr)
    return done


def test_a_sitting_made_there_comes_home_as_that_cpus_answer(warm_cache: Path, tmp_path: Path) -> None:
    """`bundle --advise` for the tiny CNN compiled for x86-64-v3: run.py sits default, the naive
    build and ONNX Runtime (installed there from the wheelhouse, offline) in paired rounds, and
    proves the pick (`default`: no published answer) against its one-knob neighbours in the same
    rounds, then profiles the answer's module and ONNX Runtime op by op (`--gap 0`: whatever the
    ratio, so the path is taken); merge publishes the sitting and its proof under this machine's
    identity, with the gap read from the profiles, and ANSWERS.md gains its row and its
    neighbourhood."""
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    bundle = tmp_path / "tiny"
    done = iree_matrix(
        "bundle", "--advise", "tiny_cnn", "--cpu", "x86-64-v3", "--to", str(bundle), "--python", PYTHON,
        cache=cache, results=tmp_path / "runs",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((bundle / "bundle.json").read_text())
    (sitting,) = manifest["sittings"]
    assert {a["kind"] for a in sitting["arms"]} == {"default", "naive"} and "onnx" in sitting
    default = next(a for a in sitting["arms"] if a["kind"] == "default")
    assert "--iree-llvmcpu-target-cpu=x86-64-v3" in default["flags"]
    # The proof's neighbourhood travels: each neighbour a cell of the bundle, its module digested.
    proof = sitting["proof"]
    cells = {c["job"]: c for c in manifest["cells"]}
    assert proof["centre"] == "default" and len(proof["neighbours"]) >= 15
    assert all(
        n["job"] in cells and "--iree-llvmcpu-target-cpu=x86-64-v3" in n["flags"] for n in proof["neighbours"]
    )
    assert re.search(r"proof of each function: `default` and its \d+ one-knob neighbours", done.stderr)

    python = _there(tmp_path, cache)
    # ONNX Runtime there: its wheel and what it imports, from the wheelhouse the peers' lock filled.
    names = (
        "onnxruntime",
        "flatbuffers",
        "protobuf",
        "packaging",
        "sympy",
        "mpmath",
        "coloredlogs",
        "humanfriendly",
    )
    wheels = [w for w in (_installable(cache, name) for name in names) if w is not None]
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", *map(str, wheels)], check=True
    )
    out = tmp_path / "answered"
    ran = subprocess.run(
        _offline([str(python), str(bundle / "run.py"), "--out", str(out), "--rounds", "6", "--gap", "0"]),
        capture_output=True, text=True, timeout=1200, cwd=tmp_path,
    )  # fmt: skip
    print(ran.stdout, ran.stderr)
    assert ran.returncode == 0, ran.stderr
    (sat,) = out.glob("advice-tiny_cnn*.json")  # one file per sitting, named by when it started
    document = json.loads(sat.read_text())
    arms = {a["name"]: a for a in document["functions"][0]["arms"]}
    assert set(arms) >= {"default", "generic", "onnxruntime"}
    assert all(len(a["ms"]) == 6 for a in arms.values()), arms
    assert document["host"]["identity"] == host.describe()["identity"]
    sat_proof = document["functions"][0]["proof"]
    assert sat_proof["start"] == "default" and sat_proof["max_steps"] == 1
    (step,) = sat_proof["steps"]
    assert step["centre"]["ms"] == arms["default"]["ms"]  # the pick's own rounds: one paired sitting
    assert len(step["neighbours"]) == len(proof["neighbours"])
    for n in step["neighbours"]:  # each timed in all 6 rounds, or byte-identical, or why not
        assert len(n["ms"]) == 6 or n["same_as"] or n["error"], n
    assert sum(len(n["ms"]) == 6 and not n["same_as"] for n in step["neighbours"]) >= 10
    # The raw profiles, as the run and peer stages record theirs: the wheel's own iree-profile's
    # dispatch functions and ONNX Runtime's profiler's ops (3.13.0 has the in-context profiler).
    profiles = document["functions"][0]["op_profiles"]
    assert profiles["threads"] == 1 and profiles["over"] == 0
    assert {p["config"] for p in profiles["iree"]} == {"default"}  # the one arm that can be the answer
    (ours,) = profiles["iree"]
    assert ours["op_profile"]["source"] == "iree-profile host-execution", ours
    assert ours["op_profile"]["dispatches"] and ours["op_profile"]["sum_ms"] > 0
    assert all("dispatch" in d["name"] for d in ours["op_profile"]["dispatches"])
    theirs = profiles["peers"]["onnxruntime"]
    assert theirs["status"] == "ok" and any(o["op"].endswith("Conv") for o in theirs["op_profile"]["ops"])
    assert re.search(r"profiled in [\d.]+ s", ran.stderr)

    published = tmp_path / "published"
    merged = _cli("merge", str(out), "--to", str(published), "--cache", str(cache))
    assert merged.returncode == 0, merged.stderr
    (folder,) = [p for p in (published / "answers").iterdir() if p.is_dir()]
    assert (folder / sat.name).is_file() and (folder / "results.jsonl").is_file()
    # Home read the profiles into the answer's gap with advise's code (findings/gap.py): compat.json's
    # and `query model`'s answer carry it; ANSWERS.md names it where the answer trails beyond GAP.
    kept = json.loads((folder / sat.name).read_text())
    gap = kept["functions"][0]["gap"]
    assert gap["peer"] == "onnxruntime" and gap["config"] == "default" and gap["release"] == "3.13.0"
    assert gap["threads"] == 1 and any("conv" in k["kind"] for k in gap["kinds"]) and gap["dispatches"]
    (answer,) = advice.derive(kept)
    assert advice.as_json(answer)["gap"]["scale"] is not None  # at the paired sitting's scale
    shown = "\n".join(advice.lines(advice.Chosen((answer,), True, ""), "tiny_cnn"))
    assert "where the gap is: against ONNX Runtime, both profiled in context on 1 thread(s)" in shown
    answers = (published / "answers" / "ANSWERS.md").read_text()
    assert "| tiny_cnn |" in answers and "--iree-llvmcpu-target-cpu=x86-64-v3" in answers
    assert "Neighbourhood: `default`" in answers and "| change to `default` |" in answers
    assert re.search(r"\| \+ loop-unrolling \| `loop-unrolling` \| ", answers)
    trailing = gaps.trails(answer.vs_peer.value if answer.vs_peer else None)
    assert ("Where the gap to ONNX Runtime is" in answers) == trailing, answers


def test_a_gpu_sitting_there_times_each_target_on_its_device_and_says_what_did_not_run(
    warm_cache: Path, tmp_path: Path
) -> None:
    """`bundle --advise tiny_cnn --target vulkan-spirv --target cuda:sm_80`: one GPU sitting per HAL
    driver. There, with numpy only: the Vulkan arm sits on Mesa's lavapipe (a software device, said
    so in the document), the CUDA driver finds no device (its record says so in the runtime's words,
    and no document names a GPU that is not there), and torch's peers say torch is not importable."""
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    bundle = tmp_path / "gpu"
    done = iree_matrix(
        "bundle", "--advise", "tiny_cnn", "--target", "vulkan-spirv", "--target", "cuda:sm_80",
        "--release", "3.13.0", "--to", str(bundle), "--python", PYTHON,
        cache=cache, results=tmp_path / "runs",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "bundle: 2 GPU sitting(s) (cuda, vulkan), 2 IREE arm(s), " in said
    assert "proof of `default` by IREE 3.13.0 for vulkan-spirv: its " in said
    assert (bundle / "bundle_runner" / "gpu.py").is_file()
    manifest = json.loads((bundle / "bundle.json").read_text())
    cuda, vulkan = manifest["sittings"]
    assert (cuda["device"], vulkan["device"]) == ("cuda", "vulkan")
    # Each target's proof: default's neighbours that compile for a GPU, each a cell of its own.
    (proof,) = vulkan["proofs"]
    assert (proof["centre"], proof["release"], proof["target"]) == ("default", "3.13.0", "vulkan-spirv")
    around = {n["config"]: n for n in proof["neighbours"]}
    assert "O2" in around and not {"avx2", "loop-unrolling", "data-tiling"} & set(around)
    assert all("job" in n for n in around.values()), around
    (arm,) = cuda["arms"]
    assert (arm["name"], arm["kind"], arm["target"], arm["release"]) == (
        "3.13.0 cuda:sm_80",
        "gpu",
        "cuda:sm_80",
        "3.13.0",
    )
    assert arm["flags"] == ["--iree-hal-target-backends=cuda", "--iree-cuda-target=sm_80"]
    assert (
        vulkan["torch"]["module"] == "models.tiny_cnn"
        and (bundle / "torch" / "models" / "tiny_cnn.py").is_file()
    )

    out = tmp_path / "answered"
    ran = subprocess.run(
        _offline([str(_there(tmp_path, cache)), str(bundle / "run.py"), "--out", str(out), "--rounds", "6"]),
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    print(ran.stdout, ran.stderr)
    assert ran.returncode == 0, ran.stderr
    records = {
        r["labels"]["arch"]: r
        for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())
        if r["labels"]["profile"] == "default"
    }
    assert records["cuda-sm_80"]["message"].startswith("not run: no CUDA device here ("), records[
        "cuda-sm_80"
    ]
    assert "no GPU sitting of tiny_cnn on cuda: not run: no CUDA device here (" in ran.stderr
    (sat,) = out.glob("advice-tiny_cnn*.json")  # the Vulkan sitting's; none for the absent CUDA device
    assert sat.name.endswith("-vulkan.json")
    document = json.loads(sat.read_text())
    assert (document["schema"], document["timing"], document["model"]) == (3, "wall", "tiny_cnn")
    device = document["device"]
    assert (
        device["driver"] == "vulkan" and device["software"] is True and device["name"].startswith("llvmpipe")
    )
    assert set(device) == {"driver", "name", "driver_version", "compute_capability", "software"}
    assert document["host"]["identity"] == host.describe()["identity"] and "gpus" not in document["host"]
    (function,) = document["functions"]
    arms = {a["name"]: a for a in function["arms"]}
    assert set(arms) == {"3.13.0 vulkan-spirv", "eager", "torch.compile"}
    ours = arms["3.13.0 vulkan-spirv"]
    assert ours["matches"] is True and "error" not in ours and len(ours["ms"]) == 6 and min(ours["ms"]) > 0
    assert ours["target"] == "vulkan-spirv" and ours["module_sha256"] == _module_of(manifest, "vulkan-spirv")
    for name in ("eager", "torch.compile"):
        assert arms[name]["error"] == "torch is not importable here" and arms[name]["ms"] == []
    assert "a software device: its times are the CPU's" in ran.stderr and "main: round 6 of 6" in ran.stderr
    # The proof came back in the CPU proof's form: each neighbour checked and timed in the same rounds
    # (or the same module as default's, timed once).
    (timed,) = function["proofs"]
    assert (timed["release"], timed["target"], timed["source"]) == ("3.13.0", "vulkan-spirv", "run bundle")
    (step,) = timed["steps"]
    assert step["centre"]["ms"] == ours["ms"]
    for n in step["neighbours"]:
        assert n["matches"] is True and len(n["ms"]) == 6 and not n["error"], n
        assert n["module_sha256"] == _module_of(manifest, "vulkan-spirv", n["config"])

    # Home: merge publishes the sitting under the device's own folder (a software device's, never
    # this host CPU's answer), ANSWERS.md gains its GPU row marked as software, `query` says it.
    home = tmp_path / "home"
    merged = _cli("merge", str(out), "--to", str(home), "--cache", str(cache))
    assert merged.returncode == 0, merged.stderr
    (folder,) = [p for p in (home / "answers").iterdir() if p.is_dir()]
    assert folder.name == "software-llvmpipe" and (folder / sat.name).is_file()
    answers = (home / "answers" / "ANSWERS.md").read_text()
    assert "On GPUs" in answers and "| tiny_cnn |" in answers and "not a GPU's time" in answers
    assert "Neighbourhood (on a software device: says nothing of a GPU): `default` " in answers
    asked = _cli("query", "model", "tiny_cnn", "--results-dir", str(home))
    assert asked.returncode == 0, asked.stderr
    assert "on GPUs" in asked.stdout and "take IREE 3.13.0 for vulkan-spirv" in asked.stdout
    assert "run elsewhere by a bundle" in asked.stdout and "no CUDA device here" in asked.stdout

    # A sitting whose arm names a module the bundle did not ship is refused, and nothing is written.
    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    forged = json.loads((tampered / sat.name).read_text())
    next(a for a in forged["functions"][0]["arms"] if a["kind"] == "gpu")["module_sha256"] = "0" * 64
    (tampered / sat.name).write_text(json.dumps(forged))
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    refused = _cli("merge", str(tampered), "--to", str(tmp_path / "home2"), "--cache", str(cache))
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (tmp_path / "home2").exists()
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before


def _module_of(manifest: dict, target: str, profile: str = "default") -> str:
    return next(
        c["module_sha256"]
        for c in manifest["cells"]
        if c["target"] == target and c["labels"].get("profile") == profile
    )


BF16_MODEL = """
import torch
from models.api import ModelSpec


class Affine(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2.0 + 1.0


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(Affine().eval(), (torch.randn(2, 4).to(torch.bfloat16),), atol=1e-2, rtol=1e-2)
"""
BF16_MATRIX = """
python = "3.11"
torch = "2.13.0"
turbine = "3.9.0"
compiler = "3.9.0"
runtime = "same"
arch = "x86_64"
models = "{model}:build"
profiles = ["x86-64-v3"]

[profile.x86-64-v3]
target_cpu = "x86-64-v3"
"""


def test_a_bfloat16_cell_runs_through_the_wheels_own_tools_and_is_checked(
    warm_cache: Path, tmp_path: Path
) -> None:
    """numpy has no bfloat16: the export saves its raw bits, the runner hands them to the wheel's
    iree-run-module, reads the output's raw contents back and compares them decoded to float32."""
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    models = tmp_path / "models"
    models.mkdir(mode=0o755)
    (models / "bf16.py").write_text(BF16_MODEL)
    (models / "bf16.py").chmod(0o644)
    matrix = tmp_path / "bf16.toml"
    matrix.write_text(BF16_MATRIX.format(model=models / "bf16.py"))
    bundle = tmp_path / "bundle"
    done = iree_matrix(
        "bundle", "--matrix", str(matrix), "--to", str(bundle), "--python", PYTHON,
        cache=cache, results=tmp_path / "runs",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (cell,) = json.loads((bundle / "bundle.json").read_text())["cells"]
    assert cell["arrays"]["outputs"] == [{"dtype": "bfloat16", "saved_as": "|V2", "shape": [2, 4]}]

    out = tmp_path / "answered"
    ran = subprocess.run([str(_there(tmp_path, cache)), str(bundle / "run.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    (record,) = map(json.loads, (out / "results.jsonl").read_text().splitlines())
    assert record["status"] == "ok", record["message"]
    assert record["env"]["runtime"] == "wheel's tools" and record["env"]["runtime_wheel_sha256"]
    assert record["metrics"]["matches"] and record["metrics"]["max_abs_err"] <= 1e-2
    assert record["metrics"]["cpu_ms"]["n"] == 5
