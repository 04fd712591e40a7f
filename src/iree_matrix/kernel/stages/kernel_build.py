"""kernel: a user's C kernel built freestanding by Zig's clang, one job per kernel, target and CPU, the
sources copied into the entry first so what is linked is what is stored. An embedded kernel for ARM with
default-visible entry points is refused (IREE's ARM ELF loaders never fill PLT slots)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import SpecError, StageFailure, UserError
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import host, process_output, processes, shared_files
from iree_matrix.iree import elf, targets, versions
from iree_matrix.iree.flags import target_cpu
from iree_matrix.kernel import mechanism as mechanisms
from iree_matrix.kernel.iree import custom_dispatch
from iree_matrix.kernel.kernels import Kernel
from iree_matrix.kernel.model.metrics import KernelMetrics
from iree_matrix.kernel.stages.kernel_seam import kernel_of
from iree_matrix.matrix.plan import EnvSpec, Job, PlannedFunction
from iree_matrix.source_builds import cmake_runtime
from iree_matrix.stages.artifacts import KERNEL_OBJECTS, KERNEL_SPEC, KERNEL_SPECS
from iree_matrix.stages.base import Context, Stage

_SOURCES = "src"  # the sources as built, kept in the entry
_GENERIC = "generic"  # a profile with no target CPU: the target's baseline


def environment(python: str) -> EnvSpec:
    return EnvSpec("cc", python, (custom_dispatch.CC_REQUIREMENT,), custom_dispatch.CC_ENV_NAME)


def job_cell(kernel: str, arch: str, cpu: Optional[str]) -> str:
    return f"{kernel}/{arch}/{cpu or _GENERIC}"


def job_cpu(job: Job) -> Optional[str]:
    cpu = job.cell.rsplit("/", 1)[-1]
    return None if cpu == _GENERIC else cpu


class KernelStage(Stage):
    name = "kernel"
    rank = 37  # after lower (35), before compile (40)
    optional = True  # only a matrix with kernels plans its jobs
    timeout = 300.0
    metrics = KernelMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        if not (cell := unit.cell).kernel:
            return
        if cell.kernel not in unit.spec.kernels:
            raise SpecError(f"cell {cell.profile_label}: no kernel {cell.kernel!r} in the matrix")
        if (target := targets.parse(cell.arch)).gpu is not None or target.arch.bare_metal:
            raise SpecError(
                f"kernel {cell.kernel!r} on {cell.arch}: a kernel is linked into llvm-cpu executables "
                "of a hosted target (x86_64, aarch64, armv6)"
            )
        cpu = target_cpu(target, unit.spec.profiles[cell.profile])
        env = environment(unit.spec.compiler_python or cell.python)
        labels = Labels(kernel=cell.kernel, arch=cell.arch)
        job_cell_id = job_cell(cell.kernel, cell.arch, cpu)
        unit.planned[self.name] = unit.add(self.name, job_cell_id, (unit.install(env),), labels, env)

    def key(self, job: Job, ctx: Context) -> str:
        kernel, cpu = kernel_of(job, ctx), job_cpu(job)
        plugin = mechanisms.of(kernel.mechanism).needs_iree_source  # its C includes IREE's header
        return self.keyed(
            sources=kernel.source_digest(),
            spec=kernel.spec_digest(),
            env=ctx.env_key_inputs(),  # the C compiler: ziglang's exact wheel
            flags=custom_dispatch.cflags(job.target, cpu, kernel.cflags),
            # `-mcpu=native` means this machine's CPU.
            host=host.identity() if cpu == "host" else None,
            # Its record: the object's functions and every step that built it (an answer prints them).
            records=["object_functions", "steps"],
            # A plugin: IREE's source its header comes from; an ARM object: the visibility check.
            **({"plugin_source": cmake_runtime.source_digest(plugin_source(ctx))} if plugin else {}),
            **({"checks": "arm-visibility"} if _checks_visibility(job, kernel) else {}),
        )

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        kernel = kernel_of(job, ctx)
        how = mechanisms.of(kernel.mechanism)
        env = ctx.environment(job)
        sources = out / _SOURCES
        sources.mkdir(parents=True)
        headers = [p.name for p in kernel.directory.glob("*.h") if p.is_file()]
        copies = [(sources / name, name) for name in {*kernel.sources, *headers}]
        if not kernel.generated:  # a generated spec is written by each compile, from its IR
            copies.append((out / KERNEL_SPEC.path, kernel.spec))
        if kernel.spec_windows:  # every release window's spec by its own name: each compile takes one
            copies += [(out / KERNEL_SPECS.path / n, n) for n in kernel.spec_files()]
        for target, name in copies:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:  # checked again as it is copied: the directory may have changed since it was loaded
                shared_files.copy(kernel.directory / name, target)
            except shared_files.UnsharedFile as exc:
                raise StageFailure("kernel-c-error", str(exc), cacheable=False) from None
        objects = out / KERNEL_OBJECTS.path
        objects.mkdir()
        flags = custom_dispatch.cflags(job.target, job_cpu(job), kernel.cflags)
        tree = _plugin_tree(ctx) if how.needs_iree_source else None
        header = tree / custom_dispatch.PLUGIN_HEADER if tree is not None else None
        reads = [tree / custom_dispatch.PLUGIN_INCLUDE] if tree is not None else []
        flags += [include_flag(r) for r in reads]
        cache = out / "zig-cache"  # Zig's caches, inside the entry's staging (thrown away below)
        run_env = {"ZIG_GLOBAL_CACHE_DIR": str(cache), "ZIG_LOCAL_CACHE_DIR": str(cache)}
        cc = [env.python(), "-m", custom_dispatch.CC_MODULE]

        def run(argv: list[str]) -> processes.Completed:  # the kernel's C is a user's: in the model's sandbox
            options = {"cwd": sources, "writable": [out], "env": run_env, "read_only": reads}
            return env.run(ctx.request(argv, check=False, model_code="kernel", **options))

        seconds = 0.0
        link = how.link_flags(len(kernel.sources))  # None: one source compiled to the object
        made = objects / kernel.object
        # every command run, for the record: a user runs them all
        steps = [
            [*cc, "cc", *flags, "-c", s, "-o", str(sources / f"{s}.o" if link is not None else made)]
            for s in kernel.sources
        ]
        if link is not None:
            steps.append([*cc, "ld.lld", *link, *(step[-1] for step in steps), "-o", str(made)])
        try:
            for argv in steps:
                done = run(argv)
                seconds += done.seconds
                if done.returncode != 0:
                    return _c_error(kernel, done.output, argv)
            version = run([*cc, "version"])
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        argv = steps[-1]
        visible = _checks_visibility(job, kernel)
        exposed = elf.defined_functions(made.read_bytes(), default_visibility=True) if visible else []
        if exposed:
            return _visibility_error(kernel, exposed, argv)
        metrics = KernelMetrics(
            seconds=round(seconds, 3),
            object_bytes=made.stat().st_size,
            object_sha256=file_sha256(made),
            spec_sha256=kernel.spec_digest() if kernel.generated else file_sha256(out / KERNEL_SPEC.path),
            specs_sha256={n: file_sha256(out / KERNEL_SPECS.path / n) for n in kernel.spec_files()}
            if kernel.spec_windows
            else None,
            sources_sha256=kernel.source_digest(),
            object_functions=elf.defined_functions(made.read_bytes()),
            steps=steps,
            cc=f"zig {version.stdout.strip()} ({custom_dispatch.CC_REQUIREMENT})",
            mechanism=mechanisms.recorded(kernel).get("mechanism"),
            plugin_header_sha256=file_sha256(header) if header is not None else None,
        )
        return Outcome(Status.OK, metrics=metrics.written(), command=tuple(argv))


def include_flag(directory: Path) -> str:
    """`--include-directory=DIR`, not `-IDIR`: Docker's argv rewrite of a path under root's home finds it
    only after `=`, a space or a quote."""
    return f"--include-directory={directory}"


def plugin_source(ctx: Context) -> str:
    """The IREE source a plugin kernel's header comes from: the matrix's, else IREE's repository."""
    releases = [c.runtime for c in ctx.spec.cells if versions.is_valid(c.runtime)]
    return ctx.spec.iree_source(max(releases, key=versions.release_order, default="3.9.0"))


