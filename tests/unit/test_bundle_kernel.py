"""A user's kernel in a sitting bundle (`bundle --advise MODEL --cpu CPU --kernel DIR`): the kernel
cells travel as arms named as advise names its own (execution/bundle.py), run.py keeps their
kernel facts and says a crash is no mismatch (bundle_runner/sitting.py), and home reads the
sitting's kernel arm as advise's: taken only where faster beyond noise (findings/advice.py). Bad
input is one line (kernel/tasks/bundle_kernels.py). The end-to-end run is
tests/integration/test_bundle_kernel.py."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from iree_matrix.advise import received_sittings
from iree_matrix.bundle_runner import sitting as runner_sitting
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.configuration import Config, NamedCpu
from iree_matrix.core.system import host
from iree_matrix.execution import bundle
from iree_matrix.execution.workflow import PlanSettings
from iree_matrix.findings import advice
from iree_matrix.kernel.tasks import bundle_kernels

REPO = Path(__file__).resolve().parents[2]
RELEASE = "3.13.0"
PICK = "data-tiling+loop-unrolling"
FLEET = NamedCpu("znver4").name
NEGABS = REPO / "tests" / "data" / "kernels" / "negabs"
DW = "depthwise3x3"


def _cell(profile: str, kernel: str = "") -> bundle.BundledRun:
    job = f"run:mobilenet_v2/e/iree{RELEASE}/x86_64/{profile}"
    labels = {"model": "mobilenet_v2", "function": "main", "profile": profile, "runtime": RELEASE}
    if kernel:
        labels["kernel"] = kernel
    return bundle.BundledRun(job, labels, "compile:" + job[4:], "k", "e" * 16, Path("m.vmfb"), Path("export"),
                             bundle.CPU_DEVICE, RELEASE, "x86_64", "x86_64")  # fmt: skip


def test_a_kernel_cell_is_an_arm_named_as_advise_names_it() -> None:
    def arm(profile: str) -> tuple[str, str]:
        config, kind = bundle.arm_of(Config.parse(profile), NamedCpu("znver4"))
        return str(config), kind

    assert arm(f"{FLEET}+k:{DW}") == (f"default+k:{DW}", bundle.KERNEL_ARM)
    assert arm(f"{PICK}+{FLEET}+k:{DW}") == (f"{PICK}+k:{DW}", bundle.KERNEL_ARM)
    assert arm(f"{PICK}+{FLEET}") == (PICK, "pick")  # without one, as before
    assert arm(FLEET) == ("default", "default") and arm("generic") == ("generic", "naive")
    found = [
        _cell(FLEET), _cell("generic"), _cell(f"{PICK}+{FLEET}"),
        _cell(f"{FLEET}+k:{DW}", DW), _cell(f"{PICK}+{FLEET}+k:{DW}", DW),
    ]  # fmt: skip
    plan = types.SimpleNamespace(jobs=[], by_id=dict)
    (sitting,), _ = bundle.sittings(plan, {}, None, found, "znver4", (PICK,), {})  # type: ignore[arg-type]
    arms = {a["name"]: a for a in sitting["arms"]}
    assert set(arms) == {"default", "generic", PICK, f"default+k:{DW}", f"{PICK}+k:{DW}"}
    kernel = arms[f"{PICK}+k:{DW}"]
    # Its configuration is the one it is swapped into, as advise's arm: home pairs it with that arm.
    assert (kernel["kind"], kernel["config"], kernel["base"], kernel["kernel"]) == ("kernel", PICK, PICK, DW)
    assert kernel["job"] == found[4].job


def test_the_kernel_cells_for_another_cpu_are_advises_kernel_arms_compiled_for_it() -> None:
    """tasks/bundling.py plans no kernel arm of its own: advise's (advise_plan.arms), each for the CPU."""
    import dataclasses

    from iree_matrix.advise import advise_plan
    from iree_matrix.findings import search
    from iree_matrix.kernel import kernels as kernel_files
    from iree_matrix.matrix.spec_file import load
    from iree_matrix.tasks import bundling

    kernel = dataclasses.replace(kernel_files.load(NEGABS), models=("mobilenet_v2",))
    matrix = dataclasses.replace(load(REPO / "matrix" / "advise.toml"), kernels={"negabs": kernel})
    neighbour, own_cpu = "loop-unrolling", "avx2"  # a proof's neighbour; a pick naming a CPU of its own
    picks = [PICK, own_cpu]
    built = bundling._sitting_matrix(
        matrix, "mobilenet_v2", RELEASE, picks, "znver5", [neighbour], ["negabs"]
    )
    fleet = NamedCpu("znver5").name
    on = lambda config: search.parse(f"{config}+{fleet}").profile  # noqa: E731
    cells = {(c.profile, c.kernel) for c in built.cells if c.model == "mobilenet_v2"}
    kernel_cells = {(fleet, "negabs"), (on(PICK), "negabs")}  # none into the neighbour or a CPU's pick
    assert cells == {(fleet, ""), ("generic", ""), (on(PICK), ""), (on(neighbour), ""), *kernel_cells}
    plan = advise_plan.SittingPlan(RELEASE, (advise_plan.Pick.named(PICK, RELEASE, ""),), ())
    advised = [a.name for a in advise_plan.arms(plan, {"negabs": kernel}, "mobilenet_v2") if a.kernel]
    named = [
        str(bundle.arm_of(Config.parse(p).with_kernel(k), NamedCpu("znver5"))[0]) for p, k in kernel_cells
    ]
    assert sorted(named) == sorted(advised) == ["data-tiling+loop-unrolling+k:negabs", "default+k:negabs"]


