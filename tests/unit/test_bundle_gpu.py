"""A bundle's GPU sitting: the targets `bundle --advise MODEL --target` takes, the manifest's sittings
(one per function and HAL driver, advise/gpu_sitting.py) and what run.py makes of them there
(bundle_runner/gpu.py: the GPU's identity, why torch's peers do not run, the paired rounds, the
document's shape). End to end on lavapipe: tests/integration/test_bundle.py."""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.advise import gpu_sitting
from iree_matrix.bundle_runner import gpu as runner_gpu
from iree_matrix.bundle_runner import sitting as runner_sitting
from iree_matrix.core.errors import UserError
from iree_matrix.execution.bundle import BundledRun
from iree_matrix.iree.flags import BUILTIN_PROFILES
from iree_matrix.matrix import spec
from iree_matrix.tasks import bundling

ROOT = Path(__file__).resolve().parents[2]

H200 = {"vendor": "NVIDIA", "name": "NVIDIA H200", "driver": "580.159.04", "compute_capability": "9.0",
        "memory": "143771 MiB"}  # fmt: skip


# --------------------------------------------------------------------------- here: the targets


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("cuda:sm_99", "cuda needs a chip: cuda:sm_60 |"),
        ("x86_64", "not a GPU target (a CPU sitting names its CPU: --cpu LLVM_CPU)"),
        ("metal", "unknown architecture"),
        ("vulkan-spirv:gfx942", "vulkan-spirv takes no chip"),
    ],
)
def test_a_target_that_is_not_a_gpus_is_one_line_naming_it_and_the_accepted_forms(
    given: str, words: str
) -> None:
    with pytest.raises(UserError) as caught:
        gpu_sitting.parse_target(given)
    said = str(caught.value)
    assert said.startswith(f"bundle --target {given!r}: ") and words in said and "\n" not in said
    assert "vulkan-spirv, cuda[:sm_60|" in said and "rocm[:gfx908|" in said


def _gpu_neighbours(release: str, label: str) -> list[str]:
    """`default`'s one-knob neighbours on a GPU target: the knobs `release` accepts that compile for it
    (findings/neighbourhood.py `for_gpu`, the compile stage's rule); the bundle's GPU proof is these."""
    from iree_matrix.findings import neighbourhood, search

    knobs = neighbourhood.for_gpu(neighbourhood.accepted_knobs(release), release, label)
    return [str(c) for c in neighbourhood.neighbours(search.parse(gpu_sitting.CONFIG), knobs)]


def test_targets_are_spelled_as_the_matrix_files_spell_them() -> None:
    assert gpu_sitting.parse_target("cuda").label == "cuda-sm_80"  # the arch's default chip
    assert gpu_sitting.parse_target("cuda:sm_89").label == "cuda-sm_89"
    assert (
        gpu_sitting.spelled("cuda-sm_89") == "cuda:sm_89"
        and gpu_sitting.spelled("vulkan-spirv") == "vulkan-spirv"
    )


def test_releases_are_comma_separated_and_each_one_published() -> None:
    assert gpu_sitting.releases(None, "3.13.0") == ["3.13.0"]
    assert gpu_sitting.releases("3.9.0, 3.13.0,3.9.0", "3.13.0") == ["3.9.0", "3.13.0"]
    for bad in ("3.13.0,latest", "src:3.9.0", ","):
        with pytest.raises(UserError, match=r"^bundle --release .*comma-separated X\.Y\.Z"):
            gpu_sitting.releases(bad, "3.13.0")


def test_target_and_cpu_are_one_or_the_other_and_target_is_for_advise() -> None:
    with pytest.raises(UserError, match="--cpu or --target, not both"):
        bundling._cpu(bundling.Settings(to=None, advise="tiny_cnn", cpu="znver4", targets=("cuda",)))
    with pytest.raises(UserError, match="bundle --target: for --advise MODEL"):
        bundling._cpu(bundling.Settings(to=None, targets=("cuda",)))
    with pytest.raises(UserError, match="or its GPU, --target cuda:sm_80"):
        bundling._cpu(bundling.Settings(to=None, advise="tiny_cnn"))
    assert bundling._cpu(bundling.Settings(to=None, advise="tiny_cnn", targets=("cuda",))) == ""
    with pytest.raises(UserError, match="bundle --picks: a GPU sitting times `default`"):
        bundling._gpu_plan(None, bundling.Settings(to=None, advise="m", targets=("cuda",), picks=("im2col",)))  # type: ignore[arg-type]


