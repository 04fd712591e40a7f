"""A newcomer on a CPU nobody published (lab/measurements.md, "A newcomer on another CPU"): real
/proc/cpuinfo texts of a Sapphire Rapids, a Zen 4 EPYC 9654, a Google Axion (Neoverse V2), a Pi 4 and a
Pi Zero (tests/unit/data/cpuinfo/README.md cites each) read through IREE_MATRIX_CPUINFO: the identity
each gets, and what `query model` tells that user from the published answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.commands import query as query_command
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.host_identity import here
from iree_matrix.core.system import host
from iree_matrix.findings import advice

ROOT = Path(__file__).resolve().parents[2]
CPUINFO = Path(__file__).parent / "data" / "cpuinfo"
ANSWERS = ROOT / "results" / "answers"


@pytest.fixture
def as_cpu(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Read this machine as the named cpuinfo file (`as_cpu("zen4-epyc9654")`), caches cleared."""

    def clear() -> None:
        host._described.cache_clear()

    def use(name: str) -> None:
        monkeypatch.setenv(host.CPUINFO_ENV, str(CPUINFO / f"{name}.cpuinfo"))
        clear()

    clear()
    yield use
    monkeypatch.delenv(host.CPUINFO_ENV, raising=False)
    clear()


@pytest.mark.parametrize(
    ("name", "machine", "vendor", "family", "model", "cpu"),
    [
        ("sapphirerapids-8488c", "x86_64", "GenuineIntel", "6", "143", "Intel(R) Xeon(R) Platinum 8488C"),
        ("zen4-epyc9654", "x86_64", "AuthenticAMD", "25", "17", "AMD EPYC 9654 96-Core Processor"),
        ("axion-neoverse-v2", "aarch64", "0x41", "8", "0xd4f", "ARM Neoverse-V2 (part 0xd4f)"),
        ("rpi4-cortex-a72", "aarch64", "0x41", "8", "0xd08", "ARM Cortex-A72 (part 0xd08)"),
        ("pi-zero-arm1176", "armv6l", "0x41", "7", "0xb76", "ARMv6-compatible processor rev 7 (v6l)"),
    ],
)
def test_each_real_cpuinfo_reads_as_its_cpu_and_says_it_is_simulated(
    as_cpu, name: str, machine: str, vendor: str, family: str, model: str, cpu: str
) -> None:
    as_cpu(name)
    found = here()
    fields = (found.machine, found.vendor, found.family, found.model, found.cpu)
    assert fields == (machine, vendor, family, model, cpu)
    assert found.cores == 1  # each file holds one processor: the file's count, not this machine's
    # never the identity the real CPU's records carry (its figures are that CPU's, these this machine's)
    assert found.identity.endswith("|simulated") and found.simulated
    assert found.slug().endswith("-simulated")
    assert found.label().endswith(f", 1 core, simulated from {CPUINFO / (name + '.cpuinfo')}")
    assert found.as_dict()["cpuinfo_from"] == str(CPUINFO / f"{name}.cpuinfo")


def test_without_the_variable_this_machine_is_read_and_nothing_says_simulated(as_cpu) -> None:
    found = here()
    assert not found.simulated and "simulated" not in found.identity
    assert "cpuinfo_from" not in host.describe()


