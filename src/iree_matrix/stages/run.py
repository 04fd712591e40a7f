"""run: load a compiled module with one IREE runtime's tools (a wheel's, or one built for a board),
check its outputs against torch's on the host, time it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.bundle_runner import base as runner_base
from iree_matrix.bundle_runner import tools as runner_tools
from iree_matrix.core.errors import EnvironmentFault, SpecError, StageFailure, StageSkipped, UserError
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.outcome import Outcome, from_exception
from iree_matrix.core.model.records import tools_runtime
from iree_matrix.core.model.results import Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import host, process_output, processes
from iree_matrix.envs import Environment
from iree_matrix.iree import compile_errors, devices, miscompiled, targets, versions
from iree_matrix.kernel.stages import kernel_seam as kernel
from iree_matrix.matrix.plan import EnvSpec, Job, Planned, PlannedFunction, runs_anywhere
from iree_matrix.matrix.spec import BYTECODE, DEFAULT_DEVICE, Cell, MatrixSpec
from iree_matrix.source_builds import firmware
from iree_matrix.stages import op_timings
from iree_matrix.stages.artifacts import EXPORT_INFO, INPUTS, MLIR, MODULE, REFERENCE, export_digest
from iree_matrix.stages.base import Context, Stage
from iree_matrix.stages.benchmark_tool import benchmark_command, budgeted_repetitions, device_flags, min_time
from iree_matrix.stages.instructions import native_binary

Described = Mapping[str, Any]  # one entry of export.json's "inputs" or "outputs"


def environment(cell: Cell, runtime_dirs: Mapping[str, str] = {}, python: str = "") -> EnvSpec:  # noqa: B006
    arch = targets.parse(cell.arch).run_arch()  # a GPU target's modules run on the host's runtime
    cell = dataclasses.replace(cell, python=python or cell.python)
    if (tools := runtime_dirs.get(arch)) is not None:
        name = f"runtime-dir-{hashlib.sha256(tools.encode()).hexdigest()[:8]}"
        return EnvSpec("runtime", cell.python, (), name, arch, tools)
    if versions.is_source_runtime(cell.runtime):
        name = "iree-" + cell.runtime.replace(":", "")  # iree-src3.9.0+static
        return EnvSpec("runtime", cell.python, (), name, arch, build=cell.runtime)
    requirement = versions.runtime_requirement(cell.runtime)
    return EnvSpec("runtime", cell.python, (requirement,), f"iree-runtime{cell.runtime}", arch)


def call_flags(function: str, inputs: Sequence[Path | str]) -> list[str]:
    """The function and its inputs, as every runtime tool is given them."""
    return [f"--function={function}", *(f"--input=@{p}" for p in inputs)]


def run_command(tool: str, common: Sequence[str], outputs: Sequence[Path | str]) -> list[str]:
    """The checked call (`common`: device, module, `call_flags`), writing each output to a file (what
    the docs' command blocks print too)."""
    return [tool, *common, *(f"--output=@{p}" for p in outputs)]


class RunStage(Stage):
    name = "run"
    rank = 50
    exclusive = True  # it times the module
    metrics = RunMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """One run per compile, runtime and HAL driver (a bytecode form's module is the text's)."""
        compiled, cell, spec = unit.planned["compile"], unit.cell, unit.spec
        if cell.form == BYTECODE:
            return
        env = environment(cell, unit.builder.runtime_dirs, spec.compiler_python)
        if env.tools is not None:
            run_cell = f"{compiled.cell}/{env.name}"
        elif cell.runtime == cell.compiler:
            run_cell = compiled.cell
        else:
            run_cell = f"{compiled.cell}/rt{cell.runtime.replace(':', '')}"  # /rt3.13.0, /rtsrc3.9.0+static
        # No runtime for this target (armv6 without --armv6-runtime): planned anyway, to record why it was
        # skipped. A firmware (bare metal) links the runtime it builds itself: nothing to install.
        bare_metal = targets.parse(cell.arch).arch.bare_metal
        installed = (unit.install(env),) if runs_anywhere(env) and not bare_metal else ()
        deps = (unit.planned["export"].id, compiled.id, *installed, *kernel.run_deps(unit))
        labels = dataclasses.replace(compiled.labels, runtime=cell.runtime)
        if bare_metal:
            if not versions.is_source_runtime(cell.runtime):
                raise SpecError(
                    f"arch {cell.arch!r} with runtime {cell.runtime!r}: a bare-metal target runs IREE's "
                    f'runtime built here from source; name it runtime = ["src:{cell.runtime}"]'
                )
            source = spec.iree_source(versions.parse_source_runtime(cell.runtime)[0])
            labels = dataclasses.replace(labels, runtime_source=source)
        elif env.tools is not None:
            labels = dataclasses.replace(labels, runtime=tools_runtime(env.tools), runtime_tools=env.tools)
        gpu = targets.parse(cell.arch).gpu is not None
        # A GPU target runs on its own HAL driver (targets.Gpu.driver): one run, the cell's plain one.
        for device in spec.benchmark.devices[:1] if gpu else spec.benchmark.devices:
            # The first HAL driver is the cell's plain run; another is the same module on that driver.
            own = device if device != DEFAULT_DEVICE and not gpu else ""
            cell_id = f"{run_cell}/{device}" if own else run_cell
            unit.add(self.name, cell_id, deps, dataclasses.replace(labels, device=own), env)
        unit.planned[self.name] = Planned(run_cell, labels, env, deps)

    def key(self, job: Job, ctx: Context) -> str:
        if job.target.arch.bare_metal:  # a firmware under qemu-system-arm
            module, export = ctx.dep("compile").record.key, export_digest(ctx.dep("export"), "io_sha256")
            return firmware.key(job.target.cpu or "", job.label.runtime_source, module, export)
        if not runs_anywhere(job.env):
            raise StageSkipped(
                f"IREE publishes no {job.env.arch} runtime; pass --{job.env.arch}-runtime DIR "
                "(iree-run-module and iree-benchmark-module built for it)"
            )
        device = job.label.device
        return ctx.timed_key(
            self.name,
            # Only when asked, so every other run keeps its key (and its stored result).
            **({"op_profile": op_timings.SCHEME} if _profiles_ops(job, ctx.spec) else {}),
            # The module by content: profiles whose modules are byte-identical (a null knob) share one
            # timed run. A compile that recorded no digest falls back to its key.
            module=_module_digest(ctx.dep("compile").record),
            # Inputs, torch's outputs and the tolerance by content: exporters that agree on them
            # (and on the MLIR, see compile) share this run.
            export=export_digest(ctx.dep("export"), "io_sha256"),
            # Only another HAL driver than the default is named: every stored local-task run keeps its key.
            **({"device": device} if device else {}),
            # What the cell's kernel adds to the run, by content (none: the key as it was).
            **kernel.run_part(job, ctx).key,
            # A time budget cuts a slow function's repetitions: only a matrix that sets one names it.
            **({"time_budget": budget} if (budget := ctx.spec.benchmark.time_budget) > 0 else {}),
            **({"checked_only": True} if checked_only(job, ctx.spec) else {}),
        )

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        if job.target.arch.bare_metal:
            return _firmware(job, ctx, out)
        env = ctx.environment(job)
        if abi_problem := float_abi_problem(ctx.dep("compile").record.metrics, job.target):
            raise StageFailure("abi-mismatch", abi_problem)
        call = _prepared(env, job, ctx, out)
        # In a container, the peak is its memory cgroup's (under qemu: emulator + program + page
        # cache), measured on the checked call only: what a board's RAM must hold.
        peak: dict[str, Any] = {"peak_memory": True} if getattr(call.env, "backend", "") == "docker" else {}
        try:
            done = call.env.run(ctx.request(call.run_argv, check=False, **call.mounts, **peak))
        except EnvironmentFault as fault:  # with a kernel's object, maybe the kernel's (the seam says)
            raise kernel.owned_fault(job, fault) from None
        if done.returncode != 0:
            return _not_run_here(call, done) or _failed_run(job, ctx, done, call)
        references = [REFERENCE.of(call.export) / f"output{i}.npy" for i in range(len(call.outputs))]
        info = call.info
        check = compare(
            call.outputs, references, atol=info["atol"], rtol=info["rtol"], described=info["outputs"]
        )
        bench_argv, timed = ([], {}) if checked_only(job, ctx.spec) else _timed(call, ctx, done)
        metrics = {**check, **timed, **_facts(call, done, bool(peak))}
        if _profiles_ops(job, ctx.spec) and not job.target.emulated and call.target.gpu is None:
            median = metrics["latency_ms"]["median"]
            metrics["op_profile"] = op_timings.capture(call.env, ctx, bench_argv, median, out, call.mounts)
        status, error_class, message = Status.OK, None, runner_arrays.unchecked_words(check)
        if not check["matches"]:
            words = runner_arrays.mismatch_words(check) + _miscompiled(
                call.export, ctx.dep("compile").record.command
            )
            status, (error_class, message) = Status.MISMATCH, kernel.judge_mismatch(job, words)
        return Outcome(
            status,
            metrics=RunMetrics.checked(metrics),
            message=message,
            error_class=error_class,
            command=tuple(call.run_argv),
        )


@dataclasses.dataclass(frozen=True)
class _Call:
    """A run's setting: the checked call's command line and mounts (the timed calls reuse them)."""

    env: Environment
    export: Entry
    info: Mapping[str, Any]  # the export's export.json
    module: Path
    call: list[str]  # `call_flags`
    target: targets.Target
    found: devices.Devices  # a GPU's devices this runtime sees here (none: it tries, and says why)
    device: str  # the HAL driver the record names
    run_on: str  # what the tools are told: a GPU cell names the device it takes by URI
    outputs: list[Path]
    run_argv: list[str]
    mounts: dict[str, Any]


def _prepared(env: Environment, job: Job, ctx: Context, out: Path) -> _Call:
    """The run's setting: a GPU cell asks this runtime which devices of its kind it sees here."""
    target = job.target
    # Pin the emulated CPU to the board's, so an instruction the board lacks traps here too.
    qemu = {"QEMU_CPU": target.qemu_cpu} if target.emulated and target.qemu_cpu else {}
    export = ctx.dep("export")
    info = json.loads(EXPORT_INFO.of(export).read_text())
    module = ctx.read(MODULE)
    inputs = [INPUTS.of(export) / f"input{i}.npy" for i in range(len(info["inputs"]))]
    call = call_flags(info["function"], inputs)
    # What the cell's kernel adds to every call (checked and timed): what loads it, its runtime flags.
    part = kernel.run_part(job, ctx)
    call[:0] = part.flags
    gpu, found = target.gpu, devices.Devices()
    gpu_env = devices.driver_env(gpu.driver) if gpu is not None else {}
    if gpu is not None:  # which devices of its kind this runtime sees here (none: try, and say why)
        dump = [env.tool("iree-run-module"), f"--dump_devices={gpu.driver}"]
        found = devices.listed(env.run(ctx.request(dump, check=False, env=gpu_env)).output, gpu.driver)
    device = gpu.driver if gpu is not None else job.label.device or DEFAULT_DEVICE
    # A GPU cell names the device it takes (found.chosen: lavapipe before SwiftShader) by URI.
    run_on = found.chosen()[0] or device
    common = [*device_flags(ctx, run_on), f"--module={module}", *call]
    # A dtype numpy lacks (bfloat16) comes back as raw bits (bundle_runner/arrays.py says why).
    outputs = [out / runner_arrays.output_name(i, d) for i, d in enumerate(info["outputs"])]
    run_argv = run_command(env.tool("iree-run-module"), common, outputs)
    # The module's code (a kernel's, a hostile export's) runs in the model's sandbox, seeing the inputs but
    # never torch's outputs. A GPU's device nodes are the host's: its run is not sandboxed.
    mounts: dict[str, Any] = {
        "read_only": [INPUTS.of(export), module.parent, *part.reads],
        "writable": [out],
        "env": {**qemu, **gpu_env},
        "model_code": None if gpu else "run",
    }
    return _Call(env, export, info, module, call, target, found, device, run_on, outputs, run_argv, mounts)


def _not_run_here(call: _Call, done: processes.Completed) -> Optional[Outcome]:
    """No device of a GPU cell's kind here (or one the runtime hides): a skip, not stored; a module the
    runtime refused before it looked for a device is the cross's answer (`_failed_run`)."""
    if call.target.gpu is None or call.found.uris or refusals.is_refusal(done.output):
        return None
    reason = devices.not_run_reason(call.target.gpu.kind, done.output)
    return Outcome(Status.SKIP, message=reason, command=tuple(call.run_argv), cacheable=False)


def _failed_run(job: Job, ctx: Context, done: processes.Completed, call: _Call) -> Outcome:
    """The checked call's failure, classified, in the runtime's own words (a kernel cell's first), as its
    record with the command that met it (`show JOB --commands`); the kernel's retry timing out too."""
    try:
        empty = empty_function_problem(ctx.dep("compile").record.metrics)
        if empty and _crashed(done):  # the crash the compile stage's dispatch code check foresaw
            raise processes.failure(done, "empty-function-call", f"{empty}\n{_runtime_message(done.output)}")

        def again(argv: list[str]) -> str:
            """The checked call with other arguments (a kernel cell's on local-sync)."""
            return call.env.run(ctx.request(argv, check=False, **call.mounts)).output

        said = kernel.run_words(job, done, call.run_argv, again)
        words = f"{said}\n{_runtime_message(done.output)}" if said else _runtime_message(done.output)
        # A kernel of the user's that faulted, else the runtime's own failure.
        crash = kernel.judge_run(job, done, words, _crashed(done))
        raise crash or processes.failure(done, refusals.classify(done.output), words)
    except StageFailure as failure:
        return dataclasses.replace(from_exception(failure), command=tuple(call.run_argv))


def _timed(call: _Call, ctx: Context, done: processes.Completed) -> tuple[list[str], dict[str, Any]]:
    """The benchmark's command line, and the times: the call's wall and process CPU time, and one
    thread's CPU time per call, over the repetitions the matrix's time budget leaves."""
    bench = ctx.spec.benchmark
    # A time budget times a slow function for a few calls; fast calls' repetitions each last the
    # budget's share (`least`), so a pass of them fits in it too.
    repetitions = budgeted_repetitions(done.seconds, bench.repetitions, bench.time_budget)
    least = min_time(bench.time_budget, repetitions)  # what its record's n gives back (least_of)
    budget = {"time_budget_seconds": bench.time_budget} if bench.time_budget > 0 else {}

    def benchmark(device: str) -> tuple[list[str], str]:
        argv = benchmark_command(
            call.env, ctx, call.module, *call.call, device=device, repetitions=repetitions, least=least
        )
        return argv, call.env.run(ctx.request(argv, error_class="benchmark-error", **call.mounts)).stdout

    timed: dict[str, Any]
    if call.target.gpu is not None and call.found.software:
        # A software GPU (lavapipe): no GPU's figure, and minutes a call: the checked call is the one timed.
        bench_argv = benchmark_command(call.env, ctx, call.module, *call.call, device=call.run_on)
        bench_json, timed = "", {"latency_ms": checked_call_ms(done.seconds)}
    else:
        bench_argv, bench_json = benchmark(call.run_on)
        timed = {"latency_ms": latency_ms(bench_json), "process_cpu_ms": latency_ms(bench_json, "cpu_time")}
        timed.update(budget)
    # The load-robust figure beside the wall time: one thread's CPU time per call (a local-sync
    # cell's own benchmark; any other CPU driver's times a second, one-thread benchmark).
    if call.device == "local-sync":
        sync_json = bench_json
    else:  # a GPU module does not run on local-sync
        sync_json = "" if call.target.gpu is not None else benchmark("local-sync")[1]
    if sync_json:
        timed["cpu_ms"] = {**latency_ms(sync_json, "cpu_time"), "threads": 1}
    return bench_argv, timed


def _facts(call: _Call, done: processes.Completed, in_container: bool) -> dict[str, Any]:
    """What a run records beside its check and times."""
    target, found, module, peak = call.target, call.found, call.module, done.peak_rss_bytes
    gpu = target.gpu
    return {
        "module_bytes": module.stat().st_size,
        "module_sha256": file_sha256(module),
        # The outputs' exact values (dtype, shape, bytes): equal digests are equal outputs.
        "outputs_sha256": outputs_digest(call.outputs, call.info["outputs"]),
        "device": call.device,
        # The runtime's own size: what a deployment ships (a wheel's tool, or one built here).
        **_tool_bytes(call.env),
        # iree-run-module's peak resident memory (host venvs: its rusage; Docker: the
        # container's memory cgroup, which under qemu holds the emulator too).
        **({"peak_memory_bytes": peak} if peak is not None else {}),
        **({"peak_memory_of": "container cgroup"} if in_container and peak is not None else {}),
        # Emulated timings are qemu's speed, not the board's: reported apart, never ranked.
        "timing": f"emulated (qemu-user, {target.qemu_cpu or 'default CPU'})"
        if target.emulated
        else f"emulated (software {gpu.kind} device: {found.chosen()[1]})"
        if gpu is not None and found.software
        else "native",
        **({"gpu_devices": list(found.names or found.uris)} if gpu is not None else {}),
    }


def _firmware(job: Job, ctx: Context, out: Path) -> Outcome:
    """A bare-metal run: source_builds/firmware.py links and runs it."""
    given = firmware.Given(ctx.read(EXPORT_INFO), ctx.read(INPUTS), ctx.read(REFERENCE), ctx.read(MODULE))
    return firmware.execute(
        job.target.cpu or "",
        job.label.runtime,
        job.label.runtime_source,
        given,
        out,
        cache=ctx.cache or Path(tempfile.gettempdir()),
        under=ctx.bounds,
        compare=compare,
    )


def _module_digest(compiled: Any) -> str:
    sha = compiled.metric.of(CompileMetrics).module_sha256
    return f"sha256:{sha}" if sha else str(compiled.key)


def _profiles_ops(job: Job, spec: MatrixSpec) -> bool:
    return spec.benchmark.opts_in("op_timings", job.label.model, job.label.profile)


def checked_only(job: Job, spec: MatrixSpec) -> bool:
    """A module on another release's runtime where the matrix times none (`time_cross_runtime`): the
    checked call answers that cell's question (loads, agrees); a timing would be for no table."""
    if job.stage != "run" or job.label.own_runtime:
        return False
    return not (spec.benchmark.time_cross_runtime or _profiles_ops(job, spec))


def float_abi_problem(compile_metrics: Mapping[str, Any], target: targets.Target) -> str:
    """Why the module's kernels' float calling convention is not the target runtime's ("" if it is)."""
    kernel = compile_metrics.get("kernel") if isinstance(compile_metrics, Mapping) else None
    if not isinstance(kernel, Mapping) or target.arch.float_abi is None:
        return ""
    if (got := kernel.get("float_abi")) is None or got == target.arch.float_abi:
        return ""
    return (
        f"the module's kernels use the {got}-float calling convention, the {target.arch.name} runtime "
        f"environment ({target.arch.debian}) the {target.arch.float_abi}-float one: compile for "
        f"{target.arch.triple}"
    )


def _crashed(done: processes.Completed) -> bool:
    """Killed by SIGSEGV: natively, or a guest under qemu-user (which says so and exits 139)."""
    return done.returncode in (-11, 139) or "uncaught target signal 11" in done.output


def empty_function_problem(compile_metrics: Mapping[str, Any]) -> str:
    """Why the module's kernels crash: calls to a function the linker gave no code ("" if none)."""
    kernel = compile_metrics.get("kernel") if isinstance(compile_metrics, Mapping) else None
    calls = kernel.get("calls_to_empty_function") if isinstance(kernel, Mapping) else None
    if not calls:
        return ""
    return (
        f"the module's kernels make {calls} call(s) to a function with no code, just past the end of their "
        "text (the fmaf IREE links into 32-bit ARM kernels has no code there, and a CPU without fused "
        "multiply-add — VFPv2 — turns every llvm.fma into a call to it): such a call runs off the end of the "
        "code and faults; the soft-fmaf profile links a working one"
    )


def compare(
    outputs: Sequence[Path],
    references: Sequence[Path],
    *,
    atol: float,
    rtol: float,
    described: Sequence[Described] = (),
) -> dict[str, Any]:
    """Max abs / relative error of every output against torch's, and whether all are within tolerance:
    the bundle runner's check, one source (`described`: export.json's "outputs")."""
    got, ref = runner_arrays.load_arrays(outputs, described), runner_arrays.load_arrays(references, described)
    try:
        check: dict[str, Any] = runner_arrays.compare(got, ref, atol, rtol, described)
    except runner_arrays.Undecodable:  # raw bits of a dtype neither numpy nor ml_dtypes here decodes
        said = (str(k.get("dtype", "")) for k in described if k.get("saved_as"))
        name = next(said, "") or "an unnamed dtype"
        raise UserError(
            f"the export saved {name} arrays as raw bits (numpy has no such type), and iree-matrix cannot "
            "decode them here to compare: install ml_dtypes beside iree-matrix (pip install ml_dtypes)"
        ) from None
    if "error" in check:
        i = check["index"]
        raise StageFailure(
            "output-shape", f"{outputs[i].name}: shape {got[i].shape}, torch gave {ref[i].shape}"
        )
    return check


def _miscompiled(export: Entry, compiled: Sequence[str]) -> str:
    """What a mismatch adds about the model's ops IREE is known to compute wrongly (iree/miscompiled.py)
    on the CPU the compile's command line names; "" when none."""
    mlir = MLIR.of(export)
    if not mlir.is_file():
        return ""
    where = mlir.with_name(mlir.stem + compile_errors.WHERE_SUFFIX)
    x86 = any(a.startswith("--iree-llvmcpu-target-triple=x86_64") for a in compiled)
    named = (a.split("=", 1)[1] for a in compiled if a.startswith("--iree-llvmcpu-target-cpu="))
    cpu = next(named, "generic" if x86 else "")  # no CPU named: LLVM's generic x86-64
    avx2 = not x86 or "avx2" in (host.describe().get("cpu_features") or ())  # `host`: this machine's
    located = where.read_text() if where.is_file() else ""
    return miscompiled.words(mlir.read_text(errors="replace"), located, cpu, avx2)


def outputs_digest(outputs: Sequence[Path], described: Sequence[Described] = ()) -> str:
    """One sha256 over the arrays' dtypes, shapes and bytes: equal when every value is bit-for-bit."""
    return runner_arrays.outputs_digest(runner_arrays.load_arrays(outputs, described))


def _tool_bytes(env: Environment) -> dict[str, int]:
    """iree-run-module's size on disk, where the tool is a file here (a wheel's: its own binary)."""
    elf = native_binary(env, "iree-run-module")
    return {"iree_run_module_bytes": elf.stat().st_size} if elf is not None else {}


def checked_call_ms(seconds: float) -> Mapping[str, Any]:
    """The one figure of a call on a software GPU: the checked call's wall time (its load included)."""
    ms = seconds * 1000.0
    return dict(median=ms, min=ms, max=ms, stdev=0.0, n=1, of="the checked call (iree-run-module)")


def latency_ms(benchmark_json: str, field: str = "real_time") -> Mapping[str, Any]:
    """Median and spread over iree-benchmark-module's repetitions of `field` (`real_time`, `cpu_time`)."""
    times = runner_tools.benchmark_ms(benchmark_json, field)
    if not times:
        raise StageFailure("benchmark-error", "iree-benchmark-module reported no repetitions")
    return runner_base.summary(times)


# What a killed process's output says of its end, most telling first: a signal, then a status code.
_SIGNAL_WORDS = (
    "uncaught target signal",
    "Segmentation fault",
    "Illegal instruction",
    "Bus error",
    "Floating point exception",
    "Aborted",
    "Killed",
)
_STATUS_WORDS = (
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "UNIMPLEMENTED",
    "FAILED_PRECONDITION",
    "INTERNAL",
    "error",
    "ABORTED",
    "RESOURCE_EXHAUSTED",
    "UNAVAILABLE",
)


def _runtime_message(output: str) -> str:
    """The runtime's reason: signal lines (a crash), then status lines, else the rest of what it said."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    signals = [ln for ln in lines if any(word in ln for word in _SIGNAL_WORDS)]
    if status := [ln for ln in lines if ln not in signals and any(code in ln for code in _STATUS_WORDS)]:
        return "\n".join([*signals, *status][:10])
    rest = process_output.excerpt(output)
    if not signals:
        return rest
    others = [ln for ln in rest.splitlines() if ln.strip() not in signals]
    return "\n".join([*signals, *others])


STAGE = RunStage()
