"""The answer on a GPU from a run bundle's GPU sitting (findings/gpu_advice.py): the release and chip
to take, its paired ratios to torch eager and torch.compile on that GPU, the arms that differ from
torch named, a software device marked; merge's checks of such a sitting (advise/received_sittings.py), and
its renders (ANSWERS.md's "On GPUs", compat.json, `query model`). Synthetic documents: pure logic."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iree_matrix.advise import received_sittings
from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import stats
from iree_matrix.core.system import host
from iree_matrix.findings import advice, compat, gpu_advice

ROUNDS = 8
H200 = {"driver": "cuda", "name": "NVIDIA H200", "driver_version": "580.159.04", "compute_capability": "9.0",
        "software": False}  # fmt: skip
LAVAPIPE = {"driver": "vulkan", "name": "llvmpipe (LLVM 15.0.6, 256 bits)", "driver_version": "",
            "compute_capability": "", "software": True}  # fmt: skip
EAGER_SOURCE = "torch 2.11.0+cu130 on cuda"
# A cell's mismatch as the run stage words it, which a bundle's run.py copies into the arm's error.
MISMATCH = runner_arrays.mismatch_words(
    {"max_abs_err": 0.2977, "max_rel_err": 12.5, "atol": 5e-05, "rtol": 1e-04}
)


def _rounds(ms: float, wobble: float = 0.01) -> list[float]:
    """Eight rounds around `ms`, the same wobble for every arm (the rounds a paired sitting shares)."""
    return [ms * (1 + wobble * ((i * 5) % 7 - 3) / 3) for i in range(ROUNDS)]


def _iree(release: str, target: str, median: float, **extra: Any) -> dict[str, Any]:
    chip = target.split(":", 1)[1] if ":" in target else ""
    flags = ["--iree-hal-target-backends=" + target.split(":", 1)[0]]
    flags += [f"--iree-cuda-target={chip}"] if chip else []
    return {"name": f"{release} {target}", "kind": advice.GPU, "config": "default", "release": release,
            "target": target, "flags": flags, "module_sha256": f"{release}-{target}".ljust(64, "0"),
            "ms": _rounds(median), "matches": True, "source": "run bundle", **extra}  # fmt: skip


def _peer(name: str, median: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": advice.PEER, "config": name, "ms": _rounds(median), "matches": True,
            "source": EAGER_SOURCE, **extra}  # fmt: skip


def _document(
    arms: list[dict[str, Any]], device: dict[str, Any] = H200, model: str = "mobilenet_v2"
) -> dict[str, Any]:
    here = {k: v for k, v in host.describe().items() if not k.startswith("llvm")}
    return {"schema": 3, "timing": "wall", "device": dict(device), "model": model, "release": "3.13.0",
            "llvm_cpu": "sapphirerapids", "host": here, "rounds": ROUNDS, "repetitions": 20,
            "started": "2026-11-26T18:00:00+00:00", "finished": "2026-11-26T18:04:00+00:00",
            "load_average": {"start": 0.4, "end": 0.6}, "bundle_sha256": "d" * 64,
            "functions": [{"function": "main", "arms": arms}]}  # fmt: skip


def _cuda() -> dict[str, Any]:
    """Two releases for sm_80 and sm_89 on an H200, both torch peers: 3.13.0 sm_80 is fastest."""
    return _document([
        _iree("3.9.0", "cuda:sm_80", 3.20), _iree("3.9.0", "cuda:sm_89", 3.25),
        _iree("3.13.0", "cuda:sm_80", 2.93), _iree("3.13.0", "cuda:sm_89", 2.94),
        _peer("eager", 2.64), _peer("torch.compile", 0.725),
    ])  # fmt: skip


def _vulkan() -> dict[str, Any]:
    wrong = {"matches": False, "error": MISMATCH}
    return _document([
        _iree("3.9.0", "vulkan-spirv", 11.6), _iree("3.13.0", "vulkan-spirv", 9.50, **wrong),
        _peer("eager", 2.64), _peer("torch.compile", 0.725),
    ], device={**H200, "driver": "vulkan"})  # fmt: skip


def test_a_cuda_sitting_answers_the_fastest_release_and_chip_with_its_paired_ratios_to_torch() -> None:
    (a,) = gpu_advice.derive(_cuda(), "answers/nvidia-h200-cc9.0/advice-mobilenet_v2.x.json")
    assert (a.release, a.target, a.chip, a.chip_flag) == (
        "3.13.0",
        "cuda:sm_80",
        "sm_80",
        "--iree-cuda-target=sm_80",
    )
    assert a.ms == pytest.approx(2.93, rel=0.02)
    # IREE's time over each peer's from the same rounds: 2.93 / 2.64 and 2.93 / 0.725.
    eager, compiled = (x.ratio for x in a.peers)
    assert [x.peer.config for x in a.peers] == ["eager", "torch.compile"]
    assert eager is not None and eager.value == pytest.approx(2.93 / 2.64, rel=1e-3)
    assert compiled is not None and compiled.value == pytest.approx(2.93 / 0.725, rel=1e-3)
    assert eager.paired.verdict == stats.SLOWER  # 11 % slower in every round
    # sm_89 of the same release is 0.3 % slower in every round: below the least effect, no difference.
    assert a.as_fast == (("3.13.0", "cuda:sm_89"),)
    assert a.identity.slug == "nvidia-h200-cc9.0"
    assert a.identity.label == "NVIDIA H200 (compute capability 9.0, driver 580.159.04, CUDA)"
    assert "synchronised wall time" in a.sitting and "8 paired rounds" in a.sitting
    said = "\n".join(gpu_advice.answer_lines(a))
    assert "take IREE 3.13.0 for sm_80" in said
    assert "IREE takes 1.11× torch eager's time" in said and "IREE takes 4.04× torch.compile's time" in said


def test_a_gpu_sitting_is_never_a_cpu_answer_of_its_host(tmp_path: Path) -> None:
    """The H200's sitting names its host's CPU too: it must not replace that CPU's own answer."""
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "advice-mobilenet_v2.20261126T180000.json").write_text(json.dumps(_cuda()))
    assert advice.published(tmp_path) == []
    assert [a.release for a in gpu_advice.published(tmp_path)] == ["3.13.0"]