def test_the_sittings_matrix_is_default_by_each_release_for_each_target_without_peers() -> None:
    from iree_matrix.matrix.spec_file import load

    advise = load(ROOT / "matrix" / "advise.toml")
    matrix = bundling._gpu_sitting_matrix(advise, ["3.9.0", "3.13.0"], ["cuda-sm_80", "vulkan-spirv"])
    assert {(c.compiler, c.runtime, c.arch, c.profile) for c in matrix.cells} == {
        (r, r, t, "default") for r in ("3.9.0", "3.13.0") for t in ("cuda-sm_80", "vulkan-spirv")
    }
    assert matrix.peers == () and isinstance(matrix, spec.MatrixSpec)


def test_a_gpu_proofs_knobs_are_those_the_compile_stage_compiles_for_a_gpu() -> None:
    """The rule is gpu_flags' own: every search knob it skips for a GPU (llvm-cpu flags, a named CPU)
    is left out, every other one the release accepts is a neighbour of `default`."""
    from iree_matrix.core.errors import StageSkipped
    from iree_matrix.findings import neighbourhood
    from iree_matrix.iree import targets
    from iree_matrix.iree.flags import SEARCH_KNOBS
    from iree_matrix.stages.compile import gpu_flags

    for label in ("cuda-sm_80", "vulkan-spirv"):
        found = _gpu_neighbours("3.13.0", label)
        assert found and "default" not in found
        for knob in neighbourhood.accepted_knobs("3.13.0", SEARCH_KNOBS):
            try:
                gpu_flags("3.13.0", targets.parse(label), BUILTIN_PROFILES[knob])
                compiles = True
            except StageSkipped:
                compiles = False
            assert (knob in found) == compiles, knob
        assert {"O2", "channels-last", "aggressive-fusion"} <= set(found)
        assert not {"avx2", "loop-unrolling", "ukernels", "data-tiling", "vector-256"} & set(found)
    # A knob the release's compiler does not list is not a neighbour for it (3.9.0 has no im2col flag).
    assert "im2col" in _gpu_neighbours("3.13.0", "cuda-sm_80")
    assert "im2col" not in _gpu_neighbours("3.9.0", "cuda-sm_80")
    assert neighbourhood.for_gpu(["vmvx", "avx2", "O2", "no-such-knob"], "3.13.0", "cuda-sm_80") == ("O2",)


def test_the_proofs_are_said_first_with_their_size_and_cost(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.INFO):
        proofs = bundling._say_gpu_proofs("3.13.0", ["cuda-sm_80", "vulkan-spirv"])
    assert list(proofs) == ["3.13.0 cuda:sm_80", "3.13.0 vulkan-spirv"]
    centre, around = proofs["3.13.0 cuda:sm_80"]
    assert centre == "default" and around == tuple(_gpu_neighbours("3.13.0", "cuda-sm_80"))
    said = caplog.text
    assert (
        f"proof of `default` by IREE 3.13.0 for cuda:sm_80: its {len(around)} one-knob neighbours (O2" in said
    )
    assert f"{len(around)} compiles here" in said and "--no-proof leaves them out" in said


def test_the_sittings_matrix_compiles_each_proofs_neighbours_for_its_centres_release_and_target() -> None:
    from iree_matrix.matrix.spec_file import load

    advise = load(ROOT / "matrix" / "advise.toml")
    proofs = {"3.9.0 cuda:sm_80": ("default", ("O2", "channels-last"))}
    matrix = bundling._gpu_sitting_matrix(advise, ["3.9.0", "3.13.0"], ["cuda-sm_80", "vulkan-spirv"], proofs)
    cells = {(c.compiler, c.runtime, c.arch, c.profile) for c in matrix.cells}
    assert cells == {
        (r, r, t, "default") for r in ("3.9.0", "3.13.0") for t in ("cuda-sm_80", "vulkan-spirv")
    } | {
        ("3.9.0", "3.9.0", "cuda-sm_80", "O2"),
        ("3.9.0", "3.9.0", "cuda-sm_80", "channels-last"),
    }
    assert {"O2", "channels-last", "default"} <= set(matrix.profiles) and matrix.peers == ()


# --------------------------------------------------------------------------- here: the manifest


