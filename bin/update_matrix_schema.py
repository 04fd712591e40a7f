#!/usr/bin/env python3
"""Rewrite the matrix file's JSON Schema (`src/iree_matrix/schemas/matrix-1.schema.json`, what an
editor reads) from the definition the parser validates with (`KEYS` and `DEFS` in
src/iree_matrix/matrix/schema.py). tests/unit/test_matrix_schema.py fails until it has been run
after the definition changed; `--check` only says whether it would rewrite (exit 1).

    bin/update_matrix_schema.py [--check] [REPO]    # REPO: the checkout to rewrite (default: this one)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.matrix import schema

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] = ()) -> int:
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument(
        "root", nargs="?", type=Path, default=REPO, help="the checkout to rewrite (default: this one)"
    )
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if it differs")
    args = parser.parse_args(argv)
    path = args.root / "src" / "iree_matrix" / schema.SCHEMA
    made = schema.file_text()
    if path.is_file() and path.read_text(encoding="utf-8") == made:
        return 0
    if args.check:
        print(f"{path} differs from src/iree_matrix/matrix/schema.py: run bin/update_matrix_schema.py")
        return 1
    path.write_text(made, encoding="utf-8")
    print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