def test_a_release_that_miscomputes_on_vulkan_is_named_and_the_answer_is_the_other() -> None:
    (a,) = gpu_advice.derive(_vulkan())
    assert (a.release, a.target) == ("3.9.0", "vulkan-spirv")
    (wrong,) = [e for e in a.excluded if e.ran]
    assert wrong.release == "3.13.0" and wrong.ran
    said = "\n".join(gpu_advice.answer_lines(a))
    assert "IREE 3.13.0 vulkan-spirv: outputs differ from torch: max abs err 0.298" in said
    assert a.identity.slug == "nvidia-h200-cc9.0" and a.identity.api == "Vulkan"


def test_a_software_device_is_marked_and_never_worded_as_a_gpus_time() -> None:
    document = _document([_iree("3.13.0", "vulkan-spirv", 40.0),
                          _peer("eager", 1, ms=[], error="torch sees no CUDA device"),
                          _peer("torch.compile", 1, ms=[], error="torch sees no CUDA device")],
                         device=LAVAPIPE)  # fmt: skip
    (a,) = gpu_advice.derive(document)
    assert a.identity.software and a.identity.slug == "software-llvmpipe"
    assert "software device, not a GPU" in a.identity.label
    assert gpu_advice.ms_text(a).endswith("(software device, not a GPU's time)")
    said = "\n".join(gpu_advice.answer_lines(a))
    assert "timed on a software device" in said and "torch eager" not in said


def test_no_iree_arm_that_matches_torch_is_no_answer_and_says_why() -> None:
    wrong = {"matches": False, "error": MISMATCH}
    # As a bundle records a cell that did not run: matches false, its record's message the error.
    unrun = {"ms": [], "matches": False, "error": "not run: no Vulkan device here"}
    document = _document([_iree("3.13.0", "vulkan-spirv", 9.5, **wrong),
                          _iree("3.9.0", "vulkan-spirv", 1, **unrun),
                          _peer("eager", 2.64)])  # fmt: skip
    (a,) = gpu_advice.derive(document)
    assert not a.answered and a.ms is None
    assert a.why.startswith("no IREE arm ran and matched torch: ")
    assert f"3.13.0 vulkan-spirv: {MISMATCH}" in a.why
    assert "3.9.0 vulkan-spirv: did not run (not run: no Vulkan device here)" in a.why
    assert [e.ran for e in a.excluded] == [True, False]
    assert gpu_advice.answer_lines(a)[0] == f"no answer: {a.why}"