def _cell(
    tmp_path: Path, target: str, release: str, function: str = "main", profile: str = "default"
) -> BundledRun:
    export = tmp_path / "export"
    (export / "inputs").mkdir(parents=True, exist_ok=True)
    (export / "reference").mkdir(exist_ok=True)
    (export / "export.json").write_text(json.dumps({"function": function, "atol": 1e-4, "rtol": 1e-3}))
    (export / "inputs" / "input0.npy").write_bytes(b"")
    (export / "reference" / "output0.npy").write_bytes(b"")
    driver = {"cuda": "cuda", "vulkan": "vulkan"}[target.split("-")[0]]
    job = f"tiny_cnn/iree{release}/{target}/{profile}"
    return BundledRun(
        job=f"run:{job}", labels={"model": "tiny_cnn", "function": function, "profile": profile},
        compile_job=f"compile:{job}", compile_key="k" * 64, export_key="e" * 64, module=tmp_path / "m.vmfb",
        export=export, device=driver, runtime=release, target=target, machine="x86_64",
    )  # fmt: skip


def test_the_manifest_holds_one_sitting_per_function_and_driver_with_torchs_spec(tmp_path: Path) -> None:
    found = [
        _cell(tmp_path, t, r)
        for r in ("3.13.0", "3.9.0")
        for t in ("cuda-sm_80", "cuda-sm_89", "vulkan-spirv")
    ]
    default = types.SimpleNamespace(profile=BUILTIN_PROFILES["default"])
    plan = types.SimpleNamespace(by_id=lambda: {c.compile_job: default for c in found})
    made, files = gpu_sitting.sittings(plan, found)  # type: ignore[arg-type]
    assert [(s["model"], s["function"], s["device"]) for s in made] == [
        ("tiny_cnn", "main", "cuda"), ("tiny_cnn", "main", "vulkan")
    ]  # fmt: skip
    cuda = made[0]
    assert cuda["release"] == "3.13.0"  # the newest of its arms'
    assert [a["name"] for a in cuda["arms"]] == [
        "3.9.0 cuda:sm_80", "3.9.0 cuda:sm_89", "3.13.0 cuda:sm_80", "3.13.0 cuda:sm_89"
    ]  # fmt: skip
    arm = cuda["arms"][3]
    assert arm == {"name": "3.13.0 cuda:sm_89", "kind": "gpu", "config": "default", "release": "3.13.0",
                   "target": "cuda:sm_89",
                   "flags": ["--iree-hal-target-backends=cuda", "--iree-cuda-target=sm_89"],
                   "job": "run:tiny_cnn/iree3.13.0/cuda-sm_89/default"}  # fmt: skip
    torch = cuda["torch"]
    assert torch["module"] == "models.tiny_cnn" and torch["root"] == "torch" and torch["function"] == "main"
    assert (torch["inputs"], torch["references"], torch["atol"]) == (["input0.npy"], ["output0.npy"], 1e-4)
    assert "torch/models/tiny_cnn.py" in files and "torch/models/api.py" in files


def test_the_manifest_carries_a_proof_per_centre_its_neighbours_cells_never_arms(tmp_path: Path) -> None:
    found = [_cell(tmp_path, t, r) for r in ("3.9.0", "3.13.0") for t in ("cuda-sm_80", "vulkan-spirv")]
    found += [_cell(tmp_path, "cuda-sm_80", "3.9.0", profile="O2")]
    profiles = {
        c.compile_job: types.SimpleNamespace(profile=BUILTIN_PROFILES[c.labels["profile"]]) for c in found
    }
    plan = types.SimpleNamespace(by_id=lambda: profiles)
    proofs = {"3.9.0 cuda:sm_80": ("default", ("O2", "channels-last"))}
    made, _ = gpu_sitting.sittings(plan, found, proofs)  # type: ignore[arg-type]
    cuda, vulkan = made
    assert [a["name"] for a in cuda["arms"]] == ["3.9.0 cuda:sm_80", "3.13.0 cuda:sm_80"]
    assert all(a["config"] == "default" for a in cuda["arms"]), "a neighbour is never an arm"
    (proof,) = cuda["proofs"]
    assert proof == {
        "centre": "default", "release": "3.9.0", "target": "cuda:sm_80", "max_steps": 1,
        "neighbours": [
            {"config": "O2", "job": "run:tiny_cnn/iree3.9.0/cuda-sm_80/O2",
             "flags": ["--iree-hal-target-backends=cuda", "--iree-cuda-target=sm_80", "--iree-opt-level=O2"]},
            {"config": "channels-last", "error": "its compile did not succeed here, so it did not travel "
                                                 "(the bundle's output says why)"},
        ],
    }  # fmt: skip
    assert "proofs" not in vulkan
    assert gpu_sitting.count(made) == "2 GPU sitting(s) (cuda, vulkan), 4 IREE arm(s), 2 proof neighbour(s)"


