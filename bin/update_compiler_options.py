#!/usr/bin/env python3
"""Rewrite the table of which `--iree-*` options each IREE compiler release accepts
(`src/iree_matrix/iree/compiler_options.json`, read by `iree/compiler_options.py`) from each
release's own `iree-compile --help-hidden`, after installing the compilers (any matrix's
`install:*iree-compiler*` jobs):

    bin/update_compiler_options.py 3.13.0=PATH/bin/iree-compile 3.12.0=... [--merge]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.iree import compiler_options


def main(argv: Sequence[str] = ()) -> int:
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument(
        "compilers", nargs="+", metavar="RELEASE=IREE_COMPILE", help="a release and its iree-compile"
    )
    parser.add_argument("--merge", action="store_true", help="keep the table's other releases")
    parser.add_argument("--out", type=Path, default=compiler_options.TABLE)
    args = parser.parse_args(list(argv) or None)
    listings: dict[str, frozenset[str]] = {}
    if args.merge:
        known = compiler_options.known_releases()
        listings.update({r: compiler_options.options(r) or frozenset() for r in known})
    for item in args.compilers:
        release, sep, tool = item.partition("=")
        if not sep or not release or not tool:
            parser.error(f"{item!r}: expected RELEASE=PATH (e.g. 3.13.0=/venv/bin/iree-compile)")
        argv = [tool, "--help-hidden"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        found = compiler_options.options_in(done.stdout)
        if not found:
            said = f"{tool}: --help-hidden listed no --iree-* option (exit {done.returncode})"
            print(said, file=sys.stderr)
            return 1
        listings[release] = found
        print(f"IREE {release}: {len(found)} --iree-* options")
    encoded = compiler_options.encode(listings)
    args.out.write_text(json.dumps(encoded, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(listings)} releases)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
