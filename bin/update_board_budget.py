#!/usr/bin/env python3
"""Rewrite docs/boards.md's board table (between its `<!-- board-budget -->` markers) from the
published sets `report/budget.py` reads (`BUDGET_RESULTS`). tests/unit/test_board_budget.py fails
until it has been run after a publish into one of them.

    bin/update_board_budget.py [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.report import budget

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] = ()) -> int:
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument(
        "root", nargs="?", type=Path, default=REPO, help="the checkout to rewrite (default: this one)"
    )
    root = parser.parse_args(argv).root
    path = root / "docs" / "boards.md"
    text = path.read_text()
    new = budget.rewrite_docs(text, budget.table(budget.published(root)))
    if new != text:
        path.write_text(new)
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
