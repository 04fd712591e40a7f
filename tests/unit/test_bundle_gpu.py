"""A bundle's GPU sitting: the targets `bundle --advise MODEL --target` takes, the manifest's sittings
(one per function and HAL driver, execution/gpu_sitting.py) and what run.py makes of them there
(scripts/bundle_gpu.py: the GPU's identity, why torch's peers do not run, the paired rounds, the
document's shape). End to end on lavapipe: tests/integration/test_bundle.py."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.execution import gpu_sitting
from iree_matrix.execution.bundle import Cell
from iree_matrix.iree.flags import BUILTIN_PROFILES
from iree_matrix.matrix import spec
from iree_matrix.tasks import bundling

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


def _load(name: str) -> Any:
    spec_ = importlib.util.spec_from_file_location(f"{name}_under_test", SCRIPTS / f"{name}.py")
    assert spec_ is not None and spec_.loader is not None
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module


if str(SCRIPTS) not in sys.path:  # run.py imports its neighbours by name, as it does in a bundle
    sys.path.insert(0, str(SCRIPTS))
bundle_gpu = _load("bundle_gpu")
runner = _load("bundle_run")

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


# --------------------------------------------------------------------------- here: the manifest


def _cell(tmp_path: Path, target: str, release: str, function: str = "main") -> Cell:
    export = tmp_path / "export"
    (export / "inputs").mkdir(parents=True, exist_ok=True)
    (export / "reference").mkdir(exist_ok=True)
    (export / "export.json").write_text(json.dumps({"function": function, "atol": 1e-4, "rtol": 1e-3}))
    (export / "inputs" / "input0.npy").write_bytes(b"")
    (export / "reference" / "output0.npy").write_bytes(b"")
    driver = {"cuda": "cuda", "vulkan": "vulkan"}[target.split("-")[0]]
    job = f"tiny_cnn/iree{release}/{target}/default"
    return Cell(
        job=f"run:{job}", labels={"model": "tiny_cnn", "function": function, "profile": "default"},
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


def test_a_model_that_is_not_a_reference_model_travels_without_torchs_spec(tmp_path: Path) -> None:
    cell = dataclasses.replace(
        _cell(tmp_path, "vulkan-spirv", "3.13.0"), labels={"model": "mine", "function": "main"}
    )
    made, files = gpu_sitting.sittings(types.SimpleNamespace(by_id=dict), [cell])  # type: ignore[arg-type]
    assert "torch" not in made[0] and files == {}


# --------------------------------------------------------------------------- there: run.py's GPU sitting


def test_the_gpu_is_named_by_nvidia_smi_where_it_is_nvidias_and_a_software_device_is_said() -> None:
    lavapipe = bundle_gpu.device("vulkan", ["llvmpipe (LLVM 15.0.6, 256 bits)"], [])
    assert lavapipe == {"driver": "vulkan", "name": "llvmpipe (LLVM 15.0.6, 256 bits)", "driver_version": "",
                        "compute_capability": "", "software": True}  # fmt: skip
    assert bundle_gpu.device("vulkan", ["SwiftShader Device (Subzero)"], [])["software"] is True
    cuda = bundle_gpu.device("cuda", [], [H200])
    assert cuda == {"driver": "cuda", "name": "NVIDIA H200", "driver_version": "580.159.04",
                    "compute_capability": "9.0", "software": False}  # fmt: skip
    on_nvidia = bundle_gpu.device("vulkan", ["NVIDIA H200"], [H200])
    assert on_nvidia["compute_capability"] == "9.0" and bundle_gpu.is_nvidia(on_nvidia)
    assert not bundle_gpu.is_nvidia(
        bundle_gpu.device("vulkan", ["AMD Radeon RX 7900 XTX (RADV NAVI31)"], [H200])
    )


def test_torchs_peers_say_why_they_do_not_run() -> None:
    h200 = bundle_gpu.device("cuda", [], [H200])
    sitting = {"torch": {"module": "models.tiny_cnn"}}
    assert bundle_gpu.peer_skip({}, h200, True).startswith("the model's torch source did not travel")
    assert bundle_gpu.peer_skip(sitting, h200, False) == "torch is not importable here"
    lavapipe = bundle_gpu.device("vulkan", ["llvmpipe (LLVM 15.0.6, 256 bits)"], [])
    assert "is not an NVIDIA GPU" in bundle_gpu.peer_skip(sitting, lavapipe, True)
    assert bundle_gpu.peer_skip(sitting, h200, True) == ""
    assert bundle_gpu.peer_arm("eager", "2.11.0+cu130")["source"] == "torch 2.11.0+cu130 on cuda"
    compiled = bundle_gpu.peer_arm("torch.compile", "2.11.0+cu130", "it failed")
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
    h200 = bundle_gpu.device("cuda", bundle_gpu.listed(sitting, checked), [H200])
    assert bundle_gpu.present(sitting, checked)
    function = bundle_gpu.sit(sitting, cells, checked, h200, 6, 3, said.append,
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
    lavapipe = bundle_gpu.device("vulkan", ["llvmpipe (LLVM 15.0.6, 256 bits)"], [])
    function = bundle_gpu.sit(
        sitting, cells, checked, lavapipe, 6, 3, lambda _: None,
        lambda key: _FakeWorker(key, asked, load_error="HAL: out of memory"), False,
    )  # fmt: skip
    arms = {a["name"]: a for a in function["arms"]}
    assert arms["3.9.0 cuda:sm_80"]["error"] == "not run: no CUDA device here (libcuda.so)"
    assert arms["3.13.0 cuda:sm_80"]["error"] == "HAL: out of memory"
    assert arms["eager"]["error"] == arms["torch.compile"]["error"] == "torch is not importable here"
    assert not any("time" in o for _, o in asked) and not any("load_torch_cuda" in o for _, o in asked)
    assert not bundle_gpu.present(sitting, {"run:3.9.0": {"status": "skip"}})


def test_the_document_is_the_cpu_sittings_with_schema_3_wall_timing_and_the_gpu() -> None:
    host = {
        "identity": "x86_64|AuthenticAMD|25|17|1|abc|16",
        "cpu": "AMD EPYC",
        "llvm_cpu": "znver4",
        "gpus": [H200],
    }
    gpu = bundle_gpu.device("cuda", [], [H200])
    load = {"start": 0.1, "end": 0.2}
    made = bundle_gpu.document(
        "tiny_cnn", "3.13.0", host, gpu, 8, 3, "S", "F", load, [{"function": "main"}], "d"
    )
    assert made == {
        "schema": 3, "timing": "wall", "device": gpu, "model": "tiny_cnn", "release": "3.13.0",
        "llvm_cpu": "znver4", "host": {k: v for k, v in host.items() if k != "gpus"}, "rounds": 8,
        "repetitions": 3, "started": "S", "finished": "F", "load_average": load,
        "functions": [{"function": "main"}], "bundle_sha256": "d",
    }  # fmt: skip


def test_a_gpu_call_is_timed_by_wall_time_after_one_untimed_call_synchronised_around() -> None:
    events: list = []
    times = bundle_gpu.time_wall(lambda: events.append("call"), 3, lambda: events.append("sync"))
    assert len(times) == 3 and all(t >= 0 for t in times)
    assert events == ["call", *["sync", "call", "sync"] * 3]


def test_a_gpu_sittings_file_names_its_driver(tmp_path: Path) -> None:
    runner._keep(tmp_path, "tiny_cnn", "2026-11-26T18:50:58+00:00", {"schema": 3}, "vulkan")
    runner._keep(tmp_path, "tiny_cnn", "2026-11-26T18:50:58+00:00", {"schema": 3}, "cuda")
    runner._keep(tmp_path, "tiny_cnn", "2026-11-26T18:50:58+00:00", {"schema": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "advice-tiny_cnn.20261126T185058-cuda.json", "advice-tiny_cnn.20261126T185058-vulkan.json",
        "advice-tiny_cnn.20261126T185058.json",
    ]  # fmt: skip
