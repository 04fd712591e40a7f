"""Run bundles: the runner's pure parts (identity; its output check is the run stage's own code), a
damaged bundle is refused, and records and sittings from elsewhere are taken only when they check
out (findings/bundles.py, advise/received_sittings.py). The end-to-end run is
tests/integration/test_bundle.py."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.advise import received_sittings
from iree_matrix.bundle_runner import base as runner_base
from iree_matrix.bundle_runner import host as runner_host
from iree_matrix.bundle_runner import manifest as runner_manifest
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record
from iree_matrix.core.system import host
from iree_matrix.findings import bundles


def test_the_runner_names_this_cpu_as_the_tool_does() -> None:
    mine, theirs = runner_host.identity(), host.describe()
    for field in (
        "identity",
        "machine",
        "vendor",
        "family",
        "model",
        "stepping",
        "cpu_flags_sha256",
        "cores",
    ):
        assert mine[field] == theirs[field], field
    assert mine["cpu_features"] == theirs["cpu_features"]


@pytest.mark.parametrize(
    ("vendor", "family", "model", "stepping", "name"),
    [
        ("AuthenticAMD", "25", "17", "1", "znver4"),
        ("AuthenticAMD", "26", "2", "0", "znver5"),
        ("AuthenticAMD", "25", "1", "1", "znver3"),
        ("GenuineIntel", "6", "167", "1", "rocketlake"),
        ("GenuineIntel", "6", "207", "2", "emeraldrapids"),
        ("GenuineIntel", "6", "85", "7", "cascadelake"),
        ("GenuineIntel", "6", "250", "0", ""),  # not in the table: recorded without a name
        ("ARM", "8", "0xd08", "3", ""),
    ],
)
def test_llvm_names_from_cpuid(vendor: str, family: str, model: str, stepping: str, name: str) -> None:
    assert runner_host.llvm_cpu_name(vendor, family, model, stepping) == name


def _tiny_bundle(root: Path) -> Path:
    root.mkdir()
    (root / "bundle.json").write_text(json.dumps({"schema": 1, "cells": [], "runtimes": []}))
    (root / "modules").mkdir()
    (root / "modules" / "m.vmfb").write_bytes(b"module")
    sums = "".join(
        f"{hashlib.sha256((root / n).read_bytes()).hexdigest()}  {n}\n"
        for n in ("bundle.json", "modules/m.vmfb")
    )
    (root / "SHA256SUMS").write_text(sums)
    return root


def test_a_damaged_or_incomplete_bundle_is_refused_in_one_line(tmp_path: Path) -> None:
    root = _tiny_bundle(tmp_path / "b")
    assert len(runner_manifest.verify(root)) == 64
    (root / "modules" / "m.vmfb").write_bytes(b"moduLe")
    with pytest.raises(runner_base.BundleError, match=r"modules/m.vmfb: damaged"):
        runner_manifest.verify(root)
    (root / "modules" / "m.vmfb").unlink()
    with pytest.raises(runner_base.BundleError, match=r"modules/m.vmfb: missing"):
        runner_manifest.verify(root)
    (root / "SHA256SUMS").write_text("")
    with pytest.raises(runner_base.BundleError, match="empty or malformed"):
        runner_manifest.verify(root)
    (root / "SHA256SUMS").write_text(f"{'0' * 64}  ../../etc/passwd\n")
    with pytest.raises(runner_base.BundleError, match="outside the bundle"):
        runner_manifest.verify(root)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--flagfile=/etc/flags"], "run_flags '--flagfile=/etc/flags': each run gives --flagfile itself"),
        (
            ["--task_worker_stack_size=196608", "--module=/x.vmfb"],
            "run_flags '--module=/x.vmfb': each run gives",
        ),
        (["--stack 1"], "run_flags '--stack 1': expected an IREE runtime flag --name=value"),
        ("--flagfile=/etc/flags", "run_flags is not a list of runtime flags"),
    ],
)
def test_a_manifest_whose_cell_gives_a_run_flag_the_tool_refuses_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: object, said: str
) -> None:
    """A hand-edited manifest (SHA256SUMS made again) whose cell's run_flags hold a flag kernel/kernels.py
    refuses in kernel.toml (a `--flagfile=` would make each tool read a file no check saw): refused
    before anything runs, in one line naming the manifest, the cell and the flag, as `run.py` says
    what is wrong with a manifest; a cell's own child process (`--child`) refuses it too."""
    from iree_matrix.bundle_runner import cli as runner_cli

    root = tmp_path / "b"
    root.mkdir()
    cells = [
        {"job": "run:ok", "run_flags": ["--task_worker_stack_size=196608"]},
        {"job": "run:x", "run_flags": flags},
    ]
    (root / "bundle.json").write_text(json.dumps({"schema": 1, "cells": cells, "runtimes": []}))
    digest = hashlib.sha256((root / "bundle.json").read_bytes()).hexdigest()
    (root / "SHA256SUMS").write_text(f"{digest}  bundle.json\n")
    for argv in (["--bundle", str(root)], ["--bundle", str(root), "--child", "run:ok"]):
        assert runner_cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith(f"run.py: {root / 'bundle.json'}: cell run:x: ") and said in err, err
    cells[1]["run_flags"] = ["--task_worker_stack_size=262144"]  # a kernel's own flag: taken
    (root / "bundle.json").write_text(json.dumps({"schema": 1, "cells": cells, "runtimes": []}))
    assert runner_manifest.load_manifest(root)["cells"] == cells


