"""IREE on a bare-metal Cortex-M under qemu-system-arm: the runtime (local-sync HAL, static library loader,
no threads or files) cross-built with arm-none-eabi-gcc + newlib once per source x CPU x toolchain into the
cache, a firmware linked around one module compiled as a static library, run with semihosting output and
a timeout. The method: docs/cortex-m.md."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

from iree_matrix.core import shipped
from iree_matrix.core.atomic_files import write_json
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.system import process_output, processes
from iree_matrix.core.system.locks import file_lock
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.iree import targets
from iree_matrix.source_builds import cmake_runtime

STACK_BYTES = 64 * targets.KiB


STATIC_OUTPUT_FLAG = "--iree-llvmcpu-static-library-output-path"
KERNELS = "module.o"  # what the compile stage writes beside module.vmfb (and module.h)

# The runtime's CMake options (iree-bare-metal-arm's CMakeLists.txt sets the same switches).
_CMAKE = (
    "-DIREE_BUILD_COMPILER=OFF",
    "-DIREE_BUILD_TESTS=OFF",
    "-DIREE_BUILD_SAMPLES=OFF",
    "-DIREE_BUILD_PYTHON_BINDINGS=OFF",
    "-DIREE_BUILD_BINDINGS_TFLITE=OFF",
    "-DIREE_BUILD_BINDINGS_TFLITE_JAVA=OFF",
    "-DIREE_ENABLE_THREADING=OFF",
    "-DIREE_ENABLE_CPUINFO=OFF",
    "-DIREE_HAL_DRIVER_DEFAULTS=OFF",
    "-DIREE_HAL_DRIVER_LOCAL_SYNC=ON",
    "-DIREE_HAL_EXECUTABLE_LOADER_DEFAULTS=OFF",
    "-DIREE_HAL_EXECUTABLE_PLUGIN_DEFAULTS=OFF",
    "-DIREE_ENABLE_LIBBACKTRACE=OFF",
    "-DCMAKE_BUILD_TYPE=MinSizeRel",
)
_LIBRARIES = (
    "iree_hal_drivers_local_sync_sync_driver",
    "iree_hal_local_loaders_static_library_loader",
    "iree_modules_hal_hal",
    "iree_vm_bytecode_module",
)
# IREE turns warnings into errors; newlib's types (uint32_t is unsigned long) trip its format checks.
_WARNINGS = "-Wno-format -Wno-error=char-subscripts -Wno-error=unused-variable"
TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")


def files_dir() -> Path:
    return shipped.scripts_dir() / "cortex_m"


def machine(cpu: str) -> targets.Machine:
    known = targets.machines()
    if cpu not in known:
        raise StageFailure(
            "no-machine", f"no qemu-system-arm machine known for {cpu} (known: {', '.join(known)})"
        )
    return known[cpu]


def toolchain_identity() -> dict[str, str]:
    """The version lines of the cross compiler and qemu: a different one is a different build."""
    needs = (
        "the Cortex-M target needs gcc-arm-none-eabi, libnewlib-arm-none-eabi "
        "and qemu-system-arm (bash images/setup-host.sh installs them)"
    )
    tools = {tool: tool for tool in (*TOOLS, "cmake", "ninja")}
    return cmake_runtime.version_lines(
        tools, lambda tool: StageFailure("toolchain-missing", f"{tool} not found: {needs}", cacheable=False)
    )


def _cmake() -> str:
    """IREE 3.11 needs CMake >= 3.26 (Debian 12 has 3.25): the `cmake` wheel in this venv if any."""
    import sys

    local = Path(sys.executable).parent / "cmake"
    return str(local) if local.is_file() else "cmake"


# ---- the runtime, built once per key ----


@dataclasses.dataclass(frozen=True)
class Runtime:
    libraries: tuple[Path, ...]
    includes: tuple[Path, ...]
    facts: Mapping[str, Any]  # runtime.json: "defines", which API this release has (read off its headers)


def runtime_key(source_digest: str, cpu: str, ident: Mapping[str, str]) -> str:
    return digest(
        {
            "source": source_digest,
            "cpu": cpu,
            "flags": list(machine(cpu).gcc_flags),
            "cmake": list(_CMAKE),
            "warnings": _WARNINGS,
            "config": file_sha256(files_dir() / "iree_config.h"),
            "toolchain": dict(ident),
        }
    )


def build_runtime(source: str, cpu: str, cache: Path, under: Bounds) -> Runtime:
    """IREE's runtime libraries for `cpu` from `source` (a tarball, directory or git+URL@TAG),
    built into the cache unless already there. A build that fails raises the compiler's words."""
    ident = toolchain_identity()
    key = runtime_key(cmake_runtime.source_digest(source), cpu, ident)
    root = CacheLayout(cache).cortex_m_runtime / key[:16]
    with file_lock(root.with_suffix(".lock")):
        done_file = root / "runtime.json"
        if not done_file.is_file():
            _build(cmake_runtime.source(source, cache, log=under.log).tree, cpu, root, ident, under)
        facts = json.loads(done_file.read_text())
    libs = tuple(sorted((root / "lib").glob("*.a")))
    includes = (root / "include" / "src", root / "include" / "build")
    return Runtime(libs, includes, facts)


