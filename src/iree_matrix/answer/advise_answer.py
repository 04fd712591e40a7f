"""What `advise` says and keeps around its sitting, worded here and printed by the command (tasks/advise.py):
the cost it states before anything is built, which answers trail the best peer (their gaps are kept
by answer/advise_sitting.py), each function's kernel proofs, and the answer when the sitting is done,
with each pick's proof. Pure: the settings, the sitting document and its answers in, lines and the
document's `kernel_proof` entries out."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from iree_matrix.answer import advice, kernel_trials, neighbourhood
from iree_matrix.answer import gap as gaps
from iree_matrix.answer.advise_plan import Settings
from iree_matrix.core import console
from iree_matrix.core.model import host_identity
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.execution.workflow import EXIT_INTERRUPTED

logger = console.logger(__name__)


def sitting_cost(published: Sequence[Any], model: str, about: HostIdentity) -> str:
    """What the model's sitting took where it was published (the identity nearest this one), else
    what the reference models' take."""
    nearest = advice.nearest([a for a in published if a.model == model], about)
    took = advice.cost_text(nearest.advice[0]) if nearest else ""
    if took:
        return f"as published: {took}"
    return (
        "a few minutes for the reference CNNs, an hour for the Whisper encoder, whose naive build takes "
        "~90 s a call"
    )


def proof_cost(settings: Settings) -> str:
    """What the proofs add to the sitting's cost, said before anything is built."""
    if settings.no_proof:
        return ""
    return (
        "; then each pick's proof: its one-knob neighbours (15-20) built and checked, then timed beside "
        f"it, about the pick's arm × (neighbours + 1) × rounds a step, at most {settings.proof_steps} steps "
        "(each function's proof states its own; --no-proof skips it)"
    )


def keep_kernel_proofs(document: dict[str, Any], found: Sequence[advice.Advice]) -> None:
    """Each function's kernel arms against the configuration they were swapped into (the answer's,
    of `found`: the document's), kept in its entry (`kernel_proof`) beside the arms they are derived
    from: the paired ratio, the rounds' spread, the verdict, and whether the answer takes it."""
    by_function = {a.function: a for a in found}
    for entry in document.get("functions") or ():
        answered = by_function.get(str(entry.get("function") or ""))
        if answered is not None and answered.kernel_trials:
            entry["kernel_proof"] = [kernel_trials.kernel_json(t) for t in answered.kernel_trials]


def answer(
    document: dict[str, Any], kept: Path, base_model: str, reference: str, log: Path
) -> tuple[list[str], int]:
    """The sitting's answer (with each pick's proof), each item one printed line or block; the exit
    code."""
    found = advice.derive(document, str(kept))
    if document.get("interrupted"):
        logger.warning(f"advise {base_model}: interrupted; the whole rounds timed so far are kept in {kept}")
    if not found:
        code = EXIT_INTERRUPTED if document.get("interrupted") else 1
        return [advice.no_answer(document, base_model, kept, log)], code
    chosen = advice.Chosen(tuple(found), True, "")
    said = ["", "\n".join(advice.lines(chosen, base_model, argument=shlex.quote(reference)))]
    for a in found:  # each pick's proof
        if a.proof is not None:
            said.append(
                f"\n  {advice.display_name(a)}, the pick's neighbourhood (each one-knob change, paired):"
            )
            said.append("\n".join(neighbourhood.console_lines(a.proof, answer=a.config)))
    if document.get("interrupted"):
        return said, EXIT_INTERRUPTED
    identity = advice.Identity.of(host_identity.here(), str(document.get("llvm_cpu") or ""))
    said.append(f"\nkept: {kept} (publish it: copy it to results/answers/{identity.slug}/)")
    return said, 0


def trailing(found: Sequence[advice.Advice]) -> list[advice.Advice]:
    """The answers of `found` that take more than gaps.GAP times the best peer's time: those whose
    gap `advise` explains. An answer that takes a kernel is not profiled: the profiled build would
    be its pick's alone."""
    return [a for a in found if a.kernel is None and gaps.trails(a.vs_peer.value if a.vs_peer else None)]
