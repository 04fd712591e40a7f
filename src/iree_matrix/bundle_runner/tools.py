"""One cell by IREE's command-line tools, as iree-matrix's run stage runs it: the tools a bundle carries
or the wheel's own (for arrays numpy has no dtype for)."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .arrays import check_outputs, load_arrays, output_name, outputs_digest
from .base import BundleError, clip, descriptions, summary
from .cell import verdict
from .manifest import is_wheel, named, within
from .modules import module_path, plugin_flags

if TYPE_CHECKING:
    from .base import Json


def needs_tools(cell: Json) -> bool:
    """A cell with an array numpy has no dtype for (bfloat16, saved as raw bits): only the tools take them."""
    return any(a.get("saved_as") for a in descriptions(cell, "inputs") + descriptions(cell, "outputs"))


def output_names(cell: Json) -> list[str]:
    """The files the tools write the outputs to (`output_name`)."""
    described = descriptions(cell, "outputs")
    return [
        output_name(i, described[i] if i < len(described) else {}) for i in range(len(cell["references"]))
    ]


def run_argv(tool: str, cell: Json, root: Path, outputs: list[Path]) -> list[str]:
    return [*_call_argv(tool, cell, root), *(f"--output=@{path}" for path in outputs)]


def benchmark_argv(tool: str, cell: Json, root: Path, repetitions: int) -> list[str]:
    """iree-benchmark-module on one thread (local-sync runs on the calling thread), JSON out."""
    return [
        *_call_argv(tool, cell, root),
        f"--benchmark_repetitions={repetitions}",
        "--benchmark_format=json",
    ]


def _call_argv(tool: str, cell: Json, root: Path) -> list[str]:
    export, module = within(root, cell["export"]), module_path(root, cell)
    return [
        tool,
        "--device=local-sync",
        f"--module={module}",
        *plugin_flags(root, cell),
        f"--function={cell['function']}",
        *(f"--input=@{export / 'inputs' / named(name, 'input')}" for name in cell["inputs"]),
    ]


_PER_UNIT = {
    "ms": {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1000.0},
    "us": {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6},
}


def benchmark_times(benchmark_json: str, unit: str, field: str = "real_time") -> dict[str, list[float]]:
    """Each benchmark's repetition times in `unit`, by name, from iree-benchmark-module's JSON (aggregates
    left out); `field` "cpu_time": the process's CPU time per iteration."""
    scale = _PER_UNIT[unit]
    start = benchmark_json.find("{")
    times: dict[str, list[float]] = {}
    for bench in (json.loads(benchmark_json[start:]) if start >= 0 else {}).get("benchmarks", []):
        if bench.get("run_type", "iteration") == "iteration" and isinstance(bench.get(field), (int, float)):
            times.setdefault(bench["name"], []).append(bench[field] * scale[bench.get("time_unit", "ns")])
    return times


def benchmark_ms(text: str, field: str) -> list[float]:
    """Every repetition's `field` (real_time, cpu_time) per call in ms, in order."""
    return [t for times in benchmark_times(text, "ms", field).values() for t in times]


# ELF e_machine (the System V ABI's numbers) and the uname -m values of a machine that runs it natively.
_ELF_MACHINES = {3: "x86", 40: "ARM", 62: "x86-64", 183: "AArch64"}
_NATIVE = {
    "x86-64": ("x86_64", "amd64"),
    "AArch64": ("aarch64", "arm64"),
    "x86": ("i386", "i686", "x86_64"),
    "ARM": ("armv5tel", "armv6l", "armv7l", "armv8l", "arm"),
}


def elf_machine(head: bytes) -> str:
    """A file's ELF e_machine from its first 20 bytes, as the System V ABI names it (`ARM`), or
    `unknown`; iree-matrix names a carried tool's by it too (execution/bundle.py)."""
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return "unknown"
    number = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return _ELF_MACHINES.get(number, f"e_machine {number}")


def binfmt_handler(head: bytes, entries: Mapping[str, str]) -> dict[str, str]:
    """The enabled binfmt_misc entry (name -> its /proc/sys/fs/binfmt_misc text) whose magic and mask
    match the file's first bytes: {"name", "interpreter"}; {} where none does."""
    for name, text in sorted(entries.items()):
        fields = dict(line.split(" ", 1) for line in text.splitlines() if " " in line)
        if not text.startswith("enabled") or "magic" not in fields:
            continue
        magic = bytes.fromhex(fields["magic"].strip())
        mask = bytes.fromhex(fields.get("mask", "ff" * len(magic)).strip())
        offset = int(fields.get("offset", "0").strip() or 0)
        window = head[offset : offset + len(magic)]
        if len(window) == len(magic) and all((b & m) == (g & m) for b, m, g in zip(window, mask, magic)):
            return {"name": name, "interpreter": fields.get("interpreter", "").strip()}
    return {}


def _binfmt_entries() -> dict[str, str]:
    base = Path("/proc/sys/fs/binfmt_misc")
    try:
        return {p.name: p.read_text() for p in base.iterdir() if p.name not in ("register", "status")}
    except OSError:
        return {}


