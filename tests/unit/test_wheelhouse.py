"""Unit tests for wheelhouse targets and environments' pins (no pip, no network)."""

from __future__ import annotations

import dataclasses

from iree_matrix.matrix.wheelhouse import Package, Pins, WheelPlatform

PACKAGES = (
    Package(
        "numpy", "2.1.0", "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "a" * 64, "https://x/n.whl"
    ),
    Package("iree-base-compiler", "3.9.0", "iree_base_compiler-3.9.0.whl", "b" * 64, "https://x/c.whl"),
    Package("Torch", "2.13.0", "torch-2.13.0-cp311-cp311-linux_x86_64.whl", "c" * 64, "file:///w/t.whl"),
)


PY311 = WheelPlatform("3.11")


def _pins(packages=PACKAGES, target=PY311) -> Pins:
    return Pins(("torch==2.13.0", "iree-base-compiler==3.9.0"), target, tuple(packages))


def test_abi():
    assert WheelPlatform("3.9").abi == "cp39"
    assert WheelPlatform("3.11").abi == "cp311"
    assert WheelPlatform("3.13", machine="aarch64").abi == "cp313"


def test_platforms_x86_64():
    tags = WheelPlatform("3.11", "x86_64", (2, 36)).platforms()
    perennial = [f"manylinux_2_{m}_x86_64" for m in range(36, 16, -1)]
    assert tags == perennial + [
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
        "linux_x86_64",
    ]
    assert tags[0] == "manylinux_2_36_x86_64"
    assert tags[len(perennial) - 1] == "manylinux_2_17_x86_64"
    assert len(tags) == len(set(tags))


def test_platforms_aarch64_has_no_legacy_x86_tags():
    tags = WheelPlatform("3.11", "aarch64", (2, 28)).platforms()
    assert tags == [f"manylinux_2_{m}_aarch64" for m in range(28, 16, -1)] + [
        "manylinux2014_aarch64",
        "linux_aarch64",
    ]
    assert not any("manylinux1" in t or "manylinux2010" in t for t in tags)


def test_pip_options_name_the_target():
    opts = WheelPlatform("3.12", "x86_64", (2, 17)).pip_options()
    assert opts[:6] == ["--python-version", "3.12", "--implementation", "cp", "--abi", "cp312"]
    assert opts[-1] == "--only-binary=:all:"
    platforms = [opts[i + 1] for i, o in enumerate(opts) if o == "--platform"]
    assert platforms == WheelPlatform("3.12", "x86_64", (2, 17)).platforms()


def test_pins_json_round_trip():
    pins = _pins(target=WheelPlatform("3.10", "aarch64", (2, 31)))
    back = Pins.from_json(pins.to_json())
    assert back == pins
    assert back.target.glibc == (2, 31)
    assert isinstance(back.requirements, tuple)
    assert back.digest == pins.digest


def test_digest_is_stable_under_package_order():
    assert _pins(PACKAGES).digest == _pins(tuple(reversed(PACKAGES))).digest
    assert len(_pins().digest) == 64


def test_digest_changes_with_a_sha256():
    changed = (dataclasses.replace(PACKAGES[0], sha256="d" * 64),) + PACKAGES[1:]
    assert _pins(changed).digest != _pins().digest


def test_digest_changes_with_the_target_or_a_version():
    assert _pins(target=WheelPlatform("3.12")).digest != _pins().digest
    bumped = (dataclasses.replace(PACKAGES[0], version="2.1.1"),) + PACKAGES[1:]
    assert _pins(bumped).digest != _pins().digest


def test_versions_sorted_by_name():
    assert list(_pins().versions().items()) == [
        ("iree-base-compiler", "3.9.0"),
        ("numpy", "2.1.0"),
        ("Torch", "2.13.0"),
    ]


FAKE_PIP = """
import json, sys
argv = sys.argv[1:]
report = argv[argv.index("--report") + 1]
newest = "networkx!=3.6.1" not in argv
item = {"metadata": {"name": "networkx", "version": "3.6.1" if newest else "3.4.2",
                     "requires_python": ">=3.11" if newest else ">=3.10"},
        "download_info": {"url": "file:///m/networkx-%s-py3-none-any.whl" % ("3.6.1" if newest else "3.4.2"),
                          "archive_info": {"hashes": {"sha256": "0" * 64}}}}
json.dump({"install": [item]}, open(report, "w"))
"""


def test_a_release_whose_requires_python_excludes_the_target_is_resolved_away(tmp_path):
    """A flat local index without data-requires-python lets pip pick networkx 3.6.1 for Python 3.10;
    its metadata says >=3.11, so the pins take the newest release that admits 3.10."""
    import sys

    from iree_matrix.matrix.wheelhouse import Wheelhouse

    fake = tmp_path / "pip.py"
    fake.write_text(FAKE_PIP)
    house = Wheelhouse(tmp_path / "wh", pip=(sys.executable, str(fake)))
    assert house.pin(["networkx"], WheelPlatform("3.10")).versions() == {"networkx": "3.4.2"}
    assert house.pin(["networkx"], WheelPlatform("3.11")).versions() == {"networkx": "3.6.1"}
    assert house.pin(["networkx"], WheelPlatform("3.10")).requirements == ("networkx",)


def test_the_pins_keep_their_first_name_where_stored(tmp_path):
    """The pins were "lock" until the word was left to file locks (docs/glossary.md): a cache's
    wheelhouse/locks/*.json and an install's lock.json stay where stores already hold them, and a
    stage key keeps hashing the pins' digest under "lock" (a renamed key would run every stage
    again)."""
    from iree_matrix import envs
    from iree_matrix.matrix.wheelhouse import PINS_FILE, Wheelhouse

    house = Wheelhouse(tmp_path / "wh")
    path = house.pins_path(["numpy"], PY311)
    assert path.parent == tmp_path / "wh" / "locks" and path.suffix == ".json"
    path.parent.mkdir(parents=True)
    path.write_text(_pins().to_json())  # as an older iree-matrix stored it
    assert house.cached_pins(["numpy"], PY311) == _pins()
    assert PINS_FILE == "lock.json"
    assert envs.key_inputs({"backend": "venv", "lock_digest": _pins().digest})["lock"] == _pins().digest