def test_run_py_keeps_a_kernel_arms_facts_and_a_crash_is_no_mismatch() -> None:
    cells = {"run:k": {"module_sha256": "a" * 64}, "run:crash": {"module_sha256": "b" * 64}}
    checked = {
        "run:k": {"status": "ok"},
        "run:crash": {"status": "fail", "message": "kernel-crash: signal 11"},
    }
    facts = {
        "kind": "kernel",
        "release": RELEASE,
        "flags": ["--x"],
        "base": "default",
        "kernel": DW,
        "kernel_dir": "kernels/depthwise3x3",
        "kernel_build": "cd kernels/depthwise3x3 && cc",
        "kernel_run": ["--executable_plugin=embedded:kernels/depthwise3x3_plugin/depthwise3x3_plugin.so"],
        "applied": True,
    }
    ran = runner_sitting._arm({"name": f"default+k:{DW}", "config": "default", "job": "run:k", **facts},
                              cells, checked)  # fmt: skip
    assert ran["matches"] is True and "error" not in ran and ran["module_sha256"] == "a" * 64
    assert {k: ran[k] for k in runner_sitting.KERNEL_KEYS} == {
        k: facts[k] for k in runner_sitting.KERNEL_KEYS
    }
    crashed = runner_sitting._arm(
        {"name": "x+k:dw", "config": "x", "job": "run:crash", **facts}, cells, checked
    )
    assert crashed["matches"] is None and crashed["error"] == "kernel-crash: signal 11"
    mismatch = runner_sitting._arm(
        {"name": "y", "config": "y", "job": "run:crash", **facts},
        cells,
        {"run:crash": {"status": "mismatch", "message": "max abs error 3"}},
    )
    assert mismatch["matches"] is False
    # A kernel arm whose compile failed where the bundle was made has no cell: the manifest's why.
    lost = runner_sitting._arm(
        {
            "name": "z+k:dw",
            "config": "z",
            **facts,
            "applied": False,
            "error": "kernel-not-applied: the spec matched nothing",
        },
        cells,
        checked,
    )
    assert lost["error"].startswith("kernel-not-applied") and lost["applied"] is False and not lost["ms"]


def _document(kernel_ms: list[float]) -> dict:
    here = {k: v for k, v in host.describe().items() if not k.startswith("llvm")}

    def arm(name: str, kind: str, ms: list[float], **extra: object) -> dict:
        return {"name": name, "kind": kind, "config": extra.pop("config", name), "release": RELEASE,
                "flags": ["--iree-llvmcpu-target-cpu=znver4"], "module_sha256": "", "ms": ms,
                "matches": True, "source": "run bundle", **extra}  # fmt: skip

    base = [10.0, 10.2, 9.9, 10.1, 10.0, 10.3]
    arms = [
        arm("default", "default", base), arm("generic", "naive", [m * 3 for m in base]),
        arm(f"default+k:{DW}", "kernel", kernel_ms, config="default", base="default", kernel=DW,
            kernel_dir="kernels/depthwise3x3", applied=True),
        arm("onnxruntime", "peer", [m * 0.6 for m in base]),
    ]  # fmt: skip
    return {"schema": 1, "model": "mobilenet_v2", "release": RELEASE, "llvm_cpu": "znver4", "host": here,
            "rounds": 6, "repetitions": 3, "started": "2026-11-27T09:00:00+00:00",
            "functions": [{"function": "main", "arms": arms}]}  # fmt: skip


