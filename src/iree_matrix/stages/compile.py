"""compile: the exported MLIR through one IREE compiler, for one target and profile."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import shipped
from iree_matrix.core.atomic_files import read_json
from iree_matrix.core.errors import EnvironmentFault, StageFailure, StageSkipped
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.model import host_identity, store
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.lower import LowerMetrics
from iree_matrix.core.model.outcome import Outcome, from_exception
from iree_matrix.core.model.results import Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import host, process_output, processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.iree import compile_errors, compiler_options, elf, miscompiled, targets, versions, vmfb
from iree_matrix.iree.flags import ARM32_LINKER as ARM32_LINKER_FILES
from iree_matrix.iree.flags import (
    Profile,
    compile_flags,
    is_vmvx,
    llvmcpu_prefix,
    missing_flags,
    opt_level_flags,
    target_cpu,
)
from iree_matrix.kernel.stages import kernel_seam as kernel
from iree_matrix.matrix.plan import EnvSpec, Job, Planned, PlannedFunction
from iree_matrix.matrix.spec import BYTECODE, Cell, onnx_opset
from iree_matrix.source_builds import cortex_m
from iree_matrix.stages import onnx_import
from iree_matrix.stages.artifacts import DISPATCHES, EXPORT_INFO, LOWERED, MLIR, MLIRBC, MODULE, export_digest
from iree_matrix.stages.base import Context, Stage

_STATISTICS = "statistics.json"
_STATISTICS_FLAGS = ("--iree-scheduling-dump-statistics-format", "--iree-scheduling-dump-statistics-file")
_DUMP_BENCHMARKS = "--iree-hal-dump-executable-benchmarks-to"

# `iree-compile --help-hidden` per environment: which flags this compiler has.
_help_texts: dict[str, str] = {}
_help_lock = threading.Lock()


def environment(cell: Cell, python: str = "") -> EnvSpec:
    """`python`: the matrix's `compiler_python` (else the cell's). An `onnx` form's compiler also has
    the `onnx` package its iree-import-onnx imports."""
    onnx = (versions.ONNX_REQUIREMENT,) if onnx_opset(cell.form) is not None else ()
    name = f"iree-compiler{cell.compiler}" + "".join("+" + re.sub(r"[^A-Za-z0-9.]+", "", r) for r in onnx)
    requirements = (versions.compiler_requirement(cell.compiler), *onnx)
    return EnvSpec("compiler", python or cell.python, requirements, name)


class CompileStage(Stage):
    name = "compile"
    rank = 40
    metrics = CompileMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """One compile per export, compiler, target, profile and form, reused by every runtime; a cell
        with a kernel is compiled with it too, after the same cell without it."""
        unit.planned[self.name] = kernel.plan_compiles(unit, lambda k, extra: self._plan(unit, k, extra))

    def _plan(self, unit: PlannedFunction, kernel_name: str, extra: tuple[str, ...]) -> Planned:
        export, cell = unit.planned["export"], unit.cell
        env = environment(cell, unit.spec.compiler_python)
        opset = onnx_opset(cell.form)
        form = cell.form if cell.form == BYTECODE else f"onnx:{opset}" if opset is not None else ""
        # A `linalg:<release>` form reads the lowering's MLIR text: its exporter names the lowering.
        lowered = unit.planned.get("lower")
        source = lowered or export
        profile_label = Config.parse(cell.profile).with_kernel(kernel_name).profile_label
        labels = dataclasses.replace(
            source.labels,
            compiler=cell.compiler,
            arch=cell.arch,
            profile=profile_label,
            form=form,
            kernel=kernel_name,
        )
        cell_id = f"{source.cell}/iree{cell.compiler}/{cell.arch}/{profile_label}"
        if form == BYTECODE:
            cell_id += "/mlirbc"  # the text form's ids stay as they were (an ONNX export's id names it)
        deps = (export.id, *((lowered.id,) if lowered else ()), unit.install(env), *extra)
        return unit.add(self.name, cell_id, deps, labels, env, profile=unit.spec.profiles[cell.profile])

    def _flags(self, job: Job, listing: str = "") -> list[str]:
        """The profile's flags as this compiler spells them; a skip where it lacks one (no listing, a tool
        that prints none or the key's: nothing can be checked, so nothing is skipped)."""
        assert job.profile is not None
        if job.target.gpu is not None:
            flags = gpu_flags(job.label.compiler, job.target, job.profile, listing)
        else:
            flags = compile_flags(job.label.compiler, job.label.arch, job.profile)
        if listing and (missing := missing_flags(job.profile.flags, listing)):
            raise StageSkipped(
                f"profile '{job.profile.name}' uses {', '.join(missing)}, which IREE "
                f"{job.label.compiler}'s iree-compile does not have (iree-compile --help-hidden)"
            )
        return flags

    def key(self, job: Job, ctx: Context) -> str:
        assert job.profile is not None
        fields: dict[str, Any] = {
            "stage": self.name,
            # The MLIR's content, not the export's key: exporters (turbine / torch releases)
            # that write byte-identical MLIR share one compile, and every run of it.
            "mlir": _source_digest(job, ctx),
            "env": ctx.env_key_inputs(),
            "arch": job.label.arch,
            "profile": [job.profile.target_cpu, job.profile.opt_level, list(job.profile.flags)],
            # `target-cpu=host` means this machine's CPU: part of what decides the module.
            "host": host.identity() if self._tunes_for_host(job) else None,
            "outputs": ["statistics"] + ([DISPATCHES.path] if self._profiles_dispatches(job, ctx) else []),
            # Compiled from the MLIR's bare name (`neutral_input`), not its path in some store: the
            # module no longer embeds that path, so its bytes are not those of older keys.
            "input": "bare-name",
        }
        if _onnx(job):  # the ONNX file through this compiler's own importer
            fields["import"] = onnx_import.IMPORTER
        fields.update(kernel.compile_key(job, ctx))  # the kernel's object and spec by content
        if _arm32(job.target):
            # ARM32 kernels also depend on the linker wrapper and on the flags spelled for them
            # (the float ABI); other targets' keys stay as they were, so their modules stay valid.
            fields["linker"] = file_sha256(arm32_linker(job.profile))
            if job.profile.arm32_linker != ARM32_LINKER_FILES:  # what the wrapper links in, too
                scripts = shipped.scripts_dir()
                fields["linker_files"] = [file_sha256(scripts / f) for f in job.profile.arm32_linker]
            fields["flags"] = self._flags(job)
            # What the dispatch code check reads (2: calls to a function with no code) is in the record.
            fields["kernel_checks"] = 2
        return digest(fields)

    @staticmethod
    def _profiles_dispatches(job: Job, ctx: Context) -> bool:
        return ctx.spec.benchmark.opts_in("dispatches", job.label.model, job.label.profile)

    def _tunes_for_host(self, job: Job) -> bool:
        assert job.profile is not None
        return job.target.gpu is None and target_cpu(job.target, job.profile) == "host"

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        assert job.profile is not None
        env = ctx.environment(job)
        listing = _help_text(env)
        flags = self._flags(job, listing)
        if _onnx(job):
            imported = onnx_import.imported(env, job, ctx, out)
            if not isinstance(imported, Path):
                return _failed(*imported)
            mlir: Path = imported
        elif _lowered(job):
            mlir = ctx.read(LOWERED)
        else:
            mlir = ctx.read(MLIRBC if _bytecode(job) else MLIR)  # the bytecode turbine wrote, or the text
        if _bytecode(job) and not mlir.is_file():
            raise StageFailure("no-bytecode", _bytecode_missing(ctx.dep("export")))
        # The kernel's spec, objects and flags (none without one); a generated spec sees this IR.
        part = kernel.compile_part(job, ctx, _ir_runner(env, ctx, out, flags, mlir), out)
        kernel.check_compiler(part, job, listing)
        module = out / MODULE.path
        dispatches = self._profiles_dispatches(job, ctx)
        argv, inputs, reads, run_env = _command(env, job, out, listing, flags, mlir, dispatches, part)
        # In a scratch directory holding the input by its bare name (`neutral_input`), never in the
        # export's entry: a knob's relative output file once overwrote the stored model.mlir there.
        with store.scratch(out, inputs) as cwd:
            # In the model's sandbox: a profile's flags, a kernel's spec and flags are a user's.
            request = ctx.request(
                argv,
                read_only=reads,
                writable=[out, cwd],
                env=run_env,
                check=False,
                cwd=cwd,
                model_code=self.name,
            )
            try:
                done = env.run(request)
            except EnvironmentFault as fault:  # with a kernel's flags and objects, maybe the kernel's
                raise kernel.owned_fault(job, fault) from None
            again = lambda argv: env.run(dataclasses.replace(request, argv=list(argv)))  # noqa: E731
            refused = kernel.judge_compile_failure(part, done, argv, cwd, again)
            unlowered = _unlowered(env, request, done)
        if done.returncode != 0:
            return _failed(refused or _compile_failure(done, job.target), done.output, argv, mlir, unlowered)
        metrics: dict[str, Any] = {
            "seconds": round(done.seconds, 3),
            "module_bytes": module.stat().st_size,
            "module_sha256": file_sha256(module),
            # Per part (bytecode, each executable): where two modules differ, when they do.
            "module_parts_sha256": vmfb.part_digests(module),
        }
        if done.peak_rss_bytes is not None:
            metrics["peak_memory_bytes"] = done.peak_rss_bytes
        metrics.update(_statistics(out / _STATISTICS))
        metrics["module_versions"] = {}
        # A layout vmfb does not know: no versions.
        with contextlib.suppress(OSError, ValueError, IndexError, struct.error):
            metrics["module_versions"] = vmfb.module_versions(module)
        if dispatches:
            metrics.update(_compile_dispatch_benchmarks(env, out / DISPATCHES.path, mlir, ctx))
        if self._tunes_for_host(job):  # what `host` resolved to: reproduce compares it
            metrics.update(_llvm_host(env, ctx, out))
            metrics["host_cpu"] = host_cpu()
        return _judged(job, ctx, out, metrics, argv, part)


