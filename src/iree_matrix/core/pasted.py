"""A command the tool prints for the user to paste, written with the settings of the run that printed
it (`Where.line`), so that pasted it does the same work in the same place."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path
from typing import Optional

from iree_matrix.core import shipped


@dataclasses.dataclass(frozen=True)
class Where:
    """The run's settings a pasted command must keep; None: the command's own default is the run's."""

    matrix: Optional[Path] = None  # a matrix file of the user's (a shipped one: each command has its own)
    results_dir: Optional[Path] = None
    cache: Optional[Path] = None  # None where the run used the default cache
    # the run's matrix where it is a shipped one: a command whose own default is another (`tune`) names it
    shipped_matrix: Optional[Path] = None

    def line(self, command: str) -> str:
        """`command` (an `iree-matrix ...` line, quoted as a shell takes it) with the run's settings,
        started by the invocation that runs this tool (`invoked`)."""
        said = [("--matrix", self.matrix), ("--results-dir", self.results_dir), ("--cache", self.cache)]
        return invoked(command) + "".join(f" {o} {shlex.quote(str(v))}" for o, v in said if v is not None)


def invoked(command: str) -> str:
    """`command` with its leading `iree-matrix` replaced by what runs this very tool (`shipped.command`)."""
    name = "iree-matrix"
    if command != name and not command.startswith(name + " "):
        return command
    return shipped.command() + command[len(name) :]


HERE = Where()  # a view that knows no run (a published set's `query`): the commands' own defaults


# `iree-matrix` as a command's first word in a text: at its start, after a space, a backtick or "("
_NAMED = re.compile(r"(?:^|(?<=[\s`(]))iree-matrix(?= [a-z-])", re.MULTILINE)


def invoked_in(text: str) -> str:
    """Every command in `text` (a printed answer: `query`'s, a summary's `what to do`) started as
    `invoked` starts one."""
    tool = shipped.command()
    return text if tool == "iree-matrix" else _NAMED.sub(lambda _: tool, text)
