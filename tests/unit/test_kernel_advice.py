"""`advise --kernel DIR`: a user's kernel swapped into `default` and each pick is one more arm of
the sitting, and the answer takes it only where the sitting calls it faster than the configuration
alone beyond noise, applied and matching torch; a kernel that is not taken is named, with its ratio
or with why it has none (its spec matched nothing, its outputs differ from torch's)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from iree_matrix.advise import advise_plan, advise_sitting, paired_rounds
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import stats
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import advice, search
from iree_matrix.kernel import kernels as kernel_files
from iree_matrix.kernel.findings import kernel_trials
from iree_matrix.kernel.tasks import kernel_ir
from iree_matrix.report import answers as answers_md
from tests.unit import builders

from .test_advice import PICK, ZEN5, _arm, _sitting

NEGABS = Path(__file__).resolve().parents[1] / "data" / "kernels" / "negabs"
# How answers name it: relative to the checkout, never this machine's absolute path (issue 67).
SHOWN = "tests/data/kernels/negabs"
KERNEL = f"{PICK}+k:dw"
SPEC_FLAG = "--iree-preprocessing-transform-spec-filename=/k/dw/spec.mlir"
BUILD = "cd /k/dw && python -m ziglang cc -target x86_64-freestanding-none -mcpu=native -c dw.c -o dw.o"


def _with_kernel(factors, base=PICK, **extra):
    """The fake sitting with a kernel arm on `base` whose round times are `base`'s times × `factors`."""
    doc = _sitting(about=ZEN5)
    arms = doc["functions"][0]["arms"]
    base_ms = next(a["ms"] for a in arms if a["config"] == base)
    ms = [x * f for x, f in zip(base_ms, factors)] if factors else []
    arm = _arm(
        f"{base}+k:dw" if base != "default" else "default+k:dw", advice.KERNEL, ms, config=base, base=base,
        kernel="dw", kernel_dir="/k/dw", kernel_build=BUILD, kernel_object="/cache/store/kernel/k1/objects",
        applied=True, module_sha256="kk", flags=["--iree-llvmcpu-target-cpu=host", SPEC_FLAG],
    )  # fmt: skip
    arm.update(extra)
    arms.append(arm)
    return doc


FASTER = (0.60, 0.62, 0.61, 0.63, 0.60, 0.59, 0.62, 0.61)
NOISE = (1.01, 0.99, 1.0, 1.01, 0.99, 1.0, 1.01, 0.99)


def test_a_kernel_faster_than_the_pick_is_taken_with_its_flags_files_and_proof():
    (a,) = advice.derive(_with_kernel(FASTER))
    assert a.config == PICK and a.kernel is not None and a.kernel.taken
    assert a.kernel.kernel == "dw" and a.kernel.directory == "/k/dw" and a.kernel.build == f"({BUILD})"
    assert SPEC_FLAG in a.flags  # the answer's flags are the kernel arm's: the pick's, spec, search path
    assert a.kernel.against_base is not None and a.kernel.against_base.value == pytest.approx(0.61, abs=0.01)
    assert a.kernel.against_base.paired.verdict == stats.FASTER
    # Every figure of the answer is the kernel arm's, from the same sitting.
    assert a.over_default is not None and 1 / a.over_default.value == pytest.approx(3.5 / 0.61, rel=0.02)
    assert a.vs_peer is not None and a.vs_peer.value == pytest.approx(1.65 * 0.61, rel=0.02)
    assert a.ms == pytest.approx(advice.Arm.of(_with_kernel(FASTER)["functions"][0]["arms"][-1]).median)
    text = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "mobilenet_v2"))
    assert f"take IREE 3.13.0 with `{PICK}` and the kernel `dw` (/k/dw)" in text
    # in a subshell: the compile after it starts where its relative paths do (a sitting kept the line bare)
    assert f"build its object: ({BUILD})" in text and SPEC_FLAG in text
    assert (
        f"kernel `dw` with `{PICK}`: 1.64× faster than `{PICK}` alone (takes 0.61× its time, rounds" in text
    )
    assert "8 paired rounds, p = " in text and "): taken" in text
    as_json = advice.as_json(a)
    assert as_json["kernel"]["taken"] and as_json["kernel"]["time_over_base"]["verdict"] == stats.FASTER
    assert as_json["kernel"]["build"] == f"({BUILD})" and SPEC_FLAG in as_json["flags"]


