"""A hint: a known failure signature in a tool's own words, and the step that gets past it. The
entries are `hints.HINTS` (the general ones there, the ones keyed on a torch op in `op_hints`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Optional

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
