"""The scripts a run bundle carries (scripts/bundle_run.py as run.py, bundle_gap.py, bundle_gpu.py),
loaded by path as run.py loads its neighbours there: they are not modules of the package. Each
caller gets its own instance (`as_`), so one test file's patches never leak into another's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load(name: str, as_: str = "") -> Any:
    """scripts/NAME.py as a fresh module named `as_` (default NAME_under_test); scripts/ goes on
    sys.path first, since run.py imports bundle_gap and bundle_gpu by name beside it."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(as_ or f"{name}_under_test", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