def test_a_model_that_is_not_a_reference_model_travels_without_torchs_spec(tmp_path: Path) -> None:
    cell = dataclasses.replace(
        _cell(tmp_path, "vulkan-spirv", "3.13.0"), labels={"model": "mine", "function": "main"}
    )
    made, files = gpu_sitting.sittings(types.SimpleNamespace(by_id=dict), [cell])  # type: ignore[arg-type]
    assert "torch" not in made[0] and files == {}


# --------------------------------------------------------------------------- there: run.py's GPU sitting


def test_the_gpu_is_named_by_nvidia_smi_where_it_is_nvidias_and_a_software_device_is_said() -> None:
    lavapipe = runner_gpu.device("vulkan", ["llvmpipe (LLVM 15.0.6, 256 bits)"], [])
    assert lavapipe == {"driver": "vulkan", "name": "llvmpipe (LLVM 15.0.6, 256 bits)", "driver_version": "",
                        "compute_capability": "", "software": True}  # fmt: skip
    assert runner_gpu.device("vulkan", ["SwiftShader Device (Subzero)"], [])["software"] is True
    cuda = runner_gpu.device("cuda", [], [H200])
    assert cuda == {"driver": "cuda", "name": "NVIDIA H200", "driver_version": "580.159.04",
                    "compute_capability": "9.0", "software": False}  # fmt: skip
    on_nvidia = runner_gpu.device("vulkan", ["NVIDIA H200"], [H200])
    assert on_nvidia["compute_capability"] == "9.0" and runner_gpu.is_nvidia(on_nvidia)
    assert not runner_gpu.is_nvidia(
        runner_gpu.device("vulkan", ["AMD Radeon RX 7900 XTX (RADV NAVI31)"], [H200])
    )


def test_torchs_peers_say_why_they_do_not_run() -> None:
    h200 = runner_gpu.device("cuda", [], [H200])
    sitting = {"torch": {"module": "models.tiny_cnn"}}
    assert runner_gpu.peer_skip({}, h200, True).startswith("the model's torch source did not travel")
    assert runner_gpu.peer_skip(sitting, h200, False) == "torch is not importable here"
    lavapipe = runner_gpu.device("vulkan", ["llvmpipe (LLVM 15.0.6, 256 bits)"], [])
    assert "is not an NVIDIA GPU" in runner_gpu.peer_skip(sitting, lavapipe, True)
    assert runner_gpu.peer_skip(sitting, h200, True) == ""
    eager, torch_compile = runner_gpu.ordered()
    assert runner_gpu.peer_arm(eager, "2.11.0+cu130")["source"] == "torch 2.11.0+cu130 on cuda"
    compiled = runner_gpu.peer_arm(torch_compile, "2.11.0+cu130", "it failed")
    assert compiled["source"] == "torch 2.11.0+cu130, torch.compile mode=reduce-overhead (CUDA graphs)"
    assert (
        compiled["error"] == "it failed"
        and compiled["kind"] == "peer"
        and compiled["config"] == "torch.compile"
    )


class _FakeWorker:
    """A timing worker's answers, by what it is asked: the parent's side of the protocol, no device."""

    def __init__(self, key: str, asked: list, load_error: str = "", peers: dict | None = None) -> None:
        self.key, self.asked, self.load_error, self.peers = key, asked, load_error, peers

    def ask(self, order: dict) -> dict:
        self.asked.append((self.key, order))
        if "load_gpu" in order:
            return {"ok": False, "error": self.load_error} if self.load_error else {"ok": True}
        if "load_torch_cuda" in order:
            return {"ok": True, "version": "2.11.0+cu130", "arms": self.peers}
        assert order["clock"] == "wall"
        return {"ok": True, "ms": [1.0, 2.0, 3.0][: order["calls"]]}


