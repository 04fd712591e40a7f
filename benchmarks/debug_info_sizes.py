"""Module size with and without debug information, per model and compiler release, from a results
log's compile records: the `default` profile (what iree-compile writes: DWARF in the executables,
the source map and debug ops in the bytecode, source locations in the executables) beside the
`stripped` profile (--iree-llvmcpu-debug-symbols=false, --iree-vm-bytecode-module-strip-source-map=true,
--iree-vm-bytecode-module-strip-debug-ops=true, --iree-hal-executable-debug-level=0).

    python benchmarks/debug_info_sizes.py [--results-dir results]

Prints a Markdown table (model, release, bytes as compiled, bytes stripped, the difference); a
release that skipped the stripped profile (it lacks a flag) says which flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.findings.runs_view import version_key


def table(results: Path) -> list[str]:
    compiles = [r for r in ResultsLog(results / "results.jsonl").latest().values() if r.stage == "compile"]
    by_cell: dict[tuple[str, str], dict[str, object]] = {}
    for r in compiles:
        profile = r.labels.get("profile")
        if profile not in ("default", "stripped") or r.labels.get("arch") != "x86_64":
            continue
        cell = by_cell.setdefault((r.labels["model"], r.labels["compiler"]), {})
        cell[profile] = (
            r.metrics.get("module_bytes") if r.status is Status.OK else (r.message or r.status.value)
        )
    lines = ["| model | compiler | as compiled | stripped | difference |", "|---|---|---:|---:|---:|"]
    for (model, compiler), sizes in sorted(by_cell.items(), key=lambda i: (i[0][0], version_key(i[0][1]))):
        full, stripped = sizes.get("default"), sizes.get("stripped")
        if not isinstance(full, int):
            continue
        if isinstance(stripped, int):
            diff = f"−{full - stripped:,} B ({(full - stripped) / full:.1%})"
            lines.append(f"| {model} | {compiler} | {full:,} B | {stripped:,} B | {diff} |")
        elif stripped is not None:
            lines.append(f"| {model} | {compiler} | {full:,} B | {str(stripped).splitlines()[0]} | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    print("\n".join(table(parser.parse_args().results_dir)))


if __name__ == "__main__":
    main()