def test_peers_that_did_not_run_are_not_measured_with_their_reason() -> None:
    document = _document([_iree("3.13.0", "cuda:sm_80", 2.93),
                          _peer("eager", 1, ms=[], error="torch is not importable here")])  # fmt: skip
    (a,) = gpu_advice.derive(document)
    assert [x.ratio for x in a.peers] == [None, None]
    said = "\n".join(gpu_advice.answer_lines(a))
    assert "torch eager: not measured (torch is not importable here)" in said
    assert "torch.compile: not measured (not in the sitting)" in said


# --------------------------------------------------------------------------- merge's checks


def test_a_gpu_sitting_that_checks_out_is_taken_and_goes_under_its_gpu(tmp_path: Path) -> None:
    assert received_sittings.problem(_cuda(), set()) is None
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "advice-mobilenet_v2.20261126T180000.json").write_text(json.dumps(_cuda()))
    (found,) = received_sittings.read(folder, _manifests(tmp_path))
    assert found.destination == "answers/nvidia-h200-cc9.0/advice-mobilenet_v2.20261126T180000.json"
    written = received_sittings.publish([found], tmp_path / "results")
    assert (tmp_path / "results" / found.destination) in written


def _manifests(tmp_path: Path) -> Any:
    from iree_matrix.findings import bundles

    return bundles.Manifests(tmp_path, {})


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d.update(schema=2), "is schema 3"),
        (lambda d: d.update(device="H200"), "its device is not a device"),
        (lambda d: d["device"].update(name=""), "its device has no name"),
        (lambda d: d["device"].update(driver="opencl"), "driver 'opencl' is not one of cuda, vulkan, hip"),
        (lambda d: d["device"].update(compute_capability="nine"), "compute capability 'nine' is not one"),
        (lambda d: d["device"].update(software="no"), "`software` is not true or false"),
        (lambda d: d["device"].update(driver_version="580\x1b[2J"), "driver version"),
        (lambda d: d.update(timing="cpu"), "timing 'cpu' is not a GPU sitting's"),
        (lambda d: d["functions"][0]["arms"][0].update(target="$(rm -rf)"), "is not a GPU target"),
        (lambda d: d["functions"][0]["arms"][0].update(module_sha256=""), "timed but names no module"),
        (lambda d: d["functions"][0]["arms"][0].update(ms=[float("inf")]), "finite positive"),
    ],
)
def test_a_gpu_sitting_that_does_not_check_out_is_refused(edit: Any, words: str) -> None:
    document = copy.deepcopy(_cuda())
    edit(document)
    assert words in (received_sittings.problem(document, set()) or "")


def test_a_gpu_arm_of_a_module_the_bundle_did_not_ship_is_refused() -> None:
    shipped = {a["module_sha256"] for a in _cuda()["functions"][0]["arms"] if a.get("module_sha256")}
    assert received_sittings.problem(_cuda(), shipped) is None
    assert "not one the sitting's own records compiled" in (
        received_sittings.problem(_cuda(), {"f" * 64}) or ""
    )


def test_merge_refuses_a_bad_gpu_sitting_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    from iree_matrix.commands import merge

    folder = tmp_path / "run"
    folder.mkdir()
    document = _cuda()
    document["device"]["driver"] = "opencl"
    path = folder / "advice-mobilenet_v2.20261126T180000.json"
    path.write_text(json.dumps(document))
    with pytest.raises(UserError) as refused:
        merge.run([folder], tmp_path / "results", tmp_path / "cache", [])
    assert str(refused.value).startswith(f"merge: {path}: its device's driver 'opencl'")
    assert "\n" not in str(refused.value) and str(refused.value).endswith("nothing merged")
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------------- renders


def _published(tmp_path: Path) -> Path:
    root = tmp_path / "results" / advice.DIRNAME
    for slug, document in (("nvidia-h200-cc9.0", _cuda()), ("nvidia-h200-cc9.0", _vulkan())):
        folder = root / slug
        folder.mkdir(parents=True, exist_ok=True)
        name = "cuda" if document["device"]["driver"] == "cuda" else "vulkan"
        (folder / f"advice-mobilenet_v2.{name}.json").write_text(json.dumps(document))
    return root


