"""bin/test_durations.py: the tiers' wall and CPU, the slowest tests and the unit tests over 1 s of
CPU, read from the JUnit files and tier notes `nox -s tests` writes (issue 72)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "test_durations_under_test", Path(__file__).resolve().parents[2] / "bin" / "test_durations.py"
)
assert _SPEC is not None and _SPEC.loader is not None
durations = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = durations  # its dataclasses look their module up
_SPEC.loader.exec_module(durations)

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.unit.test_a" name="test_cheap" time="0.010">
<properties><property name="cpu_s" value="0.004" /></properties></testcase>
<testcase classname="tests.unit.test_a" name="test_dear" time="2.500">
<properties><property name="cpu_s" value="2.25" /></properties></testcase>
<testcase classname="tests.unit.test_b" name="test_skipped" time="0.001"><skipped message="x" /></testcase>
</testsuite></testsuites>"""


def test_unit_tests_over_a_second_of_cpu_are_listed_with_their_cpu(tmp_path: Path) -> None:
    (tmp_path / "junit-unit.xml").write_text(JUNIT)
    note = {"tier": "unit", "wall_s": 95.0, "cpu_s": 60.5, "passed": True, "load_at_end": 1.2}
    (tmp_path / "tier-unit.json").write_text(json.dumps(note))
    tests = durations.read_tests(tmp_path / "junit-unit.xml", "unit")
    assert [t.cpu_s for t in tests] == [0.004, 2.25, None]
    shown = durations.render(durations.read_tiers(tmp_path), tests, slowest=2, markdown=False)
    assert "unit         wall     1:35  CPU     1:00      3 tests  passed" in shown
    over = shown.split("unit tests over 1 s of CPU: ", 1)[1].splitlines()
    assert over[0] == "1" and over[1].split() == ["2.25", "tests/unit/test_a.py::test_dear"]
    assert "test_cheap" not in "\n".join(over)
    slowest = shown.split("slowest tests", 1)[1]
    assert slowest.index("test_dear") < slowest.index("test_cheap")


def test_a_tier_without_cpu_properties_lists_no_cpu_section(tmp_path: Path) -> None:
    junit = JUNIT.replace('<properties><property name="cpu_s" value="0.004" /></properties>', "")
    junit = junit.replace('<properties><property name="cpu_s" value="2.25" /></properties>', "")
    (tmp_path / "junit-integration.xml").write_text(junit)
    tests = durations.read_tests(tmp_path / "junit-integration.xml", "integration")
    assert "of CPU" not in durations.render([], tests, slowest=5, markdown=False)
