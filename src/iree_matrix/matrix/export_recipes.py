"""Export recipes, searched like compile flags: `MODEL~CHOICE+CHOICE` is the same model exported by
`scripts/export_recipe.py` with those choices: what each means, which apply, which to try next."""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from iree_matrix.core import pasted, shipped

SEP = "~"  # between a model's name and its recipe
JOIN = "+"  # between a recipe's choices
WORKER = "export_recipe.py"
FX_WORKER = "export_fx.py"  # its fx route (imported by WORKER)
REWRITE = "rewrite"  # the choice whose rewrites are the tool's own (REWRITE_WORKER), not torch's
REWRITE_WORKER = "export_rewrites.py"  # (imported by FX_WORKER)

# What each choice does, as a user would do it by hand (the worker's docstring has the details).
HOW = {
    "eager": "the model's eager attention (`build(seed, attn_implementation=\"eager\")`, transformers' "
    '"eager": matmul, softmax, matmul) instead of F.scaled_dot_product_attention',
    "select-cache": "transformers' StaticLayer.update writing the new cache rows with a gather and "
    "torch.where instead of index_copy_ (no scatter into the cache)",
    "nonstrict": "non-strict torch.export (aot.export(..., strict_export=False))",
    "fx": "torch.export.export, then IREE's fx_importer (FxImporter.import_frozen_program) instead "
    "of turbine's aot.export",
    "decompose": "ExportedProgram.run_decompositions() (torch's core ATen table, and torch's own "
    "decomposition of the ops it keeps that IREE cannot lower: aten.squeeze.dims, an eval "
    "BatchNorm) before the import",
    REWRITE: "the tool's own rewrites of ops IREE cannot compile, at export (scripts/export_rewrites.py): "
    "2-D F.affine_grid; F.grid_sample bilinear, zeros or border padding; x.scatter as a one-hot sum (exact "
    "for distinct indices); cdist p=2 by matmul; topk k <= 16 of floats by k argmaxes; torch.fft by DFT "
    "matmuls; bicubic resize by two matmuls; scatter_reduce amax/amin and index_add by a one-hot; a call "
    "outside these is left as exported, and the export says so",
    "gaps": "ExportedProgram.run_decompositions() with torch's own decompositions of only the ops "
    "IREE's torch lowering lacks (nn.LSTM/GRU/RNN and their cells, weight norm, aten.diff, "
    "aten.squeeze.dims, an eval BatchNorm), every other op as exported",
}

# The order choices are spelled in a recipe's name (so one recipe has one name).
ORDER = ("eager", "select-cache", "nonstrict", "fx", "decompose", "gaps", REWRITE)
# The choices that rewrite torch.export's program, so need the fx route (turbine's aot.export
# applies its own table)
NEED_FX = ("decompose", "gaps", REWRITE)


@functools.cache
def choices() -> tuple[str, ...]:
    path = shipped.scripts_dir() / WORKER
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CHOICES" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError(f"{path}: no CHOICES")  # pragma: no cover - a broken installation


def parse(recipe: str) -> tuple[str, ...]:
    """The recipe's choices in canonical order; ValueError (one line) for a bad one."""
    chosen = recipe.split(JOIN)
    known = choices()
    for choice in chosen:
        if choice not in known:
            raise ValueError(
                f"recipe {recipe!r}: unknown choice {choice!r} (known: {', '.join(known)}; "
                f"join them with {JOIN!r})"
            )
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"recipe {recipe!r}: a choice is named twice")
    for choice in NEED_FX:
        if choice in chosen and "fx" not in chosen:
            raise ValueError(
                f"recipe {recipe!r}: {choice} needs fx (turbine's aot.export applies its own table)"
            )
    return tuple(sorted(chosen, key=ORDER.index))


def name(choices_: Iterable[str]) -> str:
    return JOIN.join(sorted(set(choices_), key=ORDER.index))


def split(model: str) -> tuple[str, str]:
    base, _, recipe = model.partition(SEP)
    return base, recipe


def search_offer(reference: str, where: pasted.Where = pasted.HERE) -> str:
    """What to do about a user's model's failure no known signature explains: search its exports."""
    search = where.line(f"iree-matrix search-recipes --model {reference}")
    return (
        f"no known failure signature matches these words; `{search}` exports it the other ways it knows "
        f"({', '.join(ORDER)}; docs/transformers.md), each compiled, run and checked against torch on each "
        "release"
    )


