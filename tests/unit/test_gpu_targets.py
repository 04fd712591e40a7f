"""GPU targets (issue #42): the arch axis takes vulkan-spirv, cuda:CHIP and rocm:CHIP; each compiles
with its backend and its chip flag as that release spells it, runs on its HAL driver, and a run
with no device of its kind here is "not run" with the runtime's reason, never a failure."""

from __future__ import annotations

import pytest

from iree_matrix.core.errors import StageSkipped
from iree_matrix.core.model import refusals
from iree_matrix.iree import compiler_options, devices, targets
from iree_matrix.iree.flags import BUILTIN_PROFILES
from iree_matrix.stages.compile import gpu_flags

DEFAULT = BUILTIN_PROFILES["default"]

# `iree-run-module --dump_devices=vulkan` of the 3.13.0 wheel with Debian bookworm's lavapipe.
LAVAPIPE_DUMP = """\
# ============================================================================
# Enumerated devices for driver 'vulkan'
# ============================================================================

# ===----------------------------------------------------------------------===
# --device=vulkan://GPU-6d65736132322e332e36000000000000
#   llvmpipe (LLVM 15.0.6, 256 bits) (llvmpipe Mesa 22.3.6 (LLVM 15.0.6))
# ===----------------------------------------------------------------------===
name: llvmpipe (LLVM 15.0.6, 256 bits)
path: GPU-6d65736132322e332e36000000000000
type: cpu
driver: llvmpipe
"""
# The same on 3.11.0 (it hides llvmpipe): the header only.
HIDDEN_DUMP = """\
# ============================================================================
# Enumerated devices for driver 'vulkan'
# ============================================================================
"""
# 3.11.0's run on that machine, and 3.13.0's CUDA and HIP drivers without their libraries.
HIDDEN_RUN = (
    "c/runtime/src/iree/hal/drivers/vulkan/vulkan_driver.cc:547: NOT_FOUND; physical device 0 invalid; "
    "1 physical devices available; 0 visible; creating device 'vulkan'; resolving dependencies for "
    "'module'; creating VM context; creating run context"
)
NO_CUDA = (
    "c/runtime/src/iree/hal/drivers/cuda/cuda_dynamic_symbols.c:66: UNAVAILABLE; CUDA driver library "
    "'libcuda.so'/'nvcuda.dll' not available; please ensure installed and in dynamic library search path"
)
NO_HIP = (
    "c/runtime/src/iree/hal/drivers/hip/dynamic_symbols.c:155: UNAVAILABLE; HIP runtime library "
    "'amdhip64.dll'/'libamdhip64.so' not available: please ensure installed and in dynamic library "
    "search path: "
)


@pytest.mark.parametrize(
    ("text", "label", "driver"),
    [
        ("vulkan-spirv", "vulkan-spirv", "vulkan"),
        ("cuda:sm_80", "cuda-sm_80", "cuda"),
        ("cuda-sm_90", "cuda-sm_90", "cuda"),
        ("cuda", "cuda-sm_80", "cuda"),
        ("rocm:gfx942", "rocm-gfx942", "hip"),
        ("rocm-gfx90a", "rocm-gfx90a", "hip"),
    ],
)
def test_gpu_targets_parse_label_and_run_on_the_host(text: str, label: str, driver: str):
    target = targets.parse(text)
    assert target.label == label
    assert target.gpu is not None and target.gpu.driver == driver
    assert not target.emulated
    assert target.run_arch() == targets.host_arch()
    assert targets.parse(label) == target  # the id spelling is the same target


def test_a_gpu_target_refuses_an_unknown_chip():
    with pytest.raises(targets.UnknownTarget, match="needs a chip"):
        targets.parse("cuda:sm_1")
    with pytest.raises(targets.UnknownTarget, match="takes no chip"):
        targets.parse("vulkan-spirv:foo")


def test_cpu_targets_are_unchanged():
    assert targets.parse("x86_64").gpu is None
    assert targets.parse("aarch64:cortex-a72").run_arch() == "aarch64"
    assert set(targets.gpus()) == {"vulkan-spirv", "cuda", "rocm"}


