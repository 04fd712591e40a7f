"""A run bundle's runner: `python3 run.py [--rounds N] [--out DIR] [--cells GLOB] [--list]`.

Copied to the root of every bundle `iree-matrix bundle` makes. It needs Python >= 3.9 and numpy,
nothing else: no network, no torch, no compiler, no iree-matrix. It

1. checks every file of the bundle against its SHA256SUMS (a file damaged in transit is refused);
2. installs the IREE runtime wheel the bundle carries for this Python and machine into the
   bundle's own folder (a wheel is a zip: unpacked, executable bits kept; nothing else touched);
3. records this machine's identity (CPU vendor, family / model / stepping, every flag by digest,
   cores: the fields iree-matrix's own records carry) and each GPU the runtime lists;
4. for each cell, in a process of its own (a module built for an instruction this CPU lacks kills
   that process, not the run): loads the module on the device it was built for, checks its outputs
   against torch's reference with the model's tolerance, and times it (one thread's CPU time per
   call on a CPU, `local-sync`; synchronised wall time per call on a GPU). A device that is absent
   makes the cell "not run: no CUDA device here (the runtime's words)", never a failure;
5. appends one record per cell (iree-matrix's record schema, carrying the bundle's digest) to
   OUT/results.jsonl, flushed and fsync'd as each cell ends, so Ctrl-C keeps what was done;
6. with a sitting (`bundle --advise`): times its arms in paired rounds and, where the answer trails
   ONNX Runtime, profiles both op by op (bundle_gap.py, carried beside this file); a GPU sitting
   (`--target`) times them on the GPU beside torch eager and torch.compile (bundle_gpu.py).

Bring OUT home and `iree-matrix merge OUT --to DIR`: merge checks every record against the bundle
it was made from. Python 3.9 syntax, stdlib + numpy only.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # bundle_gap.py, bundle_gpu.py travel beside run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_gap  # noqa: E402
import bundle_gpu  # noqa: E402

HERE = Path(__file__).resolve().parent
MANIFEST = "bundle.json"
SUMS = "SHA256SUMS"
RECORD_SCHEMA = 2  # iree-matrix's core/model/results.py SCHEMA_VERSION when this runner was written
MANIFEST_SCHEMA = 1
# Google Benchmark's default min time per repetition, which iree-benchmark-module keeps: a
# repetition here lasts at least this long too, so short calls are averaged over many.
MIN_REPETITION_SECONDS = 0.5
MIN_REPETITIONS = 5  # fewer decide nothing in iree-matrix's paired tests (core/model/stats.py)
INTERESTING_FLAGS = ("avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "fma", "sse4_2",
                     "neon", "asimd")  # fmt: skip
GPU_KINDS = {"cuda": "CUDA", "vulkan": "Vulkan", "hip": "HIP"}


class BundleError(Exception):
    """A problem with the bundle or the command line: one line, exit 2."""


# --------------------------------------------------------------------------- identity


def _cpuinfo() -> dict:
    fields: dict = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def _instance() -> str:
    for source in ("/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id"):
        try:
            text = Path(source).read_text().strip()
        except OSError:
            continue
        if text:
            return hashlib.sha256(("iree-matrix instance " + text).encode()).hexdigest()[:16]
    return ""


# LLVM's name for the host CPU, as llvm/lib/TargetParser/Host.cpp (sys::getHostCPUName) derives it
# from CPUID's vendor, family and model: the cases of the CPUs seen by this project and their
# neighbours. On the machine that compiled, iree-compile itself is asked; here there is no compiler,
# so a CPU outside the table is recorded without a name (its family / model still identify it).
_AMD = {25: [((0x10, 0x1F), "znver4"), ((0x60, 0x7F), "znver4"), ((0xA0, 0xAF), "znver4"),
             ((0x00, 0x0F), "znver3"), ((0x20, 0x5F), "znver3")],
        26: [((0x00, 0xFF), "znver5")], 23: [((0x30, 0x3F), "znver2"), ((0x60, 0x7F), "znver2"),
                                             ((0x00, 0x2F), "znver1")]}  # fmt: skip
_INTEL = {0xA7: "rocketlake", 0xCF: "emeraldrapids", 0x8F: "sapphirerapids", 0xAD: "graniterapids",
          0xAE: "graniterapids", 0x6A: "icelake-server", 0x6C: "icelake-server", 0x7D: "icelake-client",
          0x7E: "icelake-client", 0x8C: "tigerlake", 0x8D: "tigerlake", 0x97: "alderlake", 0x9A: "alderlake",
          0xB7: "raptorlake", 0xBA: "raptorlake", 0xBF: "raptorlake", 0x4E: "skylake", 0x5E: "skylake",
          0x8E: "skylake", 0x9E: "skylake", 0x3C: "haswell", 0x3F: "haswell", 0x45: "haswell",
          0x46: "haswell", 0x3D: "broadwell", 0x47: "broadwell", 0x4F: "broadwell",
          0x56: "broadwell"}  # fmt: skip


def llvm_cpu_name(vendor: str, family: str, model: str, stepping: str) -> str:
    try:
        fam, mod, step = int(family), int(model), int(stepping or 0)
    except ValueError:
        return ""
    if vendor == "AuthenticAMD":
        for (low, high), name in _AMD.get(fam, []):
            if low <= mod <= high:
                return name
        return ""
    if vendor == "GenuineIntel" and fam == 6:
        if mod == 0x55:  # one model number, three CPUs by stepping (Host.cpp)
            return "cooperlake" if step >= 10 else "cascadelake" if step >= 5 else "skylake-avx512"
        return _INTEL.get(mod, "")
    return ""


def identity() -> dict:
    """This machine as iree-matrix's records describe a host (core/system/host.py `describe`): the same
    fields, the same `identity` string, so a view at home files these figures under the right CPU."""
    fields = _cpuinfo()
    flags = sorted(set((fields.get("flags") or fields.get("Features") or "").split()))
    found = {
        "machine": platform.machine(),
        "cpu": fields.get("model name")
        or fields.get("Model")
        or fields.get("CPU part")
        or platform.processor()
        or "unknown",
        "vendor": fields.get("vendor_id") or fields.get("CPU implementer") or "",
        "family": fields.get("cpu family") or fields.get("CPU architecture") or "",
        "model": fields.get("model") or fields.get("CPU part") or "",
        "stepping": fields.get("stepping") or fields.get("CPU revision") or "",
        "cpu_features": sorted(f for f in flags if f in INTERESTING_FLAGS),
        "cpu_flags_sha256": hashlib.sha256(" ".join(flags).encode()).hexdigest(),
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "libc": "-".join(platform.libc_ver()),
        "python": platform.python_version(),
        "instance": _instance(),
    }
    parts = [found[k] or "" for k in ("machine", "vendor", "family", "model", "stepping")]
    found["identity"] = "|".join(map(str, [*parts, found["cpu_flags_sha256"][:16], found["cores"] or ""]))
    llvm = llvm_cpu_name(found["vendor"], found["family"], found["model"], found["stepping"])
    if llvm:
        found["llvm_cpu"] = llvm
        found["llvm_cpu_from"] = "CPUID family/model (LLVM Host.cpp's table); no compiler here"
    return found


def slug(host: dict) -> str:
    parts = [host.get("vendor") or "unknown", host.get("family"), host.get("model"), host.get("llvm_cpu")]
    return re.sub(r"[^a-z0-9.]+", "-", "-".join(str(p) for p in parts if p).lower()).strip("-")


def nvidia_gpus() -> list:
    """What nvidia-smi says of each GPU (name, driver, compute capability), where it exists."""
    tool = shutil.which("nvidia-smi")
    if not tool:
        return []
    try:
        done = subprocess.run([tool, "--query-gpu=name,driver_version,compute_cap,memory.total",
                               "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in done.stdout.splitlines():
        cols = [c.strip() for c in line.split(",")]
        if len(cols) >= 3:
            gpus.append({"vendor": "NVIDIA", "name": cols[0], "driver": cols[1],
                         "compute_capability": cols[2],
                         "memory": cols[3] if len(cols) > 3 else ""})  # fmt: skip
    return gpus


# --------------------------------------------------------------------------- the bundle


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_manifest(root: Path) -> dict:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(
            f"{path}: not a readable bundle manifest ({exc}); is this a bundle's folder?"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("schema") != MANIFEST_SCHEMA
        or not isinstance(data.get("cells"), list)
    ):
        raise BundleError(
            f"{path}: manifest schema {data.get('schema') if isinstance(data, dict) else '?'}, "
            f"this runner reads {MANIFEST_SCHEMA}: use the run.py that came with the bundle"
        )
    return data


def verify(root: Path) -> str:
    """Every file SHA256SUMS lists is present and unchanged; the manifest's digest."""
    sums = root / SUMS
    try:
        lines = sums.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BundleError(f"{sums}: unreadable ({exc}); copy the whole bundle again") from None
    listed = [line.split("  ", 1) for line in lines if line.strip()]
    if not listed or any(len(pair) != 2 for pair in listed):
        raise BundleError(f"{sums}: empty or malformed; copy the whole bundle again")
    for digest, name in listed:
        path = root / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BundleError(f"{sums}: {name!r} points outside the bundle")
        if not path.is_file():
            raise BundleError(f"{name}: missing from the bundle; copy the whole bundle again")
        if sha256_of(path) != digest:
            raise BundleError(
                f"{name}: damaged (its sha256 differs from {SUMS}); copy the whole bundle again"
            )
    if MANIFEST not in {name for _, name in listed}:
        raise BundleError(f"{sums}: does not list {MANIFEST}")
    return sha256_of(root / MANIFEST)