def test_home_takes_the_bundles_kernel_arm_only_where_it_is_faster_beyond_noise() -> None:
    faster = _document([7.0, 7.1, 6.9, 7.2, 7.0, 7.1])
    for a in faster["functions"][0]["arms"]:  # merge's check of each arm: a kernel's facts are one line
        assert received_sittings._arm_problem(a, set()) is None
    (answer,) = advice.derive(faster)
    assert answer.kernel is not None and answer.kernel.kernel == DW and answer.kernel.taken
    assert answer.config == "default" and answer.vs_peer is not None and answer.vs_peer.value < 1.25
    same = _document([10.1, 10.0, 10.2, 9.9, 10.2, 10.1])
    (plain,) = advice.derive(same)
    assert plain.kernel is None and plain.kernel_trials and not plain.kernel_trials[0].taken


def test_bad_kernels_are_one_line_naming_the_option(tmp_path: Path) -> None:
    def plan(*kernels: str) -> PlanSettings:
        return PlanSettings(matrix=tmp_path / "m.toml", results_dir=tmp_path, cache=tmp_path, kernels=kernels)

    with pytest.raises(UserError, match=r"^bundle --kernel .*: .*kernel\.toml: no such file"):
        bundle_kernels.chosen(plan(str(tmp_path)), "mobilenet_v2", RELEASE)
    given = str(REPO / "kernels" / DW)
    with pytest.raises(UserError, match="meant for mobilenet_v2.*not tiny_cnn"):
        bundle_kernels.chosen(plan(given), "tiny_cnn", RELEASE)
    with pytest.raises(UserError, match="a GPU sitting .* takes none"):
        bundle_kernels.refuse_on_gpu(plan(given))
    same, names = bundle_kernels.chosen(plan(given), "mobilenet_v2", RELEASE)
    assert names == (DW,) and same.kernels == (given,)
    plugin = str(REPO / "kernels" / f"{DW}_plugin")  # its plugin travels beside the modules
    same, names = bundle_kernels.chosen(plan(plugin), "mobilenet_v2", RELEASE)
    assert names == (f"{DW}_plugin",) and same.kernels == (plugin,)


def test_a_published_plugin_kernel_travels_and_is_said(tmp_path: Path, monkeypatch, caplog) -> None:
    """Without --kernel the published answer's kernel travels, a plugin one too (its plugin beside
    the modules), said with where it comes from."""
    from iree_matrix.kernel import kernels as kernel_files

    plugin = REPO / "kernels" / f"{DW}_plugin"
    found = (plugin, kernel_files.load(plugin), "AMD family 26 model 2")
    monkeypatch.setattr(bundle_kernels, "published_kernel", lambda model, release: found)
    plain = PlanSettings(matrix=tmp_path / "m.toml", results_dir=tmp_path, cache=tmp_path)
    with caplog.at_level("INFO"):
        same, names = bundle_kernels.chosen(plain, "mobilenet_v2", RELEASE)
    assert names == (f"{DW}_plugin",) and same.kernels == (str(plugin),)
    assert "takes the kernel `depthwise3x3_plugin`" in caplog.text and "its arms travel too" in caplog.text