def commands(reference: str, recipe: str, where: pasted.Where = pasted.HERE) -> tuple[str, ...]:
    """The commands that run the model `reference` exported by `recipe`, each runnable as printed."""
    model = shlex.quote(f"{reference}{SEP}{recipe}")
    return (where.line(f"iree-matrix advise {model}"), where.line(f"iree-matrix matrix --model {model}"))


def tuned(reference: str, profile: str, where: pasted.Where = pasted.HERE) -> str:
    """The command that compiles `reference` with a hint's `profile`, on the run's matrix."""
    keeping = dataclasses.replace(where, matrix=where.matrix or where.shipped_matrix)
    return keeping.line(f"iree-matrix tune --model {shlex.quote(reference)} --profiles {profile}")


def route(reference: str, named: Sequence[str], where: pasted.Where = pasted.HERE) -> str:
    """The line under a failure's hint that runs the model by the recipes it names not yet tried, or ""."""
    base, sep, current = reference.rpartition(SEP)
    if not sep or "/" in current or ":" in current:  # a `~` of the path (~/nets/x.py), not a recipe
        base, current = reference, ""
    if not (left := [r for r in named if r != current]):
        return ""
    said = [f"`{where.line(f'iree-matrix matrix --model {shlex.quote(base + SEP + r)}')}`" for r in left]
    return "run it: " + said[0] + "".join(f" (or {s})" for s in said[1:])


def describe(recipe: str) -> str:
    return "; ".join(HOW[c] for c in parse(recipe))


ATTENTION = "attn_implementation"  # the factory parameter the `eager` choice sets


def applicable(source: Path, factory: str = "build") -> tuple[str, ...]:
    """The choices that can change how the model in `source` is exported (`eager` and `select-cache`
    only where its code has what they change)."""
    text = source.read_text(encoding="utf-8")
    defs = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == factory]
    found = ["eager" for d in defs if len(d.args.args) >= 2 and d.args.args[1].arg == ATTENTION]
    if "StaticCache" in text:
        found.append("select-cache")
    return (*found, "nonstrict", "fx")


# What a model's code says where it calls an op `rewrite` rewrites (a search tries fx+rewrite then)
REWRITES = tuple("affine_grid grid_sample .scatter( cdist topk fft bicubic scatter_reduce index_add".split())


def batch_one(source: Path, factory: str = "build") -> list[str]:
    """Each applicable choice alone, and fx with each decomposition table."""
    text = source.read_text(encoding="utf-8")
    tables = [c for c in NEED_FX if c != REWRITE or any(w in text for w in REWRITES)]
    return [*applicable(source, factory), *(name(["fx", c]) for c in tables)]


def batch_two(
    outcomes: Mapping[str, Mapping[tuple[str, str], str]], baseline: Mapping[tuple[str, str], str]
) -> list[str]:
    """The combinations to try after batch 1: for each function no recipe passes yet, every choice that
    changed its outcome on any release, together (blockers come one after another)."""
    tried = set(outcomes)
    combos: list[str] = []
    cells = {cell for table in outcomes.values() for cell in table} | set(baseline)
    for function in sorted({f for f, _ in cells}):
        releases = {r for f, r in cells if f == function}
        if all(any(t.get((function, r)) == PASS for t in outcomes.values()) for r in releases):
            continue
        helped = [
            c
            for recipe, table in outcomes.items()
            for (f, r), o in table.items()
            if f == function and o != baseline.get((f, r))
            for c in parse(recipe)
        ]
        if len(set(helped)) < 2:
            continue
        try:
            combo = name(parse(name(helped)))
        except ValueError:  # e.g. decompose without fx cannot happen; nonstrict with fx is fine
            continue
        if combo not in tried and combo not in combos:
            combos.append(combo)
    return combos


PASS = "pass"


def outcome(stages: Sequence[tuple[str, str, str]]) -> str:
    """A function's outcome on one release: "pass", else the first stage that did not succeed and its line."""
    for stage, status, message in stages:
        if status in ("ok", "skip") and stage != "run":
            continue
        if stage == "run" and status == "ok":
            return PASS
        if status == "not_run":
            continue
        first = (message or status).strip().splitlines()[0] if (message or status).strip() else status
        said = first[:160]
        # The op a compile could not lower sits at the end of its MLIR line, past the cut: named
        op = re.search(r'\{name = "([\w.]+)"\}', first)
        return f"{stage}: {said}" + (f"… (op: {op[1]})" if op and op[1] not in said else "")
    return "not run"
