"""A run bundle's runtime by IREE's command-line tools (bundle_runner/tools.py): which runtime runs a
cell (the wheel for this Python and machine, else the source-built tools the bundle carries), the
tools' command lines, whether this CPU or an emulator runs them, iree-benchmark-module's JSON read
back, and bfloat16 arrays (raw bits) decoded to compare. End to end on an emulated ARM1176:
tests/integration/test_armv6_smoke.py."""

from __future__ import annotations

import json
import platform
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.bundle_runner import base as runner_base
from iree_matrix.bundle_runner import host as runner_host
from iree_matrix.bundle_runner import manifest as runner_manifest
from iree_matrix.bundle_runner import records as runner_records
from iree_matrix.bundle_runner import sitting as runner_sitting
from iree_matrix.bundle_runner import tools as runner_tools
from iree_matrix.execution import bundle, bundle_runtimes

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
WHEEL = {"kind": "wheel", "release": "3.9.0", "python": PYTHON, "machine": platform.machine(),
         "wheels": ["runtime/iree_base_runtime-3.9.0.whl"], "sha256": "w" * 64}  # fmt: skip
TOOLS = {"kind": "tools", "release": "src:3.9.0+static", "machine": "armv6", "elf_machine": "ARM",
         "qemu_cpu": "arm1176", "build_key": "k" * 64,
         "tools": {"iree-run-module": "runtimes/src3.9.0+static-armv6/iree-run-module",
                   "iree-benchmark-module": "runtimes/src3.9.0+static-armv6/iree-benchmark-module"},
         "tools_sha256": {"iree-run-module": "a" * 64, "iree-benchmark-module": "b" * 64},
         "sha256": "a" * 64}  # fmt: skip
BF16 = {"shape": [2], "dtype": "bfloat16", "saved_as": "|V2"}
F32 = {"shape": [2], "dtype": "float32"}
# This machine's qemu-arm entry as binfmt_misc lists it (Debian's qemu-user-static, flags POF).
QEMU_ARM = """enabled
interpreter /usr/libexec/qemu-binfmt/arm-binfmt-P
flags: POF
offset 0
magic 7f454c4601010100000000000000000002002800
mask ffffffffffffff00fffffffffffffffffeffffff
"""


def _elf(e_machine: int) -> bytes:
    """The first bytes of a little-endian 32-bit executable for `e_machine`."""
    return b"\x7fELF\x01\x01\x01" + bytes(9) + (2).to_bytes(2, "little") + e_machine.to_bytes(2, "little")


def _cell(outputs: list | None = None) -> dict:
    return {"job": "run:tiny/x", "module": "modules/m.vmfb", "export": "exports/e", "function": "main",
            "inputs": ["input0.npy", "input1.npy"], "references": ["output0.npy", "output1.npy"],
            "device": "local-sync", "runtime": "src:3.9.0+static",
            "arrays": {"inputs": [F32, BF16],
                       "outputs": [F32, BF16] if outputs is None else outputs}}  # fmt: skip


def test_the_tools_are_called_as_the_run_stage_calls_them(tmp_path: Path) -> None:
    cell = _cell()
    names = runner_tools.output_names(cell)
    assert names == ["output0.npy", "output1.bin"]  # bfloat16: the raw contents, .npy has no such dtype
    assert names[1] == runner_arrays.output_name(1, BF16)  # the run stage's own choice
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "m.vmfb").write_bytes(b"module")  # carried whole (bundle_runner/modules.py)
    argv = runner_tools.run_argv("iree-run-module", cell, tmp_path, [tmp_path / n for n in names])
    assert argv == [
        "iree-run-module", "--device=local-sync", f"--module={tmp_path}/modules/m.vmfb", "--function=main",
        f"--input=@{tmp_path}/exports/e/inputs/input0.npy",
        f"--input=@{tmp_path}/exports/e/inputs/input1.npy",
        f"--output=@{tmp_path}/output0.npy", f"--output=@{tmp_path}/output1.bin",
    ]  # fmt: skip
    bench = runner_tools.benchmark_argv("iree-benchmark-module", cell, tmp_path, 5)
    assert bench[:4] == ["iree-benchmark-module", "--device=local-sync", argv[2], "--function=main"]
    assert bench[-2:] == ["--benchmark_repetitions=5", "--benchmark_format=json"]
    assert [a for a in bench if a.startswith("--input=")] == argv[4:6]


