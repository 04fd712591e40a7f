"""A package index in memory, for tests of release selectors."""

from __future__ import annotations

from iree_matrix.matrix import releases

COMPILERS = ["2.9.0", "3.0.0", "3.1.0", "3.7.0", "3.7.1", "3.8.0", "3.9.0", "3.10.0", "3.13.0"]
INDEX = {
    "iree-base-compiler": COMPILERS + ["3.14.0rc20261101", "3.14.0.dev1"],
    "iree-base-runtime": [v for v in COMPILERS if v != "3.7.1"],
    "iree-turbine": ["2.3.0", "3.0.0", "3.8.0", "3.9.0"],
    "torch": ["2.5.1", "2.13.0", "2.13.0+cpu", "2.15.0"],
}


class FakeIndex:
    def __init__(self, index=INDEX):
        self.index = index
        self.asked: list[str] = []

    def __call__(self, package: str, python: str) -> releases.Releases:
        self.asked.append(package)
        return releases.Releases(
            package, releases.final_releases(self.index[package]), "2026-11-23T00:00:00+00:00"
        )