def _manifest_sitting() -> tuple[dict, dict]:
    arms = [{"name": f"{r} cuda:sm_80", "kind": "gpu", "config": "default", "release": r,
             "target": "cuda:sm_80", "flags": ["--iree-hal-target-backends=cuda"], "job": f"run:{r}"}
            for r in ("3.9.0", "3.13.0")]  # fmt: skip
    cells = {a["job"]: {"job": a["job"], "module_sha256": a["release"] * 3} for a in arms}
    return {
        "model": "tiny_cnn",
        "function": "main",
        "device": "cuda",
        "arms": arms,
        "torch": {"module": "m"},
    }, cells


def test_the_sitting_times_each_arm_that_ran_in_paired_rounds_beside_torchs_peers() -> None:
    sitting, cells = _manifest_sitting()
    checked = {"run:3.9.0": {"status": "mismatch", "message": "outputs differ from torch: max abs err 3"},
               "run:3.13.0": {"status": "ok", "gpu_devices": ["NVIDIA H200"]}}  # fmt: skip
    asked: list = []
    peers = {
        "eager": {"ok": True, "matches": True},
        "torch.compile": {"ok": False, "error": "inductor: no triton"},
    }
    said: list = []
    h200 = runner_gpu.device("cuda", runner_gpu.listed(sitting, checked), [H200])
    assert runner_gpu.present(sitting, checked)
    function = runner_gpu.sit(sitting, cells, checked, h200, 6, 3, said.append,
                              lambda key: _FakeWorker(key, asked, peers=peers), True)  # fmt: skip
    arms = {a["name"]: a for a in function["arms"]}
    assert list(arms) == ["3.9.0 cuda:sm_80", "3.13.0 cuda:sm_80", "eager", "torch.compile"]
    assert (
        arms["3.9.0 cuda:sm_80"]["error"].startswith("outputs differ") and not arms["3.9.0 cuda:sm_80"]["ms"]
    )
    assert arms["3.9.0 cuda:sm_80"]["matches"] is False
    ours = arms["3.13.0 cuda:sm_80"]
    assert ours["ms"] == [2.0] * 6 and ours["matches"] is True and "error" not in ours
    assert set(ours) == {"name", "kind", "config", "release", "target", "flags", "module_sha256", "ms",
                         "matches", "source"}  # fmt: skip
    assert arms["eager"]["ms"] == [2.0] * 6 and arms["eager"]["matches"] is True
    assert arms["eager"]["source"] == "torch 2.11.0+cu130 on cuda"
    assert arms["torch.compile"]["error"] == "inductor: no triton" and arms["torch.compile"]["ms"] == []
    timed = [(key, o["time"]) for key, o in asked if "time" in o]
    assert timed[:2] == [("3.13.0", "run:3.13.0"), ("peer", "eager")]  # round 1 in order
    assert timed[2:4] == [("3.13.0", "run:3.13.0"), ("peer", "eager")]  # round 2: rotated, then reversed
    assert said[-1] == "main: round 6 of 6"
    assert all("job" not in a for a in function["arms"])


def test_an_arm_the_worker_cannot_load_and_a_skipped_peer_are_errors_not_crashes() -> None:
    sitting, cells = _manifest_sitting()
    checked = {"run:3.9.0": {"status": "skip", "message": "not run: no CUDA device here (libcuda.so)"},
               "run:3.13.0": {"status": "ok"}}  # fmt: skip
    asked: list = []
    lavapipe = runner_gpu.device("vulkan", ["llvmpipe (LLVM 15.0.6, 256 bits)"], [])
    function = runner_gpu.sit(
        sitting, cells, checked, lavapipe, 6, 3, lambda _: None,
        lambda key: _FakeWorker(key, asked, load_error="HAL: out of memory"), False,
    )  # fmt: skip
    arms = {a["name"]: a for a in function["arms"]}
    assert arms["3.9.0 cuda:sm_80"]["error"] == "not run: no CUDA device here (libcuda.so)"
    assert arms["3.13.0 cuda:sm_80"]["error"] == "HAL: out of memory"
    assert arms["eager"]["error"] == arms["torch.compile"]["error"] == "torch is not importable here"
    assert not any("time" in o for _, o in asked) and not any("load_torch_cuda" in o for _, o in asked)
    assert not runner_gpu.present(sitting, {"run:3.9.0": {"status": "skip"}})


