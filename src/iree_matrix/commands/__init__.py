"""One module per `iree-matrix` command. Each exposes:

    NAME: str                                                  # the verb, e.g. "matrix"
    HELP: str                                                  # one line for `iree-matrix --help`
    def add_arguments(parser: argparse.ArgumentParser) -> None # its options, from options.py
    def main(args: argparse.Namespace) -> int                  # the exit code

and is named once in `cli.COMMANDS`. A command is thin (asv's setup_arguments / run_from_args /
run(conf, **kwargs)): `add_arguments` adds options declared in `options.py` (each once, typed; a list
of them: `add_arguments = taking(...)`), `main` reads them into typed settings (`options.plan_settings`,
a dataclass of its own) and calls a typed function of the answers or running layer (the flag search's
batches are tasks/flag_search.py's, a plan's loading and execution execution/workflow.py's). `base.py`
holds what commands share beyond options; tests/unit/test_thin_commands.py holds the rules.
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
