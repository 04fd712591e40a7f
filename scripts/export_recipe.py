"""Export worker for an export recipe: how a model is exported, beside what it is (issue #50).

Runs inside an exporter environment, like export_model.py, whose model loading, eager reference,
timing and file layout it shares (Python 3.9 syntax; the stdlib, torch, numpy, turbine and, for a
transformers model, transformers). A recipe is a `+`-joined set of choices; each choice left out is
the pipeline's default export (the model's own attention, the library's cache update, turbine's
strict ``aot.export``):

    python export_recipe.py --recipe eager+select-cache --module models.llama__transformers ...

``eager``           ``build(seed, attn_implementation="eager")``: the model's eager attention
                    (matmul, softmax, matmul) instead of ``F.scaled_dot_product_attention``; the
                    factory's second parameter, by name (transformers'), so only a model whose
                    ``build`` takes it
``select-cache``    transformers' ``StaticLayer.update`` writes the new rows with a gather and a
                    select (``where(row in the new span, new rows, old cache)``) instead of
                    ``index_copy_``: no scatter into the cache is traced (the same values)
``nonstrict``       non-strict ``torch.export`` (turbine's ``aot.export(strict_export=False)``)
``fx``              ``torch.export.export`` and IREE's ``fx_importer`` (``FxImporter``) instead of
                    turbine's ``aot.export``
``decompose``       with ``fx``: ``ExportedProgram.run_decompositions()`` (torch's core ATen table,
                    and torch's own decomposition of the core ops IREE cannot lower) before the
                    import, so e.g. SDPA reaches IREE as matmuls and a softmax (export_fx.py)
``gaps``            with ``fx``: torch's own decompositions of only the ops IREE's torch lowering
                    lacks (nn.LSTM/GRU/RNN, weight norm, ``diff``, ``squeeze.dims``), every other
                    op as exported (export_fx.py)
``rewrite``         with ``fx``: the tool's own rewrites of ops IREE cannot compile (``affine_grid``,
                    ``grid_sample`` with zeros or border padding, ``scatter`` of a tensor), each where
                    it is exact, every other call left as exported (export_rewrites.py)

The program the recipe's tables make (what IREE is given) is run in torch against eager before IREE's
answer counts (`check_recipe`): a difference is the recipe's (phase ``recipe``, the record's
``recipe-error``), naming the rewrites applied, never IREE's mismatch.

Writes what export_model.py writes; export.json adds ``recipe``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import export_fx
import export_model as base
import export_rewrites
import mlir_where

CHOICES = ("eager", "select-cache", "nonstrict", "fx", "decompose", "gaps", "rewrite")


def parse(recipe):
    """The recipe's choices (a set); a ValueError names an unknown one or a contradiction."""
    chosen = [c for c in recipe.split("+") if c]
    unknown = [c for c in chosen if c not in CHOICES]
    if unknown:
        raise ValueError(
            "recipe {!r}: unknown choice {!r} (known: {})".format(recipe, unknown[0], ", ".join(CHOICES))
        )
    for needs_fx in ("decompose", "gaps", "rewrite"):
        if needs_fx in chosen and "fx" not in chosen:
            raise ValueError(
                f"recipe {recipe!r}: {needs_fx} needs fx (turbine's aot.export applies its own table)"
            )
    if "nonstrict" in chosen and "fx" in chosen:
        pass  # torch.export.export(strict=False): both apply
    return set(chosen)


def select_update(self, key_states, value_states, *args, **kwargs):
    """transformers' ``StaticLayer.update`` with the write spelled as a gather and a select.

    Row j of the cache takes row j - start of the new states when start <= j < start + n (start
    is the layer's fill level, n the new rows), else keeps its value: what ``index_copy_`` at rows
    start .. start + n - 1 does, without a scatter.
    """
    import torch

    if not self.is_initialized:
        self.lazy_initialization(key_states, value_states)
    count = key_states.shape[-2]
    rows = torch.arange(self.keys.shape[-2], device=self.keys.device) - self.cumulative_length
    source = rows.clamp(0, count - 1)
    inside = (source == rows).view(1, 1, -1, 1)  # one comparison: IREE has no lowering of aten.__and__
    self.keys.copy_(torch.where(inside, key_states.index_select(2, source), self.keys))
    self.values.copy_(torch.where(inside, value_states.index_select(2, source), self.values))
    self.cumulative_length.add_(count)
    return self.keys, self.values


@contextlib.contextmanager
def cache_patch(chosen):
    """With ``select-cache``: transformers' ``StaticLayer.update`` replaced for the block."""
    if "select-cache" not in chosen:
        yield
        return
    from transformers import cache_utils

    original = cache_utils.StaticLayer.update
    cache_utils.StaticLayer.update = select_update
    try:
        yield
    finally:
        cache_utils.StaticLayer.update = original