def test_a_bundle_for_another_python_says_which_to_use() -> None:
    manifest = {"runtimes": [{"release": "3.13.0", "python": "2.7", "machine": "x86_64"}]}
    with pytest.raises(runner_base.BundleError, match=r"Python 2.7 on x86_64.*--python"):
        runner_manifest.wheel_for(manifest, "3.13.0")


# --------------------------------------------------------------------------- records coming home

DIGEST = "a" * 64
MODULE = "b" * 64
LABELS = {
    "model": "tiny_cnn",
    "compiler": "3.13.0",
    "runtime": "3.13.0",
    "arch": "x86_64",
    "profile": "x86-64-v3",
}


def _record(**changes: Any) -> Record:
    here = {k: v for k, v in host.describe().items() if not k.startswith("llvm")}
    data: dict[str, Any] = {
        "schema": 2, "job": "run:tiny_cnn/e/iree3.13.0/x86_64/x86-64-v3", "stage": "run",
        "cell": "tiny_cnn/e/iree3.13.0/x86_64/x86-64-v3", "key": "k", "status": "ok", "labels": dict(LABELS),
        "metrics": {"module_sha256": MODULE, "matches": True}, "host": here,
        "env": {"backend": "bundle", "bundle_sha256": DIGEST},
    }  # fmt: skip
    for key, value in changes.items():
        data[key] = value
    return Record.from_dict(data)


def _manifests(tmp_path: Path) -> bundles.Manifests:
    cell = {"job": "run:tiny_cnn/e/iree3.13.0/x86_64/x86-64-v3", "module_sha256": MODULE, "labels": LABELS}
    return bundles.Manifests(tmp_path, {DIGEST: {"cells": [cell]}})


def test_a_bundle_record_that_checks_out_is_taken(tmp_path: Path) -> None:
    assert bundles.problem(_record(), _manifests(tmp_path)) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"metrics": {"module_sha256": "c" * 64}}, "is not the one bundle"),
        ({"env": {"backend": "bundle", "bundle_sha256": "d" * 64}}, "which this machine did not make"),
        ({"env": {"backend": "venv"}}, "not a bundle's record"),
        ({"host": {"cpu": "x"}}, "no machine identity"),
        ({"labels": {**LABELS, "compiler": "3.12.0"}}, "labels differ"),
        ({"stage": "compile", "job": "compile:x"}, "runs only"),
        ({"job": "run:other"}, "has no cell"),
    ],
)
def test_a_bundle_record_that_does_not_check_out_is_refused(
    tmp_path: Path, change: dict[str, Any], words: str
) -> None:
    assert words in (bundles.problem(_record(**change), _manifests(tmp_path)) or "")


def test_an_identity_string_that_disagrees_with_its_cpu_is_refused(tmp_path: Path) -> None:
    forged = {**_record().host.as_dict(), "identity": "x86_64|GenuineIntel|6|207|2|0000000000000000|16"}
    assert "does not agree" in (bundles.problem(_record(host=forged), _manifests(tmp_path)) or "")


