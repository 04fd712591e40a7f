#!/usr/bin/env python3
"""Rewrite the matrix file's JSON Schema (`src/iree_matrix/schemas/matrix-1.schema.json`, what an
editor reads) from the definition the parser validates with (`KEYS` and `DEFS` in
src/iree_matrix/matrix/schema.py). tests/unit/test_matrix_schema.py fails until it has been run
after the definition changed; `--check` only says whether it would rewrite (exit 1).

    bin/update_matrix_schema.py [--check] [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from checkout_rewrite import arguments, rewrite

from iree_matrix.matrix import schema


def main(argv: Sequence[str] = ()) -> int:
    args = arguments(__doc__ or "", argv, check=True)
    path = args.root / "src" / "iree_matrix" / schema.SCHEMA
    differs = "differs from src/iree_matrix/matrix/schema.py: run bin/update_matrix_schema.py"
    return int(rewrite(path, schema.file_text(), check=args.check, differs=differs) and args.check)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
