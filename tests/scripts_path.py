"""scripts/ importable: the tests that call the tool's worker scripts (export_model, bisect_outputs,
flops, peer_frameworks, the reference models as `models.NAME`) in-process import them as modules, with
scripts/ on sys.path as a stage's worker has it. One copy of the lines each such test file began with."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def scripts_importable() -> Path:
    """SCRIPTS first on sys.path (unless it is there already); its path, for the test file's own use."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return SCRIPTS