def test_a_results_file_with_an_unknown_schema_or_garbage_is_refused_naming_its_line(tmp_path: Path) -> None:
    good = json.loads(_record().to_json())
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "schema": 99}) + "\n")
    with pytest.raises(bundles.RefusedRecord, match=r"results.jsonl:2: schema 99 is newer.*nothing merged"):
        bundles.read(path, _manifests(tmp_path))
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(bundles.RefusedRecord, match=r"results.jsonl:2: not a record"):
        bundles.read(path, _manifests(tmp_path))


def test_the_kept_manifest_is_found_by_digest_and_an_edited_copy_is_not(tmp_path: Path) -> None:
    from iree_matrix.execution import bundle as packing

    text = b'{"cells": []}\n'
    digest = hashlib.sha256(text).hexdigest()
    path = packing.keep(tmp_path, digest, text)
    assert bundles.Manifests(tmp_path).get(digest) == {"cells": []}
    path.write_bytes(b'{"cells": [{"job": "x"}]}\n')
    assert bundles.Manifests(tmp_path).get(digest) is None


def test_a_record_that_claims_a_bundle_is_checked_even_without_bundle_json(tmp_path: Path) -> None:
    """Issue 68 item 4: a results folder without bundle.json skipped every bundle check (a record with
    no digests and 0.001 ms was merged and shown as run elsewhere by a bundle). Any record whose
    env says a bundle ran it is checked against that bundle's manifest, or nothing is merged."""
    from iree_matrix.findings.merge import merge

    forged = json.loads(_record().to_json())
    forged["metrics"] = {"latency_ms": {"median": 0.001, "n": 1}, "matches": True}
    folder = tmp_path / "no-manifest"
    folder.mkdir()
    (folder / "results.jsonl").write_text(json.dumps(forged) + "\n")
    out = tmp_path / "out"
    with pytest.raises(bundles.RefusedRecord, match=r"says a run bundle ran it, and module digest"):
        merge([folder], out, _manifests(tmp_path))
    assert not (out / "results.jsonl").exists()
    (folder / "results.jsonl").write_text(_record().to_json() + "\n")  # one that checks out
    with pytest.raises(bundles.RefusedRecord, match="which this machine did not make"):
        merge([folder], out)  # no manifest known: refused, saying how (--bundle)
    assert len(merge([folder], out, _manifests(tmp_path)).records) == 1


# --------------------------------------------------------------------------- sittings from elsewhere


def _sitting() -> dict[str, Any]:
    here = {k: v for k, v in host.describe().items() if not k.startswith("llvm")}
    arm = {"name": "default", "kind": "default", "config": "default", "release": "3.13.0", "ms": [10.0, 11.0],
           "module_sha256": MODULE, "matches": True, "flags": []}  # fmt: skip
    return {"schema": 2, "model": "tiny_cnn", "llvm_cpu": "znver4", "host": here,
            "functions": [{"function": "main", "arms": [arm]}]}  # fmt: skip


def test_a_sitting_that_checks_out_is_taken() -> None:
    assert received_sittings.problem(_sitting(), {MODULE}) is None


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["functions"][0]["arms"][0].update(ms=[float("nan")]), "finite positive"),
        (lambda d: d["functions"][0]["arms"][0].update(ms=[-5.0]), "finite positive"),
        (lambda d: d["functions"][0]["arms"][0].update(ms=[1e308]), "finite positive"),
        (lambda d: d.update(model="\x1b[2Jevil"), "is not a name"),
        (lambda d: d.update(model="m" * 300), "is not a name"),
        # a family other than this machine's (the sitting's host is this machine's description)
        (lambda d: d["host"].update(family=str(int(d["host"]["family"] or 0) + 1)), "does not agree"),
        (lambda d: d["functions"][0]["arms"][0].update(module_sha256="e" * 64), "not one the sitting's own"),
    ],
)
def test_a_sitting_that_does_not_check_out_is_refused(edit: Any, words: str) -> None:
    document = copy.deepcopy(_sitting())
    edit(document)
    assert words in (received_sittings.problem(document, {MODULE}) or "")


