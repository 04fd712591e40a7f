"""A configuration and a runtime read from their text and spelled back: byte for byte, for every
spelling the published results and the shipped matrix files hold, so results/ needs no migration."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from iree_matrix.core.model.configuration import Config, NamedCpu, Runtime

ROOT = Path(__file__).resolve().parents[2]
# Fields of records, answers, manifests and search states that hold a configuration's text.
_FIELD = re.compile(r'"(profile|config|name|base|incumbent|candidate|pick)": ?"([^"]*)"')
_RUNTIME = re.compile(r'"runtime": ?"([^"]*)"')
_PROFILES = re.compile(r"^\s*profiles?\s*=\s*(\[[^\]]*\]|\"[^\"]*\")", re.MULTILINE)


@functools.cache
def _published() -> tuple[frozenset[str], frozenset[str]]:
    configs, runtimes = set(), set()
    for path in (ROOT / "results").rglob("*.json*"):
        text = path.read_text(errors="replace")
        # a configuration is one word of knob names: not an arm "im2col on 3.12.0", a package "libstdc++6"
        configs.update(
            v for _, v in _FIELD.findall(text) if re.fullmatch(r"[A-Za-z0-9@._:-]+(\+[A-Za-z0-9._:-]+)*", v)
        )
        runtimes.update(v for v in _RUNTIME.findall(text) if v and " " not in v)
    for path in (ROOT / "matrix").glob("*.toml"):
        for found in _PROFILES.findall(path.read_text()):
            configs.update(re.findall(r'"([^"]+)"', found))
    return frozenset(configs), frozenset(runtimes)


def test_every_published_configuration_is_spelled_back_as_it_was_read():
    configs = _published()[0]
    assert {
        "default",
        "default+k:depthwise3x3",
        "@decomposed+data-tiling+loop-unrolling+k:conv1d_k3",
    } <= configs
    assert any("+cpu-" in c for c in configs) and any(c.endswith("+cpu-x86-64-v3") for c in configs)
    assert [c for c in sorted(configs) if str(Config.parse(c)) != c] == []


def test_every_published_runtime_is_spelled_back_as_it_was_read():
    runtimes = _published()[1]
    assert {"3.9.0", "src:3.9.0+static+Os", "20230209.425"} <= runtimes
    assert [r for r in sorted(runtimes) if str(Runtime.parse(r)) != r] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("default", Config()),
        ("im2col+ukernels", Config(knobs=("im2col", "ukernels"))),
        ("@decomposed", Config("decomposed")),
        ("@decomposed+im2col+k:dw", Config("decomposed", ("im2col",), kernel="dw")),
        ("default+k:depthwise3x3", Config(kernel="depthwise3x3")),
        ("cpu-znver4", Config(cpu=NamedCpu("znver4"))),
        (
            "channels-last+cpu-x86-64-v3+im2col",
            Config(knobs=("channels-last", "im2col"), cpu=NamedCpu("x86-64-v3")),
        ),
        ("im2col+cpu-znver4+k:dw", Config(knobs=("im2col",), cpu=NamedCpu("znver4"), kernel="dw")),
    ],
)
def test_the_parts_are_read_into_their_fields(text, value):
    assert Config.parse(text) == value
    assert str(value) == text or value.cpu_at is None and str(Config.parse(text)) == text


def test_a_changed_copy_is_spelled_as_advise_and_the_records_spell_it():
    pick, znver4 = Config.parse("im2col+vector-256"), NamedCpu("znver4")
    assert str(pick.with_cpu(znver4)) == "im2col+vector-256+cpu-znver4"  # an arm's name: the CPU last
    assert str(pick.with_cpu(znver4).sorted()) == "cpu-znver4+im2col+vector-256"  # a cell's profile
    assert str(Config().with_cpu(znver4)) == "cpu-znver4"
    assert str(pick.with_kernel("dw")) == "im2col+vector-256+k:dw"
    assert str(Config.parse("default+k:dw").without_kernel()) == "default"
    # the CPU's place in the text is no part of the value
    assert Config.parse("channels-last+cpu-x+im2col") == Config.parse("channels-last+im2col+cpu-x")
    assert Config.parse("@decomposed").model("whisper_tiny") == "whisper_tiny@decomposed"


def test_a_runtime_built_here_keeps_its_variant():
    assert Runtime.parse("src:3.9.0+static+Os") == Runtime("3.9.0", True, ("static", "Os"))
    assert Runtime.parse("3.9.0") == Runtime("3.9.0")
    assert str(Runtime("3.10.0", True)) == "src:3.10.0"


def test_a_record_s_labels_give_its_configuration_and_runtime_as_values():
    from iree_matrix.core.model.records import Labels

    labels = Labels(
        model="whisper_tiny@decomposed.encoder", profile="im2col+k:dw", kernel="dw", runtime="src:3.9.0"
    )
    assert labels.config == Config("decomposed", ("im2col",), kernel="dw")
    assert str(labels.config) == "@decomposed+im2col+k:dw"  # the search's candidate name
    assert labels.runtime_value == Runtime("3.9.0", True)
    assert Labels(model="m", profile="default").config == Config()


def test_a_kernel_is_one_change_to_the_search_as_it_always_was():
    """The search's tables count a kernel cell (`default+k:NAME`) as one change, `k:NAME`, beside
    the knobs alone (results/kernels' PERFORMANCE.md lists it so)."""
    from iree_matrix.findings import search

    assert search.parse("default+k:dw").changes == ("k:dw",)
    assert search.parse("@decomposed+im2col+k:dw").changes == ("@decomposed", "im2col", "k:dw")
    assert str(search.parse("im2col+k:dw")) == "im2col+k:dw"


def test_a_point_of_the_search_is_a_set_of_knobs_spelled_in_name_order():
    """The search adds and drops knobs as a set (a named CPU's among them): one point however its
    knobs came, spelled as the search's files and tables spell it."""
    from iree_matrix.findings import search

    point = Config.of({"vector-256", "cpu-znver4", "im2col"}, "decomposed")
    assert point == Config("decomposed", ("im2col", "vector-256"), NamedCpu("znver4"))
    assert str(point) == "@decomposed+cpu-znver4+im2col+vector-256"
    assert point.knob_set == {"cpu-znver4", "im2col", "vector-256"}
    assert (
        point
        == search.parse("@decomposed+vector-256+im2col+cpu-znver4")
        == Config.of(point.knob_set, "decomposed")
    )
    assert Config.of(()) == Config() and str(search.NAIVE_CONFIG) == "generic"
