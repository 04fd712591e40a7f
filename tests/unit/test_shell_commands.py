"""The commands a cell ran, printed from the functions the stages run (stages/shell_commands.py): the
docs' command blocks equal what the tool would run, the runtime build runs the lines `show --commands` prints,
and a recorded cell's commands come back with its key recomputed (issue #42 item 4)."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

import pytest

from iree_matrix.commands import show
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.findings import results_folder
from iree_matrix.source_builds import cmake_runtime, cortex_m
from iree_matrix.stages import shell_commands

REPO = Path(__file__).resolve().parents[2]
ARMV6 = REPO / "results" / "armv6"


def _blocks() -> dict[str, str]:
    """The docs' blocks from the published Cortex-M records, read as bin/update_shell_commands.py does."""
    return shell_commands.docs_blocks(
        results_folder.load(REPO / "results" / shell_commands.CORTEX_M_SET).logged
    )


def _docs_commands(text: str) -> dict[str, str]:
    """The command blocks a docs page holds, by marker name."""
    return {m.group("name"): m.group("body").rstrip("\n") for m in shell_commands._BLOCK.finditer(text)}


PI_ZERO_CELL = "run:tiny_cnn/*/iree3.7.0/armv6-arm1176jzf-s/default/rtsrc3.7.0+static/local-sync"


@pytest.mark.parametrize("doc", shell_commands.DOCS)
def test_the_docs_commands_are_what_the_tool_runs(doc: str) -> None:
    shown = _docs_commands((REPO / doc).read_text())
    assert shown, f"{doc} holds no <!-- commands:NAME --> block"
    blocks = _blocks()
    for name, body in shown.items():
        assert body == blocks[name], f"{doc}'s commands:{name} differs: run bin/update_shell_commands.py"


def test_every_command_block_is_in_a_doc() -> None:
    shown = {name for doc in shell_commands.DOCS for name in _docs_commands((REPO / doc).read_text())}
    assert shown == set(_blocks())


def test_the_pi_zero_commands_have_the_flags_the_issue_found_missing() -> None:
    text = _blocks()[f"pi-zero-{shell_commands.PI_ZERO_RELEASE}"]
    for flag in (
        "-DIREE_ENABLE_CPUINFO=OFF",  # 3.3/3.7 cross links fail without it
        "-mfloat-abi=softfp",  # the runtime's calling convention (armel)
        "--iree-llvmcpu-target-float-abi=soft",  # the kernels' (the compile's)
        "--iree-llvmcpu-target-cpu-features=+vfp2",
        "scripts/iree_lld_arm32.sh",
        "QEMU_CPU=arm1176",
    ):
        assert flag in text, flag
    assert str(REPO) not in text, "a machine's path in the docs"


def test_docs_arm_names_each_releases_own_cmake_switches() -> None:
    text = (REPO / "docs" / "arm.md").read_text()
    for release in ("3.3.0", "3.7.0", "3.9.0", "3.10.0", "3.11.0"):
        for flag in cmake_runtime.release_cmake(release, "armv6"):
            assert flag in text, (release, flag)


def test_the_cortex_m_commands_have_the_runtime_and_firmware_lines() -> None:
    text = _blocks()[f"cortex-m4-{shell_commands.CORTEX_M_RELEASE}"]
    expected = ("-mfloat-abi=hard", "--iree-llvmcpu-target-float-abi=hard", "--iree-llvmcpu-link-static",
                "qemu-system-arm -machine mps2-an386", "--specs=nano.specs")  # fmt: skip
    for flag in (*cortex_m._CMAKE, *expected):
        assert flag in text, flag


def test_the_cortex_m_commands_run_as_pasted() -> None:
    """What failed when docs/cortex-m.md's commands were run by hand (2026-11-25): the compile read
    model.mlir from the current directory, not `$OUT` where the page puts it, and the data step ran
    `python3`, which in a compiler's venv has no iree-matrix."""
    text = _blocks()[f"cortex-m4-{shell_commands.CORTEX_M_RELEASE}"]
    assert "\niree-compile $OUT/model.mlir " in text
    assert "\nPYTHON=" in text and "\n$PYTHON -c " in text and "\npython3 -c " not in text


