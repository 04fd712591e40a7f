"""Foundation, in three layers (tests/unit/test_layers.py holds them apart): `core/` itself (what
knows neither a record nor a process), `core/system/` (the operating system: processes, sandboxes,
containers, locks, the host) and `core/model/` (the record model, above the system layer)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType


def modules(*packages: str) -> Iterator[ModuleType]:
    """Each module of these packages, imported in turn: how a layer finds its own and kernel/'s by name."""
    for package in packages:
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            yield importlib.import_module(f"{package}.{info.name}")
