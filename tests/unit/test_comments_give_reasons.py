"""Comments under src/ say why, not which tracker issue: an issue number tells a reader nothing
without the tracker, and the tracker is not shipped with the package."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"
ISSUE = re.compile(r"#\d{1,3}\b|\bissue \d{1,3}\b")
AT_MOST = 10


def test_few_issue_numbers_in_source_comments():
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ISSUE.search(line)
    ]
    assert len(found) <= AT_MOST, "say the reason instead of the issue number:\n" + "\n".join(found)