def test_answers_md_has_an_on_gpus_table_with_the_miscomputing_arms_under_it(tmp_path: Path) -> None:
    from iree_matrix.report import answers as rendered

    root = _published(tmp_path)
    found = gpu_advice.published(root)
    assert len(found) == 2, "a Vulkan sitting and a CUDA sitting of one GPU are two answers"
    page = rendered.write(root)
    assert page is not None
    text = page.read_text(encoding="utf-8")
    assert "## On GPUs" in text
    row = next(line for line in text.splitlines() if "`--iree-cuda-target=sm_80`" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:5] == ["mobilenet_v2", "NVIDIA H200 (compute capability 9.0, driver 580.159.04, CUDA)",
                         "IREE 3.13.0", "`--iree-cuda-target=sm_80`", "✅ yes"]  # fmt: skip
    assert cells[6:8] == ["IREE takes 1.11× eager's time", "IREE takes 4.04× torch.compile's time"]
    listed = (
        "- mobilenet_v2 on NVIDIA H200 (cc 9.0, Vulkan): IREE 3.13.0 vulkan-spirv: outputs differ from torch"
    )
    assert listed in text


def test_compat_json_carries_the_gpu_answers_within_its_schema(tmp_path: Path) -> None:
    root = _published(tmp_path)
    document = compat.derive([], None, (), gpu_advice.published(root))
    compat.validate(document)
    vulkan = next(a for a in document["gpu_answers"] if a["target"] == "vulkan-spirv")
    assert vulkan["release"] == "3.9.0" and vulkan["differs"][0]["release"] == "3.13.0"
    assert vulkan["differs"][0]["ran"] is True
    cuda = next(a for a in document["gpu_answers"] if a["target"] == "cuda:sm_80")
    assert (
        cuda["gpu"]["compute_capability"] == "9.0" and cuda["time_over_torch_compile"]["verdict"] == "slower"
    )
    cuda["gpu"]["software"] = "no"
    with pytest.raises(jsonschema.ValidationError):
        compat.validate(document)


def test_query_gives_a_bundle_made_answer_for_hopper_in_place_of_the_hand_measured_one(
    tmp_path: Path,
) -> None:
    from iree_matrix.findings import gpu

    found = gpu_advice.published(_published(tmp_path))
    hopper = gpu.model([], "mobilenet_v2", "cuda:sm_90", found)
    text = "\n".join(hopper.lines)
    assert "compile for sm_80 or sm_89: runs on NVIDIA H200" in text and "run bundle" in text
    assert "measured by hand outside the project" not in text
    assert hopper.data is not None and hopper.data["bundled"][0]["release"] == "3.13.0"
    # Without a bundle's answer for that GPU, the hand-measured line stays.
    alone = "\n".join(gpu.model([], "mobilenet_v2", "cuda:sm_90").lines)
    assert "compile for sm_80 or sm_89: runs on Hopper (measured on an NVIDIA H200" in alone
    vulkan = gpu.model([], "mobilenet_v2", "vulkan-spirv", found)
    said = "\n".join(vulkan.lines)
    assert "IREE 3.13.0 vulkan-spirv: outputs differ from torch" in said and "take IREE 3.9.0" in said
    assert vulkan.answer == "passes" and said.startswith("mobilenet_v2 on vulkan-spirv: IREE 3.9.0 runs it")


def test_query_model_shows_the_gpu_answers_under_the_cpu_ones(tmp_path: Path) -> None:
    from iree_matrix.commands import query as query_command
    from iree_matrix.findings import results_folder
    from iree_matrix.findings.query import Answer

    _published(tmp_path)
    cpu = Answer("model", "passes", ("mobilenet_v2: passes with 3.13.0",))
    results = results_folder.load(tmp_path / "results")
    shown = query_command._with_gpu_answers(cpu, results, "mobilenet_v2")
    text = "\n".join(shown.lines)
    assert text.startswith("mobilenet_v2: passes with 3.13.0\n  on GPUs (each from one paired sitting")
    assert "take IREE 3.13.0 for sm_80" in text and "take IREE 3.9.0 for vulkan-spirv" in text
    assert shown.data is not None and {a["target"] for a in shown.data["gpu_answers"]} >= {"cuda:sm_80"}
    assert query_command._with_gpu_answers(cpu, results, "no_such_model") is cpu