@pytest.mark.parametrize(
    ("release", "target", "chip_flag"),
    [
        # compiler_options.json: --iree-hip-target 2.9.0-3.11.0, --iree-rocm-target 3.11.0-3.13.0,
        # --iree-cuda-target 2.9.0-3.13.0; no release lists --iree-rocm-target-chip.
        ("2.9.0", "rocm:gfx942", "--iree-hip-target=gfx942"),
        ("3.3.0", "rocm:gfx942", "--iree-hip-target=gfx942"),
        ("3.10.0", "rocm:gfx90a", "--iree-hip-target=gfx90a"),
        ("3.11.0", "rocm:gfx942", "--iree-rocm-target=gfx942"),
        ("3.13.0", "rocm:gfx942", "--iree-rocm-target=gfx942"),
        ("2.9.0", "cuda:sm_80", "--iree-cuda-target=sm_80"),
        ("3.13.0", "cuda:sm_90", "--iree-cuda-target=sm_90"),
    ],
)
def test_each_release_gets_its_own_chip_flag(release: str, target: str, chip_flag: str):
    parsed = targets.parse(target)
    flags = gpu_flags(release, parsed, DEFAULT)
    assert flags == [f"--iree-hal-target-backends={parsed.gpu.backend}", chip_flag]  # type: ignore[union-attr]
    listed = compiler_options.options(release)
    assert listed is not None and chip_flag.split("=")[0] in listed


def test_the_compilers_own_listing_decides_the_spelling():
    listing = "  --iree-hip-target=<string> - HIP target\n"
    assert (
        gpu_flags("3.13.0", targets.parse("rocm:gfx942"), DEFAULT, listing)[1] == "--iree-hip-target=gfx942"
    )


def test_vulkan_needs_only_its_backend():
    assert gpu_flags("3.13.0", targets.parse("vulkan-spirv"), DEFAULT) == [
        "--iree-hal-target-backends=vulkan-spirv"
    ]
    assert (
        gpu_flags("3.13.0", targets.parse("vulkan-spirv"), BUILTIN_PROFILES["O3"])[-1]
        == "--iree-opt-level=O3"
    )


@pytest.mark.parametrize("profile", ["avx2", "vmvx", "ukernels", "generic"])
def test_cpu_profiles_are_skipped_on_a_gpu_target(profile: str):
    if profile == "generic":  # no target CPU and no flags: nothing CPU-only about it
        assert gpu_flags("3.13.0", targets.parse("cuda:sm_80"), BUILTIN_PROFILES[profile])
        return
    with pytest.raises(StageSkipped, match="CPU profile"):
        gpu_flags("3.13.0", targets.parse("cuda:sm_80"), BUILTIN_PROFILES[profile])


def test_lavapipe_is_listed_and_known_for_software():
    found = devices.listed(LAVAPIPE_DUMP, "vulkan")
    assert found.uris == ("vulkan://GPU-6d65736132322e332e36000000000000",)
    assert found.names == ("llvmpipe (LLVM 15.0.6, 256 bits)",)
    assert found.software


# 3.3.0's wheel with SwiftShader's ICD added (VK_ADD_DRIVER_FILES): no "name:" lines before 3.12.0,
# the name is the comment under the URI; lavapipe beside it is hidden.
SWIFTSHADER_DUMP_330 = """\
# ============================================================================
# Enumerated devices for driver 'vulkan'
# ============================================================================

# ===----------------------------------------------------------------------===
# --device=vulkan://53776966-7453-6861-6465-725555494400
#   SwiftShader Device (Subzero)
# ===----------------------------------------------------------------------===
"""
# 3.13.0's with both ICDs: the loader enumerates SwiftShader first.
BOTH_DUMP_3130 = """\
# --device=vulkan://GPU-53776966745368616465725555494400
#   SwiftShader Device (Subzero) (SwiftShader driver)
# ===----------------------------------------------------------------------===
name: SwiftShader Device (Subzero)
path: GPU-53776966745368616465725555494400
type: cpu
# ===----------------------------------------------------------------------===
# --device=vulkan://GPU-6d65736132322e332e36000000000000
#   llvmpipe (LLVM 15.0.6, 256 bits) (llvmpipe Mesa 22.3.6 (LLVM 15.0.6))
# ===----------------------------------------------------------------------===
name: llvmpipe (LLVM 15.0.6, 256 bits)
path: GPU-6d65736132322e332e36000000000000
type: cpu
"""


