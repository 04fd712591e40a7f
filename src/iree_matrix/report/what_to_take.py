"""A run's own report, first: what to take for each function it ran — the one answer `query model`
gives (findings/advice.py `answer`), marked NEAREST when measured on another CPU identity — and
(`first_screen`) the same answers as the report's first lines, with the exact flags and how to make
the MLIR they compile."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.model.configuration import Config
from iree_matrix.findings import advice
from iree_matrix.iree.flags import compile_line
from iree_matrix.report import markdown

TITLE = "What to take here: one answer per function"
ANCHOR = "#what-to-take-here-one-answer-per-function"
HEADERS = (
    "function",
    "take (release and configuration; its flags: the report's first lines)",
    "one thread's CPU per call, in that sitting",
    "against `default`, same sitting",
    "against the best peer, same sitting",
    "measured on",
)


def _of(advised: Sequence[advice.Chosen], model: str) -> Optional[advice.Chosen]:
    return next((c for c in advised if any(a.model == model for a in c.advice)), None)


def _answers(
    advised: Sequence[advice.Chosen], models: Sequence[str]
) -> Iterator[tuple[advice.Chosen, advice.Advice]]:
    """Each answer for `models` in their order, with the choice (here, or the nearest identity) it is from."""
    for model in models:
        if (chosen := _of(advised, model)) is not None:
            yield from ((chosen, a) for a in chosen.advice if a.model == model)


def _where(chosen: advice.Chosen, a: advice.Advice) -> str:
    if chosen.here:
        return f"this CPU ({a.identity.short})"
    return f"NEAREST identity measured ({chosen.how_near}): {a.identity.short} — not this CPU"


def _peer(a: advice.Advice) -> str:
    if a.best_peer and a.best_peer != "torch eager":
        return advice.times_text(a.vs_peer, a.best_peer)
    return advice.times_text(a.vs_eager, "torch eager")


def lines(
    advised: Sequence[advice.Chosen],
    models: Sequence[str],
    tool: str,
    arguments: Mapping[str, str],
) -> list[str]:
    """The answer for each of `models` from `advised`; `arguments`: how a command names a user's model."""
    if not models:
        return []
    rows = [
        [
            advice.display_name(a),
            f"IREE {a.release} " + ("`default` flags" if a.config == "default" else f"`{a.config}`"),
            formats.duration_ms(a.ms) if a.ms else "–",
            advice.speedup_text(a.over_default, "`default`"),
            _peer(a),
            _where(chosen, a),
        ]
        for chosen, a in _answers(advised, models)
    ]
    unanswered = [arguments.get(m, m) for m in models if _of(advised, m) is None]
    out = [
        f"### {TITLE}",
        "",
        f"The answer `{tool} query model MODEL` prints for each model this run ran: the release and exact "
        "`iree-compile` flags that were fastest against `default` in one paired sitting on one CPU "
        "identity (`iree-matrix advise`), with every ratio from that sitting — this CPU's where it was "
        "measured, else the nearest identity's, marked: its ratios are that CPU's, not this one's. It is "
        "what to take; the figures under it are this run's own, of IREE's `default` flags, and "
        '"Which IREE release should I use?" says which releases pass with those.',
        "",
    ]
    if rows:
        said = "Their exact flags, and how to make the MLIR each compiles, open this report."
        out += [markdown.table(HEADERS, rows), "", said, ""]
    if unanswered:
        named = ", ".join(f"`{m}`" for m in unanswered)
        commands = ", ".join(f"`{tool} advise {m}`" for m in unanswered)
        out += [
            f"No answer is published or was measured here for {named}: {commands} measures it on this CPU.",
            "",
        ]
    if nearest := [m for m in models if (c := _of(advised, m)) is not None and not c.here]:
        said = ", ".join(f"`{tool} advise {arguments.get(m, m)}`" for m in nearest)
        out += [f"To measure the answers marked NEAREST on this CPU, in one paired sitting each: {said}.", ""]
    if tool != "iree-matrix":
        out += [
            f"`{tool}` is this run's `iree-matrix`, in the environment nox made for it (on no shell's PATH): "
            "run it as shown from here, or `python3 -m pip install .` in the checkout to have `iree-matrix` "
            "on your PATH.",
            "",
        ]
    return out


def first_screen(advised: Sequence[advice.Chosen], models: Sequence[str], tool: str) -> list[str]:
    """The report's first lines: per model with an answer, its pick in one comment line, how to make
    the MLIR it compiles, and the exact `iree-compile` line."""
    block: list[str] = []
    for chosen, a in _answers(advised, models):
        where = a.identity.short if chosen.here else f"NEAREST: {a.identity.short}"
        speed = advice.speedup_text(a.over_default, "`default`")
        if a.config == "default":  # no pick beat it in the sitting
            speed = "no pick faster beyond noise"
        block += [
            f"# {advice.display_name(a)}: IREE {a.release} {a.config}, {speed} ({where})",
            f"#   model.mlir: {export_text(a)}",
            compile_line(a.flags),
        ]
    if not block:
        return []
    return [
        f"**What to take here**, one answer per function: the release, the exact flags "
        f"(`target-cpu=host` is the CPU that compiles) and how to make the MLIR they compile; "
        f"[every ratio and its sitting]({ANCHOR}), `{tool} query model MODEL` prints the same.",
        "",
        "```sh",
        *block,
        "```",
        "",
    ]


def export_text(a: advice.Advice) -> str:
    """How to make the MLIR `a`'s flags compile; for an export variant (`@decomposed+…`) the variant's
    model, which is not the model's own export."""
    from iree_matrix.matrix import export_recipes, models

    variant = Config.parse(a.config).variant
    name = Config(variant).model(a.model)
    try:
        ref = models.resolve(name, Path.cwd())
    except models.ModelError:
        shown = f"iree-matrix show 'compile:{name}*' --results-dir RUN --commands"
        return f"the export of `{name}` (`{shown}` prints its command, RUN the run's folder)"
    args = ref.worker_args()
    if ref.builtin:  # the checkout's scripts/, not where this install keeps them
        args[args.index("--import-root") + 1] = "scripts"
    script = export_recipes.WORKER if ref.recipe else "export_model.py"
    extra = ["--recipe", ref.recipe] if ref.recipe else []
    function = [] if a.function in ("", "main", a.model) else ["--function", a.function]
    command = shlex.join(["python3", f"scripts/{script}", *args, *function, *extra, "--out", "DIR"])
    own = f", not `{a.model}`'s own export" if variant else ""
    return f"`{name}`'s export{own}: {command} (torch and iree-turbine installed; writes DIR/model.mlir)"