def _python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def wheel_for(manifest: dict, release: str) -> dict:
    """The runtime the bundle carries for this Python and machine (a wheel resolved for X.Y)."""
    machine = platform.machine()
    found = [w for w in manifest.get("runtimes", []) if w.get("release") == release and _is_wheel(w)]
    for wheel in found:
        if wheel.get("python") == _python() and wheel.get("machine") == machine:
            return wheel
    have = ", ".join(f"Python {w.get('python')} on {w.get('machine')}" for w in found) or "none"
    raise BundleError(
        f"the bundle carries IREE {release}'s runtime for {have}, not for Python {platform.python_version()} "
        f"on {machine}: run it with that Python, or make the bundle with `iree-matrix bundle ... "
        f"--python {_python()}`"
    )


def _is_wheel(runtime: dict) -> bool:
    return runtime.get("kind", "wheel") == "wheel"


def runtime_for(manifest: dict, release: str, machine: str = "") -> dict:
    """The runtime that runs `release`'s cells (those of `machine`, the target's arch) here: its wheel
    for this Python and machine, else the command-line tools of the runtime built from source for
    that arch that the bundle carries (IREE publishes no 32-bit ARM wheel); they need no Python, and
    run natively or through this machine's binfmt."""
    try:
        return wheel_for(manifest, release)
    except BundleError:
        for found in manifest.get("runtimes", []):
            if found.get("release") == release and not _is_wheel(found):
                if not machine or found.get("machine") == machine:
                    return found
        raise


def _has_runtime(manifest: dict, cell: dict) -> bool:
    try:
        runtime_for(manifest, cell["runtime"], cell.get("machine", ""))
    except BundleError:
        return False
    return True


# What a manifest's names that become a file's name must be (a release, a Python, a machine): one
# path component, never "..", "/" or a control character.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@-]{0,127}")