def test_a_kernel_no_faster_beyond_noise_is_timed_and_said_but_not_taken():
    (a,) = advice.derive(_with_kernel(NOISE))
    assert a.kernel is None and a.config == PICK and SPEC_FLAG not in a.flags
    (trial,) = a.kernel_trials
    assert not trial.taken and trial.against_base is not None
    said = kernel_trials.kernel_text(trial)
    assert said.startswith(f"kernel `dw` with `{PICK}`: 1.00× `{PICK}`'s time alone (rounds 0.99–1.01")
    assert "no difference" in said and said.endswith("not taken")
    slower = advice.derive(_with_kernel([1.2 + 0.01 * i for i in range(8)]))[0]
    assert slower.kernel is None and "slower: not taken" in kernel_trials.kernel_text(slower.kernel_trials[0])


def test_a_kernel_that_mismatches_torch_is_never_taken_however_fast():
    (a,) = advice.derive(
        _with_kernel(FASTER, matches=False, error="mismatch: kernel-mismatch: max abs error 0.5")
    )
    assert a.kernel is None and a.config == PICK
    said = kernel_trials.kernel_text(a.kernel_trials[0])
    assert "outputs differ from torch's: never taken" in said and "0.5" in said


def test_a_kernel_whose_spec_matched_nothing_is_named_and_never_taken():
    why = "kernel-not-applied: kernel 'dw' was not applied: its transform spec matched nothing in this model"
    (a,) = advice.derive(_with_kernel((), applied=False, error=why, module_sha256=""))
    assert a.kernel is None
    said = kernel_trials.kernel_text(a.kernel_trials[0])
    assert "not applied (its spec matched nothing in this model): never taken" in said
    assert advice.as_json(a)["kernel_trials"][0]["applied"] is False


def test_a_kernel_is_judged_against_the_answers_configuration_only():
    """A kernel on `default` that beats `default` says nothing of the pick + kernel: the answer is
    the pick (faster than default), and a kernel arm of another configuration is not its trial."""
    doc = _with_kernel([0.5] * 8, base="default")
    (a,) = advice.derive(doc)
    assert a.config == PICK and a.kernel is None and a.kernel_trials == ()


def test_answers_md_names_the_kernel_its_build_and_its_proof():
    (a,) = advice.derive(_with_kernel(FASTER))
    md = "\n".join(answers_md.render([a]))
    assert f"IREE 3.13.0 `{KERNEL}`" in md  # the table's "take" cell
    assert "With the kernel `dw` (`/k/dw`: its kernel.toml, sources and spec)" in md
    assert BUILD in md and SPEC_FLAG in md
    assert f"- kernel `dw` with `{PICK}`: 1.64× faster" in md
    assert "# run model.vmfb with" not in md  # an embedded kernel without run_flags: a plain run
    (stacked,) = advice.derive(_with_kernel(FASTER, kernel_run=["--task_worker_stack_size=196608"]))
    md = "\n".join(answers_md.render([stacked]))
    run = "iree-run-module --task_worker_stack_size=196608 --module=model.vmfb ..."
    assert f"# run model.vmfb with: {run}" in md


def test_an_answer_whose_spec_file_is_gone_says_so_before_the_commands_it_measured():
    """kernels/depthwise3x3's hand-written spec.mlir left (the tool writes it now): an answer measured
    with it keeps its commands as measured, after a line that says the file is gone; not one whose
    spec file is there."""
    (a,) = advice.derive(_with_kernel(FASTER))  # SPEC_FLAG names /k/dw/spec.mlir: no such file
    gone = "# measured with /k/dw/spec.mlir, since gone: `iree-matrix advise mobilenet_v2` times the kernel"
    assert gone in "\n".join(answers_md.render([a])) and gone in "\n".join(
        advice.lines(advice.Chosen((a,), True, ""), "m")
    )
    there = f"--iree-preprocessing-transform-spec-filename={NEGABS / 'spec.mlir'}"
    (b,) = advice.derive(_with_kernel(FASTER, flags=["--iree-llvmcpu-target-cpu=host", there]))
    assert "since gone" not in "\n".join(answers_md.render([b])) and there in "\n".join(
        answers_md.render([b])
    )


