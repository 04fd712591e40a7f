"""Module versions read from real .vmfb files (tests/unit/data/add.mlir compiled by each release
with `iree-compile add.mlir --iree-hal-target-backends=llvm-cpu`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.iree import vmfb

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("2.9.0", {"bytecode": "15.0", "hal": "5", "executables": "embedded_elf_x86_64"}),
        ("3.10.0", {"bytecode": "16.0", "hal": "6", "executables": "embedded_elf_x86_64"}),
        (
            "3.13.0",
            {"bytecode": "17.0", "hal": "7", "features": "0xc", "executables": "embedded_elf_x86_64"},
        ),
    ],
)
def test_versions_of_real_modules(release, expected):
    assert vmfb.module_versions(DATA / f"add_iree{release}.vmfb") == expected


def test_a_file_that_is_not_a_module(tmp_path):
    junk = tmp_path / "junk.vmfb"
    junk.write_bytes(b"not a module at all")
    with pytest.raises(vmfb.NotAModule, match="not an IREE module"):
        vmfb.module_versions(junk)


def test_a_bare_flatbuffer_without_the_zip(tmp_path):
    import zipfile

    with zipfile.ZipFile(DATA / "add_iree3.13.0.vmfb") as archive:
        bare = archive.read("module.fb")
    path = tmp_path / "bare.vmfb"
    path.write_bytes(bare)
    versions = vmfb.module_versions(path)
    assert versions["bytecode"] == "17.0" and versions["hal"] == "7"
    assert "executables" not in versions


def test_part_digests_name_the_bytecode_and_each_executable(tmp_path):
    import hashlib
    import zipfile

    parts = vmfb.part_digests(DATA / "add_iree3.13.0.vmfb")
    assert "module.fb" in parts and any(name.endswith("_embedded_elf_x86_64.so") for name in parts)
    with zipfile.ZipFile(DATA / "add_iree3.13.0.vmfb") as archive:
        assert parts["module.fb"] == hashlib.sha256(archive.read("module.fb")).hexdigest()
    junk = tmp_path / "junk.vmfb"
    junk.write_bytes(b"not a module at all")
    assert vmfb.part_digests(junk) == {}
