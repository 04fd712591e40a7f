#!/usr/bin/env python3
"""Rewrite docs/boards.md's board table (between its `<!-- board-budget -->` markers) from the
published sets `report/budget.py` reads (`BUDGET_RESULTS`). tests/unit/test_board_budget.py fails
until it has been run after a publish into one of them.

    bin/update_board_budget.py [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from checkout_rewrite import arguments, rewrite

from iree_matrix.report import budget


def main(argv: Sequence[str] = ()) -> int:
    root = arguments(__doc__ or "", argv).root
    path = root / "docs" / "boards.md"
    rewrite(path, budget.rewrite_docs(path.read_text(encoding="utf-8"), budget.table(budget.published(root))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
