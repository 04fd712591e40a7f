#!/usr/bin/env python3
"""Rewrite the docs' command blocks (docs/arm.md, docs/cortex-m.md, between `<!-- commands:NAME -->`
markers) from the functions the stages run: `stages/shell_commands.py` prints them, this writes
them. tests/unit/test_shell_commands.py fails until it has been run after a change to those commands.

    bin/update_shell_commands.py [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from checkout_rewrite import REPO, arguments, rewrite

from iree_matrix.findings import results_folder
from iree_matrix.stages import shell_commands


def main(argv: Sequence[str] = ()) -> int:
    root = arguments(__doc__ or "", argv).root
    # The Cortex-M runs' switches come from this checkout's published records, whichever it rewrites.
    published = results_folder.load(REPO / "results" / shell_commands.CORTEX_M_SET).logged
    blocks = shell_commands.docs_blocks(published)
    for doc in shell_commands.DOCS:
        path = root / doc
        rewrite(path, shell_commands.rewrite_docs(path.read_text(encoding="utf-8"), blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
