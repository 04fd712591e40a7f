"""The process-heavy part of tests/unit/test_model_behaviour.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.scripts_path import scripts_importable
from tests.unit.test_model_behaviour import BF16, BITS, Spec, _models

SCRIPTS = scripts_importable()

import export_model as em  # noqa: E402


@pytest.fixture
def torch():  # type: ignore[no-untyped-def]
    return pytest.importorskip("torch")


@pytest.mark.torch
@pytest.mark.heavy
def test_a_model_that_changes_its_input_is_compared_on_the_inputs_as_built(torch) -> None:
    """The drill's "outputs differ from torch: max abs err 41.7": the reference was the last timed call's,
    on inputs every call had doubled, and the saved inputs were those doubled ones."""
    x = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    as_built = em.copy_tensors((x,))
    reference = em.reference_call(Spec(_models(torch)[0], x), as_built)
    assert torch.equal(as_built[0], x)  # the copy it was given took the change
    assert torch.equal(reference.outputs[0], x * 2.0 + 1.0)
    assert reference.changes_inputs == ["input 0: 4 of 4 values"] and reference.nonfinite == {}


@pytest.mark.torch
@pytest.mark.heavy
def test_torchs_nan_is_named_and_a_model_with_nothing_finite_is_its_own_failure(torch) -> None:
    log = _models(torch)[1]
    x = torch.tensor([1.0, -1.0, 4.0, 0.0])
    reference = em.reference_call(Spec(log, x), (x,))
    assert reference.nonfinite == {"output0": {"nan": 1, "inf": 1, "of": 4}} and not reference.changes_inputs
    with pytest.raises(
        em.ModelFinding, match=r"all NaN or inf \(output0: 4 NaN of 4 values\): there is nothing"
    ):
        em.reference_call(Spec(log, -x.abs() - 1), (-x.abs() - 1,))


@pytest.mark.torch
@pytest.mark.heavy
def test_a_python_number_among_the_outputs_is_the_models_finding(torch) -> None:
    """The drill's `export-error: KeyError: 3.0` (turbine's importer, given a float output)."""
    x = torch.ones(2)
    with pytest.raises(em.ModelFinding, match=r"returns a Python float \(3.0\) as output 1: .*torch.tensor"):
        em.reference_call(Spec(_models(torch)[2], x), (x,))


@pytest.mark.torch
@pytest.mark.heavy
def test_bfloat16_is_saved_as_its_raw_bits_with_the_dtype_named(tmp_path: Path, torch) -> None:
    """The drill's `export-error: Got unsupported ScalarType BFloat16`, from the worker's own saver."""
    t = torch.tensor([[1.0, -2.0, 0.5], [3.140625, float("nan"), float("-inf")]], dtype=torch.bfloat16)
    described = em.save_arrays(tmp_path, "output", [t, torch.ones(2, dtype=torch.float16)])
    assert described == [BF16, {"shape": [2], "dtype": "float16"}]
    saved = np.load(tmp_path / "output0.npy")
    assert saved.dtype.str == "|V2" and saved.view(np.uint16).tolist() == BITS.tolist()
    assert np.load(tmp_path / "output1.npy").dtype == np.float16


@pytest.mark.torch
@pytest.mark.heavy
def test_a_model_that_changes_its_own_buffer_is_exported_in_the_state_its_reference_saw(torch) -> None:
    """Issue 68 item 5: a model that changes its own buffer in forward() was stored as IREE's numeric
    mismatch (exported as its timed calls had left it, compared with its first call's answer). The
    buffer is named (`changes_state`) and the state as built is what is exported."""

    class Counter(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(2))
            self.register_buffer("calls", torch.zeros(1))
            self.register_buffer("seen", torch.zeros(2), persistent=False)

        def forward(self, x):  # type: ignore[no-untyped-def]
            self.calls += 1
            self.seen += x
            return x * self.scale * self.calls + self.seen

    model, x = Counter(), torch.tensor([1.0, 2.0])
    reference = em.reference_call(Spec(model, x), em.copy_tensors((x,)))
    assert reference.changes_state == ["buffer calls: 1 of 1 values", "buffer seen: 2 of 2 values"]
    assert reference.changes_inputs == []
    with torch.no_grad():
        for _ in range(5):  # the timed calls
            model(x)
    em.restore_state(model, reference.state)
    with torch.no_grad():
        assert torch.equal(model(x), reference.outputs[0])  # what the export now traces answers as torch did

    class Learns(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(2))

        def forward(self, x):  # type: ignore[no-untyped-def]
            self.w.add_(1.0)
            return x * self.w

    learns = em.reference_call(Spec(Learns(), x), em.copy_tensors((x,)))
    assert learns.changes_state == ["parameter w: changed"]
    plain = em.reference_call(Spec(torch.nn.Linear(2, 2), x), em.copy_tensors((x,)))
    assert plain.changes_state == []
    function = em.reference_call(Spec(lambda t: t + 1.0, x), em.copy_tensors((x,)))
    assert function.changes_state == []


@pytest.mark.torch
@pytest.mark.heavy
def test_a_spec_with_a_wrong_tolerance_names_the_value_not_the_class(torch) -> None:
    """Issue 68 item 7: an `atol` given as a string read "build() returned ModelSpec; expected a
    ModelSpec ...": the right class named as the wrong one. The value is named instead."""
    sys.path.insert(0, str(SCRIPTS))
    from models.api import ModelSpec

    module, x = torch.nn.Linear(2, 2), torch.ones(1, 2)
    for atol, said in [("1e-3", "'1e-3' (str)"), (-1.0, "-1.0 (float)"), (float("nan"), "nan (float)"),
                       (True, "True (bool)")]:  # fmt: skip
        with pytest.raises(TypeError) as caught:
            em.check_spec(ModelSpec(module=module, inputs=(x,), atol=atol, rtol=1e-4), "build")
        message = str(caught.value)
        assert message == f"build() returned a ModelSpec whose `atol` is {said}, not a number, 0 or more"
    with pytest.raises(TypeError, match=r"build\(\) returned str; expected a ModelSpec"):
        em.check_spec("not a spec", "build")
    assert em.check_spec(ModelSpec(module=module, inputs=(x,), atol=0, rtol=1e-4), "build").atol == 0


@pytest.mark.torch
@pytest.mark.heavy
def test_a_model_that_computes_otherwise_while_traced_is_its_own_finding(torch) -> None:
    """Issue 85 item 5: a forward() that branches on torch.compiler.is_compiling() was stored as IREE's
    numeric mismatch. The program torch.export made (what IREE is given) is run in torch against eager,
    held to the run's tolerance; the honest model passes, and no program kept is no verdict."""

    class Sly(torch.nn.Module):
        def forward(self, x):  # type: ignore[no-untyped-def]
            return x + 1.0 if torch.compiler.is_compiling() else x * 2.0

    x = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    for model, differs in [(Sly(), True), (torch.nn.Linear(2, 2), False)]:
        spec = Spec(model, x)
        reference = em.reference_call(spec, em.copy_tensors((x,))).outputs
        with em.traced_program() as traced:
            torch.export.export(model, (x,))
            torch.export.export(torch.nn.Identity(), (x,))  # a second program (--modules'): not kept
        assert len(traced) == 1
        if differs:
            said = r"^the model's forward\(\) computes something else while traced \(max abs err 3 between "
            said += r"torch.export's program and eager on output0, atol 1e-05\): a branch on torch.compiler"
            with pytest.raises(em.ModelFinding, match=said):
                em.check_traced(traced, spec, (x,), reference)
        else:
            assert set(em.check_traced(traced, spec, (x,), reference)) == {"seconds"}
    assert em.check_traced([], spec, (x,), reference) == {"unchecked": "no torch.export program was made"}
    assert torch.export.export.__name__ == "export"  # torch's own again after the block


@pytest.mark.torch
@pytest.mark.heavy
def test_the_traced_check_holds_outputs_as_the_run_holds_irees(torch) -> None:
    """`traced_words`: eager's own NaN is not compared, the traced one's NaN where eager is finite
    differs, within atol/rtol agrees; another shape or count of outputs is said."""
    eager = [torch.tensor([float("nan"), 1.0, 4.0])]
    assert em.traced_words([torch.tensor([0.0, 1.0, 4.00001])], eager, 1e-4, 1e-5) is None
    said = em.traced_words([torch.tensor([0.0, float("nan"), 4.0])], eager, 1e-4, 1e-5)
    assert said is not None and "(max abs err 0 between" in said
    assert "(max abs err 0.5 between torch.export's program and eager on output1, atol 0.1)" in str(
        em.traced_words([torch.ones(2), torch.zeros(1)], [torch.ones(2), torch.full((1,), 0.5)], 0.1, 0.0)
    )
    assert "(output0 of shape (3,) where eager's is (2,))" in str(
        em.traced_words([torch.ones(3)], [torch.ones(2)], 1, 1)
    )
    assert "(2 outputs where eager returns 1)" in str(
        em.traced_words([torch.ones(1)] * 2, [torch.ones(1)], 1, 1)
    )
    bf16 = torch.ones(2, dtype=torch.bfloat16)
    assert (
        em.traced_words([bf16], [bf16 * 2], 1e-2, 1e-2) is not None
        and em.traced_words([bf16], [bf16], 0, 0) is None
    )
