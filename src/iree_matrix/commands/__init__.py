"""One module per `iree-matrix` command. Each exposes:

    NAME: str                                                  # the verb, e.g. "matrix"
    HELP: str                                                  # one line for `iree-matrix --help`
    def add_arguments(parser: argparse.ArgumentParser) -> None
    def main(args: argparse.Namespace) -> int                  # the exit code

and is named once in `cli.COMMANDS`. `cli.py` parses and dispatches; what a command does (the flag
search's two rounds, the armv6 sequence, which executor runs a plan and what a failure exits with)
lives here: `base.py` what every command shares, `shared_options.py` the options several commands
take (each declared once), `options.py` the matrix commands' options, `workflow.py` loading a plan
and running it.
"""

from __future__ import annotations

import argparse
from typing import Protocol


class Command(Protocol):
    """What `cli.py` needs of a command module."""

    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def main(self, args: argparse.Namespace) -> int: ...