def test_a_plugin_kernels_cell_loads_its_plugin_in_every_call(tmp_path: Path) -> None:
    """A cell whose module imports a plugin kernel's functions: its plugin, carried in the bundle, is
    loaded by each tool call (checked run, timing, profile) as the run stage loads it, with the one
    flag spelling the tool uses (custom_dispatch.run_flag)."""
    from iree_matrix.kernel.iree import custom_dispatch

    cell = {**_cell(outputs=[F32, F32]), "plugin": "plugins/abc.so"}
    cell["arrays"]["inputs"] = [F32, F32]
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "m.vmfb").write_bytes(b"module")
    loads = custom_dispatch.run_flag(f"{tmp_path}/plugins/abc.so")
    assert loads == f"--executable_plugin=embedded:{tmp_path}/plugins/abc.so"
    argv = runner_tools.run_argv(
        "iree-run-module", cell, tmp_path, [tmp_path / "o0.npy", tmp_path / "o1.npy"]
    )
    bench = runner_tools.benchmark_argv("iree-benchmark-module", cell, tmp_path, 5)
    assert argv[3] == loads and bench[3] == loads
    assert loads not in runner_tools.benchmark_argv("iree-benchmark-module", _cell(), tmp_path, 5)
    bad = {**cell, "plugin": "../outside.so"}  # a manifest naming a file outside the bundle
    with pytest.raises(runner_base.BundleError):
        runner_tools.run_argv("iree-run-module", bad, tmp_path, [])


def test_the_wheel_runs_a_cell_where_it_fits_else_the_carried_tools() -> None:
    both = {"runtimes": [TOOLS, {**WHEEL, "release": "src:3.9.0+static"}]}
    assert runner_manifest.runtime_for(both, "src:3.9.0+static")["kind"] == "wheel"
    other = {"runtimes": [TOOLS, {**WHEEL, "release": "src:3.9.0+static", "machine": "riscv64"}]}
    assert runner_manifest.runtime_for(other, "src:3.9.0+static") is TOOLS
    assert runner_manifest.runtime_for(other, "src:3.9.0+static", "armv6") is TOOLS
    with pytest.raises(runner_base.BundleError):  # the armv6 build never runs another arch's cells
        runner_manifest.runtime_for(other, "src:3.9.0+static", "x86_64")
    with pytest.raises(runner_base.BundleError, match=r"Python .* on riscv64, not for Python"):
        runner_manifest.runtime_for({"runtimes": [other["runtimes"][1]]}, "src:3.9.0+static")
    # A wheel is never taken for the tools (a sitting's worker imports the Python binding).
    with pytest.raises(runner_base.BundleError):
        runner_manifest.wheel_for({"runtimes": [TOOLS]}, "src:3.9.0+static")
    # bfloat16 arrays go through the tools even where the wheel runs the cell (numpy has no bfloat16).
    assert runner_tools.needs_tools(_cell())
    assert not runner_tools.needs_tools(
        {"arrays": {"inputs": [], "outputs": [{"shape": [2], "dtype": "float32"}]}}
    )


def test_bfloat16_raw_bits_decode_exactly_and_compare(tmp_path: Path) -> None:
    bits = np.array([0x3F80, 0xC020], dtype=np.uint16)  # 1.0 and -2.5 in bfloat16
    raw = bits.view("V2")
    assert runner_arrays.as_float64(raw, BF16).tolist() == [1.0, -2.5]
    (tmp_path / "output0.bin").write_bytes(bits.tobytes())  # what --output=@output0.bin writes
    got = runner_arrays.load_array(tmp_path / "output0.bin", BF16)
    assert got.dtype == np.dtype("V2") and got.shape == (2,)
    ok = runner_arrays.compare([got], [raw], 1e-3, 1e-3, [BF16])
    assert ok["matches"] and ok["max_abs_err"] == 0.0
    off = np.array([0x3F80, 0xC040], dtype=np.uint16).view("V2")  # -3.0
    worse = runner_arrays.compare([off], [raw], 1e-3, 1e-3, [BF16])
    assert not worse["matches"] and worse["max_abs_err"] == 0.5
    with pytest.raises(runner_base.BundleError, match="ml_dtypes"):
        runner_arrays.as_float64(raw, {"dtype": "no-such-float", "saved_as": "|V2"})