def test_a_cpuinfo_file_that_cannot_be_read_is_one_line_naming_the_variable(
    as_cpu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(host.CPUINFO_ENV, str(tmp_path / "nope"))
    with pytest.raises(UserError) as raised:
        host.describe()
    said = str(raised.value)
    assert said.startswith(f"{host.CPUINFO_ENV}={tmp_path / 'nope'}: cannot read it") and "\n" not in said
    assert "unset it" in said


def test_the_nearest_answer_is_of_this_cpus_architecture_only(as_cpu) -> None:
    published = advice.published(ANSWERS)
    assert {a.identity.host.machine for a in published} == {"x86_64"}
    as_cpu("zen4-epyc9654")
    zen4 = advice.answer(published, "mobilenet_v2", here())
    assert zen4 is not None and not zen4.here and zen4.how_near == "the same vendor, family and model"
    assert {a.identity.llvm_cpu for a in zen4.advice} == {"znver4"}
    as_cpu("sapphirerapids-8488c")
    spr = advice.answer(published, "mobilenet_v2", here())
    assert spr is not None and spr.how_near == "the same vendor and family"
    assert {a.identity.llvm_cpu for a in spr.advice} == {"rocketlake"}
    # an aarch64 server and a Pi were shown a Zen 4's x86_64 command as their "nearest" answer
    for arm in ("axion-neoverse-v2", "rpi4-cortex-a72", "pi-zero-arm1176"):
        as_cpu(arm)
        assert advice.answer(published, "mobilenet_v2", here()) is None


def _query(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = query_command.run(query_command.Question("model", name), ROOT / "results")
    assert code == 0
    return capsys.readouterr().out


def test_query_model_on_aarch64_names_the_identities_and_gives_no_x86_command(
    as_cpu, capsys: pytest.CaptureFixture[str]
) -> None:
    as_cpu("axion-neoverse-v2")
    said = _query("mobilenet_v2", capsys)
    assert "x86_64-unknown-linux-gnu" not in said  # no other ISA's flags to copy
    assert "is not published: `iree-matrix advise mobilenet_v2` measures it here" in said
    assert (
        "published answers for mobilenet_v2: AMD family 25 model 1 `znver3` (x86_64, AVX2); AMD family 25 "
        "model 17 `znver4` (x86_64, AVX-512); AMD family 26 model 2 `znver5` (x86_64, AVX-512); Intel family "
        "6 model 167 `rocketlake` (x86_64, AVX-512); this CPU: ARM Neoverse-V2"
    ) in said
    assert "this machine is aarch64: the releases above passed on x86_64" in said


def test_query_model_on_an_unpublished_x86_cpu_says_nearest_and_lists_the_others(
    as_cpu, capsys: pytest.CaptureFixture[str]
) -> None:
    as_cpu("sapphirerapids-8488c")
    said = _query("mobilenet_v2", capsys)
    assert said.startswith("mobilenet_v2: the answer NEAREST identity measured (the same vendor and family)")
    assert "`iree-matrix advise mobilenet_v2` measures them here" in said
    assert "published answers for mobilenet_v2:" in said
    assert "this CPU: Intel(R) Xeon(R) Platinum 8488C" in said
    assert "this machine is" not in said  # x86_64 like the results' runs


def test_an_avx2_only_cpu_is_told_an_avx512_answers_ratios_do_not_hold_for_every_model(
    as_cpu, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 92: a Zen 3 was shown Zen 4's "as fast as ONNX Runtime" for MobileNetV2 with no caveat,
    where its own sitting said 1.74×; the warning was given for releases before 3.12 only."""
    as_cpu("haswell-i7-4800mq")
    assert here().isa == "AVX2"
    said = _query("quartznet5x5", capsys)  # published: 3.9.0 on AVX-512 identities
    assert "NEAREST identity measured" in said
    assert (
        "vector ISA: the answer's identity has AVX-512, this CPU has AVX2 only: its ratios do not hold here "
        "(docs/answers.md); `iree-matrix advise quartznet5x5` measures them here; IREE before 3.12.0 "
        "vectorizes a matmul only along its reduction without AVX-512 (iree-org/iree#24700), so 3.9.0 may "
        "not be the release for you: `iree-matrix advise quartznet5x5 --release 3.13.0` times a newer one "
        "here"
    ) in said
    # An Intel CPU's nearest MobileNetV2 answer is rocketlake's (AVX-512, 3.13.0): warned, no release note
    said = _query("mobilenet_v2", capsys)
    assert "the answer's identity has AVX-512, this CPU has AVX2 only: its ratios do not hold here" in said
    assert "times a newer one" not in said  # (its kernel's `kernel spec … --release 3.13.0` line is no note)
    assert "(x86_64, AVX2); AMD family 25 model 17 `znver4` (x86_64, AVX-512)" in said
    as_cpu("zen4-epyc9654")
    said = _query("quartznet5x5", capsys)
    assert "this CPU has" not in said and "vector ISA: AVX-512, as this CPU's" in said
    as_cpu("axion-neoverse-v2")  # no aarch64 answer is published: none chosen, no ISA compared across
    assert "vector ISA" not in _query("quartznet5x5", capsys)


def test_query_kernel_names_where_each_window_was_measured_and_this_architecture_if_none(
    as_cpu, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = query_command.Question("kernel", "depthwise3x3")
    as_cpu("sapphirerapids-8488c")
    assert query_command.run(asked, ROOT / "results" / "kernels") == 0
    said = capsys.readouterr().out
    assert "x86_64: takes it in" in said
    assert "  measured on AMD EPYC, family 25 model 17 stepping 1 (LLVM znver4), 2 cores\n" in said
    assert "this machine" not in said  # x86_64 was measured
    as_cpu("axion-neoverse-v2")
    query_command.run(asked, ROOT / "results" / "kernels")
    said = capsys.readouterr().out
    assert "aarch64 (this machine): not measured; `iree-matrix advise MODEL --kernel DIR` on it" in said


def test_a_kernel_for_a_cpu_zig_does_not_know_is_refused_before_anything_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from iree_matrix import cli
    from iree_matrix.iree import targets
    from iree_matrix.kernel.iree import custom_dispatch

    # iree-compile takes these; Zig 0.15.1's clang said "error: unknown CPU" for each (tried by hand)
    assert set(custom_dispatch.ZIG_UNKNOWN_X86_64) <= targets.X86_64_LLVM_CPUS
    assert custom_dispatch.kernel_cpu_problem("znver5") is None
    assert custom_dispatch.zig_cpu("core-avx2") == "haswell"  # LLVM's alias, which Zig lists under its name
    assert custom_dispatch.zig_cpu("x86-64-v3") == "x86_64_v3"
    kernel = str(ROOT / "kernels" / "depthwise3x3")
    argv = ["bundle", "--advise", "mobilenet_v2", "--cpu", "znver6", "--kernel", kernel,
            "--results-dir", str(tmp_path / "r"), "--cache", str(tmp_path / "c"), "--list"]  # fmt: skip
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.splitlines()[-1] == (
        "iree-matrix: error: bundle --cpu znver6 --kernel: the kernel's C compiler, Zig 0.15.1's clang, does "
        "not know znver6 (IREE 3.13.0 does): bundle it for --cpu znver5 (the newest of its line Zig knows), "
        "or without the kernel"
    )


def test_an_older_llvms_generic_never_renames_the_cpu_a_newer_one_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IREE 20231113.707 resolves `host` on a Zen 5 to "generic" (with the CPU's features), 2.9.0 and
    newer to "znver5": a run that asked both named this CPU by whichever came last."""
    monkeypatch.setattr(host, "_LLVM", {})
    host.note_llvm("generic", "+avx512f")
    assert host.describe()["llvm_cpu"] == "generic"  # all an old compiler knows: kept until a name comes
    host.note_llvm("znver5", "+avx512f,+avx512vp2intersect")
    host.note_llvm("generic", "+avx512f")
    assert host.describe()["llvm_cpu"] == "znver5"


def test_on_aarch64_an_x86_cpu_for_fleet_or_cpu_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """An aarch64 host compiles for aarch64: `--fleet x86-64-v3` (README's example) or `--cpu znver4` named
    an x86 CPU for every cell of the aarch64 triple. (platform.machine is the real one's: only the
    identity follows IREE_MATRIX_CPUINFO.)"""
    from iree_matrix.iree import targets

    monkeypatch.setattr(targets.platform, "machine", lambda: "aarch64")
    said = targets.host_cpu_problem("x86-64-v3")
    assert (
        said
        == "an x86-64 CPU, and this machine is aarch64: name a CPU of aarch64 (e.g. neoverse-n1, cortex-a72)"
    )
    assert targets.host_cpu_problem("neoverse-n1") is None and targets.host_cpu_problem("host") is None
    monkeypatch.setattr(targets.platform, "machine", lambda: "x86_64")
    assert targets.host_cpu_problem("x86-64-v3") is None
    assert "not an x86-64 CPU that LLVM knows" in (targets.host_cpu_problem("neoverse-n1") or "")


def test_advise_warns_an_avx2_only_cpu_off_an_older_release(as_cpu) -> None:
    from iree_matrix.advise import advise_plan

    published = advice.published(ANSWERS)
    searched = advise_plan.search_picks(ROOT / "results")
    quartznet = advise_plan.choose(advise_plan.Settings(), "quartznet5x5", published, searched)
    mobilenet = advise_plan.choose(advise_plan.Settings(), "mobilenet_v2", published, searched)
    assert (quartznet.release, mobilenet.release) == ("3.9.0", "3.13.0")
    as_cpu("haswell-i7-4800mq")
    said = advise_plan.isa_note(quartznet, here())
    assert said.startswith("this CPU has no AVX-512: IREE 3.9.0, the published answers' release")
    assert "iree-org/iree#24700; fixed in 3.12.0" in said and "`--release 3.13.0`" in said
    assert advise_plan.isa_note(mobilenet, here()) == ""
    as_cpu("zen4-epyc9654")
    assert advise_plan.isa_note(quartznet, here()) == ""


@pytest.mark.parametrize(
    ("name", "llvm"),
    [
        ("sapphirerapids-8488c", "sapphirerapids"),
        ("zen4-epyc9654", "znver4"),
        ("haswell-i7-4800mq", "haswell"),
        ("axion-neoverse-v2", "neoverse-v2"),
        ("rpi4-cortex-a72", "cortex-a72"),
        ("pi-zero-arm1176", "arm1176jzf-s"),
    ],
)
def test_a_bundles_run_py_names_the_cpu_as_the_tool_does(as_cpu, name: str, llvm: str) -> None:
    """run.py (which travels without the tool) reads the same file the same way: its records are filed
    under the identity the tool gives that CPU, their folder named by LLVM's name for it."""
    from iree_matrix.bundle_runner import host as runner_host
    from iree_matrix.core.model.host_identity import HostIdentity

    as_cpu(name)
    theirs, ours = runner_host.identity(), host.describe()
    for key in ("identity", "machine", "cpu", "vendor", "family", "model", "cores", "cpuinfo_from"):
        assert theirs[key] == ours[key], key
    assert theirs["llvm_cpu"] == llvm
    typed = HostIdentity.of(theirs)
    assert typed.consistent  # what merge checks before it files a bundle's records
    assert runner_host.slug(theirs) == typed.slug() and typed.slug().endswith(f"-{llvm}-simulated")


def test_a_faster_export_of_the_model_on_that_identity_is_said_with_its_answer(
    as_cpu, capsys: pytest.CaptureFixture[str]
) -> None:
    """MobileNetV3-small's own export takes 3.39 ms on the Zen 4, its `~fx+decompose` export 2.52 ms
    (torch's mean for each adaptive pool, not torch-mlir's gather): an answer under the profiling bar
    names no gap, so the faster export is said beside it; the route's own answer names none."""
    as_cpu("zen4-epyc9654")
    said = _query("mobilenet_v3_small", capsys)
    assert (
        "    faster by another export (its own sitting): `mobilenet_v3_small~fx+decompose` takes 2.52 ms "
        "(IREE takes 1.13× ONNX Runtime's time): `iree-matrix query model mobilenet_v3_small~fx+decompose`"
    ) in said
    assert said.count("faster by another export") == 1  # an identity's answers read once each
    assert "faster by another export" not in _query("mobilenet_v3_small~fx+decompose", capsys)
