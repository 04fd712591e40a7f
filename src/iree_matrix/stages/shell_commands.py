"""A cell's command lines as shell (variables first, then each step under a comment): what `show JOB
--commands` prints and the docs' `<!-- commands:NAME -->` blocks show, printed from the functions the
stages run, so the docs cannot say other flags than the tool passes; a record's own argv as recorded.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.core import shipped
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.results import Record, dep_of, latest_by_job
from iree_matrix.iree import flags, targets, versions
from iree_matrix.kernel.stages import kernel_seam as seam
from iree_matrix.source_builds import cmake_runtime, cortex_m
from iree_matrix.stages import by_hand
from iree_matrix.stages import compile as compile_stage
from iree_matrix.stages import run as run_stage
from iree_matrix.stages.benchmark_tool import device_argv

_BARE = re.compile(r"^[A-Za-z0-9_@%+=:,./${}*-]+$")


# What may stand in double quotes: text, and `$NAME` / `${NAME}` variables; no command substitution
# (`$(...)`), arithmetic or parameter operators: a word that carries a record's value (a firmware's
# defines) with `$(id)` in it would run it when pasted.
_VARIABLES_ONLY = re.compile(r'(?:[^$"\\`]|\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\}))*')


def shell_word(arg: str) -> str:
    """One argument as shell: bare when it needs no quoting (a `$VAR` and a `*.a` glob expand), in double
    quotes when it has a variable and nothing else that expands, else single-quoted."""
    if arg and _BARE.match(arg):
        return arg
    return f'"{arg}"' if "$" in arg and _VARIABLES_ONLY.fullmatch(arg) else shlex.quote(arg)


def comment(text: str) -> str:
    """`text` as one line of a shell comment: a record's (from another party) may hold a newline."""
    return _CONTROL.sub(" ", text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclasses.dataclass(frozen=True)
class Step:
    """One command: its argv (with the environment it gets), or one line of shell."""

    what: str
    argv: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    shell: str = ""
    # From a record (not this iree-matrix's own commands): every word single-quoted, so that nothing in
    # it expands when pasted — a flag `--x=$(touch X)` printed in double quotes ran it.
    recorded: bool = False

    def text(self) -> str:
        word = shlex.quote if self.recorded else shell_word
        env = "".join(f"{k}={word(v)} " for k, v in self.env)
        line = self.shell or env + " ".join(word(a) for a in self.argv)
        return f"# {comment(self.what)}\n{line}" if self.what else line


@dataclasses.dataclass(frozen=True)
class Commands:
    """Variables (name, value, what it is) and the steps that use them."""

    variables: tuple[tuple[str, str, str], ...]
    steps: tuple[Step, ...]
    recorded: bool = False  # the variables' values come from records: quoted whole, never expanded

    def text(self) -> str:
        """A variable whose value is not known here (`$NAME`): the shell stops at it, saying what it is."""
        word = shlex.quote if self.recorded else shell_word
        known = [(n, v) for n, v, _ in self.variables if v != f"${n}"]
        width = max((len(f"{n}={word(v)}") for n, v in known), default=0)
        head = []
        for name, value, what in self.variables:
            if value == f"${name}":  # in double quotes: nothing of `what` may expand there
                said = re.sub(r'[\\$`"]', "'", comment(what))
                head.append(f': "${{{name}:?set {name}: {said}}}"')
            else:
                line = f"{name}={word(value)}"
                head.append(f"{line:<{width}}  # {comment(what)}" if what else line)
        return "\n".join([*head, *(s.text() for s in self.steps)])


def _copy_found(names: Sequence[str], under: str, into: str) -> Step:
    """What the build does in Python after cmake (`next(work.rglob(name))`, copied): the tools."""
    return Step(
        f"the tools, copied out of the build tree ({', '.join(names)})",
        shell=f'mkdir -p "{into}" && for t in {" ".join(names)}; do '
        f'cp "$(find "{under}" -type f -name "$t" | head -n 1)" "{into}/"; done',
    )


# --- the runtime built from source (cmake_runtime.build_commands) --------------------------------


def runtime_build_steps(
    release: str,
    target: str,
    build_options: Sequence[str] = (),
    *,
    src: str = "$IREE_SRC",
    build: str = "$BUILD",
    host_tools: str = "$HOST_BUILD/tools",
    cmake: str = "$CMAKE",
) -> list[Step]:
    """A `src:<release>[+option...]` runtime's build for `target`, as `build_into` runs it."""
    tc = cmake_runtime.toolchain(target)
    linkage = "static" if "static" in build_options else "dynamic"
    configure, make = cmake_runtime.build_commands(
        src,
        tc,
        linkage,
        f"{build}/build",
        build_options=build_options,
        host_tools=host_tools if tc.cross else None,
        cmake=cmake,
        release_flags=cmake_runtime.release_cmake(release, tc.target),
    )
    name = f"src:{release}{''.join('+' + v for v in build_options)}"
    where = f"cross-compiled for {target}" if tc.cross else f"a native build for {target}"
    return [
        Step(f"runtime-build:{name}/{target}: configure ({where})", tuple(configure)),
        Step("build", tuple(make)),
        _copy_found(cmake_runtime.built_tools(tc), f"{build}/build", f"{build}/tools"),
    ]


# --- compile and run ------------------------------------------------------------------------------


def compile_step(
    compiler: str, arch: str, profile: str = "default", *, mlir: str = "model.mlir", out: str = "."
) -> Step:
    """iree-compile as the compile stage spells it for `arch` (without its statistics dump)."""
    found = flags.BUILTIN_PROFILES[profile]
    target = targets.parse(arch)
    argv = ["iree-compile", mlir, *flags.compile_flags(compiler, arch, found)]
    argv += [*compile_stage.target_outputs(compiler, target, found, out), "-o", f"{out}/module.vmfb"]
    return Step(f"compile: IREE {compiler} for {target.label}, profile {profile}", tuple(argv))


# The docs' commands' model: one float32 output (export.json's "outputs" describe a record's own).
FLOAT32_OUTPUT: tuple[run_stage.Described, ...] = ({"dtype": "float32"},)


def run_step(arch: str, tools: str, *, outputs: Sequence[run_stage.Described] = FLOAT32_OUTPUT) -> Step:
    """iree-run-module as the run stage calls it (one thread; QEMU_CPU pinned for an emulated target),
    each output written as the run stage has it written (`outputs`: export.json's descriptions)."""
    target = targets.parse(arch)
    call = run_stage.call_flags("main", ["input0.npy"])  # the docs' model: one input
    common = [*device_argv("local-sync", 1), "--module=module.vmfb", *call]
    names = [runner_arrays.output_name(i, described) for i, described in enumerate(outputs)]
    argv = run_stage.run_command(f"{tools}/iree-run-module", common, names)
    env = (("QEMU_CPU", target.qemu_cpu),) if target.emulated and target.qemu_cpu else ()
    how = f" under qemu (binfmt_misc; QEMU_CPU={target.qemu_cpu})" if env else ""
    return Step(f"run: the module on {target.label}{how}, outputs to compare with torch's", tuple(argv), env)


# --- the bare-metal firmware (cortex_m) ------------------------------------------------------------


def firmware_steps(
    cpu: str,
    defines: Sequence[str],
    *,
    src: str = "$IREE_SRC",
    runtime: str = "$RUNTIME",
    out: str = "$OUT",
    cmake: str = "$CMAKE",
    quirks: Sequence[str] = (),
) -> list[Step]:
    """A Cortex-M cell after its compile, as the run stage does it: the runtime, the model data and
    linker script (by $PYTHON, one that has iree-matrix), the link and the emulator."""
    (host_cfg, host_make), (cfg, make) = cortex_m.runtime_commands(src, cpu, runtime, cmake, quirks)
    includes = (f"{runtime}/include/src", f"{runtime}/include/build")
    link = cortex_m.link_command(
        cpu,
        defines,
        includes,
        [f"{runtime}/lib/*.a"],
        f"{out}/{cortex_m.KERNELS}",
        f"{out}/model_data.c",
        out,
    )
    writer = (
        "import sys; from pathlib import Path; from iree_matrix.source_builds import cortex_m as c; "
        'o = Path(sys.argv[1]); (o / "firmware.ld").write_text(c.linker_script(c.machine(sys.argv[2]))); '
        'c.model_data(o / "module.vmfb", o / "module.h", [Path(p) for p in sys.argv[4:]], sys.argv[3], o)'
    )
    return [
        Step("the host tools the cross build runs: a native configure", tuple(host_cfg)),
        Step("build", tuple(host_make)),
        _copy_found(cmake_runtime.HOST_TOOLS, f"{runtime}/host-build", f"{runtime}/host-tools"),
        Step(f"IREE's runtime for the {cpu}: cross configure (arm-none-eabi-gcc, newlib)", tuple(cfg)),
        Step("build", tuple(make)),
        Step(
            "its libraries and headers, kept (the tool keeps them in <cache>/cortex-m-runtime/<key>/)",
            shell=_keep_runtime(src, runtime),
        ),
        Step(
            "the module's bytecode and inputs as flash constants (model_data.c) and the linker script",
            ("$PYTHON", "-c", writer, out, cpu, "main", f"{out}/input0.npy"),
        ),
        Step("link the firmware", tuple(link)),
        Step(
            "run it (semihosting prints the outputs as hex)",
            tuple(cortex_m.qemu_command(f"{out}/firmware.elf", cpu)),
        ),
    ]


def _keep_runtime(src: str, runtime: str) -> str:
    """`cortex_m._build`'s copies: the cross build's libraries, the source's and the build's headers."""
    lines = [f'mkdir -p "{runtime}/lib" "{runtime}/include/src" "{runtime}/include/build"']
    lines.append(f'find "{runtime}/build" -name "*.a" -exec cp {{}} "{runtime}/lib/" \\;')
    for tree, kept in ((f"{src}/runtime/src", "src"), (f"{runtime}/build/runtime/src", "build")):
        lines.append(
            f'(cd "{tree}" && find . -name "*.h" -exec cp --parents {{}} "{runtime}/include/{kept}/" \\;)'
        )
    return "\n".join(lines)


# --- the docs' commands ----------------------------------------------------------------------------

PI_ZERO_RELEASE = "3.7.0"  # the docs' Pi Zero commands: a release that needs -DIREE_ENABLE_CPUINFO=OFF
CORTEX_M_RELEASE = "3.9.0"


def _scripts(steps: Sequence[Step]) -> list[Step]:
    """The project's scripts by their path in the repository, not this machine's."""
    here = str(shipped.scripts_dir())

    def ours(text: str) -> str:
        return text.replace(here, "$IREE_MATRIX/scripts")

    return [dataclasses.replace(s, argv=tuple(map(ours, s.argv)), shell=ours(s.shell)) for s in steps]


def pi_zero_commands(release: str = PI_ZERO_RELEASE) -> Commands:
    """A Pi Zero cell's: the native build (its host tools), the static cross build, compile and run."""
    steps = runtime_build_steps(release, "x86_64", build="$HOST_BUILD")
    steps += runtime_build_steps(release, "armv6", ("static",))
    steps += [compile_step(release, "armv6"), run_step("armv6", "$BUILD/tools")]
    variables = (
        ("IREE_MATRIX", "$PWD", "this repository (its scripts/)"),
        ("IREE_SRC", "$PWD/iree", f"IREE's tree at v{release} (\"Getting IREE's source\")"),
        ("CMAKE", "cmake", f"the tool uses PyPI's {cmake_runtime.PYPI_CMAKE} (>= 3.26 for 3.11)"),
        ("HOST_BUILD", "/tmp/iree-host", "the native build"),
        ("BUILD", "/tmp/iree-armv6", "the Pi Zero's"),
    )
    return Commands(variables, tuple(_scripts(steps)))


def cortex_m_commands(
    published: Sequence[Record], release: str = CORTEX_M_RELEASE, cpu: str = "cortex-m4"
) -> Commands:
    """A Cortex-M cell's commands, its runtime's API switches from `published` (`CORTEX_M_SET`'s)."""
    defines = published_defines(release, published)
    steps = [compile_step(release, f"cortex-m:{cpu}", mlir="$OUT/model.mlir", out="$OUT")]
    steps += firmware_steps(cpu, defines)
    variables = (
        ("IREE_MATRIX", "$PWD", "this repository (its scripts/cortex_m/)"),
        ("IREE_SRC", "$PWD/iree", f"IREE's tree at v{release}"),
        ("CMAKE", "cmake", "3.11.0 needs CMake >= 3.26"),
        ("PYTHON", "python3", "one with iree-matrix installed (python3 -m pip install $IREE_MATRIX)"),
        ("RUNTIME", "/tmp/iree-cortex-m", "the runtime's build, libraries and headers"),
        ("OUT", "$PWD/out", "model.mlir and input0.npy (the export's) go here; the module, firmware too"),
    )
    return Commands(variables, tuple(_scripts(steps)))


# The published set whose Cortex-M runs the docs' commands take their runtime's switches from.
CORTEX_M_SET = "cortex-m"


def published_defines(release: str, records: Iterable[Record]) -> list[str]:
    """The API switches the published Cortex-M cells of `release` were built with (read off its headers
    while building)."""
    for record in records:
        if record.stage == "run" and record.label.compiler == release:
            if defines := record.metric.of(RunMetrics).runtime_defines:
                return defines
    raise UserError(f"results/{CORTEX_M_SET}: no Cortex-M run of {release} with its runtime's defines")


def docs_blocks(cortex_m: Sequence[Record]) -> dict[str, str]:
    """Each docs command block by its marker name (`cortex_m`: the records of `CORTEX_M_SET`)."""
    return {
        f"pi-zero-{PI_ZERO_RELEASE}": pi_zero_commands().text(),
        f"cortex-m4-{CORTEX_M_RELEASE}": cortex_m_commands(cortex_m).text(),
    }


DOCS = ("docs/arm.md", "docs/cortex-m.md")
_BLOCK = re.compile(
    r"(<!-- commands:(?P<name>[\w.-]+) -->\n```sh\n)(?P<body>.*?)(```\n<!-- /commands -->)", re.DOTALL
)


def rewrite_docs(text: str, blocks: Mapping[str, str]) -> str:
    def body(m: re.Match[str]) -> str:
        if (name := m.group("name")) not in blocks:
            raise UserError(f"commands:{name}: no such command block (known: {', '.join(blocks)})")
        return m.group(1) + blocks[name] + "\n" + m.group(4)

    return _BLOCK.sub(body, text)


# --- a recorded cell's commands (`iree-matrix show JOB --commands`) ---------------------------------


def _recorded(record: Record, what: str) -> Step:
    if not record.command:
        said = f"{record.status.value}" + (f" ({record.error_class})" if record.error_class else "")
        return Step(f"{record.job}: {what}", shell=f"# no command recorded: {comment(said)}")
    return Step(f"{record.job}: {what} (as recorded)", tuple(record.command), recorded=True)


def built_runtime(
    build: Record, records: Sequence[Record], store: Path, cache: Path
) -> tuple[list[tuple[str, str, str]], list[Step], str]:
    """A stored runtime build's commands (and its native build's, for a cross build): variables,
    steps, and whether its key recomputes from them."""
    release, build_options = versions.parse_source_runtime(build.label.runtime)
    target = build.label.arch
    tc = cmake_runtime.toolchain(target)
    built = build.metric.of(RuntimeBuildMetrics)
    source = built.source
    tree = str(cmake_runtime.source_tree(source, cache)) if source else "$IREE_SRC"
    variables = [
        ("IREE_SRC", tree, f"the source: {build.label.runtime_source or source}"),
        ("CMAKE", str(cmake_runtime.cmake_home(cache) / "bin" / "cmake"), cmake_runtime.PYPI_CMAKE),
        (
            "BUILD",
            str(store / "runtime-build" / build.key),
            "its store entry (the build ran in a staging copy)",
        ),
    ]
    steps: list[Step] = []
    native_key: Optional[str] = None

    def key(native: Optional[str]) -> str:
        return cmake_runtime.job_key(
            source, tc, build.label.linkage, built.toolchain, build_options, release, native
        )

    if tc.cross:
        host = targets.host_arch()
        wanted = ("runtime-build", host, versions.source_runtime(release))
        same = [r for r in records if r.key and (r.stage, r.label.arch, r.label.runtime) == wanted]
        natives = [r for r in same if r.metric.of(RuntimeBuildMetrics).source == source]
        native_key = next((r.key for r in reversed(natives) if key(r.key) == build.key), None)
        chosen = next((r for r in natives if r.key == native_key), natives[-1] if natives else None)
        if chosen is not None:
            host_entry = str(store / "runtime-build" / chosen.key)
            variables.append(("HOST_BUILD", host_entry, f"{chosen.job}: the host tools"))
            steps += runtime_build_steps(release, host, build="$HOST_BUILD")
        else:
            variables.append(
                ("HOST_BUILD", "$HOST_BUILD", "the native build of the same source (none recorded)")
            )
    steps += runtime_build_steps(release, target, build_options)
    verdict = (
        "its key recomputes from these commands' inputs: these are the commands that build ran"
        if key(native_key) == build.key
        else "its key does not recompute (another iree-matrix, or flags since changed): these are "
        f"this iree-matrix's commands for it; the build recorded C flags {built.cflags!r}"
    )
    if where := built.built_in:
        verdict += f"; it ran in {where}"
    return variables, steps, verdict


def cell_commands(record: Record, records: Sequence[Record], store: Path, cache: Path) -> str:
    """Every command the record's cell ran from the export on: the records' as recorded, a runtime
    built here and a firmware as this iree-matrix builds them."""
    latest = latest_by_job(records)
    export, compiled = dep_of(record, latest, "export"), dep_of(record, latest, "compile")
    inputs = {b.record.job: b for b in seam.recorded_builds(record, latest, compiled, store)}
    ahead = (export, *(b.record for b in inputs.values()), compiled)
    chain = [r for r in ahead if r is not None]
    variables: list[tuple[str, str, str]] = []
    steps: list[Step] = []
    notes: list[str] = []

    def add(found: Sequence[tuple[str, str, str]], more: Sequence[Step]) -> None:
        variables.extend(found)
        steps.extend(more)

    for dep in chain:
        if dep is record:
            continue
        made = inputs.get(dep.job)
        shown = [Step(w, a, recorded=True) for w, a in (made.steps if made else ())]
        steps += shown or [_recorded(dep, dep.stage)]
        add(*_ours_instead(dep))
        notes += [made.note] if made else []
        if dep.stage == "compile" and dep.command[1:2] and "/" not in dep.command[1]:
            where = (
                store / "export" / export.key if export is not None and export.key else "the export's entry"
            )
            notes.append(f"the compile ran in a directory holding {where}/{dep.command[1]} by its bare name")
    target = targets.known(record.label.arch)
    build: Optional[Record] = None
    if record.stage == "runtime-build":
        build = record
    elif record.stage == "run" and target is not None and not target.arch.bare_metal:
        # the runtime-build key its runtime tools came from (`<store>/runtime-build/<key>/tools`)
        parts = Path(str((record.env or {}).get("tools") or "")).parts
        key = parts[-2] if len(parts) >= 3 and parts[-3] == "runtime-build" and parts[-1] == "tools" else ""
        build = (
            next((r for r in records if r.stage == "runtime-build" and r.key == key), None) if key else None
        )
    if build is not None:
        found, built, verdict = built_runtime(build, records, store, cache)
        add(found, built)
        notes.append(f"{build.job}: {verdict}")
    if record.stage == "run" and target is not None and target.arch.bare_metal:
        add(*_firmware(record, store, cache))
        notes.append(
            "the firmware's commands are this iree-matrix's (its runtime's key hashes the host's "
            "toolchain, which the record does not hold)"
        )
    elif record.stage != "runtime-build":
        run = _recorded(record, record.stage)
        if record.stage == "run" and target is not None and target.emulated and target.qemu_cpu and run.argv:
            env = (("QEMU_CPU", target.qemu_cpu),)
            run = dataclasses.replace(run, env=env, what=f"{run.what}; under qemu-user through binfmt_misc")
        steps.append(run)
        add(*_ours_instead(record))
        if image := (record.env or {}).get("image"):
            notes.append(f"{record.job} ran in the image {image}")
    notes += by_hand.elsewhere([s.argv for s in steps if s.recorded], cache)
    head = [f"# {comment(n)}" for n in notes]
    return "\n".join([*head, Commands(tuple(variables), tuple(steps), recorded=True).text()])


def _ours_instead(record: Record) -> tuple[list[tuple[str, str, str]], list[Step]]:
    """A compile or run recorded with no command (older failures): this iree-matrix's command for the
    cell, where it can say it (a built-in profile; a pip runtime)."""
    label = record.label
    if record.command or record.stage not in ("compile", "run") or not label.arch:
        return [], []
    if label.profile not in flags.BUILTIN_PROFILES or not label.compiler:
        return [], []
    if (target := targets.known(label.arch)) is None or target.arch.bare_metal:
        return [], []
    said = "no command recorded: this iree-matrix's for the cell"
    if record.stage == "compile":
        step = compile_step(label.compiler, label.arch, label.profile)
        what = f"{said}, {step.what} (pip install iree-base-compiler=={label.compiler})"
        return [], [dataclasses.replace(step, what=what)]
    if not (runtime := label.runtime) or label.runtime_value.source:
        return [], []
    step = run_step(label.arch, "$RUNTIME_BIN")
    where = f"the bin of a venv with iree-base-runtime=={runtime} (pip install iree-base-runtime=={runtime})"
    what = f"{said}: runtime {runtime} given compiler {label.compiler}'s module.vmfb, as above"
    return [("RUNTIME_BIN", "$RUNTIME_BIN", where)], [dataclasses.replace(step, what=what)]


def _firmware(record: Record, store: Path, cache: Path) -> tuple[list[tuple[str, str, str]], list[Step]]:
    cpu = targets.parse(record.label.arch).cpu or ""
    release, _ = versions.parse_source_runtime(record.label.runtime)
    spec = record.label.runtime_source
    try:
        tree = cmake_runtime.source_tree(cmake_runtime.source_digest(spec), cache) if spec else None
    except UserError:
        tree = None
    quirks: tuple[str, ...] = ()
    if tree is not None and (tree / "runtime/src/iree/base/alignment.h").is_file():
        quirks = cortex_m.source_flags(tree)
    elif versions.Version(release) >= versions.Version("3.11.0"):
        quirks = ("-Wno-error=shift-count-overflow",)
    variables = [
        ("IREE_SRC", str(tree) if tree is not None else "$IREE_SRC", f"the source: {spec}"),
        ("CMAKE", "cmake", "a cmake >= 3.26 beside the running Python, else PATH's"),
        ("PYTHON", sys.executable, "this iree-matrix's Python"),
        ("RUNTIME", "$RUNTIME", "the tool keeps the runtime in <cache>/cortex-m-runtime/<key>/"),
        ("OUT", str(store / "run" / record.key) if record.key else "$OUT", "the run's entry"),
    ]
    return variables, firmware_steps(cpu, record.metric.of(RunMetrics).runtime_defines, quirks=quirks)