def named(value: object, what: str) -> str:
    """`value`, a manifest's name that becomes part of a file's name; BundleError when it is not one."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise BundleError(
            f"{MANIFEST}: its {what} {str(value)[:80]!r} is not a name (letters, digits, . _ + @ -)"
        )
    return value


def within(root: Path, relative: object) -> Path:
    """The file a manifest names (relative to the bundle's folder `root`), which must be inside it:
    a manifest whose paths lead out (`../../x`, `/etc/x`, a link out) is refused, never followed."""
    if not isinstance(relative, str) or not relative or "\0" in relative:
        raise BundleError(f"{MANIFEST}: names a file {str(relative)[:80]!r} that is no path in the bundle")
    path = Path(relative)
    if path.is_absolute() or ".." in path.parts:
        raise BundleError(f"{MANIFEST}: names {relative[:80]!r}, outside the bundle")
    found = root / path
    base = os.path.realpath(root)
    if os.path.commonpath([base, os.path.realpath(found)]) != base:
        raise BundleError(f"{MANIFEST}: {relative[:80]!r} leads outside the bundle (a symbolic link)")
    return found


def install(root: Path, wheel: dict) -> Path:
    """The runtime's wheels unpacked under the bundle's .runtime/ (else a temporary folder, when the
    bundle is read-only): what `pip install --target` would leave, without pip or a network. Its
    folder is named from the manifest's names, each checked (`named`): a release
    `../../../canary/EVIL` once unpacked the wheel outside the bundle."""
    digest = str(wheel.get("sha256", ""))
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise BundleError(f"{MANIFEST}: a runtime's sha256 {digest[:80]!r} is no sha256")
    name = "-".join(
        [named(wheel.get("release"), "runtime release"), "py" + named(wheel.get("python"), "runtime Python"),
         named(wheel.get("machine"), "runtime machine"), digest[:12]]
    )  # fmt: skip
    for base in (root / ".runtime", Path(tempfile.gettempdir()) / "iree-matrix-bundle-runtime"):
        target = base / name
        if (target / ".complete").is_file():
            return target
        try:
            base.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=base, prefix=".unpacking-"))
        except OSError:
            continue
        for path in wheel["wheels"]:
            with zipfile.ZipFile(within(root, path)) as archive:
                for info in archive.infolist():
                    out = Path(archive.extract(info, staging))
                    mode = (info.external_attr >> 16) & 0o777
                    if mode and not info.is_dir():
                        os.chmod(out, mode)
        (staging / ".complete").write_text(wheel["sha256"] + "\n")
        try:
            os.rename(staging, target)
        except OSError:  # another runner unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
        return target
    raise BundleError(f"nowhere to unpack IREE's runtime: {root} and {tempfile.gettempdir()} are read-only")


# --------------------------------------------------------------------------- one cell (a child process)


def as_float64(array: object, described: dict | None = None) -> Any:
    """An array's values as float64 to compare: numpy's dtypes cast; the raw bits of a dtype numpy
    lacks decoded by the dtype the export named (stages/arrays.py `as_float64`): bfloat16 is the
    upper half of a float32, exactly; the float8s where ml_dtypes is importable."""
    import numpy as np

    array = np.asarray(array)
    if array.dtype.kind != "V":
        return array.astype(np.float64)
    name = str((described or {}).get("dtype", ""))
    if name == "bfloat16":
        bits = array.view(np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64)
    try:
        import ml_dtypes  # type: ignore[import-not-found,unused-ignore]

        return array.view(getattr(ml_dtypes, name)).astype(np.float64)
    except (ImportError, AttributeError, TypeError, ValueError):
        raise BundleError(f"the cell's {name or 'unnamed'} arrays are raw bits numpy cannot decode: "
                          "`python3 -m pip install ml_dtypes`") from None  # fmt: skip


def load_array(path: Path, described: dict | None = None) -> Any:
    """An array the export saved (.npy, raw bits in a void dtype for a dtype numpy lacks) or an IREE
    tool wrote: .npy, or the raw contents of an output (`--output=@outputN.bin`, which the tools
    write for a dtype .npy cannot name) read with the shape the export described."""
    import numpy as np

    if path.suffix != ".bin":
        return np.load(path)
    described = described or {}
    width = np.dtype(str(described["saved_as"])).itemsize
    shape = tuple(int(n) for n in described["shape"])
    return np.fromfile(path, dtype=np.uint8).view(f"V{width}").reshape(shape)


def compare(
    got_arrays: list, references: list, atol: float, rtol: float, described: Sequence[dict] = ()
) -> dict:
    """iree-matrix's run check (stages/run.py `compare`): only where torch's own value is finite (a
    NaN or inf there is the model's: `unchecked_values`), the largest absolute and relative error,
    IREE's NaN or inf there counted apart (`nonfinite_values`), and whether every checked value is
    finite and within the model's tolerance of torch's. `described`: the outputs' export.json
    entries, which decode raw bits (bfloat16)."""
    import numpy as np

    max_abs = max_rel = 0.0
    matches = True
    unchecked = nonfinite = 0
    for index, (got, ref) in enumerate(zip(got_arrays, references)):
        if got.shape != ref.shape:
            return {"error": f"output shape {got.shape}, torch gave {ref.shape}"}
        entry = described[index] if index < len(described) else {}
        ref64 = as_float64(ref, entry)
        checked = np.isfinite(ref64)
        ref64, got64 = ref64[checked], as_float64(got, entry)[checked]
        unchecked += int(checked.size - np.count_nonzero(checked))
        finite = np.isfinite(got64)
        nonfinite += int(finite.size - np.count_nonzero(finite))
        err = np.abs(got64[finite] - ref64[finite])
        abs_err = float(err.max()) if err.size else 0.0
        scale = float(np.abs(ref64).max()) if ref64.size else 0.0
        max_abs = max(max_abs, abs_err)
        max_rel = max(max_rel, abs_err / scale if scale > 0 else abs_err)
        matches = matches and bool(finite.all()) and bool(np.allclose(got64, ref64, rtol=rtol, atol=atol))
    return {"max_abs_err": max_abs, "max_rel_err": max_rel, "atol": atol, "rtol": rtol, "matches": matches,
            **({"nonfinite_values": nonfinite} if nonfinite else {}),
            **({"unchecked_values": unchecked} if unchecked else {})}  # fmt: skip


def outputs_digest(arrays: list) -> str:
    import numpy as np

    h = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype.str}{array.shape};".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def summary(values: list, of: str) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "stdev": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values),
            "times": values, "of": of}  # fmt: skip


def run_cell(root: Path, cell: dict, repetitions: int) -> dict:
    """Load, check and time one cell; its result as a dict (printed as the child's last line)."""
    import iree.runtime as rt
    import numpy as np

    driver = cell["device"]
    export = within(root, cell["export"])
    inputs = [np.load(export / "inputs" / name) for name in cell["inputs"]]
    references = [np.load(export / "reference" / name) for name in cell["references"]]
    result: dict = {"device": driver, "runtime_version": getattr(rt, "__version__", "")}
    try:
        config = rt.Config(driver)
    except Exception as exc:  # noqa: BLE001 - the runtime's words are the answer
        kind = GPU_KINDS.get(driver)
        if kind:
            return {**result, "status": "skip", "message": f"not run: no {kind} device here ({_clip(exc)})"}
        return {**result, "status": "fail", "error_class": "device", "message": _clip(exc)}
    if driver in GPU_KINDS:
        try:
            found = rt.get_driver(driver).query_available_devices()
            result["gpu_devices"] = [str(d.get("name") or d.get("path") or d) for d in found]
        except Exception:  # noqa: BLE001 - the list is a description, the run goes on
            pass
    try:
        context = rt.SystemContext(config=config)
        module = rt.VmModule.copy_buffer(context.instance, (within(root, cell["module"])).read_bytes())
        context.add_vm_module(module)
        function = context.modules.module[cell["function"]]
    except Exception as exc:  # noqa: BLE001
        return {**result, "status": "fail", "error_class": "load", "message": _clip(exc)}

    # A GPU's inputs are copied to the device once (a host pointer handed to Vulkan must meet the
    # device's import alignment, 4096 bytes on lavapipe, which numpy's arrays do not): the timed
    # call is the module's, not the upload's.
    arguments = [rt.asdevicearray(config.device, x) for x in inputs] if driver in GPU_KINDS else inputs

    def call() -> list:
        out = function(*arguments)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return [np.asarray(_to_host(rt, o)) if hasattr(o, "to_host") else np.asarray(o) for o in outs]

    try:
        got = call()
    except Exception as exc:  # noqa: BLE001
        return {**result, "status": "fail", "error_class": "run", "message": _clip(exc)}
    check = compare(got, references, float(cell["atol"]), float(cell["rtol"]), _described(cell, "outputs"))
    if "error" in check:
        return {**result, "status": "fail", "error_class": "output-shape", "message": check["error"]}
    result.update(check, outputs_sha256=outputs_digest(got))
    gpu = driver in GPU_KINDS
    clock = time.perf_counter if gpu else time.thread_time  # local-sync runs in this thread
    walls, cpus = [], []
    for _ in range(repetitions):
        calls, wall0, cpu0 = 0, time.perf_counter(), clock()
        while True:
            call()  # the outputs read back to the host: a GPU call is synchronised
            calls += 1
            if time.perf_counter() - wall0 >= MIN_REPETITION_SECONDS:
                break
        walls.append((time.perf_counter() - wall0) * 1e3 / calls)
        cpus.append((clock() - cpu0) * 1e3 / calls)
    result["latency_ms"] = summary(walls, "wall time per call, outputs read back (run.py)")
    software = [d for d in result.get("gpu_devices", []) if d.startswith(("llvmpipe", "SwiftShader"))]
    if software:  # iree-matrix never ranks an emulated device's time with a real one's
        result["timing"] = f"emulated (software Vulkan device: {software[0]})"
    if not gpu:
        result["cpu_ms"] = summary(cpus, "one thread's CPU time per call, local-sync (run.py)")
    return _verdict(result, check, cell)


def _verdict(result: dict, check: dict, cell: dict) -> dict:
    """`result` with its status from the output check: ok, or a mismatch worded as the run stage words it
    (the Python binding's path and the carried tools' path share it)."""
    if not check["matches"]:
        nonfinite = check.get("nonfinite_values")
        said = f"{nonfinite} NaN or inf where torch's are finite; elsewhere " if nonfinite else ""
        result.update(status="mismatch", message=(
            f"outputs differ from torch: {said}max abs err {check['max_abs_err']:.3g}, max rel err "
            f"{check['max_rel_err']:.3g} (atol {cell['atol']}, rtol {cell['rtol']})"))  # fmt: skip
    else:
        result["status"] = "ok"
    return result


def _to_host(rt: object, array: object) -> object:
    """`DeviceArray.to_host()`, else the runtime's own staging copy. IREE 3.13.0's Python binding
    (iree/runtime/array_interop.py `_copy_to_host`) imports a fresh, unaligned numpy buffer whenever
    the allocator calls host memory importable; Mesa's lavapipe does, and then refuses the pointer
    ("does not satisfy Vulkan minImportedHostPointerAlignment 4096"). The staging branch of the same
    function (allocate, queue_copy, map) is what this does instead."""
    try:
        return array.to_host()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001
        if "minImportedHostPointerAlignment" not in str(exc):
            raise
    view, device = array._buffer_view, array._device  # type: ignore[attr-defined]
    source = view.get_buffer()
    usage = int(rt.BufferUsage.TRANSFER_TARGET | rt.BufferUsage.MAPPING_SCOPED)  # type: ignore[attr-defined]
    memory = int(rt.MemoryType.HOST_LOCAL | rt.MemoryType.DEVICE_VISIBLE)  # type: ignore[attr-defined]
    staging = device.allocator.allocate_buffer(memory_type=memory, allowed_usage=usage,
                                               allocation_size=source.byte_length())  # fmt: skip
    semaphore = device.create_semaphore(0)
    fence = rt.HalFence.create_at  # type: ignore[attr-defined]
    device.queue_copy(
        source, staging, wait_semaphores=fence(semaphore, 0), signal_semaphores=fence(semaphore, 1)
    )
    fence(semaphore, 1).wait()
    dtype = rt.HalElementType.map_to_dtype(view.element_type)  # type: ignore[attr-defined]
    return staging.map().asarray(view.shape, dtype).copy()


def _clip(exc: object, limit: int = 600) -> str:
    """An exception in the runtime's words, with what it chained ("Could not create device.
    Exception for last tried follows." says nothing without the exception it follows)."""
    parts, seen = [], exc
    while seen is not None and len(parts) < 4:
        parts.append(str(seen))
        seen = (seen.__cause__ or seen.__context__) if isinstance(seen, BaseException) else None
    text = " ".join("; ".join(p for p in parts if p).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --------------------------------------------------------------------------- one cell by IREE's tools


def _described(cell: dict, which: str) -> list:
    """The export's description of the cell's inputs or outputs (dtype, shape, `saved_as` for raw bits)."""
    return list((cell.get("arrays") or {}).get(which) or [])


def needs_tools(cell: dict) -> bool:
    """A cell with an array numpy has no dtype for (bfloat16, saved as raw bits): the Python binding
    takes and gives numpy arrays, IREE's tools take the raw bits (as the run stage gives them)."""
    return any(a.get("saved_as") for a in _described(cell, "inputs") + _described(cell, "outputs"))


def output_names(cell: dict) -> list:
    """The files the tools write the outputs to: .npy, or .bin (the raw contents) for a dtype .npy
    cannot name (iree-run-module: "unsupported data encoding" for a bfloat16 .npy)."""
    described = _described(cell, "outputs")
    return [
        f"output{i}.{'bin' if i < len(described) and described[i].get('saved_as') else 'npy'}"
        for i in range(len(cell["references"]))
    ]


def run_argv(tool: str, cell: dict, root: Path, outputs: list, device: str = "local-sync") -> list:
    """iree-run-module's checked call, as the run stage spells it (stages/run.py `run_command`)."""
    export, module = within(root, cell["export"]), within(root, cell["module"])
    return [tool, f"--device={device}", f"--module={module}", f"--function={cell['function']}",
            *(f"--input=@{export / 'inputs' / named(name, 'input')}" for name in cell["inputs"]),
            *(f"--output=@{path}" for path in outputs)]  # fmt: skip


def benchmark_argv(tool: str, cell: dict, root: Path, repetitions: int, device: str = "local-sync") -> list:
    """iree-benchmark-module on one thread (local-sync runs on the calling thread), JSON out."""
    export, module = within(root, cell["export"]), within(root, cell["module"])
    return [tool, f"--device={device}", f"--module={module}", f"--function={cell['function']}",
            *(f"--input=@{export / 'inputs' / named(name, 'input')}" for name in cell["inputs"]),
            f"--benchmark_repetitions={repetitions}", "--benchmark_format=json"]  # fmt: skip


_UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def benchmark_ms(text: str, field: str) -> list:
    """Each repetition's `field` (real_time, cpu_time) per call in ms from iree-benchmark-module's
    JSON, its aggregates left out (stages/benchmark_tool.py `benchmark_times`). Its cpu_time is the
    process's CPU time (on local-sync: the one thread's; under qemu-user: the emulator's)."""
    start = text.find("{")
    data = json.loads(text[start:]) if start >= 0 else {}
    return [b[field] * _UNIT_MS[b.get("time_unit", "ns")] for b in data.get("benchmarks", [])
            if b.get("run_type", "iteration") == "iteration"
            and isinstance(b.get(field), (int, float))]  # fmt: skip


# ELF e_machine (the System V ABI's numbers) and the uname -m values of a machine that runs it natively.
_ELF_MACHINES = {3: "x86", 40: "ARM", 62: "x86-64", 183: "AArch64"}
_NATIVE = {"x86-64": ("x86_64", "amd64"), "AArch64": ("aarch64", "arm64"), "x86": ("i386", "i686", "x86_64"),
           "ARM": ("armv5tel", "armv6l", "armv7l", "armv8l", "arm")}  # fmt: skip


def elf_machine(head: bytes) -> str:
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return "unknown"
    number = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return _ELF_MACHINES.get(number, f"e_machine {number}")


def binfmt_handler(head: bytes, entries: dict) -> dict:
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


def _binfmt_entries() -> dict:
    base = Path("/proc/sys/fs/binfmt_misc")
    try:
        return {p.name: p.read_text() for p in base.iterdir() if p.name not in ("register", "status")}
    except OSError:
        return {}


def how_it_runs(tool: Path, machine: str = "", entries: dict | None = None) -> dict:
    """Whether this machine's CPU runs `tool` itself, or an emulator does: {} natively; {"emulated":
    "qemu-user", ...} through a binfmt_misc handler (the host's CPU did not run the board's code, and
    its time is the emulator's); raises where nothing here runs it."""
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
    return {"emulated": kind, "elf_machine": elf, "binfmt": handler["name"],
            "interpreter": handler["interpreter"]}  # fmt: skip


def tools_of(root: Path, runtime: dict, installed: Path | None = None) -> dict:
    """The runtime's iree-run-module and iree-benchmark-module: those the bundle carries, or the
    wheel's own (unpacked at `installed`; with its iree-profile where it has one, 3.12.0 on), made
    executable where a copy lost the bit."""
    if _is_wheel(runtime):
        assert installed is not None
        found = {name: installed / "iree" / "_runtime_libs" / name
                 for name in ("iree-run-module", "iree-benchmark-module")}  # fmt: skip
        profiler = installed / "iree" / "_runtime_libs" / "iree-profile"
        if profiler.is_file():
            found["iree-profile"] = profiler
    else:
        found = {name: within(root, path) for name, path in runtime["tools"].items()}
    for path in found.values():
        if not os.access(path, os.X_OK):
            os.chmod(path, 0o755)
    return found


def run_cell_tools(
    root: Path, cell: dict, runtime: dict, tools: dict, repetitions: int, timeout: float
) -> dict:
    """Check and time one cell with IREE's command-line tools, as the run stage does: iree-run-module
    writes the outputs (raw .bin where .npy has no dtype), numpy compares them with torch's, and
    iree-benchmark-module on local-sync times one thread's CPU per call."""
    import numpy as np

    result: dict = {"device": cell["device"], "runtime_version": runtime.get("version") or runtime["release"]}
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
        described = _described(cell, "outputs")
        got = [
            load_array(path, described[i] if i < len(described) else None) for i, path in enumerate(outputs)
        ]
    check = compare(got, references, float(cell["atol"]), float(cell["rtol"]), described)
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
    return _verdict(result, check, cell)


def _tool(argv: list, env: dict, timeout: float) -> dict:
    """One tool's run: {"stdout"} when it succeeded, else the cell's failure in the tool's words."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {
            "status": "timeout",
            "message": f"{Path(argv[0]).name}: no answer within {timeout:.0f} s (--timeout)",
        }
    except OSError as exc:
        return {"status": "fail", "error_class": "runner", "message": f"{argv[0]}: {exc}"}
    if done.returncode == 0:
        return {"stdout": done.stdout}
    name = Path(argv[0]).name
    if done.returncode < 0 or done.returncode in (132, 139):  # a signal (qemu-user exits 128 + it)
        number = -done.returncode if done.returncode < 0 else done.returncode - 128
        why = " (an instruction this CPU lacks)" if number == signal.SIGILL else ""
        return {"status": "fail", "error_class": "crash",
                "message": f"{name} died of {signal.Signals(number).name}{why}"}  # fmt: skip
    words = (done.stderr.strip() or done.stdout.strip()).splitlines()
    error = "load" if any("version mismatch" in w or "not available" in w for w in words) else "run"
    return {"status": "fail", "error_class": error, "message": _clip(f"{name}: " + " ".join(words[-4:]))}


# --------------------------------------------------------------------------- a paired sitting


def _worker_loop(root: Path) -> int:
    """A timing worker: reads one JSON command per line on stdin, answers one line on stdout.
    {"load": cell} (IREE, on local-sync) or {"load_onnx": path} (ONNX Runtime on one thread) makes
    an arm; {"time": arm, "calls": n} times it: one untimed call, then n calls, each by this
    process's CPU time (local-sync and a one-thread ONNX Runtime session run in the calling thread)."""
    import numpy as np

    arms: dict = {}
    syncs: dict = {}  # a GPU arm's synchronisation around its timed calls (torch's)
    onnx: dict = {}  # an ONNX Runtime arm's model and feeds, for its profile
    for line in sys.stdin:
        order = json.loads(line)
        try:
            if "load" in order:
                cell = order["load"]
                import iree.runtime as rt

                export = within(root, cell["export"])
                inputs = [np.load(export / "inputs" / n) for n in cell["inputs"]]
                context = rt.SystemContext(config=rt.Config("local-sync"))
                context.add_vm_module(
                    rt.VmModule.copy_buffer(context.instance, (within(root, cell["module"])).read_bytes())
                )
                function = context.modules.module[cell["function"]]
                arms[cell["job"]] = lambda f=function, x=inputs: f(*x)
                answer: dict = {"ok": True}
            elif "load_onnx" in order:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                session = ort.InferenceSession(str(within(root, order["load_onnx"])), options,
                                               providers=["CPUExecutionProvider"])  # fmt: skip
                export = within(root, order["export"])
                feeds = {
                    i.name: np.load(export / "inputs" / n)
                    for i, n in zip(session.get_inputs(), order["inputs"])
                }
                references = [np.load(export / "reference" / n) for n in order["references"]]
                got = [np.asarray(o) for o in session.run(None, feeds)]
                check = compare(got, references, float(order["atol"]), float(order["rtol"]))
                arms[order["name"]] = lambda s=session, f=feeds: s.run(None, f)
                onnx[order["name"]] = (within(root, order["load_onnx"]), feeds)
                answer = {"ok": True, "version": ort.__version__, **check}
            elif "load_torch" in order:
                answer = _load_torch(root, order, arms)
            elif "load_gpu" in order:
                import iree.runtime as rt

                call, answer = bundle_gpu.load_arm(rt, root, order["load_gpu"], _to_host, _clip)
                if call is not None:
                    arms[order["load_gpu"]["job"]] = call
            elif "load_torch_cuda" in order:
                answer = bundle_gpu.load_torch_cuda(root, order, arms, syncs, compare, _clip)
            elif order.get("clock") == "wall":  # a GPU's call: synchronised wall time
                times = bundle_gpu.time_wall(
                    arms[order["time"]], int(order["calls"]), syncs.get(order["time"])
                )
                answer = {"ok": True, "ms": times}
            elif "profile_onnx" in order:
                import onnxruntime as ort

                model, feeds = onnx[order["profile_onnx"]]
                answer = {
                    "ok": True,
                    "op_profile": bundle_gap.profile_onnx(ort, model, feeds, order["calls"]),
                }
            else:
                call = arms[order["time"]]
                call()
                times = []
                for _ in range(int(order["calls"])):
                    t0 = time.process_time()
                    call()
                    times.append((time.process_time() - t0) * 1e3)
                answer = {"ok": True, "ms": times}
        except Exception as exc:  # noqa: BLE001 - the arm's failure is the answer
            answer = {"ok": False, "error": _clip(exc)}
        print(json.dumps(answer), flush=True)
    return 0


def _load_torch(root: Path, order: dict, arms: dict) -> dict:
    """torch eager on one thread: the model built from its own file and seed (the reference
    models' weights are the same bits on any CPU and thread count), run on the export's inputs."""
    import importlib

    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(within(root, order["root"])))
    built = importlib.import_module(order["module"]).build(seed=int(order.get("seed", 0)))
    spec = built[order["function"]] if isinstance(built, dict) else built
    module = spec.module.eval()
    export = within(root, order["export"])
    inputs = [torch.from_numpy(np.load(export / "inputs" / n)) for n in order["inputs"]]
    references = [np.load(export / "reference" / n) for n in order["references"]]

    def call() -> object:
        with torch.no_grad():
            return module(*inputs)

    out = call()
    outs = out if isinstance(out, (list, tuple)) else [out]
    check = compare(
        [o.detach().numpy() for o in outs], references, float(order["atol"]), float(order["rtol"])
    )
    arms["eager"] = call
    return {"ok": True, "version": torch.__version__, **check}


class _Worker:
    def __init__(self, root: Path, pythonpath: str) -> None:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(p for p in (pythonpath, os.environ.get("PYTHONPATH")) if p)
        )
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "--bundle", str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True,
        )  # fmt: skip

    def ask(self, order: dict) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            name = signal.Signals(-code).name if code < 0 else f"exit {code}"
            return {"ok": False, "error": f"the timing process ended ({name})"}
        return json.loads(line)

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()


def _importable(name: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True).returncode == 0


def sit(root: Path, manifest: dict, digest: str, host: dict, sitting: dict, checked: dict, rounds: int,
        calls: int, say, over: float = bundle_gap.GAP) -> dict:  # fmt: skip
    """One function's paired sitting: its module arms (those whose cell ran and matched here) and
    ONNX Runtime where importable, `rounds` rounds in rotating order (reversed every other round),
    `calls` calls per arm per round; an advice document's function entry. An arm that can be the
    answer and took more than `over` times ONNX Runtime's median is then profiled beside it
    (`_profile_gap`)."""
    cells = {c["job"]: c for c in manifest["cells"]}
    arms = []
    for arm in sitting["arms"]:
        result = checked.get(arm["job"], {})
        entry = {k: arm[k] for k in ("name", "kind", "config", "release", "flags")}
        entry.update(module_sha256=cells[arm["job"]]["module_sha256"], source="run bundle", ms=[],
                     job=arm["job"], matches=result.get("status") == "ok")  # fmt: skip
        if result.get("status") != "ok":  # it did not run and match torch here: never the answer
            entry["error"] = result.get("message") or "the cell " + result.get("status", "did not run")
        arms.append(entry)
    around = _neighbours(sitting.get("proof") or {}, arms, cells, checked)
    workers: dict = {}
    try:
        for arm in arms + around:
            if arm.get("error") or arm.get("same_as"):
                continue
            cell = cells[arm["job"]]
            if cell["runtime"] not in workers:
                workers[cell["runtime"]] = _Worker(
                    root, str(install(root, wheel_for(manifest, cell["runtime"])))
                )
            loaded = workers[cell["runtime"]].ask({"load": cell})
            if not loaded["ok"]:
                arm["error"] = loaded["error"]
        # The peers, in one process of their own: each where its package is importable here.
        for name, key, package, order in (("onnxruntime", "onnx", "onnxruntime", "load_onnx"),
                                          ("eager", "torch", "torch", "load_torch")):  # fmt: skip
            peer = sitting.get(key)
            if not peer:
                continue
            if not _importable(package):
                say(f"{package} is not importable here: no {name} arm (`pip install {package}`)")
                continue
            workers.setdefault("peer", _Worker(root, ""))
            loaded = workers["peer"].ask({order: peer.get("model", True), "name": name, **peer})
            version = loaded.get("version", "")
            entry = {"name": name, "kind": "peer", "config": name, "ms": [], "job": f"peer:{name}",
                     "matches": bool(loaded.get("matches")), "source": f"{package} {version}"}  # fmt: skip
            if not loaded["ok"]:
                entry["error"] = loaded["error"]
            arms.append(entry)
        timed = [a for a in arms + around if not a.get("error") and not a.get("same_as")]
        for index in range(rounds):
            order = timed[index % len(timed) :] + timed[: index % len(timed)] if timed else []
            for arm in order if index % 2 == 0 else order[::-1]:
                peer = arm["job"].startswith("peer:")
                worker = workers["peer" if peer else cells[arm["job"]]["runtime"]]
                answer = worker.ask({"time": arm["name"] if peer else arm["job"], "calls": calls})
                if answer["ok"]:
                    arm["ms"].append(statistics.median(answer["ms"]))
                else:
                    arm["error"] = answer["error"]
            say(f"{sitting['function']}: round {index + 1} of {rounds}")
        profiled = _profile_gap(root, manifest, cells, arms, workers.get("peer"), over, say)
    finally:
        for worker in workers.values():
            worker.close()
    for arm in arms + around:
        arm.pop("job", None)
    function = {"function": sitting["function"], "arms": arms}
    if profiled:
        function["op_profiles"] = profiled
    if sitting.get("proof"):
        function["proof"] = _proof(sitting["proof"], arms, around)
    return function


def _profile_gap(root: Path, manifest: dict, cells: dict, arms: list, peer: Any, over: float, say) -> dict:
    """Each arm of `bundle_gap.trailing` profiled once with its wheel's own tools, and ONNX Runtime's
    session once with its profiler, both on one thread: the raw rows (bundle_gap.py), or {} when
    no arm trails."""
    found = bundle_gap.trailing(arms, over)
    if not found or peer is None:
        return {}
    say(f"{', '.join(a['name'] for a in found)} took more than {over}x ONNX Runtime's time: profiling "
        "both op by op (at most about 2 s of calls each)")  # fmt: skip
    profiles, t0 = [], time.monotonic()
    for arm in found:
        cell = cells[arm["job"]]
        wheel = wheel_for(manifest, cell["runtime"])
        tools = tools_of(root, wheel, install(root, wheel))
        benchmark = benchmark_argv(str(tools["iree-benchmark-module"]), cell, root, 1)
        profiler = tools.get("iree-profile") or Path(tools["iree-benchmark-module"]).with_name("iree-profile")
        median = statistics.median(arm["ms"])
        profile = bundle_gap.profile_iree(benchmark, profiler, median, dict(os.environ), bundle_gap.TIMEOUT)
        profiles.append({"config": arm["config"], "release": arm["release"], "op_profile": profile})
    ort = next(a for a in arms if a.get("job") == "peer:onnxruntime")
    answer = peer.ask(
        {"profile_onnx": ort["name"], "calls": bundle_gap.calls_for(statistics.median(ort["ms"]))}
    )
    theirs = {"status": "ok", "op_profile": answer["op_profile"]} if answer["ok"] else {
        "status": "error", "error": answer["error"]}  # fmt: skip
    say(f"profiled in {time.monotonic() - t0:.2f} s")
    return {"over": over, "threads": 1, "iree": profiles, "peers": {"onnxruntime": theirs}}


def _neighbours(proof: dict, arms: list, cells: dict, checked: dict) -> list:
    """The proof's neighbours as arms of the sitting: each the cell that compiled it, checked here
    against torch's outputs (its record's status); a module byte-identical to one already timed is
    the same program, timed once (`same_as`)."""
    seen = {a["module_sha256"]: a["config"] for a in arms if a.get("module_sha256")}
    out = []
    for n in proof.get("neighbours") or ():
        entry = {"name": n["config"], "config": n["config"], "flags": n.get("flags") or [], "ms": [],
                 "module_sha256": "", "matches": None, "error": n.get("error") or "",
                 "same_as": ""}  # fmt: skip
        job = n.get("job")
        if job in cells:
            entry.update(job=job, module_sha256=cells[job]["module_sha256"])
            result = checked.get(job, {})
            status = result.get("status") or "not run"
            if status == "ok":
                entry["matches"] = True
            else:  # it did not run and match torch here: in the words of its record
                entry["matches"] = False if status == "mismatch" else None
                entry["error"] = f"{status}: {result.get('message') or 'the cell ' + status}"
            if not entry["error"] and entry["module_sha256"] in seen:
                entry["same_as"] = seen[entry["module_sha256"]]
            seen.setdefault(entry["module_sha256"], entry["config"])
        elif not entry["error"]:
            entry["error"] = "not in this bundle's cells"
        out.append(entry)
    return out


def _proof(proof: dict, arms: list, around: list) -> dict:
    """The proof's one step, in advise's form (the centre and each neighbour: config, flags, module,
    ms per round, matches, error, same_as); its verdicts are taken at home from the rounds, by the
    calibrated paired test (there is no compiler here to time a faster neighbour's neighbourhood)."""
    keys = ("config", "flags", "module_sha256", "ms", "matches", "error", "same_as")
    centre = next((a for a in arms if a["config"] == proof["centre"]), {"config": proof["centre"]})
    timed = {a["config"]: a.get("ms") or [] for a in arms + around if not a.get("same_as")}
    step_centre = {k: centre.get(k, "" if k != "ms" else []) for k in keys}
    step_centre.update(matches=centre.get("matches"), same_as="")
    neighbours = []
    for n in around:
        entry = {k: n.get(k) for k in keys}
        if n.get("same_as"):
            entry["ms"] = list(timed.get(n["same_as"], []))
        neighbours.append(entry)
    return {"start": proof["centre"], "max_steps": 1, "source": "run bundle",
            "steps": [{"centre": step_centre, "neighbours": neighbours}]}  # fmt: skip


# --------------------------------------------------------------------------- the run (the parent)


def runtime_env(runtime: dict, by_tools: bool) -> dict:
    """What a record says of the runtime that ran the cell: the wheel (by its Python binding, or by
    its own tools for raw-bits arrays), or the tools built from source that the bundle carries."""
    if not runtime:
        return {}
    if _is_wheel(runtime):
        return {
            "runtime": "wheel's tools" if by_tools else "wheel",
            "runtime_wheel": (runtime.get("wheels") or [""])[0].rsplit("/", 1)[-1],
            "runtime_wheel_sha256": runtime.get("sha256", ""),
        }
    return {
        "runtime": "source-built tools",
        "runtime_release": runtime.get("release", ""),
        "runtime_build_key": runtime.get("build_key", ""),
        "runtime_tools_sha256": dict(runtime.get("tools_sha256") or {}),
        "runtime_elf_machine": runtime.get("elf_machine", ""),
    }


def record(manifest: dict, digest: str, host: dict, cell: dict, wheel: dict, result: dict,
           started: str, seconds: float) -> dict:  # fmt: skip
    """One record of iree-matrix's schema for a cell's result (`wheel`: the runtime that ran it)."""
    status = result.get("status", "fail")
    key_parts = [cell["module_sha256"], cell.get("io_sha256", ""), wheel.get("sha256", ""), cell["device"],
                 host["identity"]]  # fmt: skip
    metrics = {k: v for k, v in result.items() if k not in ("status", "message", "error_class", "by_tools")}
    metrics.update(module_sha256=cell["module_sha256"], module_bytes=cell["module_bytes"])
    return {
        "schema": RECORD_SCHEMA,
        "job": cell["job"],
        "stage": "run",
        "cell": cell["job"].split(":", 1)[1],
        "key": hashlib.sha256("\0".join(key_parts).encode()).hexdigest(),
        "status": status,
        "labels": cell["labels"],
        "metrics": metrics,
        "error_class": result.get("error_class"),
        "message": result.get("message"),
        "blocked_by": None,
        "env": {
            "backend": "bundle",
            "id": f"bundle-{digest[:12]}",
            "bundle_sha256": digest,
            "bundle_name": manifest.get("name", ""),
            **runtime_env(wheel, bool(result.get("by_tools"))),
            "packages": {
                **(
                    {wheel.get("distribution", "iree-base-runtime"): wheel.get("version", "")}
                    if _is_wheel(wheel)
                    else {}
                ),
                "numpy": _numpy_version(),
            },  # fmt: skip
            "python": platform.python_version(),
        },
        "command": [],
        "host": host,
        "started": started,
        "finished": _now(),
        "seconds": round(seconds, 3),
        "tool_version": manifest.get("tool_version", ""),
    }


def _numpy_version() -> str:
    try:
        import numpy

        return str(numpy.__version__)
    except ImportError:
        return ""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _replace(path: Path, data: bytes) -> None:
    """`path` written whole, by rename: never through a link put there."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _append(path: Path, data: dict) -> None:
    line = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str) + "\n"
    try:  # never through a link: the records go into this folder's own file
        fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise BundleError(
            f"{path}: cannot append a record ({exc.strerror}); is it a symbolic link?"
        ) from None
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _recorded(path: Path, digest: str, identity_: str) -> set:
    """The jobs `path` already holds a record of, from this bundle on this CPU identity."""
    found = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a torn last line (power loss): that cell runs again
        if (
            data.get("env", {}).get("bundle_sha256") == digest
            and data.get("host", {}).get("identity") == identity_
        ):
            found.add(data.get("job"))
    return found


def _hms(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _figure(result: dict) -> str:
    figure = result.get("cpu_ms") or result.get("latency_ms")
    if not figure:
        return result.get("message") or result.get("status", "")
    what = "CPU" if "cpu_ms" in result else "wall"
    err = f", max abs err {result['max_abs_err']:.2g}" if "max_abs_err" in result else ""
    return f"{figure['median']:.3g} ms {what} per call (n={figure['n']}){err}"


def _child(root: Path, cell: dict, runtime: Path, repetitions: int, timeout: float) -> dict:
    """Run one cell in a process of its own, with the runtime on its path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(runtime), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", cell["job"],
               "--repetitions", str(repetitions), "--bundle", str(root)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"status": "timeout", "message": f"no answer within {timeout:.0f} s (--timeout)"}
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)  # Ctrl-C: the cell's process goes with the run
        process.communicate()
        raise
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode == 0 and lines:
        return json.loads(lines[-1])
    if process.returncode < 0:
        name = signal.Signals(-process.returncode).name
        why = (
            " (an instruction this CPU lacks: the module was built for another CPU)"
            if name == "SIGILL"
            else ""
        )
        return {
            "status": "fail",
            "error_class": "crash",
            "message": f"the cell's process died of {name}{why}",
        }
    last = err.strip().splitlines()[-1] if err.strip() else f"exit {process.returncode}"
    return {"status": "fail", "error_class": "runner", "message": _clip(last)}