def test_a_generated_specs_answer_prints_the_command_that_writes_it_and_compiles_with_that_file():
    """A kernel whose spec the tool writes from the module's IR has no spec file in its directory:
    the answer prints `iree-matrix kernel spec` for the pick's model, release and profile first."""
    generated = "--iree-preprocessing-transform-spec-filename=/k/dw/generated"
    (a,) = advice.derive(_with_kernel(FASTER, flags=["--iree-llvmcpu-target-cpu=host", generated]))
    md = "\n".join(answers_md.render([a]))
    made = f"kernel spec mobilenet_v2 --release 3.13.0 --profile {PICK} --kernel /k/dw > kernel-spec.mlir"
    assert f"iree-matrix {made}" in md and generated not in md
    assert "--iree-preprocessing-transform-spec-filename=kernel-spec.mlir -o model.vmfb" in md
    assert md.index(made) < md.index("iree-compile model.mlir")
    # advise's own answer the same (it named the spec `/k/dw/generated`, a file no one has)
    text = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "mobilenet_v2"))
    assert f"    iree-matrix {made}\n    iree-compile " in text and generated not in text


def test_a_kernel_meant_for_a_model_is_meant_for_its_export_variant_and_recipe_not_another_model():
    kernel = dataclasses.replace(kernel_files.load(NEGABS), models=("whisper_tiny",))
    assert kernel.for_model("whisper_tiny") and kernel.for_model("whisper_tiny@decomposed")
    assert kernel.for_model("whisper_tiny~fx+decompose") and kernel.for_model("whisper_tiny@decomposed~fx")
    assert not kernel.for_model("mobilenet_v2") and not kernel.for_model("whisper_tiny_v2")


def test_advise_plans_each_kernel_with_default_and_each_pick_not_the_naive_build():
    kernel = kernel_files.load(NEGABS)
    plan = advise_plan.SittingPlan("3.13.0", (advise_plan.Pick.named("im2col", "3.13.0", "--picks"),), ())

    def kernel_arms(plan, kernels):
        listed = advise_plan.arms(plan, kernels, "m")
        return [(a.name, a.kernel, a.base) for a in listed if a.kind == advice.KERNEL]

    names = kernel_arms(plan, {"negabs": kernel})
    assert names == [("default+k:negabs", "negabs", "default"), ("im2col+k:negabs", "negabs", "im2col")]
    import dataclasses

    neighbours = plan.only([p.config for p in plan.picks], "a proof")
    assert kernel_arms(neighbours, {"negabs": kernel}) == []  # a proof's neighbours are built alone
    only = dataclasses.replace(kernel, models=("other",))
    assert kernel_arms(plan, {"negabs": only}) == []
    listed = advise_plan.arms(plan, {"negabs": kernel}, "m")
    kinds = [advice.DEFAULT, advice.NAIVE, advice.PICK, advice.KERNEL, advice.KERNEL]
    assert [a.kind for a in listed] == kinds
    last = listed[-1]  # its base, release, configuration, where it comes from
    assert (last.base, last.pick.release, last.pick.name) == ("im2col", "3.13.0", "im2col")
    assert last.pick.config == search.parse("im2col") and last.source.startswith("--kernel ")


def _built(*steps: tuple[str, ...], kept: bool = True) -> Record:
    """A kernel job's record whose build ran `steps` (the last is its `command`); `kept`: its record
    lists them (a record made before `steps` were kept has the last alone)."""
    metrics = {"steps": [list(s) for s in steps]} if kept else {}
    return _record("kernel", "kernel:negabs/x86_64/host", metrics=metrics, command=steps[-1])


CC = (
    "/cache/envs/cc/bin/python",
    "-m",
    "ziglang",
    "cc",
    "-target",
    "x86_64-freestanding-none",
    "-mcpu=native",
)
STAGING = "/cache/store/.staging/x"


def test_the_kernel_jobs_command_is_said_as_a_user_runs_it_in_the_kernels_directory():
    kernel = kernel_files.load(NEGABS)
    recorded = (*CC, "-O3", "-c", "negabs.c", "-o", f"{STAGING}/objects/negabs.o")
    expected = (
        f"(cd {SHOWN} && python -m ziglang cc -target x86_64-freestanding-none -mcpu=native -O3 -c negabs.c "
        "-o negabs.o)"
    )
    assert advise_sitting.build_command(_built(recorded), kernel) == expected
    assert advise_sitting.build_command(_built(recorded, kept=False), kernel) == expected


