"""A matrix-file key renamed is still read under its old name (matrix/old_spellings.py): a user's
file written with `[benchmark] op_profile` keeps working as `op_timings`; a file naming both is one
line naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.matrix import spec_file

ROOT = Path(__file__).resolve().parents[2]
NEW = 'op_timings = ["*/default"]'


def test_op_profile_the_old_name_of_op_timings_is_still_read(tmp_path: Path) -> None:
    base = (ROOT / "matrix" / "bench.toml").read_text()
    assert NEW in base
    old = tmp_path / "old.toml"
    old.write_text(base.replace(NEW, 'op_profile = ["*/default"]'))
    matrix = spec_file.load(old)
    assert matrix.benchmark.globs("op_timings") == ("*/default",)
    assert matrix.benchmark.globs("op_profile") == ()
    assert matrix.benchmark.opts_in("op_timings", "mobilenet_v2", "default")
    assert not matrix.benchmark.opts_in("op_timings", "mobilenet_v2", "im2col")


def test_a_file_giving_both_names_is_refused_in_one_line(tmp_path: Path) -> None:
    both = tmp_path / "both.toml"
    both.write_text(
        (ROOT / "matrix" / "bench.toml").read_text().replace(NEW, f'{NEW}\nop_profile = ["*/O2"]')
    )
    with pytest.raises(UserError) as info:
        spec_file.load(both)
    said = str(info.value)
    assert "\n" not in said
    assert said == f"{both}: benchmark.op_profile = ['*/O2']: the old name of benchmark.op_timings: give one"