def test_the_sites_answers_page_shows_the_gpus_table_escaped(tmp_path: Path) -> None:
    from iree_matrix.report import answers as rendered

    found = gpu_advice.published(_published(tmp_path))
    page = "".join(rendered.html_body([], found))
    assert "<h2>On GPUs</h2>" in page and "--iree-cuda-target=sm_80" in page and "`" not in page
    assert "IREE 3.13.0 vulkan-spirv: outputs differ from torch" in page
    assert "IREE 3.13.0 cuda:sm_80: neighbourhood: not yet measured on this GPU (bundle --advise" in page
    assert rendered.html_body([], []) == []


def test_query_answers_from_a_folder_merge_made_of_sittings_only(tmp_path: Path, capsys) -> None:
    """`merge` of a bundle's sitting writes answers/<identity>/ and no log at the root: `query model`
    reads the answers (and the records that travelled beside them) instead of refusing the folder."""
    from iree_matrix import cli

    _published(tmp_path)
    where = ["--results-dir", str(tmp_path / "results")]
    code = cli.main(["query", "model", "mobilenet_v2", *where])
    out = capsys.readouterr().out
    # no CPU record here: decided only where the package's published CPU answers hold one for this CPU
    assert code == (0 if out.startswith("mobilenet_v2: the answer") else 1), out[:300]
    assert "on GPUs (each from one paired sitting" in out and "take IREE 3.13.0 for sm_80" in out
    assert cli.main(["query", "model", "mobilenet_v2", "--results-dir", str(tmp_path / "none")]) == 2
    assert "no such results file" in capsys.readouterr().err


# --------------------------------------------------------------------------- the neighbourhood proof


def _timed(config: str, median: float, **extra: Any) -> dict[str, Any]:
    return {"config": config, "flags": [f"--{config}"], "module_sha256": config.ljust(64, "1"),
            "ms": _rounds(median), "matches": True, "error": "", "same_as": "", **extra}  # fmt: skip


def _proofs(
    centre: float = 2.93, release: str = "3.13.0", target: str = "cuda:sm_80", **around: float
) -> list:
    """The proofs run.py writes: one per centre arm, the CPU proof's form with its release and target
    (the centre's digest is its arm's)."""
    step = {"centre": _timed("default", centre, module_sha256=f"{release}-{target}".ljust(64, "0")),
            "neighbours": [_timed(c.replace("_", "-"), ms) for c, ms in around.items()]}  # fmt: skip
    return [{"start": "default", "max_steps": 1, "source": "run bundle", "steps": [step],
             "release": release, "target": target}]  # fmt: skip


def _with_proofs(proofs: list) -> dict[str, Any]:
    document = _cuda()
    document["functions"][0]["proofs"] = proofs
    return document


def test_a_gpu_answer_carries_its_arms_proof_and_names_a_faster_neighbour() -> None:
    (a,) = gpu_advice.derive(_with_proofs(_proofs(O2=2.95, im2col=2.93 * 0.8)))
    assert a.proof is not None and a.proof.start == "default" and a.proved == (("3.13.0", "cuda:sm_80"),)
    said = gpu_advice.proof_text(a)
    assert said.startswith(
        "Neighbourhood: `default` is not a local optimum: `im2col` (+ im2col) takes 0.80× its time"
    )
    assert said.endswith("; a GPU bundle times `default` only: compile with `--im2col` and time it by hand")
    assert "--picks" not in said
    assert f"  {said}" in gpu_advice.answer_lines(a)
    proof = gpu_advice.as_json(a)["proof"]
    assert proof["certified"] is False and {n["config"] for n in proof["neighbours"]} == {"O2", "im2col"}


def test_a_gpu_answer_whose_neighbours_are_all_slower_is_a_local_optimum() -> None:
    (a,) = gpu_advice.derive(_with_proofs(_proofs(O2=3.3, channels_last=3.5)))
    assert a.proof is not None and a.proof.certified
    assert gpu_advice.proof_text(a).startswith(
        "Neighbourhood: `default` is a local optimum: none of its 2 one-knob changes was faster"
    )