def how_it_runs(tool: Path, machine: str = "", entries: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """Whether this machine's CPU runs `tool` itself ({}) or an emulator does ({"emulated": "qemu-user", ...}
    through binfmt_misc: its time is the emulator's); raises where nothing here runs it."""
    with open(tool, "rb") as f:
        head = f.read(64)
    elf = elf_machine(head)
    machine = machine or platform.machine()
    if machine in _NATIVE.get(elf, ()):
        return {}
    handler = binfmt_handler(head, _binfmt_entries() if entries is None else entries)
    if not handler and elf == "ARM" and machine in _NATIVE["AArch64"]:
        # A 64-bit ARM kernel runs 32-bit ARM code itself (AArch32), where it was built with it:
        # where not, the tool's exec fails and the cell records the kernel's words.
        return {"runs_as": "AArch32 on an AArch64 CPU"}
    if not handler:
        raise BundleError(
            f"the runtime's tools are {elf} code and this machine is {machine}, with no binfmt "
            "handler for them: run the bundle on the board, or install qemu-user-static"
        )
    kind = "qemu-user" if "qemu" in (handler["name"] + handler["interpreter"]) else handler["name"]
    return {
        "emulated": kind,
        "elf_machine": elf,
        "binfmt": handler["name"],
        "interpreter": handler["interpreter"],
    }


def tools_of(root: Path, runtime: Json, installed: Optional[Path] = None) -> dict[str, Path]:
    """The runtime's iree-run-module and iree-benchmark-module (the bundle's, or the wheel's own at
    `installed`, with its iree-profile from 3.12.0), made executable where a copy lost the bit."""
    if is_wheel(runtime):
        assert installed is not None
        libs = installed / "iree" / "_runtime_libs"
        names = ("iree-run-module", "iree-benchmark-module", "iree-profile")
        found = {name: libs / name for name in names if name != "iree-profile" or (libs / name).is_file()}
    else:
        found = {name: within(root, path) for name, path in runtime["tools"].items()}
    for path in found.values():
        if not os.access(path, os.X_OK):
            os.chmod(path, 0o755)
    return found


def run_cell_tools(
    root: Path, cell: Json, runtime: Json, tools: Mapping[str, Path], repetitions: int, timeout: float
) -> Json:
    """Check and time one cell with IREE's tools, as the run stage does: iree-run-module writes the outputs,
    numpy compares them with torch's, iree-benchmark-module on local-sync times one thread's CPU per call."""
    import numpy as np

    result: Json = {"device": cell["device"], "runtime_version": runtime.get("version") or runtime["release"]}
    if cell["device"] != "local-sync":
        said = f"not run: the runtime's tools run CPU cells here, not {cell['device']}"
        return {**result, "status": "skip", "message": said}
    try:
        how = how_it_runs(tools["iree-run-module"])
    except BundleError as exc:
        return {**result, "status": "skip", "message": f"not run: {exc}"}
    env = dict(os.environ)
    qemu_cpu = cell.get("qemu_cpu") or runtime.get("qemu_cpu")
    if how.get("emulated") and qemu_cpu:  # the board's CPU: an instruction it lacks traps here too
        env["QEMU_CPU"] = qemu_cpu
    export = within(root, cell["export"])
    references = [np.load(export / "reference" / name) for name in cell["references"]]
    with tempfile.TemporaryDirectory(prefix="iree-matrix-cell-") as tmp:
        outputs = [Path(tmp) / name for name in output_names(cell)]
        done = _tool(run_argv(str(tools["iree-run-module"]), cell, root, outputs), env, timeout)
        if "status" in done:
            return {**result, **done}
        got = load_arrays(outputs, descriptions(cell, "outputs"))
    check = check_outputs(got, references, cell)
    if "error" in check:
        return {**result, "status": "fail", "error_class": "output-shape", "message": check["error"]}
    result.update(check, outputs_sha256=outputs_digest(got))
    timed = _tool(benchmark_argv(str(tools["iree-benchmark-module"]), cell, root, repetitions), env, timeout)
    if "status" in timed:
        return {**result, **timed, "error_class": timed.get("error_class") or "benchmark-error"}
    walls, cpus = benchmark_ms(timed["stdout"], "real_time"), benchmark_ms(timed["stdout"], "cpu_time")
    if walls:
        result["latency_ms"] = summary(
            walls, "iree-benchmark-module's wall time per call, local-sync (run.py)"
        )
    if cpus:
        of = (
            "iree-benchmark-module's CPU time per call on one thread, local-sync "
            "(run.py; under qemu-user: the emulator's)"
        )
        result["cpu_ms"] = summary(cpus, of)
    result.update(how)
    if how.get("emulated"):  # qemu's speed, not the board's: iree-matrix never ranks it with a native figure
        result["timing"] = f"emulated ({how['emulated']}, {qemu_cpu or 'default CPU'})"
    return verdict(result, check)


def _tool(argv: list[str], env: dict[str, str], timeout: float) -> dict[str, str]:
    """One tool's run: {"stdout"} when it succeeded, else the cell's failure in the tool's words."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        said = f"{Path(argv[0]).name}: no answer within {timeout:.0f} s (--timeout)"
        return {"status": "timeout", "message": said}
    except OSError as exc:
        return {"status": "fail", "error_class": "runner", "message": f"{argv[0]}: {exc}"}
    if done.returncode == 0:
        return {"stdout": done.stdout}
    name = Path(argv[0]).name
    if done.returncode < 0 or done.returncode in (132, 139):  # a signal (qemu-user exits 128 + it)
        number = -done.returncode if done.returncode < 0 else done.returncode - 128
        why = " (an instruction this CPU lacks)" if number == signal.SIGILL else ""
        return {
            "status": "fail",
            "error_class": "crash",
            "message": f"{name} died of {signal.Signals(number).name}{why}",
        }
    words = (done.stderr.strip() or done.stdout.strip()).splitlines()
    error = "load" if any("version mismatch" in w or "not available" in w for w in words) else "run"
    return {"status": "fail", "error_class": error, "message": clip(f"{name}: " + " ".join(words[-4:]))}