def test_an_old_runtime_names_swiftshader_in_its_comment_and_runs_on_it():
    found = devices.listed(SWIFTSHADER_DUMP_330, "vulkan")
    assert found.names == ("SwiftShader Device (Subzero)",)
    assert found.chosen() == ("vulkan://53776966-7453-6861-6465-725555494400", "SwiftShader Device (Subzero)")
    assert found.software


def test_lavapipe_is_taken_before_swiftshader_whatever_the_loaders_order():
    found = devices.listed(BOTH_DUMP_3130, "vulkan")
    assert len(found.uris) == 2
    assert found.chosen() == (
        "vulkan://GPU-6d65736132322e332e36000000000000",
        "llvmpipe (LLVM 15.0.6, 256 bits)",
    )


def test_a_real_gpu_is_taken_before_either_software_device():
    real = BOTH_DUMP_3130 + "# --device=vulkan://GPU-10de\n#   NVIDIA A100\nname: NVIDIA A100-SXM4-40GB\n"
    found = devices.listed(real, "vulkan")
    assert found.chosen() == ("vulkan://GPU-10de", "NVIDIA A100-SXM4-40GB")
    assert not found.software


def test_swiftshaders_icd_is_added_for_vulkan_only_where_installed(tmp_path):
    icd = tmp_path / "vk_swiftshader_icd.json"
    assert devices.driver_env("vulkan", icd) == {}
    icd.write_text("{}")
    assert devices.driver_env("vulkan", icd) == {"VK_ADD_DRIVER_FILES": str(icd)}
    assert devices.driver_env("cuda", icd) == {}


def test_a_bare_device_list_is_read_too():
    found = devices.listed("local-sync://\nlocal-task://\nvulkan://GPU-6d65\n", "vulkan")
    assert found.uris == ("vulkan://GPU-6d65",) and not found.software


def test_a_runtime_that_hides_lavapipe_says_so():
    assert devices.listed(HIDDEN_DUMP, "vulkan").uris == ()
    reason = devices.not_run_reason("Vulkan", HIDDEN_RUN)
    assert reason.startswith("not run: this runtime hides lavapipe (llvmpipe), the only Vulkan device here")
    assert "1 physical devices available; 0 visible" in reason


@pytest.mark.parametrize(
    ("kind", "output", "words"), [("CUDA", NO_CUDA, "libcuda.so"), ("HIP", NO_HIP, "amdhip64")]
)
def test_no_device_is_not_run_with_the_runtimes_words(kind: str, output: str, words: str):
    assert devices.listed(output, kind.lower()).uris == ()
    reason = devices.not_run_reason(kind, output)
    assert reason.startswith(f"not run: no {kind} device here (UNAVAILABLE;")
    assert words in reason and "dynamic_symbols" not in reason
    assert devices.device_missing(reason)


def test_no_vulkan_device_at_all_is_not_hidden():
    reason = devices.not_run_reason(
        "Vulkan", "NOT_FOUND; physical device 0 invalid; 0 physical devices available; 0 visible"
    )
    assert reason.startswith("not run: no Vulkan device here")


# The vulkan runtime cross (matrix/gpu-cross.toml): a 3.11.0 module on the 3.2.0 runtime, which
# hides lavapipe too, is refused while its bytecode loads, before any device is created.
REFUSED_BEFORE_DEVICE = (
    "c/runtime/src/iree/vm/bytecode/verifier.c:40: INVALID_ARGUMENT; required module features [Ch] are "
    "not available in this runtime configuration; have [EXT_F32|EXT_F64] while module requires [Ch]; "
    "loading bytecode module at 'module.vmfb'; loading modules and dependencies; creating run context"
)