def test_arm_tools_on_this_cpu_run_through_binfmt_and_say_so(tmp_path: Path) -> None:
    arm, x86 = tmp_path / "arm", tmp_path / "x86"
    arm.write_bytes(_elf(40) + bytes(44))
    x86.write_bytes(_elf(62) + bytes(44))
    assert bundle_runtimes.elf_machine(arm) == "ARM"  # the runner's reader (tools.py), from the file's head
    assert runner_tools.how_it_runs(arm, "armv6l", {}) == {}  # a Pi Zero runs its own code
    assert runner_tools.how_it_runs(x86, "x86_64", {}) == {}
    assert runner_tools.how_it_runs(arm, "aarch64", {}) == {"runs_as": "AArch32 on an AArch64 CPU"}  # a Pi 4
    entries = {"qemu-arm": QEMU_ARM, "qemu-aarch64": QEMU_ARM.replace("2800", "b700")}
    how = runner_tools.how_it_runs(arm, "x86_64", entries)
    assert how == {"emulated": "qemu-user", "elf_machine": "ARM", "binfmt": "qemu-arm",
                   "interpreter": "/usr/libexec/qemu-binfmt/arm-binfmt-P"}  # fmt: skip
    assert runner_tools.binfmt_handler(x86.read_bytes(), entries) == {}
    disabled = {"qemu-arm": QEMU_ARM.replace("enabled", "disabled", 1)}
    with pytest.raises(runner_base.BundleError, match="ARM code and this machine is x86_64, with no binfmt"):
        runner_tools.how_it_runs(arm, "x86_64", disabled)


def test_iree_benchmark_module_json_is_read_per_repetition() -> None:
    rep = {"name": "BM_main", "run_type": "iteration"}
    text = "some log line\n" + json.dumps({"benchmarks": [
        {**rep, "real_time": 2.0e6, "cpu_time": 1.5e6, "time_unit": "ns"},
        {**rep, "real_time": 3.0, "cpu_time": 2.5, "time_unit": "ms"},
        {"name": "BM_main_mean", "run_type": "aggregate", "real_time": 2.5, "time_unit": "ms"},
    ]})  # fmt: skip
    assert runner_tools.benchmark_ms(text, "real_time") == [2.0, 3.0]
    assert runner_tools.benchmark_ms(text, "cpu_time") == [1.5, 2.5]


def test_a_record_names_the_runtime_that_ran_it() -> None:
    host = runner_host.identity()
    cell = {**_cell(), "module_sha256": "m" * 64, "module_bytes": 10, "labels": {"model": "tiny"}}
    result = {"status": "ok", "by_tools": True, "emulated": "qemu-user", "cpu_ms": {"median": 1.0}}
    built = runner_records.record({"name": "b"}, "d" * 64, host, cell, TOOLS, result, "t", 1.0)
    assert built["env"]["runtime"] == "source-built tools"
    assert built["env"]["runtime_tools_sha256"] == TOOLS["tools_sha256"]
    assert built["env"]["runtime_elf_machine"] == "ARM" and "runtime_wheel" not in built["env"]
    assert set(built["env"]["packages"]) == {"numpy"}
    assert built["metrics"]["emulated"] == "qemu-user" and "by_tools" not in built["metrics"]
    wheel = runner_records.record({"name": "b"}, "d" * 64, host, cell, WHEEL, {"status": "ok"}, "t", 1.0)
    assert wheel["env"]["runtime"] == "wheel" and wheel["env"]["runtime_wheel_sha256"] == "w" * 64
    assert built["key"] != wheel["key"]  # another runtime, another result