def test_a_gpu_answer_without_its_proof_says_not_yet_measured_never_an_optimum() -> None:
    (bare,) = gpu_advice.derive(_cuda())
    assert bare.proof is None and gpu_advice.proof_text(bare) == (
        "neighbourhood: not yet measured on this GPU "
        "(`bundle --advise mobilenet_v2 --target cuda:sm_80 --release 3.13.0` carries it)"
    )
    assert gpu_advice.as_json(bare)["proof"] is None
    # The sitting proved another arm (3.9.0's): not this answer's, said so.
    (other,) = gpu_advice.derive(_with_proofs(_proofs(3.20, "3.9.0", O2=3.3)))
    assert other.proof is None and other.release == "3.13.0"
    assert gpu_advice.proof_text(other).endswith(
        "this sitting timed that of IREE 3.9.0 cuda:sm_80, not this answer's"
    )
    (lost,) = gpu_advice.derive(
        _document([_iree("3.13.0", "cuda:sm_80", 2.9, matches=False, error=MISMATCH)])
    )
    assert gpu_advice.proof_text(lost) == ""  # no answer: nothing to prove


def test_merge_checks_a_gpu_proof_as_a_cpu_proof_its_neighbours_modules_the_bundles() -> None:
    document = _with_proofs(_proofs(O2=2.95, im2col=2.5))
    shipped = {a["module_sha256"] for a in document["functions"][0]["arms"] if a.get("module_sha256")}
    shipped |= {"O2".ljust(64, "1"), "im2col".ljust(64, "1")}
    assert received_sittings.problem(document, shipped) is None
    assert (
        "proofs: 3.13.0 cuda:sm_80: step 1: 'im2col': module im2col111111 is not one the sitting's own"
        in (received_sittings.problem(document, shipped - {"im2col".ljust(64, "1")}) or "")
    )
    for edit, words in (
        (lambda p: p[0].update(target="$(x)"), "proofs: target '$(x)' is not a GPU target"),
        (lambda p: p[0].update(release=""), "proofs: a proof without its release"),
        (lambda p: p[0]["steps"][0]["neighbours"][0].update(ms=[-1.0]), "finite positive"),
        (lambda p: p.append("x"), "a proof that is not one"),
    ):
        bad = copy.deepcopy(document)
        edit(bad["functions"][0]["proofs"])
        assert words in (received_sittings.problem(bad, shipped) or ""), words
    cpu = copy.deepcopy(document)
    del cpu["device"]
    cpu.update(schema=2, timing=None)
    assert "only a GPU sitting has proofs" in (received_sittings.problem(cpu, set()) or "")


def test_answers_md_compat_and_query_show_the_gpu_neighbourhood_or_not_yet_measured(tmp_path: Path) -> None:
    from iree_matrix.report import answers as rendered

    root = tmp_path / "results" / advice.DIRNAME
    for slug, document in (("nvidia-h200-cc9.0", _with_proofs(_proofs(O2=2.95, im2col=2.93 * 0.8))),
                           ("nvidia-h200-cc9.0", _vulkan())):  # fmt: skip
        (root / slug).mkdir(parents=True, exist_ok=True)
        name = document["device"]["driver"]
        (root / slug / f"advice-mobilenet_v2.{name}.json").write_text(json.dumps(document))
    found = gpu_advice.published(root)
    page = rendered.write(root)
    assert page is not None
    text = page.read_text(encoding="utf-8")
    assert (
        "mobilenet_v2 on NVIDIA H200 (cc 9.0, CUDA), IREE 3.13.0 cuda:sm_80: Neighbourhood: `default` is not "
        "a local optimum: `im2col` (+ im2col) takes 0.80× its time" in text
    )
    assert "| + im2col | `im2col` | 0.80× |" in text and "| change to `default` |" in text
    assert (
        "mobilenet_v2 on NVIDIA H200 (cc 9.0, Vulkan), IREE 3.9.0 vulkan-spirv: neighbourhood: not yet "
        "measured on this GPU (`bundle --advise mobilenet_v2 --target vulkan-spirv --release 3.9.0` "
        "carries it)." in text
    )
    document = compat.derive([], None, (), found)
    compat.validate(document)
    cuda = next(a for a in document["gpu_answers"] if a["target"] == "cuda:sm_80")
    assert cuda["proof"]["result"] == "im2col" and cuda["neighbourhood"].startswith(
        "Neighbourhood: `default`"
    )
    lines = "\n".join(gpu_advice.lines(found, "mobilenet_v2"))
    assert (
        "Neighbourhood: `default` is not a local optimum" in lines and "not yet measured on this GPU" in lines
    )
