"""The real hang (issue #51 item 9): iree-base-compiler 3.6.0's Python bindings keep the exporting
process from ending after an export (stuck in PyGILState_Ensure while MLIR's resources are
destroyed). The export worker ends by os._exit once its outputs are written, so it ends; the export
is stored as exported with the known finding (the tool's table, never the worker's word: a model's
code can write any file, issue 85), and the 3.6.0 compiler compiles its MLIR. About two minutes on
a quiet 2-core machine (two environments, one export, one compile)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.results import Status
from iree_matrix.iree import versions

from .conftest import matrix_toml, run_matrix_text

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXPORT = "export:tiny_cnn/py3.11-torch2.13.0-turbine3.6.0"


def test_an_export_by_an_importer_that_hangs_at_exit_ends_and_is_stored_with_the_finding(
    cache: Path, tmp_path: Path
) -> None:
    text = matrix_toml(turbine="3.6.0", compiler="3.6.0", tables={"benchmark": {"repetitions": 1}})
    *_, got = run_matrix_text(text, cache, tmp_path / "hang.toml", "--select", "compile:*")
    export = got[EXPORT]
    assert export.status is Status.OK, export.message
    assert export.metric.of(ExportMetrics).importer == "iree-base-compiler 3.6.0"
    # it ended, nothing was killed: the mark is the tool's table's, with no measured seconds
    assert export.metric.of(ExportMetrics).exit_hang == {
        "known": versions.EXIT_HANGS["iree-base-compiler 3.6.0"]
    }
    assert export.message is not None
    assert export.message.startswith(
        "exported; the importer's Python process hangs at exit (iree-base-compiler 3.6.0: stuck in"
    )
    assert export.metric.of(ExportMetrics).mlir_sha256
    (compile_,) = [r for r in got.values() if r.stage == "compile"]
    assert compile_.status is Status.OK, compile_.message  # its MLIR is used