def _unlowered(env: Environment, request: ProcessRequest, done: processes.Completed) -> str:
    """The torch op a failed compile left unlowered, where its first error names only a constant: the
    same compile again, printing the IR as the failed pass left it."""
    first = compile_errors.first_error(done.output)
    if done.returncode == 0 or done.killed or not compile_errors.names_a_constant(first):
        return ""
    argv = [*request.argv, *compile_errors.AFTER_FAILURE_FLAGS]
    try:
        again = env.run(dataclasses.replace(request, argv=argv))
    except processes.Timeout:  # the first compile's failure is the cell's answer, not this one's limit
        return ""
    return compile_errors.unlowered_op(again.output)


def _ir_runner(env: Environment, ctx: Context, out: Path, flags: list[str], mlir: Path) -> kernel.RunCompiler:
    """This cell's iree-compile with more arguments, in a scratch directory of its own (what a
    generated spec is written from)."""

    def run(args: Sequence[str]) -> processes.Completed:
        argv = [env.tool("iree-compile"), *neutral_input(mlir), *flags, *args]
        with store.scratch(out / "ir", [mlir]) as cwd:
            request = ctx.request(argv, read_only=[mlir.parent], writable=[out, cwd], check=False, cwd=cwd)
            return env.run(request)

    return run