def test_a_module_refused_before_any_device_is_the_crosss_answer_not_not_run():
    assert devices.listed(HIDDEN_DUMP, "vulkan").uris == ()
    assert refusals.is_refusal(REFUSED_BEFORE_DEVICE)
    assert refusals.is_refusal(
        "runtime.c:1: INVALID_ARGUMENT; bytecode version mismatch; runtime supports 17.0"
    )


@pytest.mark.parametrize("output", [HIDDEN_RUN, NO_CUDA, NO_HIP])
def test_a_missing_or_hidden_device_is_no_refusal(output: str):
    assert not refusals.is_refusal(output)


def test_a_gpu_cell_plans_one_run_on_the_hosts_runtime(tmp_path):
    from iree_matrix import stages
    from iree_matrix.matrix import spec_file

    path = tmp_path / "gpu.toml"
    path.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.13.0"]\ncompiler = ["3.13.0"]\n'
        'models = ["tiny_cnn"]\narch = ["x86_64", "vulkan-spirv", "cuda:sm_80"]\n'
        '[benchmark]\ndevices = ["local-task", "local-sync"]\n'
    )
    jobs = stages.plan(spec_file.load(path)).jobs
    runs = sorted(j.id for j in jobs if j.stage == "run")
    gpu_runs = [r for r in runs if "/vulkan-spirv/" in r or "/cuda-sm_80/" in r]
    assert len(gpu_runs) == 2, runs  # one each: no local-sync twin
    cpu_runs = [r for r in runs if "/x86_64/" in r]
    assert len(cpu_runs) == 2
    envs = {j.env.id for j in jobs if j.stage == "run"}
    assert len(envs) == 1  # the GPU cells run on the host's iree-runtime, the same environment


def _record(stage: str, arch: str, status, **kw):
    from iree_matrix.core.model.results import Record

    labels = {"model": "tiny_cnn", "python": "3.11", "torch": "2.13.0", "turbine": "3.9.0",
              "compiler": "3.13.0", "runtime": "3.13.0", "arch": arch, "profile": "default"}  # fmt: skip
    cell = f"tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/{arch}/default"
    return Record(job=f"{stage}:{cell}", stage=stage, cell=cell, key=f"k-{stage}-{arch}", status=status,
                  labels=labels, finished="2025-01-01T00:00:00Z", **kw)  # fmt: skip


def test_the_gpu_section_says_what_ran_and_what_was_not_run():
    from iree_matrix.core.model.results import Status
    from iree_matrix.report.gpu import gpu_section

    assert gpu_section([_record("compile", "x86_64", Status.OK)]) == []  # CPU-only records: no section
    lavapipe = "emulated (software Vulkan device: llvmpipe (LLVM 15.0.6, 256 bits))"
    records = [
        _record("compile", "vulkan-spirv", Status.OK, metrics={"module_bytes": 20480, "seconds": 1.5}),
        _record(
            "run",
            "vulkan-spirv",
            Status.OK,
            metrics={
                "max_abs_err": 1.8e-7,
                "matches": True,
                "timing": lavapipe,
                "latency_ms": {"median": 0.5, "n": 3, "times": [0.5, 0.5, 0.5]},
            },
        ),  # fmt: skip
        _record("compile", "cuda-sm_80", Status.OK, metrics={"module_bytes": 30000, "seconds": 2.0}),
        _record("run", "cuda-sm_80", Status.SKIP, message="not run: no CUDA device here (UNAVAILABLE; …)"),
        _record(
            "compile",
            "rocm-gfx942",
            Status.FAIL,
            message="error: failed to legalize operation 'x.y'",
            metrics={"first_error": "failed to legalize operation 'x.y'", "failing_op": "x.y"},
        ),  # fmt: skip
    ]
    text = "\n".join(gpu_section(records))
    assert text.startswith("## GPU targets")
    rows = {ln.split("|")[2].strip(): ln for ln in text.splitlines() if ln.startswith("| tiny_cnn")}
    assert set(rows) == {"vulkan-spirv", "cuda-sm_80", "rocm-gfx942"}
    assert "20.0 KiB" in rows["vulkan-spirv"] and "1.5 s" in rows["vulkan-spirv"]
    assert "✅ matches torch (max abs err 1.8e-07), 0.500 ms on llvmpipe (LLVM 15.0.6, 256 bits) " in text
    assert "not run: no CUDA device here" in text
    assert "failed to legalize operation 'x.y'" in text


