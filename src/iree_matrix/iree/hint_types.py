"""A hint: a known failure signature in a tool's own words, and the step that gets past it. The
entries are the catalogue iree/hints.toml, read into `hints.HINTS` by `read`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.toml_text import tomllib

CLAIM = "«([^»]*)»"


@dataclasses.dataclass(frozen=True)
class Hint:
    name: str  # a short id: "recurrent-op"
    signature: str  # a regular expression searched in each line of the tool's words
    advice: str  # what to do; `{group}` names a group of the signature's match (or of `fields`)
    source: str  # where the advice comes from: a measurement here or a page of docs/
    # The stages whose words it is read in (most signatures are the compiler's); () any stage
    stages: tuple[str, ...] = ("compile",)
    fields: Optional[Callable[[re.Match[str]], dict[str, str]]] = None  # values derived from the match
    # Only for exports whose exporter environment's name this expression is found in
    # (`...+transformers5.23.0`): generic words have the cause the advice names only in that
    # library's code; keyed on the exporter, not the model, so a user's model gets it too. None: any.
    exporters: Optional[str] = None
    # Only for compiler releases in this inclusive range (first, last): a cause a release fixed
    releases: Optional[tuple[str, str]] = None
    # The export recipes the advice names, its route first: a run's summary prints the command that
    # runs the failing user's model by them (the advice itself can only say `FILE:FACTORY~RECIPE`)
    recipes: tuple[str, ...] = ()
    # The built-in profile that applies the flag the advice names: a run's summary and `query` print
    # the command that runs the failing model with it (`fields` may name it: "" where none covers it)
    profile: str = ""

    @property
    def claims(self) -> tuple[str, ...]:
        """The advice's phrases marked «so» (marks no advice prints): what compiles or passes, measured
        on other models, said untried where no compile of the failing model passed on its release
        (matrix/tried.py)."""
        return tuple(re.findall(CLAIM, self.advice))

    def search(self, line: str) -> Optional[re.Match[str]]:
        return re.search(self.signature, line)


Fields = Callable[[re.Match[str]], dict[str, str]]


def read(path: Path, fields: Mapping[str, Fields]) -> tuple[Hint, ...]:
    """The catalogue's hints, in its order. Its keys are `Hint`'s (`fields` by name, lists as tuples);
    an unknown key, a value of another type or a signature that does not compile is a ValueError
    naming the hint and the key, so a newcomer's entry fails the unit tests, not a user's run."""
    kinds = {f.name for f in dataclasses.fields(Hint)}
    out = []
    for n, entry in enumerate(tomllib.loads(path.read_text(encoding="utf-8"))["hint"]):
        where = f"{path.name}: hint {entry.get('name', n)!r}"
        values: dict[str, Any] = {}
        for key, value in entry.items():
            lists = key in ("stages", "releases", "recipes")
            if key not in kinds or not isinstance(value, list if lists else str):
                raise ValueError(f"{where}: {key} = {value!r} is no key of a hint, or not its type")
            if isinstance(value, str):
                values[key] = fields.get(value, value) if key == "fields" else value
            elif all(isinstance(x, str) for x in value):
                values[key] = tuple(value)
            else:
                raise ValueError(f"{where}: {key} holds strings only")
        try:
            hint = Hint(**values)
            re.compile(hint.signature)
        except (TypeError, re.error) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if isinstance(hint.fields, str):
            raise ValueError(f"{where}: fields = {hint.fields!r} is none of {sorted(fields)}")
        if hint.releases is not None and len(hint.releases) != 2:
            raise ValueError(f"{where}: releases is [first, last]")
        out.append(hint)
    return tuple(out)
