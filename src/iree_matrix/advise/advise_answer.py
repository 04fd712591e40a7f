"""What `advise` says when its sitting is done, worded here and printed by the command
(tasks/advise.py): this CPU's answer, with each pick's proof, or why there is none; where the sitting
is kept. Pure: the sitting document in, lines out (what it costs is said before, advise/advise_plan.py)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iree_matrix.core import console, pasted
from iree_matrix.core.model import host_identity
from iree_matrix.execution.workflow import EXIT_INTERRUPTED
from iree_matrix.findings import advice, neighbourhood

logger = console.logger(__name__)


def answer(
    document: dict[str, Any],
    kept: Path,
    base_model: str,
    reference: str,
    log: Path,
    where: pasted.Where = pasted.HERE,
) -> tuple[list[str], int]:
    """The sitting's answer (with each pick's proof), each item one printed line or block; the exit
    code. The commands it prints name the model as `reference` with the run's settings (`where`)."""
    found = advice.derive(document, str(kept))
    if document.get("interrupted"):
        logger.warning(f"advise {base_model}: interrupted; the whole rounds timed so far are kept in {kept}")
    if not found:
        code = EXIT_INTERRUPTED if document.get("interrupted") else 1
        return [no_answer(document, base_model, kept, log)], code
    chosen = advice.Chosen(tuple(found), True, "")
    answer = advice.lines(chosen, base_model, argument=where.line(shlex.quote(reference)))
    said = ["", pasted.invoked_in("\n".join(answer))]  # its commands as the user ran the tool
    for a in found:  # each pick's proof
        if a.proof is not None:
            said.append(
                f"\n  {advice.display_name(a)}, the pick's neighbourhood (each one-knob change, paired):"
            )
            said.append("\n".join(neighbourhood.console_lines(a.proof, answer=a.config)))
    if document.get("interrupted"):
        return said, EXIT_INTERRUPTED
    identity = advice.Identity.of(host_identity.here(), str(document.get("llvm_cpu") or ""))
    # The answers a results folder's report renders are its own answers/<identity>/: the folder this
    # run wrote to (a user's model answered in their own folder, not the project's results/).
    folder = kept.parent
    report = pasted.invoked(f"iree-matrix report --results-dir {shlex.quote(str(folder))}")
    said.append(
        f"\nkept: {kept} (to show it in that folder's answers: copy it to "
        f"{folder / advice.DIRNAME / identity.slug}/, then `{report}`)"
    )
    return said, 0


def no_answer(document: Mapping[str, Any], model: str, kept: Path, log: Path) -> str:
    """Why a sitting gave no answer, in one line: interrupted before `default` had a whole round timed
    (the sitting so far is `kept`), or `default` did not run and match torch (`log` says why)."""
    defaults = [
        a
        for entry in document.get("functions") or ()
        for a in entry.get("arms") or ()
        if isinstance(a, Mapping) and a.get("kind") == advice.DEFAULT
    ]
    checked = [a for a in defaults if not a.get("error") and a.get("matches") is not False]
    if document.get("interrupted") and (checked or not defaults):
        return (
            f"advise {model}: interrupted before a whole round was timed, so no answer; kept: what was built "
            f"and checked (the records in {log}, reused by the next sitting) and the sitting so far ({kept})"
        )
    return f"advise {model}: no answer: `default` did not run and match torch here (see {log})"
