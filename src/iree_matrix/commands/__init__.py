"""One module per `iree-matrix` command, named once in `cli.COMMANDS`, each exposing `NAME`, `HELP`,
`add_arguments(parser)` (options declared in options.py) and `main(args) -> int`. A command is thin:
it reads its options into typed settings and calls a typed function (tests/unit/test_thin_commands.py).
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