def test_a_kernel_of_two_sources_is_said_with_each_compile_then_the_link():
    """Issue 67: the answer said only the link of a kernel of several sources (its record's command
    is the last step), which fails where no source was compiled; every step is said, in order, as
    one line a user runs in the kernel's directory."""
    import dataclasses

    kernel = dataclasses.replace(kernel_files.load(NEGABS), sources=("negabs.c", "helper.c"))
    steps = (
        (*CC, "-O3", "-c", "negabs.c", "-o", f"{STAGING}/src/negabs.c.o"),
        (*CC, "-O3", "-c", "helper.c", "-o", f"{STAGING}/src/helper.c.o"),
        (CC[0], "-m", "ziglang", "ld.lld", "-r", f"{STAGING}/src/negabs.c.o", f"{STAGING}/src/helper.c.o",
         "-o", f"{STAGING}/objects/negabs.o"),
    )  # fmt: skip
    said = advise_sitting.build_command(_built(*steps), kernel)
    cc = "python -m ziglang cc -target x86_64-freestanding-none -mcpu=native -O3"
    assert said == (
        f"(cd {SHOWN} && {cc} -c negabs.c -o negabs.c.o && {cc} -c helper.c -o helper.c.o && "
        "python -m ziglang ld.lld -r negabs.c.o helper.c.o -o negabs.o)"
    )
    assert "\n" not in said and "/cache/" not in said
    # A record from before steps were kept, or whose steps are not as written: its last step alone.
    assert advise_sitting.build_command(_built(*steps, kept=False), kernel).endswith(
        "&& python -m ziglang ld.lld -r negabs.c.o helper.c.o -o negabs.o)"
    )
    broken = dataclasses.replace(_built(*steps), metrics={"steps": [["cc", 3], list(steps[-1])]})
    assert advise_sitting.build_command(broken, kernel).count("&&") == 1


def _record(stage, job, status=Status.OK, labels=None, metrics=None, **extra):
    return Record(
        job, stage, job.split(":", 1)[1], "key" + stage, status, labels or {}, metrics or {}, **extra
    )


def test_the_sitting_times_a_kernel_arm_and_names_one_whose_spec_matched_nothing(monkeypatch, tmp_path):
    """advise's sitting with the timing faked: the pick's kernel arm is timed beside the pick with
    the kernel's flags and files; default's, whose compile found the spec matched nothing, is
    named so (never timed: no module of its own). A flag the kernel requires that the pick has
    already is said once."""
    import dataclasses

    im2col = "--iree-global-opt-use-im2col-for-convs=true"
    kernel = dataclasses.replace(kernel_files.load(NEGABS), requires_flags=(im2col,))

    def run(profile, sha, status=Status.OK, blocked_by=None):
        labels = {"model": "m", "source_model": "m", "function": "main", "compiler": "3.13.0",
                  "runtime": "3.13.0", "profile": profile, "arch": "x86_64"}  # fmt: skip
        metrics = {"module_sha256": sha, "matches": True, "cpu_ms": {"median": 10.0, "n": 3}}
        return _record("run", f"run:m/{profile}", status, labels, metrics if status is Status.OK else {},
                       blocked_by=blocked_by)  # fmt: skip

    not_applied = _record(
        "compile", "compile:m/default+k:negabs", Status.FAIL, error_class="kernel-not-applied",
        message="kernel 'negabs' was not applied: its transform spec matched nothing in this model",
    )  # fmt: skip
    records = [
        run("default", "d"), run("generic", "g"), run("im2col", "i"), run("im2col+k:negabs", "ik"),
        run("default+k:negabs", "", Status.NOT_RUN, blocked_by=not_applied.job), not_applied,
        _record("compile", "compile:m/im2col+k:negabs", metrics={"custom_kernel": {"applied": True}}),
        _record("kernel", "kernel:negabs/x86_64/host", labels={"kernel": "negabs", "arch": "x86_64"},
                command=("/env/bin/python", "-m", "ziglang", "cc", "-c", "negabs.c", "-o", "/s/o/negabs.o")),
    ]  # fmt: skip
    sat = builders.fake_sittings(monkeypatch, tmp_path)
    plan = advise_plan.SittingPlan("3.13.0", (advise_plan.Pick.named("im2col", "3.13.0", "--picks"),), ())
    planned = advise_plan.arms(plan, {"negabs": kernel}, "m")
    sitter = advise_sitting.Sitter(paired_rounds.Request(6, 1), "m", tmp_path)
    document = advise_sitting.run(sitter, planned, records, kernels={"negabs": kernel})
    assert sat == [("default", "generic", "im2col", "im2col+k:negabs")]
    arms = {a["name"]: a for a in document["functions"][0]["arms"]}
    timed = arms["im2col+k:negabs"]
    assert (timed["kind"], timed["base"], timed["config"], timed["kernel"]) == (
        advice.KERNEL,
        "im2col",
        "im2col",
        "negabs",
    )
    assert timed["applied"] is True and len(timed["ms"]) == 6
    assert f"--iree-preprocessing-transform-spec-filename={SHOWN}/spec.mlir" in timed["flags"]
    assert f"--iree-hal-executable-object-search-path={SHOWN}" in timed["flags"]
    assert timed["kernel_dir"] == SHOWN and not any("/work/" in f or str(NEGABS) in f for f in timed["flags"])
    assert timed["flags"].count(im2col) == 1 and arms["default+k:negabs"]["flags"].count(im2col) == 1
    assert timed["kernel_build"] == f"(cd {SHOWN} && python -m ziglang cc -c negabs.c -o negabs.o)"
    assert timed["kernel_object"] == str(tmp_path / "store" / "kernel" / "keykernel" / "objects")
    missed = arms["default+k:negabs"]
    assert missed["applied"] is False and "ms" not in missed
    assert missed["error"].startswith("kernel-not-applied: kernel 'negabs' was not applied")


