"""The prelude `bin/update_board_budget.py`, `bin/update_shell_commands.py` and
`bin/update_matrix_schema.py` share: each rewrites a generated part of a checkout (REPO, default
this one) from the code or the published records, and says what it rewrote. Imported from beside
them (a script's own folder is first on `sys.path` when Python runs it)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def arguments(doc: str, argv: Sequence[str], *, check: bool = False) -> argparse.Namespace:
    """The script's arguments: `root`, the checkout to rewrite (default: this one), and with `check`
    a `--check` switch (rewrite nothing; say whether it would)."""
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=doc, formatter_class=raw)
    parser.add_argument(
        "root", nargs="?", type=Path, default=REPO, help="the checkout to rewrite (default: this one)"
    )
    if check:
        parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if it differs")
    return parser.parse_args(list(argv))


def rewrite(path: Path, new: str, *, check: bool = False, differs: str = "") -> bool:
    """`new` written to `path` when the file holds anything else (or is missing), "rewrote PATH"
    said; with `check` nothing is written and "PATH `differs`" is said instead. Whether it differed."""
    if path.is_file() and path.read_text(encoding="utf-8") == new:
        return False
    if check:
        print(f"{path} {differs or 'differs'}")
        return True
    path.write_text(new, encoding="utf-8")
    print(f"rewrote {path}")
    return True
