"""Kernels by IREE's second mechanism, a plugin the runtime loads (`mechanism = "plugin"`), and the
refusal of ARM objects whose entry points have default visibility (pure logic, fakes): kernel.toml's
checks, the plan (the run depends on the kernel job, whose plugin it loads), the flags each
mechanism gives iree-compile and the runtime, and the ELF symbol table's visibility."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from iree_matrix import stages
from iree_matrix.core.model.results import Status
from iree_matrix.iree import elf, targets
from iree_matrix.kernel import kernels, mechanism, spec_text
from iree_matrix.kernel.iree import custom_dispatch, spec_gen
from iree_matrix.kernel.stages import kernel_build as kernel_stage
from iree_matrix.kernel.stages import kernel_seam
from iree_matrix.matrix import plan, spec_file
from iree_matrix.stages import Context
from tests.unit.builders import stage_labels

# A kernel's files are taken only from folders others may enter (core/system/shared_files.py).
pytestmark = pytest.mark.shared_tmp

DATA = Path(__file__).resolve().parents[1] / "data" / "kernels"
PLUGIN = DATA / "negabs_plugin"
REPO = Path(__file__).resolve().parents[2]
EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"


def _plugin_dir(tmp_path: Path, text: str = "", spec_extra: str = "") -> Path:
    where = tmp_path / "negabs_plugin"
    shutil.copytree(PLUGIN, where)
    toml = (where / "kernel.toml").read_text()
    if text.startswith("mechanism"):  # in place of the file's own
        toml = toml.replace('mechanism = "plugin"\n', "")
    (where / "kernel.toml").write_text(toml + text)
    (where / "spec.mlir").write_text((where / "spec.mlir").read_text() + spec_extra)
    return where


def test_a_plugin_kernel_reads_and_names_its_imports() -> None:
    kernel = kernels.load(PLUGIN)
    assert (kernel.mechanism, kernel.object) == ("plugin", "negabs_plugin.so")
    assert spec_text.spec_imports((PLUGIN / "spec.mlir").read_text()) == ("negabs_workgroup",)
    assert kernels.load(DATA / "negabs").mechanism == "embedded"  # the default: linked into the module
    shipped = kernels.load(REPO / "kernels" / "depthwise3x3_plugin")
    assert shipped.mechanism == "plugin" and shipped.spec_for("3.3.0") == kernels.GENERATED
    # the depthwise blocks' and the stem's functions, as ../depthwise3x3 declares them for MobileNetV2
    embedded = kernels.load(REPO / "kernels" / "depthwise3x3")
    said = [(d.function, d.module, d.args) for d in embedded.declared if "mobilenet_v2" in d.models]
    assert [(d.function, d.module, d.args) for d in shipped.declared] == said
    assert shipped.spec_digest() != embedded.spec_digest()  # the same declaration, another spec


def test_a_generated_spec_for_a_plugin_declares_imports_and_names_no_object() -> None:
    """The tool writes a plugin kernel's spec as the embedded one without what links the object (no
    `objects`, no hal.import.static), which the loader's check of a hand-written plugin spec takes."""
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    declared = [spec_gen.Declaration("hswish", "hswish_kernel", module="act")]
    modules = {"6": "act Hardswish"}
    plugin = mechanism.of("plugin")
    text, protos = spec_gen.spec(ir, modules, declared, "hswish.so", links=plugin.spec_links)
    linked, same = spec_gen.spec(ir, modules, declared, "hswish.o")  # an embedded kernel's, the default
    assert protos == same and "hal.import.static" in linked and '{path = "hswish.o"}' in linked
    plugin.check_spec("spec.mlir", text, "hswish.so")  # no Refused
    assert spec_text.spec_imports(text) == ("hswish_kernel",) and "hswish.so" not in text
    dropped = linked.replace(" attributes {hal.import.static}", "")
    assert text == re.sub(r",\n    objects = #hal\.executable\.objects<.*?\n    \}>", "", dropped, flags=re.S)


def test_a_plugins_digest_differs_from_the_same_sources_linked(tmp_path: Path) -> None:
    """The same sources built as a plugin are another object; an embedded kernel's digest is unchanged."""
    where = _plugin_dir(tmp_path)
    kernel = kernels.load(where)
    embedded = kernels.Kernel(kernel.name, kernel.directory, kernel.sources, kernel.spec, kernel.object)
    assert kernel.source_digest() != embedded.source_digest()