def test_compat_json_carries_the_kernel_an_answer_takes_within_its_schema():
    import jsonschema

    from iree_matrix.findings import compat

    taken = advice.derive(_with_kernel(FASTER))
    missed = advice.derive(_with_kernel((), applied=False, error="kernel-not-applied: …", module_sha256=""))
    document = compat.derive([], None, [*taken, *missed])
    compat.validate(document)
    first, second = document["answers"]
    assert first["kernel"]["kernel"] == "dw" and first["kernel"]["taken"] is True
    assert second["kernel"] is None and second["kernel_trials"][0]["applied"] is False
    plain = compat.derive([], None, advice.derive(_sitting(about=ZEN5)))["answers"][0]
    assert (
        "kernel" not in plain and "kernel_trials" not in plain
    )  # as before kernels: published sets unchanged
    first["kernel"]["taken"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        compat.validate(document)


def test_a_sitting_from_elsewhere_with_a_kernel_arm_is_checked_before_it_is_published():
    """`merge` publishes a sitting whose kernel arm names its kernel and one line of text for its
    directory, object and build command (shown as what to run), and refuses one that does not."""
    from iree_matrix.advise import received_sittings

    document = _with_kernel(FASTER)
    document["host"] = {**ZEN5, "identity": HostIdentity.of(ZEN5).identity}
    assert received_sittings.problem(document, set()) is None
    arm = document["functions"][0]["arms"][-1]
    arm["kernel_build"] = "cd /k && cc dw.c\nrm -rf ~"
    assert (
        received_sittings.problem(document, set())
        == f"main: arm '{KERNEL}': its kernel_build is not one line of text"
    )
    arm["kernel_build"], arm["kernel"] = BUILD, "../dw"
    assert (
        received_sittings.problem(document, set())
        == f"main: arm '{KERNEL}': a kernel arm whose kernel is not a name"
    )


PLUGIN_DIR = NEGABS.parent / "negabs_plugin"


def test_a_plugin_kernels_arm_compiles_without_a_search_path_and_runs_with_its_plugin():
    """A plugin kernel's module holds only imports: its arm's flags are the spec alone, and the
    runtime's flag that loads the plugin travels with the arm into the answer and compat.json."""
    kernel = kernel_files.load(PLUGIN_DIR)
    assert kernel.mechanism == "plugin"
    flags = kernel.compile_flags("3.13.0")
    assert not any(f.startswith("--iree-hal-executable-object-search-path") for f in flags)
    run = kernel.load_flags()
    assert run == [f"--executable_plugin=embedded:{SHOWN}_plugin/{kernel.object}"]
    assert kernel_files.load(NEGABS).load_flags() == []  # embedded: in the module
    (a,) = advice.derive(_with_kernel(FASTER, kernel_run=run))
    assert a.kernel is not None and a.kernel.taken and a.kernel.run_flags == tuple(run)
    text = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "mobilenet_v2"))
    assert f"run with: iree-run-module {run[0]} ..." in text
    assert advice.as_json(a)["kernel"]["run_flags"] == run


