"""A user's own model through the CLI, end to end on real torch / turbine / IREE; and a broken
one recorded as a failure with its message while the other cells stay green."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import SMOKE, iree_matrix, matrix_toml, records

pytestmark = pytest.mark.integration

MY_MODEL = """
import torch
from models.api import ModelSpec


class TwoLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(16, 32)
        self.b = torch.nn.Linear(32, 4)

    def forward(self, x):
        return self.b(torch.tanh(self.a(x)))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TwoLayer().eval(), (torch.randn(2, 16),), atol=1e-5, rtol=1e-4)
"""

BROKEN = """
def build(seed=0):
    return "not a model"
"""


def test_user_model_runs_and_broken_one_is_a_recorded_failure(cache: Path, tmp_path: Path) -> None:
    models = tmp_path / "models-dir"
    models.mkdir(mode=0o755)  # stages in containers run unprivileged: the file must be readable
    (models / "my_net.py").write_text(MY_MODEL)
    (models / "broken.py").write_text(BROKEN)
    for f in models.iterdir():
        f.chmod(0o644)
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(SMOKE), "--select", "*/iree3.9.0/x86_64/default",
        "--model", f"{models / 'my_net.py'}:build", "--model", f"{models / 'broken.py'}:build",
        "--model", "tiny_cnn",
        cache=cache, results=results,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(results)

    mine = got["run:my_net/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"]
    assert mine.status is Status.OK, mine.message
    assert mine.metrics["max_abs_err"] <= 1e-5 + 1e-4 * 4
    assert (
        got["export:my_net/py3.11-torch2.13.0-turbine3.9.0"].metrics["parameters"]
        == 16 * 32 + 32 + 32 * 4 + 4
    )

    broken = got["export:broken/py3.11-torch2.13.0-turbine3.9.0"]
    assert broken.status is Status.FAIL and broken.error_class == "model-error"
    assert "build() returned str; expected a ModelSpec" in broken.message
    assert got["run:broken/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"].status is Status.NOT_RUN

    assert got["run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"].status is Status.OK
    table = (results / "COMPATIBILITY.md").read_text()
    assert "### my_net" in table and "build() returned str" in table


def test_real_weights_replace_the_seeded_ones_and_wrong_ones_are_a_model_error(
    cache: Path, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    import sys

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from models import tiny_cnn

    shared = tmp_path / "weights"
    shared.mkdir(mode=0o755)
    other = tiny_cnn.build(5)
    torch.save(other.module.state_dict(), shared / "tiny5.pt")
    torch.save({"not": torch.zeros(1)}, shared / "wrong.pt")
    for f in shared.iterdir():
        f.chmod(0o644)

    def run(weights: str) -> dict:
        matrix = tmp_path / f"{weights}.toml"
        tables = {"benchmark": {"repetitions": 2}, "weights": {"tiny_cnn": f"weights/{weights}"}}
        matrix.write_text(matrix_toml(tables=tables))
        results = tmp_path / f"results-{weights}"
        done = iree_matrix("matrix", "--matrix", str(matrix), cache=cache, results=results)
        assert done.returncode == 0, done.stderr
        return records(results)

    got = run("tiny5.pt")
    export = got["export:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"]
    assert export.status is Status.OK
    reference = np.load(cache / "store" / "export" / export.key / "reference" / "output0.npy")
    inputs = tiny_cnn.build(0).inputs  # inputs still come from the matrix's seed
    with torch.no_grad():
        expected = other.module(*inputs).numpy()
    np.testing.assert_allclose(reference, expected, rtol=1e-5, atol=1e-6)
    assert got["run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"].status is Status.OK

    wrong = run("wrong.pt")["export:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"]
    assert wrong.status is Status.FAIL and wrong.error_class == "model-error"
    assert "Missing key(s) in state_dict" in wrong.message