@pytest.mark.parametrize(
    ("text", "spec_extra", "said"),
    [
        ('mechanism = "dlopen"\n', "", "mechanism = 'dlopen': expected one of 'embedded', 'plugin'"),
        ("", '\n// #hal.executable.object<{path = "x.o"}> in a comment is fine\n', ""),
        ("", '\n#o = #hal.executable.object<{path = "x.o"}>\n', "a plugin's spec declares the kernel's"),
        ("", "\nfunc.func private @f() attributes {hal.import.static}\n", "no hal.import.static"),
    ],
)
def test_a_plugins_mistakes_are_one_line(tmp_path: Path, text: str, spec_extra: str, said: str) -> None:
    where = _plugin_dir(tmp_path, text, spec_extra)
    if not said:
        assert kernels.load(where).mechanism == "plugin"
        return
    with pytest.raises(kernels.KernelError) as caught:
        kernels.load(where)
    message = str(caught.value)
    assert said in message and str(where / "kernel.toml") in message and "\n" not in message


def test_a_plugins_object_is_a_so_and_defaults_to_its_name(tmp_path: Path) -> None:
    where = _plugin_dir(tmp_path)
    toml = where / "kernel.toml"
    toml.write_text(toml.read_text().replace('object = "negabs_plugin.so"\n', ""))
    assert kernels.load(where).object == "negabs_plugin.so"
    toml.write_text(toml.read_text() + 'object = "negabs.o"\n')
    with pytest.raises(
        kernels.KernelError, match=r"object = 'negabs.o': expected a bare file name ending in \.so"
    ):
        kernels.load(where)


def test_each_mechanism_gives_its_flags() -> None:
    embedded = mechanism.of("embedded").compile_flags("spec.mlir", ".")
    assert embedded == [
        "--iree-preprocessing-transform-spec-filename=spec.mlir",
        "--iree-hal-executable-object-search-path=.",
    ]
    assert mechanism.of("plugin").compile_flags("spec.mlir", ".") == embedded[:1]
    assert custom_dispatch.run_flag("/s/k.so") == "--executable_plugin=embedded:/s/k.so"
    # IREE's standalone plugin link: a shared ELF with every relocation applied at load.
    assert {"-shared", "-nostdlib", "--no-undefined"} <= set(custom_dispatch.PLUGIN_LDFLAGS)


def test_a_plugin_cells_run_depends_on_the_kernel_job(tmp_path: Path) -> None:
    where = _plugin_dir(tmp_path)
    matrix_file = tmp_path / "m.toml"
    matrix_file.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.9.0"]\n'
        f'models = ["{DATA}/negabs_model.py:negabs"]\nkernels = ["{where}"]\n'
    )
    by_id = stages.plan(spec_file.load(matrix_file)).by_id()
    cell = f"negabs_model-negabs/{EXPORTER}/iree3.9.0/x86_64/default"
    assert "kernel:negabs_plugin/x86_64/host" in by_id[f"run:{cell}+k:negabs_plugin"].deps
    assert not any(d.startswith("kernel:") for d in by_id[f"run:{cell}"].deps)
    for job in by_id.values():
        stage_labels(job.labels, job.id, job.stage)


def test_the_plugins_header_comes_from_the_newest_runtimes_source() -> None:
    class Cell:
        def __init__(self, runtime: str) -> None:
            self.runtime = runtime

    class Spec:
        cells = [Cell("3.9.0"), Cell("3.13.0"), Cell("src:3.9.0+static")]

        @staticmethod
        def iree_source(release: str) -> str:
            return f"source of {release}"

    ctx = Context(Spec(), None, None, {}, 60.0, Path("log"))  # type: ignore[arg-type]
    assert kernel_stage.plugin_source(ctx) == "source of 3.13.0"


# --- default visibility on ARM --------------------------------------------------------------------

STB_GLOBAL, STT_FUNC, STV_DEFAULT, STV_HIDDEN, STV_PROTECTED = 1, 2, 0, 2, 3


def _elf(wide: bool, symbols: list[tuple[str, int, int, int]]) -> bytes:
    """A relocatable ELF holding a symbol table of (name, binding, visibility, section index)."""
    strings = b"\0" + b"".join(name.encode() + b"\0" for name, *_ in symbols)
    entries, at = [], 1
    for name, binding, visibility, shndx in symbols:
        info = binding << 4 | STT_FUNC
        if wide:
            entries.append(struct.pack("<IBBHQQ", at, info, visibility, shndx, 0, 0))
        else:
            entries.append(struct.pack("<IIIBBH", at, 0, 0, info, visibility, shndx))
        at += len(name) + 1
    null_symbol = b"\0" * (24 if wide else 16)
    table = null_symbol + b"".join(entries)
    header_size, section_format = (64, "<IIQQQQIIQQ") if wide else (52, "<IIIIIIIIII")
    strings_at, table_at = header_size, header_size + len(strings)
    sections_at = table_at + len(table)
    sections = [
        struct.pack(section_format, *([0] * 10)),
        struct.pack(section_format, 0, 3, 0, 0, strings_at, len(strings), 0, 0, 1, 0),  # SHT_STRTAB
        struct.pack(section_format, 0, 2, 0, 0, table_at, len(table), 1, 1, 8, len(null_symbol)),
    ]
    fields = (1, 40, 1, 0, 0, sections_at, 0, header_size, 0, 0, len(sections[0]), 3, 0)
    header_format = "<HHIQQQIHHHHHH" if wide else "<HHIIIIIHHHHHH"
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1, 1]) + b"\0" * 9
    return ident + struct.pack(header_format, *fields) + strings + table + b"".join(sections)


