"""A kernel's mechanism is one class in kernel/mechanism.py's REGISTRY: a third one is registered here
and nowhere else, kernel.toml's `mechanism` picks it, and the loader, the kernel job's key, the
compile, the run and the printed commands (flags, `show --commands`) take what its hooks give."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix import stages
from iree_matrix.core.model.results import Record, Status
from iree_matrix.kernel import kernels, mechanism
from iree_matrix.kernel.iree import spec_gen
from iree_matrix.kernel.stages import kernel_generated as generated
from iree_matrix.kernel.stages import kernel_seam
from iree_matrix.matrix import spec_file
from tests.unit.test_kernels import _compile_ctx

# A kernel's files are taken only from folders others may enter (core/system/shared_files.py).
pytestmark = pytest.mark.shared_tmp

DATA = Path(__file__).resolve().parents[1] / "data" / "kernels"


class Toy:
    """Neither IREE sample: its file is NAME.toy, its spec must say "toy", and every flag says toy."""

    needs_iree_source, checks_visibility, run_loads, links_built = False, False, True, False
    spec_links = (" attributes {{toy.import}}", ', toy = "{object}"')

    def object_name(self, given: Optional[str], name: str) -> str:
        return given or f"{name}.toy"

    def check_spec(self, spec: str, text: str, built: str) -> None:
        if "toy" not in text:
            raise mechanism.Refused("spec", spec, "a toy's spec says toy")

    def link_flags(self, sources: int) -> Optional[tuple[str, ...]]:
        return ("--toy-link",)

    def provided(self, spec: str) -> tuple[str, ...]:
        return ("toy_function",)

    def compile_flags(self, spec: str, objects: str) -> list[str]:
        return [f"--toy-spec={spec}", f"--toy-objects={objects}"]

    def load_flags(self, built: str) -> tuple[str, ...]:
        return (f"--toy-load={built}",)

    def note(self, entry: Path) -> str:
        return f"the toy took {entry}/objects"


def _toy_dir(tmp_path: Path, spec_says: str = "// a toy\n") -> Path:
    where = tmp_path / "negabs"
    shutil.copytree(DATA / "negabs", where)
    toml = (where / "kernel.toml").read_text().replace('object = "negabs.o"\n', "")
    (where / "kernel.toml").write_text(toml + 'mechanism = "toy"\n')
    (where / "spec.mlir").write_text((where / "spec.mlir").read_text() + spec_says)
    return where


def test_kernel_toml_picks_a_registered_mechanism_and_the_loader_asks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _toy_dir(tmp_path)
    with pytest.raises(kernels.KernelError, match="mechanism = 'toy': expected one of 'embedded', 'plugin'$"):
        kernels.load(where)  # not registered: the registry is what the loader takes
    monkeypatch.setitem(mechanism.REGISTRY, "toy", Toy())
    kernel = kernels.load(where)
    assert (kernel.mechanism, kernel.object) == ("toy", "negabs.toy")  # its object_name
    assert mechanism.recorded(kernel) == {"mechanism": "toy"}  # what its keys and records say
    embedded = kernels.load(DATA / "negabs")
    assert kernel.source_digest() != embedded.source_digest()
    with pytest.raises(kernels.KernelError, match="spec = 'spec.mlir': a toy's spec says toy$"):
        kernels.load(_toy_dir(tmp_path / "plain", spec_says=""))  # its check_spec


def test_the_printed_flags_and_the_stages_take_a_registered_mechanisms_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(mechanism.REGISTRY, "toy", Toy())
    kernel = kernels.load(_toy_dir(tmp_path))
    shown = kernel.shown_directory()
    # What a user is shown to run by hand (an arm's flags, `iree-matrix kernel` answers).
    arm = kernel.arm_flags(["--iree-opt-level=O3"], "3.9.0")
    assert arm["flags"] == ["--iree-opt-level=O3", f"--toy-spec={shown}/spec.mlir", f"--toy-objects={shown}"]
    assert arm["kernel_run"] == [f"--toy-load={shown}/negabs.toy"]
    # The compile and its key.
    job, ctx = _compile_ctx(tmp_path / "ctx", kernel=kernel)
    assert kernel_seam.compile_key(job, ctx)["kernel"]["flags"] == ["--toy-spec", "--toy-objects"]
    part = kernel_seam.compile_part(job, ctx)
    assert part.flags[-2:] == ("--toy-spec=spec.mlir", "--toy-objects=.") and part.needs == (
        "--toy-spec",
        "--toy-objects",
    )
    # The run: it loads the built file (run_loads), so depends on the kernel job, and passes its flags.
    assert kernel_seam.run_part(job, ctx).flags[0].startswith("--toy-load=")
    matrix_file = tmp_path / "m.toml"
    matrix_file.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.9.0"]\n'
        f'models = ["{DATA}/negabs_model.py:negabs"]\nkernels = ["{kernel.directory}"]\n'
    )
    by_id = stages.plan(spec_file.load(matrix_file)).by_id()
    cell = "negabs_model-negabs/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default+k:negabs"
    assert "kernel:negabs/x86_64/host" in by_id[f"run:{cell}"].deps


def test_show_commands_says_where_a_registered_mechanism_took_the_kernels_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(mechanism.REGISTRY, "toy", Toy())
    labels = {"kernel": "negabs", "arch": "x86_64"}
    built = Record(
        "kernel:negabs/x86_64/host",
        "kernel",
        "negabs/x86_64/host",
        "k1",
        Status.OK,
        labels,
        {"mechanism": "toy", "steps": [["zig", "cc", "negabs.c"]]},
    )
    run = Record("run:c+k:negabs", "run", "c+k:negabs", "k2", Status.OK, labels, {})
    [shown] = kernel_seam.recorded_builds(run, {built.job: built, run.job: run}, None, Path("/store"))
    assert shown.record is built and shown.steps == (
        ("kernel:negabs/x86_64/host: kernel, step 1 of 1 (as recorded)", ("zig", "cc", "negabs.c")),
    )
    assert shown.note.endswith("; the toy took /store/kernel/k1/objects")


def test_a_spec_the_tool_writes_says_what_a_registered_mechanism_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel declared by what it replaces takes any registered mechanism; the spec written for it
    says of the built file what the mechanism's `spec_links` say, on each declaration and executable."""
    monkeypatch.setitem(mechanism.REGISTRY, "toy", Toy())
    where = tmp_path / "hswish"
    shutil.copytree(DATA / "hswish", where)
    toml = (where / "kernel.toml").read_text().replace('object = "hswish.o"\n', 'mechanism = "toy"\n')
    (where / "kernel.toml").write_text(toml)
    kernel = kernels.load(where)
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    links = mechanism.of(kernel.mechanism).spec_links
    text, _ = spec_gen.spec(
        ir, {"6": "act Hardswish"}, generated.declarations(kernel), kernel.object, links=links
    )
    assert "func.func private @hswish_kernel(memref<64xf32>, memref<64xf32>) attributes {toy.import}" in text
    assert 'sym_visibility = "private", toy = "hswish.toy"}' in text and "hal.import.static" not in text