def _forged_sitting(tmp_path: Path) -> tuple[Path, dict]:
    """A results folder whose bundle record and sitting both carry an edited module digest (c...c),
    and the sitting's document."""
    folder = tmp_path / "answered"
    folder.mkdir()
    forged = json.loads(_record(metrics={"module_sha256": "c" * 64}).to_json())
    (folder / "results.jsonl").write_text(json.dumps(forged) + "\n")
    document = _sitting()
    document["functions"][0]["arms"][0]["module_sha256"] = "c" * 64
    (folder / "advice-tiny_cnn.json").write_text(json.dumps(document))
    return folder, document


def test_a_sitting_a_bundle_made_is_only_as_good_as_its_checked_records(tmp_path: Path) -> None:
    """A bundle's results folder with a sitting: its records are checked against the bundle before
    the sitting's arms are checked against them, so an edited digest in both is still refused."""
    folder, document = _forged_sitting(tmp_path)
    (folder / "bundle.json").write_text("{}")
    with pytest.raises(bundles.RefusedRecord, match="is not the one bundle"):
        received_sittings.read(folder, _manifests(tmp_path))
    (folder / "results.jsonl").write_text(_record().to_json() + "\n")
    document["functions"][0]["arms"][0]["module_sha256"] = MODULE
    (folder / "advice-tiny_cnn.json").write_text(json.dumps(document))
    assert len(received_sittings.read(folder, _manifests(tmp_path))) == 1


def test_a_sitting_folder_without_bundle_json_or_with_a_linked_sitting_is_refused(tmp_path: Path) -> None:
    """Issue 68 items 3 and 4: a forged bundle record in a folder without bundle.json vouched for a
    sitting's digests unchecked; a sitting file linked elsewhere was read as the folder's own."""
    folder, document = _forged_sitting(tmp_path)
    with pytest.raises(bundles.RefusedRecord, match="says a run bundle ran it, and module digest"):
        received_sittings.read(folder, _manifests(tmp_path))
    (folder / "results.jsonl").write_text(_record().to_json() + "\n")
    elsewhere = tmp_path / "elsewhere.json"
    document["functions"][0]["arms"][0]["module_sha256"] = MODULE
    elsewhere.write_text(json.dumps(document))
    (folder / "advice-tiny_cnn.json").unlink()
    (folder / "advice-tiny_cnn.json").symlink_to(elsewhere)
    with pytest.raises(UserError, match="a symbolic link or not a regular file"):
        received_sittings.read(folder, _manifests(tmp_path))


def test_a_target_run_only_by_a_bundle_is_not_called_a_pass_on_0_of_0() -> None:
    """Here the armv6 run was not run (no Docker), a bundle ran it on a real board: the answer is
    the bundle's, never "passes on 0 of 0 releases" nor "no release passes"."""
    from iree_matrix.findings import query

    arm = {**LABELS, "arch": "armv6", "profile": "default", "runtime": "src:3.9.0", "compiler": "3.9.0"}
    cell = "tiny_cnn/e/iree3.9.0/armv6/default"
    base = {"schema": 2, "cell": cell, "key": "c", "labels": arm, "host": {}, "env": {"backend": "venv"}}
    compiled = Record.from_dict({**base, "job": f"compile:{cell}", "stage": "compile", "status": "ok",
                                 "metrics": {"module_sha256": MODULE}})  # fmt: skip
    unrun = Record.from_dict({**base, "job": f"run:{cell}", "stage": "run", "status": "not_run",
                              "error_class": "needs-docker", "message": "needs Docker"})  # fmt: skip
    answer = query.model(
        [compiled, _record(job=f"run:{cell}", cell=cell, labels=arm), unrun], "tiny_cnn", "armv6"
    )
    text = "\n".join(answer.lines)
    assert answer.answer == "measured elsewhere", text
    assert "no compiler release was run to a verdict here; a bundle ran it elsewhere" in answer.lines[0]
    assert "0 of 0" not in text and "no release passes" not in text
    assert "armv6/default IREE 3.9.0: matches torch" in text
    # What merge could not prove is said as that machine's report (issue 68 item 4).
    assert "(status and times as its run.py reported them):" in text
