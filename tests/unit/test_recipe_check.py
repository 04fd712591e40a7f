"""A recipe owns its faults (issue #94 item 3): the program an export recipe's tables make (torch's
decompositions, the tool's rewrites: what IREE is given) is run in torch against eager before IREE's
answer counts; a difference is the recipe's `recipe-error`, naming the rewrite, never IREE's
mismatch. An unsorted topk's output compares as a set, there and at the run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from iree_matrix.bundle_runner.arrays import compare
from iree_matrix.core import shipped
from iree_matrix.stages import export

torch = pytest.importorskip("torch")
sys.path.insert(0, str(shipped.scripts_dir()))
import export_fx  # noqa: E402 - the workers' modules, from the scripts folder
import export_model as em  # noqa: E402
import export_recipe  # noqa: E402
import export_rewrites  # noqa: E402

pytestmark = pytest.mark.torch
INF = float("inf")


class Spec:
    def __init__(self, module, *inputs):  # type: ignore[no-untyped-def]
        self.module, self.inputs, self.atol, self.rtol = module, inputs, 1e-5, 1e-4


class MaskedKnn(torch.nn.Module):
    """The issue's case: a kNN whose padded points are masked with -inf, k above a row's real points;
    a padded point's features are zero, so any distinct padded place gives torch's answer."""

    def forward(self, score, features):
        top, place = score.topk(4, -1)
        return top, features.gather(-1, place)


def _knn_inputs():
    score = torch.tensor([[3.0, 9.0, -INF, -INF, -INF], [1.0, 2.0, 3.0, 4.0, 5.0]])
    features = torch.tensor([[260.0, 7.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    return score, features


def _check(model, inputs, recipe="fx+rewrite"):  # type: ignore[no-untyped-def]
    spec = Spec(model, *inputs)
    reference = em.reference_call(spec, em.copy_tensors(inputs)).outputs
    del export_rewrites.APPLIED[:]
    with em.traced_program() as traced:  # the model's own program, as the worker keeps it
        export_fx.decomposed(spec, export_recipe.parse(recipe))
    unordered = em.unordered_outputs(traced)
    return export_recipe.check_recipe(recipe, spec, inputs, reference, unordered)


def _old_topk(self, k, dim=-1, largest=True, sorted=True):  # type: ignore[no-untyped-def]
    """The rewrite as it was: each taken place written over with -inf, so a row of -inf took place 0
    again (kept here as the wrong rewrite the check must catch)."""
    place = torch.arange(self.shape[dim]).view(
        [-1 if d == dim % self.dim() else 1 for d in range(self.dim())]
    )
    rest, values, indices = self, [], []
    for _ in range(k):
        at = torch.argmax(rest, dim=dim, keepdim=True)
        values.append(torch.gather(self, dim, at))
        indices.append(at)
        rest = torch.where(place == at, torch.full_like(rest, -INF), rest)
    return torch.cat(values, dim), torch.cat(indices, dim)


def test_a_wrong_rewrite_is_the_recipes_error_naming_it(monkeypatch):
    monkeypatch.setattr(export_rewrites, "topk", _old_topk)
    with pytest.raises(export_recipe.RecipeFinding) as found:
        _check(MaskedKnn(), _knn_inputs())
    said = str(found.value)
    assert said.startswith(
        "the export recipe fx+rewrite computes something else than the model (max abs err 260"
    )
    assert "its rewrite of topk (export_rewrites.py)" in said and "not IREE" in said
    # the worker writes it as the phase `recipe`, which the export stage records as the recipe's
    assert export._PHASES["recipe"][0] == "recipe-error"


def test_the_masked_knn_passes_the_recipes_check_with_the_rewrite_as_it_is():
    checked = _check(MaskedKnn(), _knn_inputs())
    assert set(checked) == {"seconds"} and export_rewrites.APPLIED == ["topk"]


def test_the_recipe_check_runs_within_the_traced_check_as_its_own_phase(tmp_path, monkeypatch):
    """export_recipe installs its check after the model's own; its failure is phase `recipe`, not the
    traced check's `eager` (the model's)."""
    monkeypatch.setattr(export_rewrites, "topk", _old_topk)
    for name in ("call_factory", "export", "check_traced"):
        monkeypatch.setattr(em, name, getattr(em, name))  # undone after the test
    export_recipe.install(export_recipe.parse("fx+rewrite"), "fx+rewrite")
    model, inputs = MaskedKnn(), _knn_inputs()
    spec = Spec(model, *inputs)
    reference = em.reference_call(spec, em.copy_tensors(inputs)).outputs
    with em.traced_program() as traced:
        export_fx.decomposed(spec, {"fx", "rewrite"})
    with pytest.raises(em.PhaseError) as failed:
        em._phase("eager", em.check_traced, traced, spec, inputs, reference, {})
    assert failed.value.phase == "recipe" and isinstance(failed.value.exc, export_recipe.RecipeFinding)


class Unsorted(torch.nn.Module):
    def forward(self, x):
        return x.topk(3, 1, largest=False, sorted=False)


def test_an_unsorted_topk_compares_as_a_set():
    """torch's unsorted order is not the rewrite's sorted one (nor IREE's): both outputs are marked
    unordered along their dim, and the recipe's check and the run compare them as sets."""
    torch.manual_seed(0)
    x = torch.randn(2, 64)
    program = torch.export.export(Unsorted(), (x,))
    assert em.unordered_outputs([program]) == {0: 1, 1: 1}
    assert em.unordered_outputs([torch.export.export(torch.nn.Identity(), (x,))]) == {}
    assert set(_check(Unsorted(), (x,))) == {"seconds"}
    eager = [t.numpy() for t in Unsorted()(x)]
    got = [np.sort(t, axis=1) for t in eager]
    assert not np.array_equal(got[1], eager[1])  # torch's own order is not sorted here
    assert not compare(got, eager, 1e-5, 1e-4)["matches"]
    described = [{"shape": [2, 3], "dtype": "float32", "unordered": 1}] * 2
    assert compare(got, eager, 1e-5, 1e-4, described)["matches"]
    got[0][0, 0] += 1.0  # a value not in torch's set still differs
    assert not compare(got, eager, 1e-5, 1e-4, described)["matches"]


def test_a_recipe_without_a_table_is_left_unchecked_and_said(monkeypatch):
    assert _check(torch.nn.Identity(), (torch.ones(2),), "fx") == {"unchecked": "the recipe applies no table"}
    assert export_fx.MADE == []


def test_the_export_stage_records_the_recipes_phase_as_the_recipes(tmp_path: Path) -> None:
    import json

    (tmp_path / "error.json").write_text(
        json.dumps(
            {"phase": "recipe", "type": "RecipeFinding", "message": "the export recipe fx+rewrite ..."}
        )
    )
    failure = export._failure(tmp_path, None)  # type: ignore[arg-type]
    assert failure.error_class == "recipe-error" and failure.cacheable is not False
