"""Unit tests for the reference models in scripts/models (need torch importable)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

SCRIPTS = Path(__file__).parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

pytestmark = pytest.mark.torch

# module name -> expected output shape
EXPECTED_OUTPUT_SHAPES = {
    "mobilenet_v2": (1, 1000),
    "quartznet5x5": (1, 128, 29),
    "tiny_cnn": (1, 10),
}
MODEL_NAMES = sorted(EXPECTED_OUTPUT_SHAPES)


def _load(name):
    return importlib.import_module("models." + name)


def _run(spec):
    with torch.no_grad():
        return spec.module(*spec.inputs)


@pytest.fixture(scope="module")
def built():
    """Each model built once with seed 0, with its output, shared by the tests."""
    result = {}
    for name in MODEL_NAMES:
        spec = _load(name).build(seed=0)
        result[name] = (spec, _run(spec))
    return result


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_build_is_deterministic(name, built):
    spec, out = built[name]
    spec2 = _load(name).build(seed=0)
    assert len(spec.inputs) == len(spec2.inputs)
    for a, b in zip(spec.inputs, spec2.inputs):
        assert torch.equal(a, b)
    state, state2 = spec.module.state_dict(), spec2.module.state_dict()
    assert state.keys() == state2.keys()
    for key in state:
        assert torch.equal(state[key], state2[key]), key
    assert torch.equal(out, _run(spec2))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_seed_changes_weights_and_inputs(name, built):
    spec, out = built[name]
    other = _load(name).build(seed=1)
    assert not torch.equal(spec.inputs[0], other.inputs[0])
    assert not torch.equal(out, _run(other))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_build_leaves_global_rng_alone(name):
    torch.manual_seed(1234)
    expected = torch.rand(4)
    torch.manual_seed(1234)
    _load(name).build(seed=0)
    assert torch.equal(torch.rand(4), expected)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_count(name, built):
    from models.api import count_parameters

    spec, _ = built[name]
    assert count_parameters(spec.module) == _load(name).PARAMETERS


def test_mobilenet_v2_published_parameter_count(built):
    from models.api import count_parameters

    assert _load("mobilenet_v2").PARAMETERS == 3_504_872
    assert count_parameters(built["mobilenet_v2"][0].module) == 3_504_872


def test_quartznet_parameter_count_near_published(built):
    # Kriman et al. report "6.7M" for QuartzNet 5x5.
    from models.api import count_parameters

    count = count_parameters(built["quartznet5x5"][0].module)
    assert count == 6_713_181
    assert round(count / 1e6, 1) == 6.7


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_output_shape_and_finite(name, built):
    _, out = built[name]
    assert tuple(out.shape) == EXPECTED_OUTPUT_SHAPES[name]
    assert out.dtype == torch.float32
    assert bool(torch.isfinite(out).all())
    assert float(out.std()) > 1e-3  # not degenerate


def test_quartznet_output_is_log_softmax(built):
    _, out = built["quartznet5x5"]
    sums = out.exp().sum(dim=-1)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-4)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_spec_fields(name, built):
    from models.api import ModelSpec

    spec, _ = built[name]
    assert isinstance(spec, ModelSpec)
    assert not spec.module.training
    assert all(not m.training for m in spec.module.modules())
    assert isinstance(spec.inputs, tuple) and spec.inputs
    assert all(isinstance(t, torch.Tensor) for t in spec.inputs)
    assert spec.atol > 0 and spec.rtol > 0
    assert spec.description


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_batchnorm_not_identity(name, built):
    spec, _ = built[name]
    bns = [m for m in spec.module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns
    for bn in bns:
        assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))
        assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
        assert not torch.allclose(bn.weight, torch.ones_like(bn.weight))