class _TimedWorker(_FakeWorker):
    """A worker whose calls take what `ms` says for the job (a neighbour faster than its centre)."""

    def __init__(self, key: str, asked: list, ms: dict) -> None:
        super().__init__(key, asked)
        self.ms = ms

    def ask(self, order: dict) -> dict:
        if "time" in order:
            self.asked.append((self.key, order))
            return {"ok": True, "ms": [self.ms.get(order["time"], 2.0)] * order["calls"]}
        return super().ask(order)


def test_a_proofs_neighbours_are_checked_and_timed_in_the_centres_rounds_and_written_as_a_proof() -> None:
    from iree_matrix.findings import neighbourhood

    sitting, cells = _manifest_sitting()
    around = [("O2", "run:O2", "o2"), ("im2col", "run:im2col", "im"),
              ("channels-last", "run:cl", "3.13.0" * 3),  # byte-identical to the centre's module
              ("transposes", "run:tr", "tr"), ("no-data-tiling", "run:ndt", "ndt")]  # fmt: skip
    for _, job, digest in around:
        cells[job] = {"job": job, "module_sha256": digest}
    sitting["proofs"] = [{
        "centre": "default", "release": "3.13.0", "target": "cuda:sm_80", "max_steps": 1,
        "neighbours": [{"config": c, "flags": [f"--{c}"], "job": j} for c, j, _ in around]
        + [{"config": "aggressive-fusion", "error": "its compile did not succeed here"}],
    }]  # fmt: skip
    checked = {"run:3.9.0": {"status": "ok"}, "run:3.13.0": {"status": "ok"}, "run:O2": {"status": "ok"},
               "run:im2col": {"status": "ok"}, "run:cl": {"status": "ok"},
               "run:tr": {"status": "mismatch",
                          "message": "outputs differ from torch: max abs err 3"}}  # fmt: skip
    asked: list = []
    ms = {"run:3.13.0": 2.0, "run:O2": 2.02, "run:im2col": 1.6, "run:3.9.0": 2.4}
    h200 = runner_gpu.device("cuda", [], [H200])
    function = runner_gpu.sit(sitting, cells, checked, h200, 8, 3, lambda _: None,
                              lambda key: _TimedWorker(key, asked, ms), False)  # fmt: skip
    # The neighbours are loaded and timed by the centre's release's worker, in the same rounds.
    loads = [(key, o["load_gpu"]["job"]) for key, o in asked if "load_gpu" in o]
    assert ("3.13.0", "run:O2") in loads and ("3.13.0", "run:im2col") in loads
    assert not any(job in ("run:cl", "run:tr", "run:ndt") for _, job in loads), "same module, mismatch, unrun"
    rounds = [o["time"] for _, o in asked if "time" in o]
    assert rounds[:4] == ["run:3.9.0", "run:3.13.0", "run:O2", "run:im2col"] and len(rounds) == 4 * 8
    assert [a["name"] for a in function["arms"]] == [
        "3.9.0 cuda:sm_80",
        "3.13.0 cuda:sm_80",
        "eager",
        "torch.compile",
    ]
    (written,) = function["proofs"]
    assert (written["release"], written["target"], written["source"], written["max_steps"]) == (
        "3.13.0", "cuda:sm_80", "run bundle", 1
    )  # fmt: skip
    proof = neighbourhood.Proof.of(json.loads(json.dumps(written)))
    (step,) = proof.steps
    assert step.centre.config == "default" and step.centre.ms == (2.0,) * 8
    by = {n.config: n for n in step.neighbours}
    assert by["channels-last"].same_as == "default" and by["channels-last"].ms == (2.0,) * 8
    assert by["transposes"].matches is False and by["transposes"].error.startswith("mismatch: outputs differ")
    assert by["no-data-tiling"].error == "not run: the cell not run" and by["aggressive-fusion"].error
    assert by["im2col"].ms == (1.6,) * 8 and step.winner is not None and step.winner.config == "im2col"
    assert not proof.certified and proof.stopped == "not a local optimum"


def test_a_proof_whose_centre_is_not_an_arm_of_the_sitting_is_not_timed() -> None:
    sitting, cells = _manifest_sitting()
    sitting["proofs"] = [{"centre": "default", "release": "3.13.0", "target": "cuda:sm_89", "max_steps": 1,
                          "neighbours": [{"config": "O2", "flags": [], "job": "run:3.9.0"}]}]  # fmt: skip
    checked = {"run:3.9.0": {"status": "ok"}, "run:3.13.0": {"status": "ok"}}
    function = runner_gpu.sit(sitting, cells, checked, runner_gpu.device("cuda", [], [H200]), 6, 3,
                              lambda _: None, lambda key: _FakeWorker(key, []), False)  # fmt: skip
    assert "proofs" not in function