def test_the_command_blocks_are_shell() -> None:
    for name, text in _blocks().items():
        done = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True)
        assert done.returncode == 0, (name, done.stderr)


def test_shell_words() -> None:
    assert (
        shell_commands.shell_word("-DIREE_HOST_BIN_DIR=$HOST_BUILD/tools")
        == "-DIREE_HOST_BIN_DIR=$HOST_BUILD/tools"
    )
    assert shell_commands.shell_word("-DCMAKE_C_FLAGS=-marm -static") == "'-DCMAKE_C_FLAGS=-marm -static'"
    assert shell_commands.shell_word("-DF=-include $X/c.h") == '"-DF=-include $X/c.h"'
    assert shell_commands.shell_word("") == "''"
    # a variable in double quotes, but nothing else that expands there
    assert shell_commands.shell_word("-DX=$(touch P)") == "'-DX=$(touch P)'"
    assert shell_commands.shell_word("${X:-$(id)} y") == "'${X:-$(id)} y'"
    assert shell_commands.shell_word("$((1+1)) y") == "'$((1+1)) y'"
    assert shell_commands.shell_word("${OUT}/a b") == '"${OUT}/a b"'


def test_a_firmwares_recorded_defines_never_run_when_pasted(tmp_path: Path) -> None:
    """`show --commands` of a Cortex-M run prints the link line with the defines its record holds
    (in this iree-matrix's own commands, where `$OUT` must expand): a define `X=$(touch P)` from a
    record made by another party stays text."""
    hostile = [f"X=$(touch {tmp_path}/a)", f"Y=`touch {tmp_path}/b`", f"Z=${{HOME:-$(touch {tmp_path}/c)}} w"]
    link = next(
        s for s in shell_commands.firmware_steps("cortex-m4", hostile) if s.what == "link the firmware"
    )
    line = link.text().splitlines()[-1]
    echoed = subprocess.run(["bash", "-c", f"OUT=/o RUNTIME=/r; printf '%s\\n' {line.split(' ', 1)[1]}"],
                            cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert echoed.returncode == 0, echoed.stderr
    assert all(f"-D{d}" in echoed.stdout.splitlines() for d in hostile), echoed.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_runtime_build_runs_the_lines_the_commands_print(tmp_path: Path) -> None:
    ran: list[list[str]] = []

    def runner(request):
        ran.append(list(request.argv))
        return processes.Completed(request.argv, 0, "", "", 0.0)

    src = cmake_runtime.Source("x", tmp_path / "iree", "tarball:0")
    with pytest.raises(StageFailure, match="was not built"):  # the fake runner builds nothing
        cmake_runtime.build_into(
            src, "armv6", "static", tmp_path / "out", tools=tmp_path / "out" / "tools", ident={},
            under=Bounds(), build_options=("static",), host_tools=tmp_path / "host", run=runner,
            cmake="CMAKE", release_flags=cmake_runtime.release_cmake("3.7.0", "armv6"),
        )  # fmt: skip
    steps = shell_commands.runtime_build_steps(
        "3.7.0", "armv6", ("static",), src=str(src.tree), build=str(tmp_path / "out"),
        host_tools=str(tmp_path / "host"), cmake="CMAKE",
    )  # fmt: skip
    assert ran == [list(s.argv) for s in steps if s.argv]


def test_the_firmware_runs_the_lines_the_commands_print(tmp_path: Path) -> None:
    native, cross = cortex_m.runtime_commands(tmp_path / "iree", "cortex-m4", tmp_path / "rt", "cmake", ())
    steps = shell_commands.firmware_steps("cortex-m4", [], src=str(tmp_path / "iree"),
                                          runtime=str(tmp_path / "rt"), cmake="cmake")  # fmt: skip
    argvs = [list(s.argv) for s in steps if s.argv and s.argv[0] == "cmake"]
    assert argvs == [*native, *cross]
    assert list(steps[-1].argv) == cortex_m.qemu_command("$OUT/firmware.elf", "cortex-m4")


def _show(job: str, results: Path, capsys: pytest.CaptureFixture[str]) -> str:
    args = argparse.Namespace(job=job, results_dir=results, cache=Path("/nonexistent-cache"), log=False,
                              commands=True)  # fmt: skip
    assert show.main(args) == 0
    return capsys.readouterr().out


def test_show_commands_prints_a_pi_zero_cell_from_export_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    out = _show(PI_ZERO_CELL, ARMV6, capsys)
    # The published build's key recomputes from this iree-matrix's commands: they are the ones it ran.
    assert "runtime-build:src:3.7.0+static/armv6: its key recomputes" in out
    order = ["/export_model.py", "/iree-compile ", "runtime-build:src:3.7.0/x86_64: configure",
             "runtime-build:src:3.7.0+static/armv6: configure", "QEMU_CPU=arm1176 "]  # fmt: skip
    at = [out.index(word) for word in order]
    assert at == sorted(at), out
    assert "-DIREE_ENABLE_CPUINFO=OFF" in out and "--iree-llvmcpu-target-float-abi=soft" in out
    assert "HOST_BUILD=/nonexistent-cache/store/runtime-build/" in out


def test_show_commands_of_a_cortex_m_cell(capsys: pytest.CaptureFixture[str]) -> None:
    out = _show("run:tiny_cnn/*/iree3.9.0/cortex-m-cortex-m4/*", REPO / "results" / "cortex-m", capsys)
    assert "arm-none-eabi-gcc" in out and "qemu-system-arm -machine mps2-an386" in out
    assert "-DIREE_MATRIX_HAL_MODULE_API=2" in out  # the record's own defines
    assert ': "${RUNTIME:?set RUNTIME' in out  # not known from the record: the shell asks
    assert "\nPYTHON=" in out and "\n$PYTHON -c " in out  # the data step's Python is set


def test_show_commands_of_a_key_that_no_longer_recomputes(tmp_path: Path, capsys) -> None:
    found = [r for r in map(json.loads, (ARMV6 / "results.jsonl").read_text().splitlines())
             if r["job"] == "runtime-build:src:3.9.0/x86_64"]  # fmt: skip
    record = {**found[0], "key": "0" + found[0]["key"][1:]}  # made by other commands than these
    (tmp_path / "results.jsonl").write_text(json.dumps(record) + "\n")
    out = _show("runtime-build:src:3.9.0/x86_64", tmp_path, capsys)
    assert "does not recompute" in out and "$CMAKE -G Ninja" in out


def test_published_defines_of_an_unpublished_release_is_one_line() -> None:
    published = results_folder.load(REPO / "results" / shell_commands.CORTEX_M_SET).logged
    assert shell_commands.published_defines(shell_commands.CORTEX_M_RELEASE, published)
    with pytest.raises(UserError, match="no Cortex-M run of 9.9.9"):
        shell_commands.published_defines("9.9.9", published)


def test_a_recorded_command_is_printed_safe_to_paste(tmp_path: Path, capsys) -> None:
    """#51: a record's flag `--x=$(touch X)` was printed in double quotes and ran when pasted.
    Records arrive through `merge` from other parties: every word they hold is quoted whole, and no
    newline of theirs ends a comment. The printed text is run by bash here: nothing is touched."""
    from iree_matrix.core.model.results import Record, Status

    hostile = [f"--iree-x=$(touch {tmp_path}/a)", f"`touch {tmp_path}/b`", f"'; touch {tmp_path}/c; '",
               f'"$(touch {tmp_path}/d)"', "a b", "${HOME}*"]  # fmt: skip
    cell = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"
    record = Record(
        job=f"compile:{cell}", stage="compile", cell=cell, key="k", status=Status.FAIL,
        labels={"model": "tiny_cnn", "arch": "x86_64", "compiler": "3.9.0"},
        error_class=f"x\ntouch {tmp_path}/e", command=("true", "model.mlir", *hostile),
        env={"image": f"img\ntouch {tmp_path}/f"},
    )  # fmt: skip
    (tmp_path / "results.jsonl").write_text(record.to_json() + "\n")
    out = _show(record.job, tmp_path, capsys)
    line = next(ln for ln in out.splitlines() if ln.startswith("true "))
    assert shell_commands.shlex.split(line) == list(record.command)
    done = subprocess.run(["bash", "-c", out], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"], out
    args = argparse.Namespace(
        job=record.job, results_dir=tmp_path, cache=tmp_path / "c", log=False, commands=False
    )
    assert show.main(args) == 0
    printed = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  command: "))
    done = subprocess.run(["bash", "-c", printed.removeprefix("  command: ")], cwd=tmp_path)
    assert done.returncode == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]


def test_the_run_step_writes_each_output_as_the_run_stage_does() -> None:
    """A bfloat16 output as raw contents (`.bin`): iree-run-module 3.13 cannot write a bfloat16 .npy
    ("UNIMPLEMENTED"), and the run stage asks for `--output=@output0.bin`."""
    bf16 = {"shape": [2, 3], "dtype": "bfloat16", "saved_as": "|V2"}
    argv = shell_commands.run_step(
        "x86_64", "$TOOLS", outputs=[{"shape": [2], "dtype": "float32"}, bf16]
    ).argv
    assert argv[-2:] == ("--output=@output0.npy", "--output=@output1.bin")
    assert (
        shell_commands.run_step("armv6", "$BUILD/tools").argv[-1] == "--output=@output0.npy"
    )  # the docs' model


def test_show_commands_says_what_a_reader_must_supply_by_hand(tmp_path: Path, capsys) -> None:
    """Re-making a published cell by hand (issue 67/69 review, Zen 5): its export named the script of
    a worktree that no longer exists, every command named the publisher's environments and store, and
    the outputs went to a staging directory that exists only while a stage runs; nothing said so.
    `show --commands` now names each, and the same environment where this cache has it."""
    from iree_matrix.core.model.results import Record, Status

    elsewhere = "/gone/cache"
    env = "envs/venv/py3.11-iree-compiler3.13.0-d925e5bd46bc3735"
    (tmp_path / "c" / env / "bin").mkdir(parents=True)
    (tmp_path / "c" / env / "bin" / "iree-compile").write_text("")
    cell = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/avx2"
    labels = {"model": "tiny_cnn", "arch": "x86_64", "compiler": "3.13.0"}
    export = Record(
        job="export:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0", stage="export",
        cell="tiny_cnn/py3.11-torch2.13.0-turbine3.9.0", key="e", status=Status.OK, labels=labels,
        command=(f"{elsewhere}/envs/venv/py3.11-torch/bin/python", "/gone/wt/scripts/export_model.py",
                 "--import-root", "/gone/wt/scripts", "--out", f"{elsewhere}/store/staging/abc"),
    )  # fmt: skip
    compiled = Record(
        job=f"compile:{cell}", stage="compile", cell=cell, key="k", status=Status.OK, labels=labels,
        command=(f"{elsewhere}/{env}/bin/iree-compile", "model.mlir", "-o",
                 f"{elsewhere}/store/staging/def/module.vmfb"),
    )  # fmt: skip
    (tmp_path / "results.jsonl").write_text(export.to_json() + "\n" + compiled.to_json() + "\n")
    args = argparse.Namespace(job=compiled.job, results_dir=tmp_path, cache=tmp_path / "c", log=False,
                              commands=True)  # fmt: skip
    assert show.main(args) == 0
    out = capsys.readouterr().out
    here = shell_commands.shipped.scripts_dir()
    assert "the project's scripts the records name are this iree-matrix's here: " in out
    assert f"/gone/wt/scripts/export_model.py is {here}/export_model.py, /gone/wt/scripts is {here}" in out
    assert f"{elsewhere}/{env}/bin/iree-compile is {tmp_path / 'c' / env / 'bin' / 'iree-compile'}" in out
    gone = "not on this machine (made elsewhere, or the store entry is gone): "
    assert f"{gone}{elsewhere}/envs/venv/py3.11-torch/bin/python;" in out
    assert f"{elsewhere}/store/staging/…: a stage's output directory while it ran" in out
    assert out.count("# ") >= 4 and "(as recorded)" in out  # the commands themselves are as recorded


def test_show_commands_of_failures_recorded_without_a_command(capsys) -> None:
    """The published refusals and failed compiles of results/ kept no command (made before the stages
    kept a failure's): `show --commands` printed only "no command recorded", so a reviewer had to guess
    the flags and the runtime. It now prints this iree-matrix's command for the cell; run by hand on
    2026-11-28 both re-made the published words (`have 6 but require 7`; `torch.constant.float`)."""
    refused = _show("run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default/rt3.11.0",
                    REPO / "results", capsys)  # fmt: skip
    assert "# no command recorded: fail (incompatible-module)" in refused
    assert ': "${RUNTIME_BIN:?set RUNTIME_BIN: the bin of a venv with iree-base-runtime==3.11.0' in refused
    assert refused.rstrip().endswith(
        "$RUNTIME_BIN/iree-run-module --device=local-sync --module=module.vmfb --function=main "
        "--input=@input0.npy --output=@output0.npy"
    )
    failed = _show("compile:yolox_nano/py3.11-torch2.13.0-turbine3.9.0/iree3.3.0/x86_64/default",
                   REPO / "results", capsys)  # fmt: skip
    assert "(pip install iree-base-compiler==3.3.0)" in failed
    assert failed.rstrip().endswith(
        "iree-compile model.mlir --iree-hal-target-backends=llvm-cpu "
        "--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu --iree-llvmcpu-target-cpu=host "
        "-o ./module.vmfb"
    )
    ok = _show(
        "run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default", REPO / "results", capsys
    )
    assert "this iree-matrix's for the cell" not in ok  # a recorded command is printed as recorded only


def test_show_commands_prints_each_step_a_kernel_build_ran(tmp_path: Path, capsys) -> None:
    """A plugin kernel is compiles and a link; `show --commands` printed the record's `command`, the
    link alone, so the objects it links could not be made from what it printed. A record that keeps
    its `steps` (results/kernels' plugin builds) is printed step by step; one made before says that
    only its last command was kept."""
    kernels = REPO / "results" / "kernels"
    armv6 = _show("run:mobilenet_v2/*/iree3.9.0/armv6-arm1176jzf-s/*+k:depthwise3x3_plugin*", kernels, capsys)
    steps = re.findall(
        r"kernel:depthwise3x3_plugin/armv6-arm1176jzf-s/arm1176jzf-s: kernel, step (\d+) of (\d+)", armv6
    )
    assert len(steps) >= 3 and [int(i) for i, _ in steps] == list(range(1, len(steps) + 1)), steps
    assert armv6.index(" -c depthwise3x3.c ") < armv6.index(" -c plugin.c ") < armv6.index(" ld.lld ")
    # the same log with the x86_64 plugin's newest kernel record as one made before `steps` were kept
    lines = (kernels / "results.jsonl").read_text().splitlines()
    built = [r for r in map(json.loads, lines) if r["job"] == "kernel:depthwise3x3_plugin/x86_64/host"][-1]
    built["metrics"].pop("steps")
    (tmp_path / "results.jsonl").write_text("\n".join([*lines, json.dumps(built)]) + "\n")
    x86 = _show("run:mobilenet_v2/*/iree3.13.0/x86_64/default+k:depthwise3x3_plugin", tmp_path, capsys)
    assert "kernel (as recorded); only its last command was recorded" in x86


def test_a_records_commands_show_with_an_architecture_this_version_does_not_know(tmp_path: Path) -> None:
    """`show JOB --commands` of a record whose arch no target of this iree-matrix knows (a record of
    another version, or re-made by hand) printed a traceback (UnknownTarget); its recorded commands show."""
    cell = "m/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/riscv99/default"
    labels = {"arch": "riscv99", "compiler": "3.9.0", "profile": "default", "runtime": "3.9.0"}
    compiled = Record(f"compile:{cell}", "compile", cell, "kc", Status.FAIL, labels, {})  # no command
    run = Record(
        f"run:{cell}", "run", cell, "kr", Status.OK, labels, command=("iree-run-module", "--module=m")
    )
    text = shell_commands.cell_commands(run, [compiled, run], tmp_path / "store", tmp_path / "cache")
    assert "iree-run-module --module=m" in text