def _command(
    env: Environment,
    job: Job,
    out: Path,
    listing: str,
    flags: list[str],
    mlir: Path,
    dispatches: bool,
    part: kernel.CompilePart,
) -> tuple[list[str], list[Path], list[Path], dict[str, str]]:
    """iree-compile's command line, the files its scratch directory holds, what it reads, its env."""
    assert job.profile is not None
    extra = []
    if listing and not missing_flags(_STATISTICS_FLAGS, listing):
        extra += [f"{_STATISTICS_FLAGS[0]}=json", f"{_STATISTICS_FLAGS[1]}={out / _STATISTICS}"]
    reads, run_env = [mlir.parent], {}
    extra += target_outputs(job.label.compiler, job.target, job.profile, out)
    if _arm32(job.target):
        reads.append(arm32_linker(job.profile).parent)
        run_env["IREE_MATRIX_PYTHON"] = env.python()
    if dispatches:
        extra.append(f"{_DUMP_BENCHMARKS}={out / DISPATCHES.path}")
    # The kernel's spec and objects by their bare names beside the MLIR, and its flags.
    inputs, reads, extra = [mlir, *part.inputs], [*reads, *part.reads], [*extra, *part.flags]
    argv = [env.tool("iree-compile"), *neutral_input(mlir), *flags, *extra, "-o", str(out / MODULE.path)]
    return argv, inputs, reads, run_env


