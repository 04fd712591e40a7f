"""No module under src/iree_matrix is over 700 lines: a newcomer reads a module whole, and one that
outgrows that holds more than one thing, to be split into modules named after what each owns."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"
MAX_LINES = 700


def _sizes() -> dict[str, int]:
    return {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }


def test_the_package_is_found():
    # A wrong PACKAGE would find no module and pass the bar vacuously.
    assert "core/model/records.py" in _sizes()


def test_no_module_is_over_the_bar():
    over = {name: n for name, n in _sizes().items() if n > MAX_LINES}
    assert not over, f"over {MAX_LINES} lines: {over}; split each into modules named after what they own"
