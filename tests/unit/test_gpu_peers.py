"""torch's peers in a GPU sitting are one module each (bundle_runner/gpu_peers/): a bundle carries
them all, and a third peer's module, written beside the shipped two and nowhere else, is timed by
the runner, answered against in the GPU answers, their JSON and ANSWERS.md, and changes no row of
the hand-measured table (which timed only the shipped two)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.bundle_runner import gpu as runner_gpu
from iree_matrix.bundle_runner import gpu_peers
from iree_matrix.execution import bundle
from iree_matrix.findings import compat, gpu, gpu_advice, gpu_measured, results_folder
from iree_matrix.report import answers
from tests.unit import test_gpu_advice as sittings
from tests.unit import test_gpu_measured

ROOT = Path(__file__).resolve().parents[2]
TOY = '''"""TorchScript on the GPU: the model scripted."""

PEER = {"rank": 30, "config": "torchscript", "display": "TorchScript", "mode": "",
        "source": "{torch}, torch.jit.script"}


def load(torch, module):
    return torch.jit.script(module)
'''


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy peer's module, in a folder of its own that the package also searches: the one file."""
    folder = tmp_path / "more_gpu_peers"
    folder.mkdir()
    (folder / "torchscript.py").write_text(TOY)
    monkeypatch.setattr(gpu_peers, "__path__", [*gpu_peers.__path__, str(folder)])
    yield folder
    sys.modules.pop(f"{gpu_peers.__name__}.torchscript", None)


def test_the_shipped_gpu_peers_in_their_order() -> None:
    assert [(p.name, p.config, p.display) for p in gpu_peers.ordered()] == [
        ("eager", "eager", "torch eager"),
        ("torch_compile", "torch.compile", "torch.compile"),
    ]


def test_a_bundles_runner_finds_the_same_gpu_peers_as_iree_matrix(tmp_path: Path) -> None:
    """The bundle carries gpu_peers/ (bundle.runners), and its runner, alone on the path as on the
    machine that runs it, lists the peers this package lists."""
    carried = bundle.runners()
    package = Path(gpu_peers.__file__).parent
    assert {f"bundle_runner/gpu_peers/{p.name}" for p in package.glob("*.py")} <= set(carried)
    for name, source in carried.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(source.read_bytes())
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import json, bundle_runner.gpu as g; "
        "print(json.dumps([g.peer_arm(p, '2.11')['source'] for p in g.ordered()]), g.__file__)"
    )
    said = subprocess.run(
        [sys.executable, "-I", "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    sources, where = said.stdout.rsplit(" ", 1)
    assert where.startswith(str(tmp_path))  # the bundle's copy, not iree_matrix's
    assert json.loads(sources) == [p.source.format(torch="torch 2.11") for p in gpu_peers.ordered()]


def test_a_peer_module_without_its_declaration_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    class Bare:
        __file__ = "gpu_peers/bare.py"
        PEER = {"rank": 1}

    monkeypatch.setitem(sys.modules, f"{gpu_peers.__name__}.bare", Bare)
    with pytest.raises(RuntimeError, match=r"^gpu_peers/bare.py: a GPU peer has a PEER of rank, config, "):
        gpu_peers._read("bare")


class _Worker:
    """The peer worker's answer to load_torch_cuda: every peer loaded and matching."""

    def __init__(self) -> None:
        self.asked: list[dict] = []

    def ask(self, order: dict) -> dict:
        self.asked.append(order)
        arms = {c: {"ok": True, "matches": True} for c in ("eager", "torch.compile", "torchscript")}
        return {"ok": True, "version": "2.11.0+cu130", "arms": arms}


def test_the_runner_times_the_toy_beside_the_shipped_peers(toy: Path) -> None:
    assert [p.config for p in gpu_peers.ordered()] == ["eager", "torch.compile", "torchscript"]
    h200 = runner_gpu.device("cuda", [], [sittings.H200 | {"driver": "580", "name": "NVIDIA H200"}])
    said: list[str] = []
    arms = runner_gpu._torch_peers({"torch": {"module": "m"}}, h200, said.append, lambda _: _Worker(), True)
    assert [a["job"] for a in arms] == ["peer:eager", "peer:torch.compile", "peer:torchscript"]
    assert arms[2]["source"] == "torch 2.11.0+cu130, torch.jit.script" and arms[2]["matches"] is True
    assert "TorchScript" in said[0]
    skipped = runner_gpu._torch_peers({}, h200, said.append, lambda _: _Worker(), True)
    assert [a["config"] for a in skipped] == ["eager", "torch.compile", "torchscript"]
    assert gpu_peers.ordered()[2].load.__module__ == f"{gpu_peers.__name__}.torchscript"


def test_the_answers_name_the_toy(toy: Path, tmp_path: Path) -> None:
    document = sittings._cuda()
    document["functions"][0]["arms"].append(sittings._peer("torchscript", 1.465))
    (a,) = gpu_advice.derive(document, "answers/nvidia-h200-cc9.0/advice-mobilenet_v2.x.json")
    said = "\n".join(gpu_advice.answer_lines(a))
    assert "IREE takes 2.00× TorchScript's time" in said and "IREE takes 4.04× torch.compile's time" in said
    written = gpu_advice.as_json(a)
    assert written["time_over_torchscript"]["verdict"] == "slower" and written["torchscript_error"] == ""
    compat.validate(compat.derive([], None, (), [a]))  # any peer's keys are within compat-1
    table = "\n".join(answers.on_gpus([a]))
    header = next(line for line in table.splitlines() if line.startswith("| model"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[-4:] == ["vs torch eager", "vs torch.compile", "vs TorchScript", "sitting"]
    assert "torch eager, torch.compile (CUDA graphs) and TorchScript timed in alternating rounds" in table
    assert "IREE takes 2.00× torchscript's time" in table
    (unanswered,) = gpu_advice.derive(sittings._document([]))
    assert gpu_advice.as_json(unanswered)["time_over_torchscript"] is None


def test_the_hand_measured_table_is_unchanged_by_a_peer_it_did_not_time(toy: Path) -> None:
    records = results_folder.read(ROOT / "results" / "gpu" / "results.jsonl")
    with_toy = (test_gpu_measured.markdown_rows(), gpu.model(records, "mobilenet_v2", "cuda-sm_90").text())
    assert [p.config for p in gpu_measured.peers()] == ["eager", "torch.compile"]
    sys.modules.pop(f"{gpu_peers.__name__}.torchscript", None)
    toy.joinpath("torchscript.py").unlink()
    assert with_toy == (
        test_gpu_measured.markdown_rows(),
        gpu.model(records, "mobilenet_v2", "cuda-sm_90").text(),
    )