def _build(tree: Path, cpu: str, root: Path, ident: Mapping[str, str], under: Bounds) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    host, target = root / "host-build", root / "build"
    start = time.monotonic()
    quirks = source_flags(tree)
    (host_configure, host_build), (configure, build) = runtime_commands(tree, cpu, root, _cmake(), quirks)
    for argv in (host_configure, host_build):
        _step(argv, under, "host tools (native build)")
    cmake_runtime.copy_built(cmake_runtime.HOST_TOOLS, host, root / "host-tools")
    _step(configure, under, "cross build (configure)")
    _step(build, under, "cross build")
    seconds = time.monotonic() - start
    (root / "lib").mkdir()
    for lib in target.rglob("*.a"):
        shutil.copy2(lib, root / "lib" / lib.name)
    # Headers: the source's runtime/src, and the generated ones of the build (flatcc schemas).
    shutil.copytree(tree / "runtime" / "src", root / "include" / "src", ignore=_not_headers)
    shutil.copytree(target / "runtime" / "src", root / "include" / "build", ignore=_not_headers)
    defines = _api_defines(tree)
    facts = {
        "cpu": cpu,
        "toolchain": dict(ident),
        "build_seconds": round(seconds, 1),
        "library_bytes": sum(p.stat().st_size for p in (root / "lib").glob("*.a")),
        "defines": list(defines),
        "source_flags": list(quirks),
    }
    shutil.rmtree(host, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    write_json(root / "runtime.json", facts)


def runtime_commands(
    tree: Path | str, cpu: str, root: Path | str, cmake: str = "cmake", quirks: Sequence[str] = ()
) -> tuple[list[list[str]], list[list[str]]]:
    """The runtime build's command lines, run by `_build` and printed by `show --commands`: the host
    tools' native configure and build, and the cross configure and build. `quirks`: `source_flags`."""
    host, target, bin_dir = f"{root}/host-build", f"{root}/build", f"{root}/host-tools"
    # The host tools a cross build runs (flatcc's schema compiler, the data embedder); without
    # libbacktrace, which 3.11 would fetch from GitHub.
    # Packed by hand: each flag beside its operands; formatted, every word would take a line.
    native = [
        [cmake, "-G", "Ninja", "-S", str(tree), "-B", host, *_CMAKE[:4],
         "-DIREE_HAL_DRIVER_DEFAULTS=OFF", "-DIREE_ENABLE_LIBBACKTRACE=OFF", "-DCMAKE_BUILD_TYPE=Release"],
        [cmake, "--build", host, "-t", *cmake_runtime.HOST_TOOLS],
    ]  # fmt: skip
    config = str(files_dir() / "iree_config.h")
    flags = " ".join((*machine(cpu).gcc_flags, _WARNINGS, *quirks, "-include", config))
    # Packed by hand: each flag beside its operands; formatted, every word would take a line.
    cross = [
        [cmake, "-G", "Ninja", "-S", str(tree), "-B", target,
         f"-DCMAKE_TOOLCHAIN_FILE={files_dir() / 'arm-none-eabi.cmake'}", f"-DIREE_MATRIX_MCU_FLAGS={flags}",
         f"-DIREE_HOST_BIN_DIR={bin_dir}", *_CMAKE],
        [cmake, "--build", target, "-t", *_LIBRARIES],
    ]  # fmt: skip
    return native, cross


def _not_headers(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not (n.endswith(".h") or (Path(folder) / n).is_dir())]


def _step(argv: Sequence[str], under: Bounds, what: str) -> None:
    done = processes.run(under.request(["nice", "-n", "10", *argv], check=False))
    if done.returncode != 0:
        raise StageFailure("runtime-build", f"{what}: {_build_error(done.output)}")


_COMPILER_LINE = re.compile(r"^\S*(gcc|g\+\+|cc|c\+\+|ld|ar)\s")


def _build_error(output: str) -> str:
    """The compiler's error lines; for CMake's, the lines that say what (they follow the header)."""
    lines = output.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if "CMake Error" in line:
            picked += [line.strip()] + [ln.strip() for ln in lines[i + 1 : i + 5] if ln.strip()][:3]
        elif _COMPILER_LINE.match(line) or line.startswith("FAILED:"):
            continue  # the command, not what it said
        elif re.search(r"\berror\b", line, re.IGNORECASE) and line.strip() not in picked:
            picked.append(line.strip())
    return cmake_runtime.build_error(output, list(dict.fromkeys(picked[:15])))


def source_flags(tree: Path) -> tuple[str, ...]:
    """Flags a release's own code needs on a 32-bit target (3.11.0's dead 64-bit shift warns, and IREE
    builds with -Werror); read off the source, whose digest the runtime's key has."""
    alignment = (tree / "runtime/src/iree/base/alignment.h").read_text()
    return ("-Wno-error=shift-count-overflow",) if "value >> 32" in alignment else ()


def _api_defines(tree: Path) -> tuple[str, ...]:
    """The firmware's switches for this release's API, read off its headers: how the HAL module
    takes its devices (3.3: a list; 3.4-3.10: a policy and a list; 3.11: a policy and a group), and
    whether the bytecode module takes flags (3.11), and how the system allocator is named."""
    hal = (tree / "runtime/src/iree/modules/hal/module.h").read_text()
    bytecode = (tree / "runtime/src/iree/vm/bytecode/module.h").read_text()
    hal_api = 3 if "iree_hal_device_group_t* device_group" in hal else 2 if "device_policy" in hal else 1
    flags = int("iree_vm_bytecode_module_flags_t flags" in bytecode)
    defines = [f"IREE_MATRIX_HAL_MODULE_API={hal_api}", f"IREE_MATRIX_BYTECODE_FLAGS={flags}"]
    # From 3.4 the system allocator is chosen at build time; the runtime's CMake picks libc's.
    if "IREE_ALLOCATOR_SYSTEM_CTL" in (tree / "runtime/src/iree/base/allocator.h").read_text():
        defines.append("IREE_ALLOCATOR_SYSTEM_CTL=iree_allocator_libc_ctl")
    return tuple(defines)


# ---- the firmware ----

_ELEMENT_TYPES = {  # numpy dtype -> iree_hal_element_type_t (iree/hal/buffer_view.h)
    "float32": 0x21000020,
    "int32": 0x10000020,
    "int64": 0x10000040,
}


def model_data(vmfb: Path, header: Path, inputs: Sequence[Path], function: str, out: Path) -> Path:
    """model_data.c: the bytecode and inputs as flash constants (.incbin), the kernels' query functions."""
    if not (queries := re.findall(r"(\w+_library_query)\s*\(", header.read_text())):
        raise StageFailure("static-library", f"{header.name} declares no *_library_query function")
    lines = [
        '#include "model_data.h"',
        f'#include "{header.resolve()}"',
        _incbin("iree_matrix_vmfb", vmfb),
        f"const size_t iree_matrix_vmfb_size = {vmfb.stat().st_size};",
        f"const iree_hal_executable_library_query_fn_t iree_matrix_libraries[] = {{{', '.join(queries)}}};",
        f"const size_t iree_matrix_library_count = {len(queries)};",
        f'const char iree_matrix_function[] = "module.{function}";',
    ]
    tensors = []
    for i, path in enumerate(inputs):
        array = np.load(path)
        if (element := _ELEMENT_TYPES.get(str(array.dtype))) is None:
            raise StageFailure(
                "input-type", f"input {i} is {array.dtype}; the firmware knows {', '.join(_ELEMENT_TYPES)}"
            )
        raw = out / f"input{i}.bin"
        raw.write_bytes(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
        dims = ", ".join(str(d) for d in array.shape) or "1"
        lines += [_incbin(f"input{i}_data", raw), f"static const int32_t input{i}_shape[] = {{{dims}}};"]
        tensors.append(
            f"{{0x{element:08x}u, {array.ndim}, input{i}_shape, input{i}_data, {raw.stat().st_size}}}"
        )
    lines += [
        f"const iree_matrix_tensor_t iree_matrix_inputs[] = {{{', '.join(tensors) or '{0}'}}};",
        f"const size_t iree_matrix_input_count = {len(tensors)};",
    ]
    path = out / "model_data.c"
    path.write_text("\n".join(lines) + "\n")
    return path


def _incbin(name: str, path: Path) -> str:
    return (
        f"extern const uint8_t {name}[];\n"
        f'__asm__(".section .rodata.{name},\\"a\\"\\n.balign 64\\n.global {name}\\n{name}:\\n'
        f'.incbin \\"{path.resolve()}\\"\\n.previous\\n");'
    )


def linker_script(m: targets.Machine) -> str:
    (flash, flash_bytes), (ram, ram_bytes) = m.flash, m.ram
    return f"""ENTRY(Reset_Handler)
MEMORY {{
  FLASH (rx) : ORIGIN = {flash:#x}, LENGTH = {flash_bytes:#x}
  RAM (rwx) : ORIGIN = {ram:#x}, LENGTH = {ram_bytes:#x}
}}
SECTIONS {{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > FLASH
  .text : {{ *(.text*) *(.glue_7*) *(.vfp11_veneer) *(.v4_bx) }} > FLASH
  .rodata : ALIGN(64) {{ *(.rodata*) }} > FLASH
  .ARM.extab : {{ *(.ARM.extab*) }} > FLASH
  .ARM.exidx : {{ *(.ARM.exidx*) }} > FLASH
  .data : ALIGN(8) {{ __data_start = .; *(.data*) *(.got*) . = ALIGN(4); __data_end = .; }} > RAM AT > FLASH
  __data_load = LOADADDR(.data);
  .bss (NOLOAD) : ALIGN(8) {{ __bss_start = .; *(.bss*) *(COMMON) . = ALIGN(4); __bss_end = .; }} > RAM
  __heap_start = ALIGN(__bss_end, 8);
  __stack_top = ORIGIN(RAM) + LENGTH(RAM);
  __stack_bottom = __stack_top - {STACK_BYTES:#x};
  __heap_end = __stack_bottom;
  ASSERT(__heap_start < __heap_end, "data and bss leave no room for the heap")
}}
"""


def link(runtime: Runtime, cpu: str, kernels: Path, data_c: Path, out: Path, *, log: Optional[Path]) -> Path:
    """The firmware ELF: firmware.c + model data + the kernels' object + the runtime's libraries."""
    (out / "firmware.ld").write_text(linker_script(machine(cpu)))
    elf = out / "firmware.elf"
    libraries = [str(p) for p in runtime.libraries]
    argv = link_command(cpu, runtime.facts["defines"], runtime.includes, libraries, kernels, data_c, out)
    if (done := processes.run(ProcessRequest(argv, timeout=600, log=log, check=False))).returncode != 0:
        raise StageFailure("link-error", _link_error(done.output))
    return elf


def link_command(
    cpu: str,
    defines: Sequence[str],
    includes: Sequence[Path | str],
    libraries: Sequence[str],
    kernels: Path | str,
    data_c: Path | str,
    out: Path | str,
) -> list[str]:
    """The firmware's link line (`link` runs it; `show --commands` and the docs print it): in
    `out`, its linker script `firmware.ld` (`linker_script`) and the ELF `firmware.elf`."""
    # Packed by hand: each flag beside its operands; formatted, every word would take a line.
    return [
        "arm-none-eabi-gcc", *machine(cpu).gcc_flags, "-Os", "-ffunction-sections", "-fdata-sections",
        "--specs=nano.specs", "-nostartfiles", "-include", str(files_dir() / "iree_config.h"),
        *(f"-D{d}" for d in defines), *(f"-I{p}" for p in (files_dir(), *includes)),
        str(files_dir() / "firmware.c"), str(data_c), str(kernels),
        "-Wl,--start-group", *libraries, "-lc_nano", "-lm", "-lgcc", "-Wl,--end-group",
        f"-T{out}/firmware.ld", "-Wl,--gc-sections", f"-Wl,-Map={out}/firmware.map",
        "-o", f"{out}/firmware.elf",
    ]  # fmt: skip


def _link_error(output: str) -> str:
    undefined = sorted(set(re.findall(r"undefined reference to `([^']+)'", output)))
    if overflow := re.findall(r"region `(\w+)' overflowed by (\d+) bytes", output):
        return "; ".join(f"does not fit: region {r} overflowed by {n} bytes" for r, n in overflow)
    return f"undefined symbols at link: {', '.join(undefined)}" if undefined else _build_error(output)


# The firmware's sections, by the size they count in (`sizes`).
_SECTIONS = {
    **dict.fromkeys((".isr_vector", ".text", ".ARM.exidx", ".ARM.extab"), "text"),
    ".rodata": "rodata",
    ".data": "data",
    ".bss": "bss",
}


def sizes(elf: Path, *, log: Optional[Path]) -> dict[str, int]:
    """text, rodata, data and bss of the firmware (arm-none-eabi-size -A, by section)."""
    done = processes.run(ProcessRequest(["arm-none-eabi-size", "-A", str(elf)], timeout=60, log=log))
    got = dict.fromkeys(_SECTIONS.values(), 0)
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit() and parts[0] in _SECTIONS:
            got[_SECTIONS[parts[0]]] += int(parts[1])
    return got


@dataclasses.dataclass(frozen=True)
class FirmwareRun:
    ok: bool
    message: str
    outputs: tuple[np.ndarray, ...]
    heap_peak: Optional[int]
    stack_peak: Optional[int]
    heap_at: Mapping[str, int]  # the heap's break after each setup step (instance, device, context, inputs)
    seconds: float
    output: str


def run(elf: Path, cpu: str, output_dtypes: Sequence[str], under: Bounds) -> FirmwareRun:
    """The firmware under qemu-system-arm with semihosting; its printed outputs parsed back."""
    done = processes.run(under.request(qemu_command(elf, cpu), check=False))  # a Timeout is the run's result
    return parse(done.stdout + done.stderr, output_dtypes, done.returncode, done.seconds)


def qemu_command(elf: Path | str, cpu: str) -> list[str]:
    """The emulator's command line for a firmware (`run` runs it; `show --commands` prints it)."""
    # Packed by hand: each flag beside its operands; formatted, every word would take a line.
    return [
        "qemu-system-arm", "-machine", machine(cpu).qemu, "-cpu", cpu, "-nographic", "-monitor", "none",
        "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
    ]  # fmt: skip


def parse(text: str, output_dtypes: Sequence[str], returncode: int, seconds: float) -> FirmwareRun:
    outputs: list[tuple[list[int], bytearray]] = []
    last: dict[str, str] = {}  # the last HEAP_PEAK, STACK_PEAK, IREE_MATRIX_OK and IREE_MATRIX_FAIL
    heap_at: dict[str, int] = {}
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "OUTPUT":
            fields = rest.split()
            outputs.append(([int(d) for d in fields[3 : 3 + int(fields[2])]], bytearray()))
        elif word == "DATA" and outputs:
            outputs[-1][1].extend(bytes.fromhex(rest))
        elif word == "HEAP_AT" and len(rest.split()) == 2:
            step, size = rest.split()
            heap_at[step] = int(size)
        elif word in ("HEAP_PEAK", "STACK_PEAK", "IREE_MATRIX_OK", "IREE_MATRIX_FAIL"):
            last[word] = rest
    heap, stack = (int(last[w]) if w in last else None for w in ("HEAP_PEAK", "STACK_PEAK"))
    ok, message = "IREE_MATRIX_OK" in last, last.get("IREE_MATRIX_FAIL", "")
    if not ok and not message:
        said = process_output.excerpt(text, 8)
        message = f"the firmware stopped without a verdict (qemu exit {returncode}): {said}"
    arrays = []
    for i, (shape, raw) in enumerate(outputs):
        dtype = np.dtype(output_dtypes[i] if i < len(output_dtypes) else "float32").newbyteorder("<")
        arrays.append(np.frombuffer(bytes(raw), dtype=dtype).reshape(shape))
    return FirmwareRun(ok and returncode == 0, message, tuple(arrays), heap, stack, heap_at, seconds, text)


def boards() -> list[targets.Board]:
    """The real microcontroller boards (iree/targets.py, the bare-metal targets' entries)."""
    return [b for target, b in targets.boards() if target.arch.bare_metal and b.flash is not None]


def fits(flash_bytes: int, ram_bytes: int, cpu: str) -> dict[str, bool]:
    """Which real boards that run `cpu`'s code have room for the firmware (`ram_bytes`: what it
    takes as linked, `linked_ram`)."""
    return {
        b.name: flash_bytes <= (b.flash or 0) and ram_bytes <= b.ram for b in boards() if b.target_cpu == cpu
    }


def linked_ram(ram_bytes: int, stack_peak: Optional[int]) -> int:
    """The RAM the firmware takes as linked: what it used (data + bss + the heap's and the stack's
    peaks) with the stack's peak replaced by the STACK_BYTES the linker script reserves for it —
    the heap ends where that reserve begins, so a board needs it whatever the stack's peak."""
    return ram_bytes - (stack_peak or 0) + STACK_BYTES
