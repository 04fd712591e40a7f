#!/usr/bin/env python3
"""Rewrite the docs' command blocks (docs/arm.md, docs/cortex-m.md, between `<!-- commands:NAME -->`
markers) from the functions the stages run: `stages/shell_commands.py` prints them, this writes
them. tests/unit/test_shell_commands.py fails until it has been run after a change to those commands.

    bin/update_shell_commands.py [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.answers import results_folder
from iree_matrix.stages import shell_commands

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] = ()) -> int:
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument(
        "root", nargs="?", type=Path, default=REPO, help="the checkout to rewrite (default: this one)"
    )
    root = parser.parse_args(argv).root
    # The Cortex-M runs' switches come from this checkout's published records, whichever it rewrites.
    published = results_folder.load(REPO / "results" / shell_commands.CORTEX_M_SET).logged
    blocks = shell_commands.docs_blocks(published)
    for doc in shell_commands.DOCS:
        path = root / doc
        text = path.read_text()
        new = shell_commands.rewrite_docs(text, blocks)
        if new != text:
            path.write_text(new)
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