def main(argv: list = None) -> int:  # type: ignore[assignment]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--out", type=Path, help="results folder (default: results/<this CPU>-<time> in the bundle)"
    )
    parser.add_argument("--repetitions", type=int, default=MIN_REPETITIONS,
                        help=f"timed repetitions per cell, each >= {MIN_REPETITION_SECONDS} s "
                        "(default and least: "
                        f"{MIN_REPETITIONS})")  # fmt: skip
    parser.add_argument("--cells", default="*", help="only the cells whose job id matches this glob")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per cell (default 900)")
    parser.add_argument(
        "--list", action="store_true", help="print the cells and this machine's identity, run nothing"
    )
    parser.add_argument("--bundle", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument(
        "--rounds",
        type=int,
        default=8,
        help="a sitting's paired rounds (a bundle made with --advise; default 8, least 6)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        help="profile an answer's arm and ONNX Runtime op by op when it took more than GAP times "
        "ONNX Runtime's time (default: the bundle's, 1.5; 0 profiles every arm that can be the answer)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.bundle.resolve()
    try:
        if args.worker:
            return _worker_loop(root)
        if args.child:
            cell = next(c for c in load_manifest(root)["cells"] if c["job"] == args.child)
            print(json.dumps(run_cell(root, cell, args.repetitions), default=str), flush=True)
            return 0
        return _run(root, args)
    except BundleError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only --out: the records written so far are kept
        print(f"run.py: {exc.filename or ''}: {exc.strerror or exc}; the records written so far are kept",
              file=sys.stderr)  # fmt: skip
        return 1


def _run(root: Path, args: argparse.Namespace) -> int:
    if args.repetitions < MIN_REPETITIONS:
        raise BundleError(
            f"--repetitions {args.repetitions}: at least {MIN_REPETITIONS} (fewer decide nothing)"
        )
    if not args.timeout > 0:
        raise BundleError(f"--timeout {args.timeout}: a positive number of seconds")
    if args.gap is not None and not 0 <= args.gap < float("inf"):
        raise BundleError(
            f"--gap {args.gap}: a ratio, 0 or more (0 profiles every arm that can be the answer)"
        )
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise BundleError("numpy is not importable here: `python3 -m pip install numpy` (the one thing "
                          "a bundle needs besides Python)") from None  # fmt: skip
    digest = verify(root)
    manifest = load_manifest(root)
    host = identity()
    host["gpus"] = nvidia_gpus()
    cells = [c for c in manifest["cells"] if fnmatch.fnmatchcase(c["job"], args.cells)]
    if not cells:
        raise BundleError(
            f"--cells {args.cells!r} matches none of the bundle's {len(manifest['cells'])} cells"
        )
    name = f"{host['cpu']}, family {host['family']} model {host['model']} stepping {host['stepping']}"
    llvm = f" (LLVM {host['llvm_cpu']})" if host.get("llvm_cpu") else ""
    gpus = "".join(f"; GPU {g['name']} (driver {g['driver']}, compute capability {g['compute_capability']})"
                   for g in host["gpus"])  # fmt: skip
    print(f"this machine: {name}{llvm}, {host['cores']} cores{gpus}", file=sys.stderr)
    if args.list:
        for cell in cells:
            print(f"{cell['job']}  [{cell['device']}]")
        return 0
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = (args.out or root / "results" / f"{slug(host)}-{stamp}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    # What the records were made from, beside them; written by rename (a link there is replaced).
    _replace(out / MANIFEST, (root / MANIFEST).read_bytes())
    _replace(out / "identity.json", (json.dumps(host, indent=1, sort_keys=True) + "\n").encode())
    results = out / "results.jsonl"
    runnable = [c for c in cells if _has_runtime(manifest, c)]
    if not runnable:
        runtime_for(manifest, cells[0]["runtime"], cells[0].get("machine", ""))  # says which it is for
    done_before = _recorded(results, digest, host["identity"])
    if done_before:  # a run interrupted into this folder: what it finished is kept, not redone
        print(f"{len(done_before)} cells already recorded in {results}: not run again", file=sys.stderr)
        cells = [c for c in cells if c["job"] not in done_before]
    print(f"{len(cells)} cells; records go to {results}", file=sys.stderr)
    begun, done, counts = time.monotonic(), 0, {}
    try:
        for cell in cells:
            started, t0 = _now(), time.monotonic()
            try:
                wheel = runtime_for(manifest, cell["runtime"], cell.get("machine", ""))
                runtime = install(root, wheel) if _is_wheel(wheel) else None
                if runtime is not None and not needs_tools(cell):
                    result = _child(root, cell, runtime, args.repetitions, args.timeout)
                else:  # tools built from source, or a wheel's own for raw-bits arrays
                    tools = tools_of(root, wheel, runtime)
                    result = run_cell_tools(root, cell, wheel, tools, args.repetitions, args.timeout)
                    result["by_tools"] = True
            except BundleError as exc:
                wheel, result = {}, {"status": "skip", "message": f"not run: {exc}"}
            _append(
                results, record(manifest, digest, host, cell, wheel, result, started, time.monotonic() - t0)
            )
            done += 1
            counts[result.get("status")] = counts.get(result.get("status"), 0) + 1
            elapsed = time.monotonic() - begun
            eta = elapsed / done * (len(cells) - done)
            print(f"[{done}/{len(cells)} {_hms(elapsed)} ETA {_hms(eta)}] {cell['job']}: "
                  f"{result.get('status')}: {_figure(result)}", file=sys.stderr, flush=True)  # fmt: skip
    except KeyboardInterrupt:
        print(f"interrupted: {done} of {len(cells)} cells recorded in {results}; "
              f"`python3 run.py --out {out}` "
              "runs the rest", file=sys.stderr)  # fmt: skip
        return 130
    said = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"{len(cells)} cells: {said}.")
    if manifest.get("sittings"):
        if args.rounds < 6:
            raise BundleError(f"--rounds {args.rounds}: at least 6 (fewer decide nothing)")
        try:
            over = args.gap if args.gap is not None else float(manifest.get("gap", bundle_gap.GAP))
            _sittings(root, manifest, digest, host, out, args.rounds, over)
        except KeyboardInterrupt:
            print("interrupted in the sitting: the cells' records are kept; run again for the sitting",
                  file=sys.stderr)  # fmt: skip
            return 130
    print(f"Bring {out} home: iree-matrix merge {out.name} --to DIR")
    return 0


def _sittings(
    root: Path, manifest: dict, digest: str, host: dict, out: Path, rounds: int, over: float = bundle_gap.GAP
) -> None:
    """Each model's paired sitting, written as an advice document beside the records."""
    checked = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if data.get("env", {}).get("bundle_sha256") == digest:
            listed = (data.get("metrics") or {}).get("gpu_devices") or []  # a GPU cell's: the runtime's list
            checked[data["job"]] = {"status": data.get("status"), "message": data.get("message"),
                                    "gpu_devices": listed}  # fmt: skip
    _gpu_sittings(root, manifest, digest, host, out, rounds, checked)
    by_model: dict = {}
    for sitting in manifest["sittings"]:
        if not sitting.get("device"):  # a CPU sitting (a GPU's names its HAL driver)
            by_model.setdefault(sitting["model"], []).append(sitting)
    for model, found in by_model.items():
        arms = sum(len(s["arms"]) + (1 if s.get("onnx") else 0) + (1 if s.get("torch") else 0)
                   + len((s.get("proof") or {}).get("neighbours") or ()) for s in found)  # fmt: skip
        calls = int(manifest.get("calls", 3))
        print(f"sitting: {model}, {arms} arms x {rounds} rounds x {calls} calls on one thread",
              file=sys.stderr)  # fmt: skip
        load = {"start": os.getloadavg()[0]}
        started = _now()

        def say(text: str) -> None:
            print(f"  {text}", file=sys.stderr, flush=True)

        functions = [sit(root, manifest, digest, host, s, checked, rounds, calls, say, over) for s in found]
        load["end"] = os.getloadavg()[0]
        document = {
            "schema": 1, "model": model, "release": found[0]["release"], "llvm_cpu": host.get("llvm_cpu", ""),
            "host": {k: v for k, v in host.items() if k != "gpus"}, "rounds": rounds,
            "repetitions": int(manifest.get("calls", 3)), "started": started, "finished": _now(),
            "load_average": load, "functions": functions, "bundle_sha256": digest,
        }  # fmt: skip
        _keep(out, model, started, document)


def _keep(out: Path, model: str, started: str, document: dict, driver: str = "") -> None:
    """One file per sitting, named by when it started (as advise names its own): a second sitting of
    the model is kept beside the first, and readers take the newest; a GPU sitting's name says its
    driver (a CUDA and a Vulkan sitting of one model may start in the same second)."""
    stamp = "".join(ch for ch in started[:19] if ch.isdigit() or ch == "T")
    path = out / f"advice-{named(model, 'model')}.{stamp}{'-' + driver if driver else ''}.json"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    os.replace(partial, path)
    print(f"sitting kept: {path}", file=sys.stderr)


def _gpu_sittings(root: Path, manifest: dict, digest: str, host: dict, out: Path, rounds: int,
                  checked: dict) -> None:  # fmt: skip
    """Each (model, HAL driver)'s GPU sitting, written as a document of its own (it names one GPU);
    where the driver finds no device, said, and no document (the cells' records say it)."""
    cells = {c["job"]: c for c in manifest["cells"]}
    calls = int(manifest.get("calls", 3))
    by_device: dict = {}
    for sitting in manifest["sittings"]:
        if sitting.get("device"):
            by_device.setdefault((sitting["model"], sitting["device"]), []).append(sitting)
    for (model, driver), found in by_device.items():
        if not any(bundle_gpu.present(s, checked) for s in found):
            said = next((checked.get(a["job"], {}).get("message") for s in found for a in s["arms"]), "")
            print(
                f"no GPU sitting of {model} on {driver}: {said or 'its cells did not run'}", file=sys.stderr
            )
            continue
        listed = next((bundle_gpu.listed(s, checked) for s in found if bundle_gpu.listed(s, checked)), [])
        gpu = bundle_gpu.device(driver, listed, host.get("gpus") or [])
        soft = " (a software device: its times are the CPU's, never a GPU's)" if gpu["software"] else ""
        around = sum(len(p["neighbours"]) for s in found for p in s.get("proofs") or ())
        arms = sum(len(s["arms"]) + len(bundle_gpu.PEERS) for s in found) + around
        print(f"sitting: {model} on {gpu['name'] or driver}{soft}, {arms} arms x {rounds} rounds x {calls} "
              "calls, synchronised wall time", file=sys.stderr)  # fmt: skip
        load, started, workers = {"start": os.getloadavg()[0]}, _now(), {}

        def say(text: str) -> None:
            print(f"  {text}", file=sys.stderr, flush=True)

        def worker(release: str, workers: dict = workers) -> _Worker:
            if release not in workers:
                path = "" if release == "peer" else str(install(root, wheel_for(manifest, release)))
                workers[release] = _Worker(root, path)
            return workers[release]

        torch = _importable("torch")
        try:
            functions = [
                bundle_gpu.sit(s, cells, checked, gpu, rounds, calls, say, worker, torch, _neighbours, _proof)
                for s in found
            ]
        finally:
            for each in workers.values():
                each.close()
        load["end"] = os.getloadavg()[0]
        release = max((s["release"] for s in found), key=lambda r: tuple(int(p) for p in r.split(".")[:3]))
        document = bundle_gpu.document(model, release, host, gpu, rounds, calls, started, _now(), load,
                                       functions, digest)  # fmt: skip
        _keep(out, model, started, document, driver)


if __name__ == "__main__":
    sys.exit(main())
