#!/usr/bin/env python3
"""What a `nox -s tests` run cost: each tier's wall and CPU time and the slowest tests, read from
the JUnit files and tier notes the session writes under runs/tests/ (lab/measurements.md keeps a
summary of a clean-clone CI run).

    bin/test_durations.py runs/tests [--slowest 30] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CPU_BAR_S = 1.0  # issue 72: each unit test under 1 s of CPU


@dataclass(frozen=True)
class Timed:
    tier: str
    test: str  # file::name, as pytest names it
    seconds: float
    outcome: str  # passed, failed, error, skipped
    cpu_s: float | None = None  # the unit tier's: its setup and call's CPU (tests/unit/conftest.py)


@dataclass(frozen=True)
class Tier:
    name: str
    wall_s: float
    cpu_s: float
    passed: bool
    load_at_end: float


def read_tests(junit: Path, tier: str) -> list[Timed]:
    """Every test case of one JUnit file; setup and teardown are in a case's time (pytest's junit)."""
    found = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = (case.get("classname") or "").replace(".", "/")
        outcome = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
        cpu = next((p.get("value") for p in case.iter("property") if p.get("name") == "cpu_s"), None)
        found.append(Timed(tier, f"{path}.py::{case.get('name')}", float(case.get("time") or 0), outcome,
                           None if cpu is None else float(cpu)))  # fmt: skip
    return found


def read_tiers(folder: Path) -> list[Tier]:
    tiers = []
    for note in sorted(folder.glob("tier-*.json")):
        data = json.loads(note.read_text())
        tiers.append(
            Tier(data["tier"], data["wall_s"], data["cpu_s"], data["passed"], data.get("load_at_end", 0.0))
        )
    return tiers


def render(tiers: list[Tier], tests: list[Timed], slowest: int, markdown: bool) -> str:
    lines = []
    if markdown:
        lines += ["| tier | wall | CPU | tests | passed |", "|---|---|---|---|---|"]
    for tier in tiers:
        count = sum(1 for t in tests if t.tier == tier.name)
        wall, cpu = _minutes(tier.wall_s), _minutes(tier.cpu_s)
        if markdown:
            lines.append(f"| {tier.name} | {wall} | {cpu} | {count} | {'yes' if tier.passed else 'NO'} |")
        else:
            verdict = "passed" if tier.passed else "FAILED"
            lines.append(f"{tier.name:12} wall {wall:>8}  CPU {cpu:>8}  {count:5} tests  {verdict}")
    total = sum(t.wall_s for t in tiers)
    lines.append(("" if not markdown else "\n") + f"all tiers: {_minutes(total)} wall")
    lines.append("")
    ranked = sorted(tests, key=lambda t: -t.seconds)[:slowest]
    if markdown:
        lines += ["| s | tier | test |", "|---|---|---|"]
        lines += [f"| {t.seconds:.0f} | {t.tier} | `{t.test}` |" for t in ranked]
    else:
        lines.append(f"the {len(ranked)} slowest tests (s, setup and teardown included):")
        lines += [f"{t.seconds:8.1f}  {t.tier:12} {t.test}{'' if t.outcome == 'passed' else '  ' + t.outcome}"
                  for t in ranked]  # fmt: skip
    over = sorted(
        (t for t in tests if t.cpu_s is not None and t.cpu_s >= CPU_BAR_S), key=lambda t: -(t.cpu_s or 0)
    )
    if any(t.cpu_s is not None for t in tests):
        lines.append("")
        lines.append(f"unit tests over {CPU_BAR_S:g} s of CPU: {len(over)}")
        lines += [f"{t.cpu_s:8.2f}  {t.test}" for t in over]
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="where `nox -s tests` wrote its JUnit files (runs/tests)")
    parser.add_argument("--slowest", type=int, default=30, help="how many of the slowest tests to list")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables (lab/measurements.md)")
    args = parser.parse_args(argv or None)
    if not args.folder.is_dir():
        print(f"test_durations: {args.folder}: no such folder (run `nox -s tests` first)", file=sys.stderr)
        return 2
    tests = [t for junit in sorted(args.folder.glob("junit-*.xml"))
             for t in read_tests(junit, junit.stem.removeprefix("junit-"))]  # fmt: skip
    print(render(read_tiers(args.folder), tests, args.slowest, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
