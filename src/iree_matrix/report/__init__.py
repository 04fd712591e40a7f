"""What a results log becomes for a reader, all from the same records and findings/ (`runs_view`):
COMPATIBILITY.md (`compatibility`), PERFORMANCE.md (`performance`) and the static site (`site`);
numbers are written by `formats`, so every document prints them alike."""

from __future__ import annotations

from iree_matrix.report.compatibility import render_compatibility, write_compatibility
from iree_matrix.report.performance import render_performance, write_performance

__all__ = ["render_compatibility", "render_performance", "write_compatibility", "write_performance"]