@pytest.mark.parametrize("wide", [False, True])
def test_default_visibility_functions_are_found(wide: bool) -> None:
    blob = _elf(wide, [
        ("exposed", STB_GLOBAL, STV_DEFAULT, 1),
        ("bound", STB_GLOBAL, STV_PROTECTED, 1),
        ("hidden", STB_GLOBAL, STV_HIDDEN, 1),
        ("local", 0, STV_DEFAULT, 1),
        ("undefined", STB_GLOBAL, STV_DEFAULT, 0),
    ])  # fmt: skip
    assert elf.defined_functions(blob) == ["exposed", "bound", "hidden"]
    assert elf.defined_functions(blob, default_visibility=True) == ["exposed"]
    assert elf.defined_functions(b"not an elf", default_visibility=True) == []


def _job(arch: str) -> Any:
    return plan.Job(
        "kernel", f"k/{arch}/generic", (), {"kernel": "k", "arch": arch}, kernel_stage.environment("3.11")
    )


def test_arm_embedded_objects_are_checked_and_refused_in_one_line() -> None:
    embedded, plugin = kernels.load(DATA / "negabs"), kernels.load(PLUGIN)
    assert kernel_stage._checks_visibility(_job("armv6"), embedded)
    assert kernel_stage._checks_visibility(_job("aarch64:cortex-a72"), embedded)
    assert not kernel_stage._checks_visibility(_job("x86_64"), embedded)  # its loader fills the PLT
    # A plugin exports its query function by design: the runtime looks it up, never calls a PLT slot.
    assert not kernel_stage._checks_visibility(_job("armv6"), plugin)
    refused = kernel_stage._visibility_error(embedded, ["negabs_workgroup"], ["zig", "cc"])
    assert (refused.status, refused.error_class) == (Status.FAIL, "kernel-c-error")
    message = refused.message or ""
    assert "negabs_workgroup has default visibility" in message and "\n" not in message
    assert 'visibility("protected")' in message and "-fvisibility=protected" in message
    assert targets.parse("armv6").triple.startswith("arm")


def test_a_plugin_compile_is_keyed_by_its_own_flags(tmp_path: Path) -> None:
    """A plugin kernel's compile gives iree-compile the spec alone: its key says so, and differs from
    the same object and spec linked."""
    from iree_matrix.stages.compile import CompileStage
    from tests.unit.test_kernels import _compile_ctx

    plugin = kernels.load(PLUGIN)
    job, ctx = _compile_ctx(tmp_path, kernel=plugin)
    assert kernel_seam.compile_key(job, ctx)["kernel"]["flags"] == [
        "--iree-preprocessing-transform-spec-filename"
    ]
    embedded_job, embedded_ctx = _compile_ctx(tmp_path, kernel=kernels.load(DATA / "negabs"))
    assert len(kernel_seam.compile_key(embedded_job, embedded_ctx)["kernel"]["flags"]) == 2
    assert CompileStage().key(job, ctx) != CompileStage().key(embedded_job, embedded_ctx)


def test_the_plugin_headers_include_flag_is_rewritten_for_a_container() -> None:
    """On Docker the plugin header's directory (under root's home) is mounted under /mnt/host and the
    argv rewritten to match; the old `-IDIR` spelling was left the host's, so the armv6 plugin did not
    compile there ('executable_plugin.h' file not found)."""
    from iree_matrix.core.system import containers

    src = Path("/root/.cache/iree-matrix/iree-src/k/iree/runtime/src")
    mapping = {str(src): containers.HOST_MOUNTS + str(src)}
    flag = kernel_stage.include_flag(src)
    assert containers._translate(flag, mapping) == f"--include-directory=/mnt/host{src}"
    assert containers._translate(f"-I{src}", mapping) == f"-I{src}"  # why the spelling changed
