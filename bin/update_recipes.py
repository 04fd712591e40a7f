#!/usr/bin/env python3
"""Rewrite the docs' recipe blocks (docs/arm.md, docs/cortex-m.md, between `<!-- recipe:NAME -->`
markers) from the functions the stages run: `stages/recipes.py` prints them, this writes them.
tests/unit/test_recipes.py fails until it has been run after a change to those commands.

    bin/update_recipes.py [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.stages import recipes

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] = ()) -> int:
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument(
        "root", nargs="?", type=Path, default=REPO, help="the checkout to rewrite (default: this one)"
    )
    root = parser.parse_args(argv).root
    blocks = recipes.docs_blocks()
    for doc in recipes.DOCS:
        path = root / doc
        text = path.read_text()
        new = recipes.rewrite_docs(text, blocks)
        if new != text:
            path.write_text(new)
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
