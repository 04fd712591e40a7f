"""A run bundle's runner (`python3 run.py`, LAUNCHER below), carried in every bundle `iree-matrix bundle`
makes. Python >= 3.9 and numpy only: it checks the bundle's files against SHA256SUMS, unpacks the runtime
wheel it carries, runs, checks and times each cell in a process of its own (a module built for an
instruction this CPU lacks kills that process, not the run), appends one record per cell to
OUT/results.jsonl as it ends, then times a sitting's arms in paired rounds (sitting.py, gpu.py). Every import
is relative, so these files are also iree-matrix's own `iree_matrix.bundle_runner`: one source, no copy."""

# The bundle's run.py: the package beside it on the path, then its command line. Written into each
# bundle by iree-matrix (execution/bundle.py); users run `python3 run.py ...` as before.
LAUNCHER = """#!/usr/bin/env python3
\"\"\"A run bundle's runner: `python3 run.py [--rounds N] [--out DIR] [--cells GLOB] [--list]`
(`--help` says more). The runner is the package bundle_runner/ beside this file.\"\"\"
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bundle_runner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
"""
