"""A run bundle's runner: `python3 run.py [--rounds N] [--out DIR] [--cells GLOB] [--list]`.

This package is carried in every bundle `iree-matrix bundle` makes, as `bundle_runner/` beside the
bundle's `run.py` (LAUNCHER below), which runs it. It needs Python >= 3.9 and numpy,
nothing else: no network, no torch, no compiler, no iree-matrix. It

1. checks every file of the bundle against its SHA256SUMS (a file damaged in transit is refused);
2. installs the IREE runtime wheel the bundle carries for this Python and machine into the
   bundle's own folder (a wheel is a zip: unpacked, executable bits kept; nothing else touched);
3. records this machine's identity (CPU vendor, family / model / stepping, every flag by digest,
   cores: the fields iree-matrix's own records carry) and each GPU the runtime lists;
4. for each cell, in a process of its own (a module built for an instruction this CPU lacks kills
   that process, not the run): loads the module on the device it was built for, checks its outputs
   against torch's reference with the model's tolerance, and times it (one thread's CPU time per
   call on a CPU, `local-sync`; synchronised wall time per call on a GPU). A device that is absent
   makes the cell "not run: no CUDA device here (the runtime's words)", never a failure;
5. appends one record per cell (iree-matrix's record schema, carrying the bundle's digest) to
   OUT/results.jsonl, flushed and fsync'd as each cell ends, so Ctrl-C keeps what was done;
6. with a sitting (`bundle --advise`): times its arms in paired rounds and, where the answer trails
   ONNX Runtime, profiles both op by op (gap.py); a GPU sitting (`--target`) times them on the
   GPU beside torch eager and torch.compile (gpu.py).

Bring OUT home and `iree-matrix merge OUT --to DIR`: merge checks every record against the bundle
it was made from. Python 3.9 syntax, stdlib + numpy only; every import inside the package is
relative, so the same files are iree-matrix's own `iree_matrix.bundle_runner` (whose run stage checks
outputs and reads iree-benchmark-module's JSON with arrays.py and tools.py: one source, no copy) and
a bundle's top-level `bundle_runner`.

Modules: base (names, the error, helpers), host (this machine), manifest (the bundle's files and
runtimes), modules (the modules put together from their chunks), arrays (the output check), cell
(one cell by the Python binding), tools (one cell by IREE's tools), records, worker (a sitting's
timing process), sitting, gap, gpu, cli (the command line).
"""

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
