"""What a transform spec's text declares, read without MLIR (kernel/spec_text.py)."""

from __future__ import annotations

from iree_matrix.kernel import spec_text
from tests.unit.test_kernels import NEGABS


def test_the_specs_executables_in_each_spelling() -> None:
    spec = (NEGABS / "spec.mlir").read_text()
    assert spec_text.spec_executables(spec) == ("negabs_executable",)
    assert spec_text.spec_executables("hal.executable @a {} hal.executable public @b") == ("a", "b")
    generic = '"hal.executable.source"() <{sym_name = "dw", sym_visibility = "private", objects = #x}> ({'
    assert spec_text.spec_executables(generic + " hal.executable.source private @c") == ("dw", "c")
