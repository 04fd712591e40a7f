"""Per-dispatch tuning's text logic (benchmarks/tiling.py, beside the one benchmark that uses it):
reading IREE's CPU lowering config, the tile-size neighbours tried, and the rewrite of one
executable's configuration."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "tiling.py"
_SPEC = importlib.util.spec_from_file_location("tiling", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
tiling = importlib.util.module_from_spec(_SPEC)
sys.modules["tiling"] = tiling  # its dataclasses look their module up by name
_SPEC.loader.exec_module(tiling)

CONV = (
    "#iree_cpu.lowering_config<distribution = [8, 28, 28, 0, 0, 0], "
    "vector_common_parallel = [1, 1, 8, 0, 0, 0], vector_reduction = [0, 0, 0, 1, 1, 8]>"
)
FILL = "#iree_cpu.lowering_config<vector_common_parallel = [1, 1, 8]>"
CONSUMER = "#iree_cpu.lowering_config<distribution = [8, 28], vector_common_parallel = [1, 8]>"
EXECUTABLE = f"""hal.executable public @main$async_dispatch_8 {{
  hal.executable.variant public @embedded_elf_x86_64 target(#x) {{
    %fill = linalg.fill {{lowering_config = {FILL}}} ins(%c)
    %7 = linalg.generic {{...}} attrs = {{lowering_config = {CONV}}} {{
    %8 = linalg.generic {{...}} attrs = {{lowering_config = {CONSUMER}}}
  }}
}}"""


def test_parse_reads_every_level_in_order():
    config = tiling.parse(CONV)
    assert config is not None
    assert config.get(tiling.DISTRIBUTION) == (8, 28, 28, 0, 0, 0)
    assert config.get(tiling.VECTOR_REDUCTION) == (0, 0, 0, 1, 1, 8)
    assert config.render() == CONV  # the same text back, so a rewrite changes only what it means to
    assert config.describe().startswith("distribution 8x28x28x0x0x0; vector_common_parallel")


def test_parse_refuses_what_is_not_plain_tile_sizes():
    assert tiling.parse("#iree_codegen.lowering_config<tile_sizes = [[4, 4]]>") is None
    assert tiling.parse("#iree_cpu.lowering_config<distribution = [4, 4], scalable = [false, true]>") is None


def test_root_config_is_the_distributed_op_with_most_loops():
    text, config = tiling.root_config(EXECUTABLE) or ("", None)
    assert text == CONV and config is not None and len(config.get(tiling.DISTRIBUTION) or ()) == 6
    assert tiling.root_config("hal.executable @x { }") is None
    assert tiling.executable_name(EXECUTABLE) == "main$async_dispatch_8"


def test_variants_halve_and_double_one_tile_each():
    config = tiling.parse(CONV)
    assert config is not None
    found = dict(tiling.tile_neighbours(config, bounds=(32, 56, 56, 64, 3, 3)))
    assert found["distribution[0] 8->4"].get(tiling.DISTRIBUTION) == (4, 28, 28, 0, 0, 0)
    assert "distribution[1] 28->56" in found and "distribution[1] 28->14" in found
    assert "distribution[0] 8->16" in found  # 16 <= 32
    # the innermost vector tile of each level: halved, or doubled while it still divides the workgroup tile
    assert found["vector_common_parallel[2] 8->4"].get(tiling.VECTOR_PARALLEL) == (1, 1, 4, 0, 0, 0)
    assert "vector_common_parallel[2] 8->16" not in found  # 16 does not divide 28
    assert found["vector_reduction[5] 8->16"].get(tiling.VECTOR_REDUCTION) == (0, 0, 0, 1, 1, 16)
    # a workgroup tile is never doubled past its loop, nor halved below its vector tile
    small = tiling.parse(
        "#iree_cpu.lowering_config<distribution = [8, 16], vector_common_parallel = [8, 16]>"
    )
    assert small is not None
    labels = [label for label, _ in tiling.tile_neighbours(small, bounds=(8, 64))]
    assert "distribution[0] 8->4" not in labels and "distribution[0] 8->16" not in labels
    assert "distribution[1] 16->32" in labels


def test_replace_root_rewrites_only_the_root_config():
    config = tiling.parse(CONV)
    assert config is not None
    tuned = config.with_level(tiling.DISTRIBUTION, (4, 28, 28, 0, 0, 0))
    edited = tiling.replace_root(EXECUTABLE, CONV, tuned)
    assert "distribution = [4, 28, 28, 0, 0, 0]" in edited
    assert "distribution = [8, 28], vector_common_parallel = [1, 8]" in edited  # the consumer's untouched
    assert edited.count("lowering_config") == EXECUTABLE.count("lowering_config")