def _judged(
    job: Job, ctx: Context, out: Path, metrics: dict[str, Any], argv: list[str], part: kernel.CompilePart
) -> Outcome:
    """A compiled module's record: a failure where its kernels are not what the target can run, or a
    user's kernel was not applied."""
    assert job.profile is not None
    module = out / MODULE.path

    def judged(status: Status, error_class: Optional[str] = None, message: Optional[str] = None) -> Outcome:
        checked = CompileMetrics.checked(metrics)
        return Outcome(status, metrics=checked, error_class=error_class, message=message, command=tuple(argv))

    target = job.target
    check = target.arch.code_check
    if check is not None and not is_vmvx(job.profile):  # vmvx: bytecode, no kernel ELF
        # the stored metric's name (docs/glossary.md: dispatch code); its check extracts the kernels
        metrics["kernel"] = dispatch_code_facts(module, out, ctx.log, target.arch)
    metrics["artifact_sha256"] = artifact_digests(out)
    if check is not None and "kernel" in metrics and not metrics["kernel"][target.arch.code_verdict]:
        message = f"the module's kernels are not {check.what} can run: {metrics['kernel']}"
        return judged(Status.FAIL, error_class="kernel-isa", message=message)
    facts, refused = kernel.judge_compile(part, job, ctx, metrics, module)
    metrics.update(facts)
    if refused is not None:
        return judged(Status.FAIL, error_class=refused.error_class, message=refused.message)
    return judged(Status.OK)


def gpu_flags(version: str, target: targets.Target, profile: Profile, listing: str = "") -> list[str]:
    """iree-compile flags for a GPU target: its backend and chip as this compiler spells them (its
    `--help-hidden` listing, else compiler_options.json's), the profile's; a CPU profile is a skip."""
    gpu = target.gpu
    assert gpu is not None
    if not profile.applies_to(version):
        raise StageSkipped(f"profile '{profile.name}' is for IREE {profile.releases}, not {version}")
    llvmcpu = any(f.startswith(("--iree-llvmcpu-", "--iree-llvm-")) for f in profile.flags)
    if profile.target_cpu not in ("host", None) or llvmcpu or is_vmvx(profile):
        raise StageSkipped(
            f"profile '{profile.name}' is a CPU profile; {target.label} is a {gpu.kind} target"
        )
    listed = compiler_options.options_in(listing) if listing else compiler_options.options(version)
    return [
        *gpu.compile_flags(target.cpu, listed or None),
        *opt_level_flags(version, profile),
        *profile.flags,
    ]


def neutral_input(mlir: Path) -> list[str]:
    """The MLIR by its bare name, in a scratch directory that links it (`store.scratch`): iree-compile
    embeds the input's path in the module's debug information, so an absolute path would make the
    module's bytes depend on where the store lives."""
    return [mlir.name]


def artifact_digests(out: Path) -> dict[str, str]:
    """sha256 of every file the compile left beside the module, by path relative to the entry."""
    files = [p for p in sorted(out.rglob("*")) if p.is_file() and p != out / MODULE.path]
    return {p.relative_to(out).as_posix(): file_sha256(p) for p in files}


_LLVM_HOSTS: dict[str, dict[str, str]] = {}  # compiler tool -> what it resolved `host` to


def _llvm_host(env: Any, ctx: Context, out: Path) -> dict[str, str]:
    """LLVM's name for this CPU and the feature string `target-cpu=host` compiles for, asked of this
    compiler once per process (noted in `host`); empty when its IR does not say."""
    if (tool := env.tool("iree-compile")) not in _LLVM_HOSTS:
        probe = out / "llvm-host-probe.mlir"
        probe.write_text(host.LLVM_PROBE_MLIR)
        try:
            argv = [tool, probe.name, *host.LLVM_PROBE_FLAGS]
            request = ProcessRequest(argv, timeout=120, log=ctx.log, writable=[out], check=False, cwd=out)
            done = env.run(request)
            found = host.parse_llvm_target(done.stdout) if done.returncode == 0 else None
        finally:
            probe.unlink(missing_ok=True)
        _LLVM_HOSTS[tool] = {"llvm_host_cpu": found[0], "llvm_host_cpu_features": found[1]} if found else {}
        if found:
            host.note_llvm(*found)
    return _LLVM_HOSTS[tool]


