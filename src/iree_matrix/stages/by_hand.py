"""What a reader re-making a recorded cell by hand must supply (`show JOB --commands`' notes): paths
of another machine, store entries gone, a stage's staging directory (there only while it ran)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core import excerpts, shipped
from iree_matrix.iree import flag_safety


def _paths(argv: Sequence[str]) -> list[str]:
    """The absolute paths a command names: a word, a flag's value (`--module=/…`), an input (`@/…`)."""
    values = (arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg for arg in argv)
    return [value for value in (v.removeprefix("@") for v in values) if value.startswith("/")]


def elsewhere(argvs: Sequence[Sequence[str]], cache: Optional[Path] = None) -> list[str]:
    """The notes for `argvs` (as recorded): paths not here, staging directories, and each one's stand-in
    here: the project's scripts, an environment of the same name (its pins' digest) in `cache`."""
    staging: list[str] = []
    missing: list[str] = []
    for argv in argvs:
        for path in _paths(argv):
            if "/staging/" in path:
                staging.append(path.split("/staging/")[0] + "/staging/")
            elif not Path(path).exists():
                missing.append(path)
    notes = [
        f"WARNING: {excerpts.clip(arg, 200)} runs or loads a program: read it before you run this"
        for argv in argvs
        for arg in flag_safety.runs_a_program(argv)
    ]
    here = shipped.scripts_dir()
    if scripts := [m for m in dict.fromkeys(missing) if _ours(m, here) is not None]:
        notes.append(
            "the project's scripts the records name are this iree-matrix's here: "
            + ", ".join(f"{m} is {_ours(m, here)}" for m in scripts)
        )
    others = [m for m in dict.fromkeys(missing) if m not in scripts]
    if found := {m: here_too for m in others if (here_too := _same_env(m, cache)) is not None}:
        notes.append(
            "the same environments are in this cache: "
            + ", ".join(f"{m} is {here_too}" for m, here_too in found.items())
        )
        others = [m for m in others if m not in found]
    if others:
        notes.append(
            "not on this machine (made elsewhere, or the store entry is gone): "
            + ", ".join(others)
            + "; re-make them by the steps above, or give your own paths"
        )
    if staging:
        notes.append(
            f"{', '.join(dict.fromkeys(staging))}…: a stage's output directory while it ran (stored "
            "under <store>/STAGE/KEY after): give a directory of your own"
        )
    return notes


def _ours(path: str, here: Path) -> Optional[Path]:
    """A recorded `…/scripts[/rest]` as this iree-matrix's scripts directory holds it, if it does."""
    head, found, rest = path.rpartition("/scripts")
    if not found or (rest and not rest.startswith("/")):
        return None
    ours = here / rest.lstrip("/") if rest else here
    return ours if ours.exists() else None


def _same_env(path: str, cache: Optional[Path]) -> Optional[Path]:
    """`…/envs/BACKEND/NAME/rest` in `cache`, if it is there."""
    parts = Path(path).parts
    if cache is None or "envs" not in parts:
        return None
    local = cache.joinpath(*parts[len(parts) - 1 - parts[::-1].index("envs") :])
    return local if local.exists() else None
