"""The dispatches stage's parsing and the compile stage's helpers for it (pure logic, files only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.stages.compile import _statistics, attach_resources
from iree_matrix.stages.dispatches import export_name, op_of, parse_benchmarks

# What `--iree-hal-dump-executable-benchmarks-to` names a dump, and what iree-benchmark-module
# calls the function in it.
STEM = "module_main$async_dispatch_11_embedded_elf_x86_64_benchmark"
BENCH = (
    "BM_main$async_dispatch_11_embedded_elf_x86_64_main$async_dispatch_11_conv_28x28x144x3x3_f32"
    "/process_time/real_time"
)
EXPORT = "main$async_dispatch_11_conv_28x28x144x3x3_f32"


def _bench(name: str, real_time: float, unit: str = "us", run_type: str = "iteration") -> dict[str, Any]:
    return {
        "name": name,
        "run_name": name,
        "run_type": run_type,
        "repetitions": 3,
        "iterations": 100,
        "real_time": real_time,
        "cpu_time": real_time,
        "time_unit": unit,
    }


def _json(*benchmarks: dict[str, Any]) -> str:
    return json.dumps({"context": {"num_cpus": 2}, "benchmarks": list(benchmarks)})


# --- export_name / op_of ----------------------------------------------------------------------


def test_export_name_strips_the_executable_and_variant_prefix():
    assert export_name(BENCH, STEM) == EXPORT


def test_export_name_keeps_underscores_in_the_function_name():
    stem = "module_decoder_step$async_dispatch_3_embedded_elf_x86_64_benchmark"
    bench = (
        "BM_decoder_step$async_dispatch_3_embedded_elf_x86_64_"
        "decoder_step$async_dispatch_3_matmul_like_4x64x64_f32/process_time/real_time"
    )
    assert export_name(bench, stem) == "decoder_step$async_dispatch_3_matmul_like_4x64x64_f32"


def test_export_name_of_a_function_from_another_module_is_left_whole():
    assert export_name("BM_something_else/real_time", STEM) == "something_else"


def test_op_of_drops_the_function_and_the_ordinal():
    assert op_of(EXPORT) == "conv_28x28x144x3x3_f32"
    assert op_of("decoder_step$async_dispatch_3_matmul_like_4x64x64_f32") == "matmul_like_4x64x64_f32"


def test_op_of_a_name_without_an_ordinal_is_the_name():
    assert op_of("main$custom_kernel") == "main$custom_kernel"


# --- parse_benchmarks -------------------------------------------------------------------------


def test_parse_benchmarks_median_min_max_and_count_of_the_iterations():
    text = _json(
        _bench(BENCH, 30.0),
        _bench(BENCH, 10.0),
        _bench(BENCH, 20.0),
        _bench(BENCH + "_mean", 20.0, run_type="aggregate"),
        _bench(BENCH + "_median", 999.0, run_type="aggregate"),
    )
    assert parse_benchmarks(text, STEM) == [
        {
            "name": EXPORT,
            "op": "conv_28x28x144x3x3_f32",
            "median_us": 20.0,
            "min_us": 10.0,
            "max_us": 30.0,
            "n": 3,
        }
    ]


def test_parse_benchmarks_ignores_aggregates():
    text = _json(_bench(BENCH, 5.0), _bench(BENCH, 7.0), _bench(BENCH, 1000.0, run_type="aggregate"))
    (entry,) = parse_benchmarks(text, STEM)
    assert entry["n"] == 2
    assert entry["max_us"] == 7.0
    assert entry["median_us"] == 6.0


@pytest.mark.parametrize(
    ("unit", "value", "us"), [("ns", 2500.0, 2.5), ("us", 2.5, 2.5), ("ms", 2.5, 2500.0)]
)
def test_parse_benchmarks_converts_to_microseconds(unit, value, us):
    (entry,) = parse_benchmarks(_json(_bench(BENCH, value, unit)), STEM)
    assert entry["median_us"] == pytest.approx(us)
    assert entry["min_us"] == pytest.approx(us)


def test_parse_benchmarks_without_a_unit_means_nanoseconds():
    bench = _bench(BENCH, 4000.0)
    del bench["time_unit"]
    (entry,) = parse_benchmarks(_json(bench), STEM)
    assert entry["median_us"] == pytest.approx(4.0)


def test_parse_benchmarks_one_entry_per_export():
    stem = "module_main$async_dispatch_2_embedded_elf_x86_64_benchmark"
    prefix = "BM_main$async_dispatch_2_embedded_elf_x86_64_"
    text = _json(
        _bench(prefix + "main$async_dispatch_2_add_16_f32/real_time", 1.0),
        _bench(prefix + "main$async_dispatch_2_mul_16_f32/real_time", 3.0),
        _bench(prefix + "main$async_dispatch_2_add_16_f32/real_time", 2.0),
    )
    entries = {e["name"]: e for e in parse_benchmarks(text, stem)}
    assert set(entries) == {"main$async_dispatch_2_add_16_f32", "main$async_dispatch_2_mul_16_f32"}
    assert entries["main$async_dispatch_2_add_16_f32"]["n"] == 2
    assert entries["main$async_dispatch_2_add_16_f32"]["median_us"] == 1.5
    assert entries["main$async_dispatch_2_mul_16_f32"]["op"] == "mul_16_f32"


def test_parse_benchmarks_without_benchmarks_is_empty():
    assert parse_benchmarks(json.dumps({"context": {}}), STEM) == []


# --- compile: _statistics ---------------------------------------------------------------------


def test_statistics_reads_dispatch_executable_and_constant_counts(tmp_path):
    path = tmp_path / "statistics.json"
    path.write_text(
        json.dumps(
            {
                "stream-aggregate": {
                    "global": {"constant-count": 1, "constant-size": 14150272, "variable-count": 0},
                    "execution": {"dispatch-count": 56, "submission-count": 1},
                    "executable": {"executable-count": 37},
                }
            }
        )
    )
    assert _statistics(path) == {"dispatch_count": 56, "executable_count": 37, "constant_bytes": 14150272}


def test_statistics_of_a_missing_file_is_empty(tmp_path):
    assert _statistics(tmp_path / "statistics.json") == {}


@pytest.mark.parametrize(
    "text",
    [
        "not json {",
        "[]",
        "null",
        '{"stream-aggregate": {}}',
        '{"stream-aggregate": {"global": {"constant-size": 1}, "execution": {"dispatch-count": "many"},'
        ' "executable": {"executable-count": 2}}}',
    ],
)
def test_statistics_of_malformed_content_is_empty(tmp_path, text):
    path = tmp_path / "statistics.json"
    path.write_text(text)
    assert _statistics(path) == {}


# --- compile: attach_resources ---------------------------------------------------------------

BLOB = '"0x040000000000803F0000803F"'
OTHER = '"0x04000000DEADBEEF"'
MODEL = (
    "module {\n"
    "  func.func @main() {\n"
    "    %0 = torch.vtensor.literal(dense_resource<torch_tensor_16_torch.float32> : tensor<16xf32>)\n"
    "  }\n"
    "}\n"
    "\n"
    "{-#\n"
    "  dialect_resources: {\n"
    "    builtin: {\n"
    f"      torch_tensor_16_torch.float32: {BLOB},\n"
    f"      other: {OTHER}\n"
    "    }\n"
    "  }\n"
    "#-}\n"
)
DUMP = (
    "hal.executable.source public @ex {\n"
    "  %cst = arith.constant dense_resource<torch_tensor_16_torch.float32> : tensor<16xf32>\n"
    "}\n"
)


def _model(tmp_path: Path) -> Path:
    model = tmp_path / "model.mlir"
    model.write_text(MODEL)
    return model


def testattach_resources_copies_in_exactly_the_referenced_blob(tmp_path):
    dump = tmp_path / "module_ex_benchmark.mlir"
    dump.write_text(DUMP)
    attach_resources([dump], _model(tmp_path))
    text = dump.read_text()
    assert text.startswith(DUMP)
    resources = text[len(DUMP) :]
    assert "dialect_resources" in resources
    assert f"torch_tensor_16_torch.float32: {BLOB}\n" in resources
    assert f"{BLOB}," not in resources  # the model's trailing comma is not copied
    assert "other" not in text
    assert "DEADBEEF" not in text
    assert resources.rstrip().endswith("#-}")


def testattach_resources_leaves_a_file_with_an_unknown_name_unchanged(tmp_path):
    dump = tmp_path / "module_ex_benchmark.mlir"
    unknown = DUMP.replace("torch_tensor_16_torch.float32", "renamed_by_the_compiler")
    dump.write_text(unknown)
    attach_resources([dump], _model(tmp_path))
    assert dump.read_text() == unknown


def testattach_resources_leaves_a_file_without_references_unchanged(tmp_path):
    dump = tmp_path / "module_ex_benchmark.mlir"
    plain = "hal.executable.source public @ex {\n}\n"
    dump.write_text(plain)
    attach_resources([dump], tmp_path / "no-model-needed.mlir")  # not even opened
    assert dump.read_text() == plain


def testattach_resources_only_touches_the_files_that_refer_to_a_blob(tmp_path):
    with_ref = tmp_path / "module_a_benchmark.mlir"
    without = tmp_path / "module_b_benchmark.mlir"
    with_ref.write_text(DUMP)
    without.write_text("hal.executable.source public @b {\n}\n")
    attach_resources([with_ref, without], _model(tmp_path))
    assert BLOB in with_ref.read_text()
    assert without.read_text() == "hal.executable.source public @b {\n}\n"