def test_a_software_gpus_one_figure_is_the_checked_call():
    """On lavapipe a real model's call takes minutes: the checked call is timed, not benchmarked."""
    from iree_matrix.stages.run import checked_call_ms

    figure = checked_call_ms(464.3)
    assert figure["median"] == figure["min"] == figure["max"] == pytest.approx(464300.0)
    assert figure["n"] == 1 and figure["stdev"] == 0.0 and "iree-run-module" in figure["of"]


def test_the_sites_gpu_page_draws_each_target_and_the_cross_in_the_runtimes_words():
    """Issue #42: a GPU page beside the index — per target, function × compiler (a compile where no
    device could run it is its own state, not a failure), and compiler × runtime where the records
    hold the cross, each refusal in the runtime's words."""
    import dataclasses

    from iree_matrix.core.model.results import Status
    from iree_matrix.report import gpu, site

    hidden = "not run: this runtime hides lavapipe (llvmpipe), the only Vulkan device here"
    compiled = _record("compile", "vulkan-spirv", Status.OK, metrics={"module_bytes": 20480, "seconds": 1.5})
    own = _record("run", "vulkan-spirv", Status.MISMATCH, metrics={"max_abs_err": 0.44, "matches": False})
    old = dataclasses.replace(
        compiled,
        job=compiled.job.replace("iree3.13.0", "iree3.9.0"),
        cell=compiled.cell.replace("iree3.13.0", "iree3.9.0"),
        labels={**compiled.labels, "compiler": "3.9.0", "runtime": "3.9.0"},
    )
    old_run = dataclasses.replace(
        own, job=old.job.replace("compile:", "run:"), cell=old.cell, status=Status.SKIP, message=hidden,
        labels=old.labels, metrics={},
    )  # fmt: skip
    refused = dataclasses.replace(
        own, job=own.job + "@rt3.9.0", cell=own.cell + "/rt3.9.0", status=Status.FAIL, metrics={},
        error_class="run-error", labels={**own.labels, "runtime": "3.9.0"},
        message="INVALID_ARGUMENT; bytecode version mismatch; runtime supports 17.0, module has 18.0",
    )  # fmt: skip
    cuda = _record("compile", "cuda-sm_80", Status.FAIL, message="error: failed to legalize operation 'x.y'")
    records = [compiled, own, old, old_run, refused, cuda]
    cells = {(c.target, c.col): c for c in gpu.own_runtime_cells(records)}
    assert (
        cells["vulkan-spirv", "3.13.0"].state == "mismatch"
        and "0.44" in cells["vulkan-spirv", "3.13.0"].title
    )
    assert (
        cells["vulkan-spirv", "3.9.0"].state == "compiled"
        and "hides lavapipe" in cells["vulkan-spirv", "3.9.0"].title
    )
    assert cells["cuda-sm_80", "3.13.0"].state == "fail" and "x.y" in cells["cuda-sm_80", "3.13.0"].title
    cross = {(c.row, c.col): c for c in gpu.cross_cells(records)}
    assert cross["3.13.0", "3.9.0"].state == "refuses"
    assert "runtime supports 17.0, module has 18.0" in cross["3.13.0", "3.9.0"].title
    assert gpu.cross_cells([compiled, own, cuda]) == []  # each module on its own runtime: no cross
    page = site.render(records)["gpu.html"]
    assert "<h2 id=gpu-vulkan-spirv>vulkan-spirv</h2>" in page and "<h2 id=gpu-cuda-sm-80>" in page
    assert "module: vulkan-spirv · tiny_cnn</h2>" in page
    assert 'href="gpu.html"' in site.render(records)["index.html"]
    assert "gpu.html" not in site.render([_record("compile", "x86_64", Status.OK)])