def test_the_document_is_the_cpu_sittings_with_schema_3_wall_timing_and_the_gpu() -> None:
    host = {
        "identity": "x86_64|AuthenticAMD|25|17|1|abc|16",
        "cpu": "AMD EPYC",
        "llvm_cpu": "znver4",
        "gpus": [H200],
    }
    gpu = runner_gpu.device("cuda", [], [H200])
    load = {"start": 0.1, "end": 0.2}
    sat = {"started": "S", "finished": "F", "load_average": load, "functions": [{"function": "main"}]}
    made = runner_gpu.document("tiny_cnn", "3.13.0", host, gpu, 8, 3, sat, "d")
    assert made == {
        "schema": 3, "timing": "wall", "device": gpu, "model": "tiny_cnn", "release": "3.13.0",
        "llvm_cpu": "znver4", "host": {k: v for k, v in host.items() if k != "gpus"}, "rounds": 8,
        "repetitions": 3, "started": "S", "finished": "F", "load_average": load,
        "functions": [{"function": "main"}], "bundle_sha256": "d",
    }  # fmt: skip


def test_a_gpu_call_is_timed_by_wall_time_after_one_untimed_call_synchronised_around() -> None:
    events: list = []
    times = runner_gpu.time_calls(lambda: events.append("call"), 3, lambda: events.append("sync"))
    assert len(times) == 3 and all(t >= 0 for t in times)
    assert events == ["call", *["sync", "call", "sync"] * 3]


def test_a_gpu_sittings_file_names_its_driver(tmp_path: Path) -> None:
    runner_sitting._keep(tmp_path, "tiny_cnn", "2026-11-26T18:50:58+00:00", {"schema": 3}, "vulkan")
    runner_sitting._keep(tmp_path, "tiny_cnn", "2026-11-26T18:50:58+00:00", {"schema": 3}, "cuda")
    runner_sitting._keep(tmp_path, "tiny_cnn", "2026-11-26T18:50:58+00:00", {"schema": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "advice-tiny_cnn.20261126T185058-cuda.json", "advice-tiny_cnn.20261126T185058-vulkan.json",
        "advice-tiny_cnn.20261126T185058.json",
    ]  # fmt: skip


def test_no_proof_leaves_the_gpu_neighbourhood_out_of_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    from iree_matrix.matrix.spec_file import load

    advise = load(ROOT / "matrix" / "advise.toml")
    made: list = []

    def load_plan(plan: Any, adjust: Any) -> str:
        made.append(adjust(advise))
        return "loaded"

    monkeypatch.setattr(bundling, "load_plan", load_plan)
    plan = types.SimpleNamespace(with_models=lambda models: None)
    for proof in (True, False):
        args = bundling.Settings(to=None, advise="tiny_cnn", targets=("vulkan-spirv",), proof=proof)
        _, advised = bundling._gpu_plan(plan, args)  # type: ignore[arg-type]
        assert advised.gpu and bool(advised.proofs) is proof
    with_proof, without = ({c.profile for c in m.cells} for m in made)
    assert without == {"default"} and with_proof == {
        "default",
        *_gpu_neighbours("3.13.0", "vulkan-spirv"),
    }


def test_the_cpu_peers_share_one_worker_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ONNX Runtime and torch eager are timed by one worker: a Worker starts its process when made, so
    a second one made and never asked would be a process left running beside the sitting."""
    made: list[str] = []

    class _Counted(_FakeWorker):
        def __init__(self, root: Path, pythonpath: str) -> None:
            made.append(pythonpath)
            super().__init__("peer", [])

        def ask(self, order: dict) -> dict:
            self.asked.append(order)
            return {"ok": True, "version": "1.0", "matches": True}

    monkeypatch.setattr(runner_sitting, "Worker", _Counted)
    monkeypatch.setattr(runner_sitting, "importable", lambda package: True)
    sitting, arms, workers = {"onnx": {"model": "m.onnx"}, "torch": {"model": "m.pt"}}, [], {}
    assert runner_sitting._peers(tmp_path, sitting, arms, workers, print) == []
    assert made == [""] and [a["job"] for a in arms] == ["peer:onnxruntime", "peer:eager"]
    assert len(workers["peer"].asked) == 2