def test_the_bundle_carries_source_built_tools_under_their_runtime(tmp_path: Path) -> None:
    files = []
    for name in ("iree-run-module", "iree-benchmark-module"):
        (tmp_path / name).write_bytes(_elf(40) + bytes(44))
        files.append(tmp_path / name)
    tools = bundle_runtimes.Tools("src:3.9.0+static", "armv6", "ARM", "k" * 64, "arm1176", tuple(files), True)
    planned = bundle.plan_files([], [], [tools])
    assert planned == {
        "runtimes/src3.9.0+static-armv6/iree-run-module": files[0],
        "runtimes/src3.9.0+static-armv6/iree-benchmark-module": files[1],
    }
    document = bundle.manifest("b", [], [], planned, tools=[tools])
    (entry,) = document["runtimes"]
    assert entry["kind"] == "tools" and entry["elf_machine"] == "ARM" and entry["qemu_cpu"] == "arm1176"
    assert entry["tools"]["iree-run-module"] == "runtimes/src3.9.0+static-armv6/iree-run-module"
    assert entry["sha256"] == entry["tools_sha256"]["iree-run-module"]
    assert "built from source, its tools for armv6 (ARM)" in bundle._readme(document)


def test_a_manifest_whose_names_lead_outside_the_bundle_is_refused(tmp_path):
    """Issue 68 item 3: a bundle manifest whose runtime release was `../../../canary/EVIL` made the
    genuine run.py unpack its wheel outside the bundle. Every name that becomes a file name is checked,
    every path it names must stay inside the bundle's folder, a link out included."""
    import zipfile

    root = tmp_path / "bundle"
    (root / "runtime").mkdir(parents=True)
    with zipfile.ZipFile(root / "runtime" / "w.whl", "w") as wheel:
        wheel.writestr("iree/_runtime/x.py", "")
    good = {"release": "3.9.0", "python": "3.11", "machine": "x86_64", "sha256": "a" * 64,
            "wheels": ["runtime/w.whl"]}  # fmt: skip
    assert (runner_manifest.install(root, good) / "iree" / "_runtime" / "x.py").is_file()
    canary = tmp_path / "canary"
    for bad, said in [
        ({"release": "../../../canary/EVIL"}, "runtime release '../../../canary/EVIL' is not a name"),
        ({"python": "3.11/../../x"}, "runtime Python"),
        ({"machine": ".."}, "runtime machine '..'"),
        ({"sha256": "../x"}, "is no sha256"),
        ({"wheels": ["../../etc/passwd"]}, "outside the bundle"),
        ({"wheels": ["/etc/passwd"]}, "outside the bundle"),
    ]:
        with pytest.raises(runner_base.BundleError, match=re.escape(said)):
            runner_manifest.install(root, {**good, **bad, "sha256": bad.get("sha256", "b" * 64)})
    assert not canary.exists()
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(runner_base.BundleError, match="leads outside the bundle"):
        runner_manifest.within(root, "out/secret")
    assert runner_manifest.within(root, "exports/abc") == root / "exports" / "abc"
    with pytest.raises(runner_base.BundleError, match="is not a name"):
        runner_manifest.named("../input0.npy", "input")


def test_the_runner_writes_its_output_folder_never_through_a_link(tmp_path):
    """Issue 68 item 3: what run.py writes into its output folder (the manifest's copy, identity.json,
    results.jsonl, a sitting named by a manifest's model) goes into that folder's own files."""
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").symlink_to(victim)
    with pytest.raises(runner_base.BundleError, match="cannot append a record"):
        runner_records.append(out / "results.jsonl", {"job": "run:x"})
    (out / "identity.json").symlink_to(victim)
    runner_records.replace(out / "identity.json", b"{}\n")
    assert victim.read_text() == "untouched" and not (out / "identity.json").is_symlink()
    with pytest.raises(runner_base.BundleError, match="is not a name"):
        runner_sitting._keep(out, "../../escape", "2026-01-01T00:00:00", {})