def test_each_kernel_arm_gains_advises_facts_and_one_that_did_not_compile_travels_with_why() -> None:
    """The pick's kernel cell compiled (its spec applied): its arm gets the kernel's flags, directory
    and the command that built its object for the bundle's CPU; default's kernel cell was not
    applied: it did not travel, so its arm is the compile's why, never timed there."""
    from iree_matrix.core.model.records import Labels
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.kernel import kernels as kernel_files

    negabs = kernel_files.load(REPO / "tests" / "data" / "kernels" / "negabs")
    built = "kernel:negabs/x86_64/znver4"

    def job(profile: str) -> types.SimpleNamespace:
        labels = Labels(model="m", source_model="m", function="main", compiler=RELEASE, profile=profile,
                        kernel=Config.parse(profile).kernel)  # fmt: skip
        return types.SimpleNamespace(stage="compile", id=f"compile:m/{profile}", label=labels, deps=(built,),
                                     profile=None)  # fmt: skip

    jobs = [job(f"im2col+{FLEET}+k:negabs"), job(f"{FLEET}+k:negabs")]
    loaded = types.SimpleNamespace(
        matrix=types.SimpleNamespace(kernels={"negabs": negabs}),
        plan=types.SimpleNamespace(jobs=jobs, by_id=lambda: {j.id: j for j in jobs}),
    )
    applied = {"custom_kernel": {"applied": True}}
    why = "kernel 'negabs' was not applied: its transform spec matched nothing"
    command = ("/env/bin/python", "-m", "ziglang", "cc", "-mcpu=znver4", "-c", "negabs.c")
    latest = {
        jobs[0].id: Record(jobs[0].id, "compile", "c", "k1", Status.OK, {}, applied),
        jobs[1].id: Record(jobs[1].id, "compile", "c", "k2", Status.FAIL, {}, {},
                           error_class="kernel-not-applied", message=why),
        built: Record(built, "kernel", "k", "k3", Status.OK, {}, {}, command=command),
    }  # fmt: skip
    cell = _cell(f"im2col+{FLEET}+k:negabs", "negabs")
    cell = bundle.BundledRun(**{**cell.__dict__, "compile_job": jobs[0].id})
    arm = {
        "name": "im2col+k:negabs",
        "kind": "kernel",
        "config": "im2col",
        "base": "im2col",
        "kernel": "negabs",
        "release": RELEASE,
        "flags": ["--iree-llvmcpu-target-cpu=znver4"],
        "job": cell.job,
    }
    sitting = {"model": "m", "function": "main", "arms": [arm]}
    bundle_kernels.describe_arms([sitting], loaded, latest, [cell], "znver4")  # type: ignore[arg-type]
    timed, lost = sitting["arms"]
    shown = "tests/data/kernels/negabs"
    assert timed["applied"] is True and timed["kernel_dir"] == shown
    assert timed["flags"][0] == "--iree-llvmcpu-target-cpu=znver4"
    assert f"--iree-hal-executable-object-search-path={shown}" in timed["flags"]
    assert timed["kernel_build"] == f"(cd {shown} && python -m ziglang cc -mcpu=znver4 -c negabs.c)"
    assert lost["flags"] == negabs.compile_flags(RELEASE)  # the cell's own: none here (no profile)
    assert (lost["name"], lost["base"], lost["applied"], "job" in lost) == (
        "default+k:negabs",
        "default",
        False,
        False,
    )
    assert (
        lost["error"]
        == "kernel-not-applied: kernel 'negabs' was not applied: its transform spec matched nothing"
    )
    assert (
        received_sittings._arm_problem(lost, set()) is None
        and received_sittings._arm_problem(timed, set()) is None
    )


def test_a_kernel_arms_flags_are_the_compilers_and_a_plugins_run_flag() -> None:
    """What a sitting keeps of a kernel arm (advise's and a bundle's alike): the configuration's
    flags with the kernel's after them, each once; a plugin kernel's also the runtime flag that
    loads its plugin, from the kernel's directory; an embedded kernel's none (its code is in the
    module)."""
    from iree_matrix.kernel import kernels as kernel_files

    embedded = kernel_files.load(NEGABS)
    plugin = kernel_files.load(NEGABS.with_name("negabs_plugin"))
    given = ["--iree-opt-data-tiling=true"]
    linked = embedded.arm_flags(given, "3.13.0")
    assert set(linked) == {"flags"} and linked["flags"] == embedded.with_flags(given, "3.13.0")
    assert linked["flags"][0] == given[0] and len(linked["flags"]) > 1
    loaded = plugin.arm_flags(given, "3.13.0")
    assert loaded["flags"] == plugin.with_flags(given, "3.13.0")
    (flag,) = loaded["kernel_run"]
    assert flag.startswith("--executable_plugin=embedded:") and flag.endswith(
        "negabs_plugin/negabs_plugin.so"
    )


def test_a_bundles_plugins_load_only_when_allowed_each_named_with_its_digest(tmp_path: Path) -> None:
    """Issue 85: a received bundle's run.py loaded its plugin (native code) with the runner's full
    rights before any check; now only with --allow-plugins, each plugin and its sha256 named first."""
    import hashlib

    from iree_matrix.bundle_runner.cli import plugins_refused

    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "k.so").write_bytes(b"\x7fELF plugin")
    digest = hashlib.sha256(b"\x7fELF plugin").hexdigest()
    cells = [{"job": "run:a", "plugin": "plugins/k.so"}, {"job": "run:b"}]
    manifest = {"cells": cells}
    said = plugins_refused(tmp_path, manifest, cells, allowed=False)
    assert "plugins/k.so" in said and digest in said and "--allow-plugins" in said
    assert plugins_refused(tmp_path, manifest, cells, allowed=True) == ""
    assert plugins_refused(tmp_path, manifest, cells[1:], allowed=False) == ""  # --cells left it out