def test_a_sitting_from_elsewhere_runs_no_plugin_flag_but_the_plugins():
    from iree_matrix.advise import received_sittings

    document = _with_kernel(FASTER, kernel_run=["--executable_plugin=embedded:/k/dw/dw.so"])
    document["host"] = {**ZEN5, "identity": HostIdentity.of(ZEN5).identity}
    assert received_sittings.problem(document, set()) is None
    document["functions"][0]["arms"][-1]["kernel_run"] = ["--flagfile=/etc/x"]
    assert received_sittings.problem(document, set()) == (
        f"main: arm '{KERNEL}': its kernel_run is not a list of a plugin's flag and a kernel's runtime flags"
    )


def _naive_at(doc, factor):
    """`doc`'s naive arm timed at `factor` × default's time, round by round."""
    arms = doc["functions"][0]["arms"]
    default_ms = next(a["ms"] for a in arms if a["kind"] == advice.DEFAULT)
    naive = next(a for a in arms if a["kind"] == advice.NAIVE)
    naive.update(ms=[x * factor for x in default_ms], flags=["--iree-hal-target-backends=llvm-cpu"])
    return doc


def test_a_naive_build_faster_than_every_pick_is_the_answer():
    """Issue #69's point-cloud kNN: its generic x86-64 build ran 1.8x faster than `default` (host), and
    the answer named `default`. The naive build is a build like any other: faster beyond noise than
    what the sitting chose, it is what to take; slower (the usual case), it stays the baseline."""
    (a,) = advice.derive(_naive_at(_sitting(about=ZEN5), 0.2))  # the pick is 1/3.5 = 0.29 of default
    assert a.config == "generic" and a.flags == ("--iree-hal-target-backends=llvm-cpu",)
    assert a.over_naive is not None and a.over_naive.paired.verdict == stats.SAME_MODULE
    assert a.over_default is not None and 1 / a.over_default.value == pytest.approx(5.0)
    text = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "mobilenet_v2"))
    assert "take IREE 3.13.0 with `generic`" in text and "the same module as the naive build" in text
    assert "target-cpu=host is the compiling CPU" not in text  # it names no CPU: nothing to fleet
    (usual,) = advice.derive(_naive_at(_sitting(about=ZEN5), 4.0))
    assert (
        usual.config == PICK
        and usual.over_naive is not None
        and 1 / usual.over_naive.value == pytest.approx(14.0)
    )
    # within noise of the pick: the pick stays (the naive build must be faster beyond noise)
    (tie,) = advice.derive(_naive_at(_sitting(about=ZEN5), 1 / 3.5))
    assert tie.config == PICK


def test_a_kernel_outrun_by_the_naive_build_is_said_so_and_not_taken():
    (a,) = advice.derive(_naive_at(_with_kernel(FASTER), 0.1))  # pick + kernel: 0.29 × 0.61 = 0.17
    assert a.config == "generic" and a.kernel is None and SPEC_FLAG not in a.flags
    (trial,) = a.kernel_trials
    assert not trial.taken and trial.outrun_by == "the naive build"
    assert kernel_trials.kernel_text(trial).endswith("faster; the naive build was faster still")
    assert advice.as_json(a)["kernel_trials"][0]["outrun_by"] == "the naive build"


def test_kernel_spec_is_refused_at_once_for_a_kernel_with_a_spec_file_of_its_own(tmp_path: Path) -> None:
    """`iree-matrix kernel spec` prints the spec the tool writes: a kernel that ships its spec file, no
    kernel, or no such directory is said in one line before any export or compile runs."""
    for kernel, said in ((str(NEGABS), "a kernel whose spec the tool writes"), (None, "give --kernel DIR"),
                         (str(tmp_path / "none"), "no such kernel directory")):  # fmt: skip
        with pytest.raises(UserError, match=said):
            kernel_ir.run("tiny_cnn", "", "default", kernel, tmp_path / "cache", io.StringIO(), spec=True)
    assert not (tmp_path / "cache").exists()  # nothing was run