class RecipeFinding(base.ModelFinding):
    """The recipe's own program computes something else than the model: the recipe's fault (phase
    `recipe`, the record's `recipe-error`), said in these words."""


def check_recipe(recipe, spec, as_built, reference, unordered):
    """The program the recipe's tables made (export_fx.MADE: torch's decompositions and the tool's
    rewrites, what IREE is given) run in torch on the inputs as built against eager, as the traced
    program is (`check_traced`): a difference is the recipe's, naming its rewrites, never IREE's
    mismatch. export.json's `traced_check.recipe`: its seconds, or why it was not run."""
    import torch

    if not export_fx.MADE:
        return {"unchecked": "the recipe applies no table"}
    start = time.perf_counter()
    try:
        with torch.no_grad():
            outputs = base.flat_outputs(export_fx.MADE[0](*base.copy_tensors(as_built)))
    except Exception as exc:  # noqa: BLE001 - torch cannot run the program: no verdict either way
        return {"unchecked": f"{type(exc).__name__}: {exc}"[:400]}
    said = base.output_difference(outputs, reference, spec.atol, spec.rtol, unordered, "the recipe's program")
    if said:
        raise RecipeFinding(recipe_words(recipe, said))
    return {"seconds": round(time.perf_counter() - start, 4)}


def recipe_words(recipe, said):
    applied = ", ".join(export_rewrites.APPLIED)
    whose = (
        f"its rewrite of {applied} (export_rewrites.py)" if applied else "torch's decompositions it applies"
    )
    if "topk" in export_rewrites.APPLIED:  # the one place the rewrite may differ from torch by design
        whose += " (its topk takes equal values by ascending place; torch's order among them is its sort's)"
    return (
        f"the export recipe {recipe} computes something else than the model ({said}), run in torch "
        f"before IREE saw it: {whose}, not IREE; try the model without it (`iree-matrix search-recipes` "
        "lists the others) and report it with the model"
    )


def install(chosen, recipe=""):
    """Route export_model's factory call and export through the recipe."""
    call_factory = base.call_factory
    export = base.export
    check_traced = base.check_traced

    def factory_call(factory, seed):
        if "eager" in chosen:
            # by name: a factory whose second parameter means something else (a `by_hand` flag)
            # refuses it, rather than taking "eager" as that and passing as another model
            return factory(seed, attn_implementation="eager")
        return call_factory(factory, seed)

    def recipe_export(aot, spec, path, bytecode=False, modules=False):
        # `modules` (each op's torch module, for a generated kernel spec) as export_model.export takes it.
        if "fx" not in chosen:
            if "nonstrict" not in chosen:
                return export(aot, spec, path, bytecode, modules)
            start = time.perf_counter()
            exported = aot.export(spec.module, *spec.inputs, strict_export=False)
            base.save_text(exported, path, base._module_nodes(spec) if modules else None)
            return time.perf_counter() - start, "bytecode: not written for a recipe" if bytecode else None
        start = time.perf_counter()
        module = export_fx.export(spec, chosen)
        with open(str(path), "w") as f:
            f.write(str(module))
        # as export_model.save_text does for turbine's, with each op's module when asked
        mlir_where.save(module, Path(path), export_fx.NODES if modules and export_fx.NODES else None)
        return time.perf_counter() - start, "bytecode: not written for a recipe" if bytecode else None

    def recipe_check(traced, spec, as_built, reference, unordered=None):
        checked = check_traced(traced, spec, as_built, reference, unordered)  # the model's own first
        made = base._phase("recipe", check_recipe, recipe, spec, as_built, reference, unordered)
        return {**checked, "recipe": made}

    base.call_factory = factory_call
    base.export = recipe_export
    base.check_traced = recipe_check


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", required=True)
    known, rest = parser.parse_known_args(argv)
    try:
        chosen = parse(known.recipe)
    except ValueError as exc:
        print(f"export_recipe: {exc}", file=sys.stderr)
        return 2
    install(chosen, known.recipe)
    with cache_patch(chosen):
        code = base.main(rest)
    out = _out(rest)
    info = out / "export.json" if out else None
    if code == 0 and info is not None and info.is_file():
        import json

        data = json.loads(info.read_text())
        data["recipe"] = known.recipe
        base.write_json(info, data)
    return code


def _out(argv):
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out")
    known, _ = parser.parse_known_args(argv)
    return Path(known.out) if known.out else None


if __name__ == "__main__":
    base._exit_now(main())