def host_cpu() -> str:
    """This host's CPU as `target-cpu=host` resolves it: its identity (vendor, family / model /
    stepping, every flag), with LLVM's name for it once a compiler was asked."""
    here = host_identity.here()
    return here.identity + (f" ({here.llvm_cpu})" if here.llvm_cpu else "")


def target_outputs(compiler: str, target: targets.Target, profile: Profile, out: Path | str) -> list[str]:
    """The flags a target adds after `compile_flags`: ARM32 kernels link through the wrapper, a
    bare-metal target writes its kernels as a static library in `out`."""
    extra = []
    if _arm32(target):
        extra.append(f"{llvmcpu_prefix(compiler)}embedded-linker-path={arm32_linker(profile)}")
    if target.arch.bare_metal:  # the kernels' object and header, for the firmware
        extra.append(f"{cortex_m.STATIC_OUTPUT_FLAG}={out}/{cortex_m.KERNELS}")
    return extra


def arm32_linker(profile: Profile) -> Path:
    """The wrapper around the compiler's own iree-lld that ARM32 kernels link through."""
    return shipped.scripts_dir() / profile.arm32_linker[0]


def _bytecode(job: Job) -> bool:
    return job.label.form == "bytecode"


def _onnx(job: Job) -> bool:
    return onnx_opset(job.label.form) is not None


def _lowered(job: Job) -> bool:
    """A `linalg:<release>` form: the compile reads the lower stage's MLIR, not the export's."""
    return any(dep.startswith("lower:") for dep in job.deps)


def _source_digest(job: Job, ctx: Context) -> str:
    """The digest of what the compile reads: the lowering's MLIR, else the export's file."""
    if _lowered(job):
        return ctx.dep("lower").record.metric.of(LowerMetrics).mlir_sha256 or ""
    field = "onnx_sha256" if _onnx(job) else "mlirbc_sha256" if _bytecode(job) else "mlir_sha256"
    return export_digest(ctx.dep("export"), field)


def _bytecode_missing(export: Entry) -> str:
    error = (read_json(EXPORT_INFO.of(export)) or {}).get("bytecode_error")
    return f"the exporter wrote no MLIR bytecode: {error}" if error else "the export has no model.mlirbc"


def _arm32(target: targets.Target) -> bool:
    return target.arch.triple.startswith("arm")


def _help_text(env: Environment) -> str:
    """Which flags this compiler has, asked once per environment and process."""
    with _help_lock:
        if env.id not in _help_texts:
            argv = [env.tool("iree-compile"), "--help-hidden"]
            _help_texts[env.id] = env.run(ProcessRequest(argv, timeout=120, check=False)).stdout
        return _help_texts[env.id]