def _plugin_tree(ctx: Context) -> Path:
    given = plugin_source(ctx)
    cache = ctx.cache or Path(tempfile.gettempdir())
    try:  # cmake_runtime.source makes one tree at a time (two plugin kernels built at once)
        tree = cmake_runtime.source(given, cache, log=ctx.log).tree
    except UserError as exc:  # no source here (offline, no --iree-source): why it was wanted
        raise StageFailure(
            "plugin-header",
            f"a plugin kernel includes IREE's {custom_dispatch.PLUGIN_HEADER}: {exc}",
            cacheable=False,  # the network or the option, not the kernel: never stored
        ) from None
    if not (tree / custom_dispatch.PLUGIN_HEADER).is_file():
        raise StageFailure(
            "plugin-header",
            f"IREE source {given} has no {custom_dispatch.PLUGIN_HEADER}, which a plugin kernel includes: "
            "give --iree-source a tree, tarball or git+URL@TAG of IREE 3.3.0 or newer",
        )
    return tree


def _checks_visibility(job: Job, kernel: Kernel) -> bool:
    """An embedded kernel's object for ARM: IREE's loader binds no PLT slot (a plugin's is looked up)."""
    how = mechanisms.of(kernel.mechanism)
    return how.checks_visibility and job.target.triple.startswith(("arm", "thumb", "aarch64"))


def _visibility_error(kernel: Kernel, names: list[str], argv: list[str]) -> Outcome:
    """An ARM object whose entry points are default-visibility functions, refused before IREE links it."""
    shown = ", ".join(names)
    message = (
        f"kernel {kernel.name!r}: {shown} {'has' if len(names) == 1 else 'have'} default visibility, so "
        "IREE's ARM ELF loader would call through PLT slots it never fills (a crash at run); declare "
        'them __attribute__((visibility("protected"))) or add "-fvisibility=protected" to cflags'
    )
    return _c_failure(message, argv, first_error=message)


def _c_error(kernel: Kernel, output: str, argv: list[str]) -> Outcome:
    first = custom_dispatch.first_c_error(output) or process_output.excerpt(output, max_lines=3)
    fields = {"first_error": first} if first else {}
    return _c_failure(f"kernel {kernel.name!r} does not compile: {first}", argv, **fields)


def _c_failure(message: str, argv: list[str], **metrics: Any) -> Outcome:
    """A kernel's C refused, the cell's answer (stored: the same sources fail the same way)."""
    written = KernelMetrics(**metrics).written()
    return Outcome(
        Status.FAIL, metrics=written, error_class="kernel-c-error", message=message, command=tuple(argv)
    )


STAGE = KernelStage()
