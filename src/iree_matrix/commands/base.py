"""What the commands share beyond their options (options.py): the model a command was given, by the
name the tool printed for it, and the release it names checked."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from iree_matrix.core.errors import UserError


def model_reference(text: str) -> str:
    """What to build for the model a command was given: a built-in or `FILE:FACTORY` as it is; a user's
    model by the name the tool printed, as the reference its runs' records ran it by."""
    from iree_matrix.findings import results_folder
    from iree_matrix.findings.publish import RUNS_DIR
    from iree_matrix.matrix import export_recipes as recipes
    from iree_matrix.matrix import models

    base, recipe = models.split_recipe(text)
    if ":" in base or base in models.builtin_names():
        return text
    found: dict[str, str] = {}
    for run in results_folder.under(RUNS_DIR, "*", None):
        try:
            found.update({k: v for k, v in models.references(run.logged).items() if k not in found})
        except (OSError, ValueError):
            continue  # a log being written or not a log: the others may still name it
    if text in found:
        return found[text]
    if recipe and base in found:  # the model ran, not yet by this recipe
        return f"{models.split_recipe(found[base])[0]}{recipes.SEP}{recipe}"
    if missing := models.factory_missing(text, Path.cwd()):  # `advise nets.py`: its functions named
        raise UserError(f"{text}: {missing}")
    raise UserError(
        f"{text!r}: not a built-in model ({', '.join(models.builtin_names())}) nor one your runs under "
        f"{RUNS_DIR}/ ran; name your own by its file and factory: path/to/file.py:factory"
    )


def built_model(text: str, said_as: str) -> tuple[str, str]:
    """(what to build, the name its jobs, records and sitting carry) for the model `text` names; a model
    that does not resolve is one line starting with `said_as` (`advise MODEL`)."""
    from iree_matrix.matrix import models

    reference = model_reference(text)
    try:
        return reference, models.resolve(reference, Path.cwd()).name
    except models.ModelError as exc:
        raise UserError(f"{said_as} {text}: {exc}") from None


def check_release(command: str, release: Optional[str], results: Optional[Path]) -> None:
    """`--release R` checked against the compiler's releases on the index before anything is planned
    (offline with nothing stored: taken as written, pip will say)."""
    from iree_matrix.execution.workflow import resolver
    from iree_matrix.iree import versions
    from iree_matrix.matrix.releases import ReleaseError

    if release is None or not versions.is_valid(release) or versions.is_date_versioned(release):
        return  # no release, or one the plan refuses in its own words
    try:
        known = resolver(results).releases("compiler")
    except ReleaseError:
        return
    if known.canonical(release) is None:
        near = ", ".join(known.nearest(release)) or "none"
        raise UserError(
            f"{command} --release {release}: {known.package} has no release {release} on the index "
            f"(nearest: {near}); name one of them"
        )