def _statistics(path: Path) -> dict[str, int]:
    """Dispatch and executable counts from the compiler's own scheduling statistics."""
    try:
        aggregate = json.loads(path.read_text())["stream-aggregate"]
        return {
            "dispatch_count": int(aggregate["execution"]["dispatch-count"]),
            "executable_count": int(aggregate["executable"]["executable-count"]),
            "constant_bytes": int(aggregate["global"]["constant-size"]),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # an older compiler, or another layout: the counts are simply not known


def _compile_dispatch_benchmarks(env: Environment, folder: Path, model: Path, ctx: Context) -> dict[str, Any]:
    """Each dumped executable benchmark compiled to its own module (the dump carries its target
    variant); one that does not compile is listed with the compiler's words."""
    sources = sorted(folder.glob("*_benchmark.mlir"))
    attach_resources(sources, model)
    failed = []
    for source in sources:
        argv = [env.tool("iree-compile"), source.name, "-o", source.with_suffix(".vmfb").name]
        done = env.run(ctx.request(argv, writable=[folder], check=False, cwd=folder))
        if done.returncode != 0:
            errors = [ln.split("error: ", 1)[1] for ln in done.output.splitlines() if "error: " in ln]
            error = errors[0] if errors else process_output.excerpt(done.output)
            failed.append({"file": source.name, "error": error})
    return {"dispatch_benchmarks": len(sources) - len(failed), "dispatch_benchmark_failures": failed}


_RESOURCE_REF = re.compile(r"dense_resource<([^>]+)>")


def attach_resources(sources: list[Path], model: Path) -> None:
    """IREE's benchmark dump names constants `dense_resource<name>` but leaves out the blobs: copy in,
    from the exported model's `dialect_resources`, the ones each file refers to."""
    texts = {source: source.read_text() for source in sources}
    if not (wanted := {name for text in texts.values() for name in _RESOURCE_REF.findall(text)}):
        return
    blobs: dict[str, str] = {}
    with open(model, encoding="utf-8", errors="replace") as f:
        in_resources = False
        for line in f:
            if line.startswith("{-#"):
                in_resources = True
            elif in_resources:
                name, sep, value = line.strip().partition(": ")
                if sep and name in wanted:
                    blobs[name] = value.rstrip(",")
    for source, text in texts.items():
        names = [n for n in dict.fromkeys(_RESOURCE_REF.findall(text)) if n in blobs]
        if names and "{-#" not in text:
            entries = ",\n".join(f"      {n}: {blobs[n]}" for n in names)
            source.write_text(
                f"{text}\n{{-#\n  dialect_resources: {{\n    builtin: {{\n{entries}\n    }}\n  }}\n#-}}\n"
            )


def _failed(
    failure: Exception, output: str, argv: list[str], source: Optional[Path] = None, unlowered: str = ""
) -> Outcome:
    """A failed compile as its record: the tool's words, its first error (from the whole output) and
    the model's torch op and Python line at the `source` line it points at (or the op `unlowered`)."""
    outcome = from_exception(failure)
    kernels = isinstance(failure, StageFailure) and failure.error_class == "kernel-rejected"
    named = compile_errors.first_error(output, *([compile_errors.KERNEL_CAUSE] if kernels else []))
    if named is not None and source is not None:
        named = compile_errors.in_model(named, source, unlowered)
    metrics = CompileMetrics.checked({**outcome.metrics, **(named.metrics() if named is not None else {})})
    crop = miscompiled.cannot_compile(source, named.source_op) if named is not None and source else ""
    message = f"{outcome.message or ''}{crop}" if crop else outcome.message
    return dataclasses.replace(outcome, message=message, metrics=metrics, command=tuple(argv))


def _compile_failure(done: processes.Completed, target: targets.Target) -> Exception:
    """IREE's embedded linker runs without libgcc: on ARM32 what the CPU lacks (integer division on
    armv6, f16 conversion) becomes an undefined __aeabi_* symbol. Name them: that is the finding."""
    if missing := elf.undefined_symbols(done.output) if _arm32(target) else []:
        message = f"undefined symbols at link: {', '.join(missing)}\n{process_output.excerpt(done.output)}"
        return processes.failure(done, "link-error", message)
    cpu = compile_errors.unknown_cpu(done.output)  # LLVM's last words name no CPU: say the cause
    return processes.failure(
        done, "compile-error", f"{cpu}\n{process_output.excerpt(done.output)}" if cpu else None
    )


def dispatch_code_facts(module: Path, out: Path, log: Optional[Path], arch: targets.Arch) -> dict[str, Any]:
    """The ARM attributes of the module's dispatch code, and whether the target's CPU runs it."""
    verdict = arch.code_verdict
    if not (kernels := elf.dispatch_code(module, out / "kernels")):
        return {verdict: False, "error": "no embedded kernel ELF found in the module"}
    facts = [elf.arm32_attributes(k, log=log) for k in kernels]
    keep = ("Tag_CPU_arch", "Tag_FP_arch", "Tag_Advanced_SIMD_arch", "float_abi")
    empty_calls = sum(len(elf.arm32_calls_past_text(k.read_bytes())) for k in kernels)
    return {
        verdict: all(f[verdict] for f in facts),
        "elves": len(kernels),
        **{k: facts[0].get(k) for k in keep},
        # Calls to a function with no code (IREE's empty fmaf): the run would fault; run.py says so.
        **({"calls_to_empty_function": empty_calls} if empty_calls else {}),
    }


STAGE = CompileStage()
