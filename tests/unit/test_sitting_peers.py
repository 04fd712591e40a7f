"""A sitting's peers call the user's model where it is now: a peer record reused from the store
(its key is the model's content, not its path) may name a path that is gone, the same file in another
checkout or a moved one. And a peer the sitting could not time is said with its error, never as a
bare "not measured" (issue #69's point-cloud kNN, re-sat from another folder, lost both peers so)."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.advise import paired_rounds
from iree_matrix.findings import advice
from iree_matrix.matrix.models import ModelRef

from .test_advice import ZEN5, _sitting

STALE = "/gone/checkout/tests/data/newcomer/nc_pointknn.py"
RECORDED = ["--file", STALE, "--factory", "build", "--function", "main", "--seed", "0", "--repetitions",
            "3", "--threads", "2", "--peers", "eager,onnxruntime", "--out", "/x"]  # fmt: skip


def test_the_peer_calls_the_model_where_this_run_found_it(tmp_path: Path):
    here = tmp_path / "models" / "nc_pointknn.py"
    ref = ModelRef("nc_pointknn", here, "build")
    args, reads = paired_rounds._model_args(RECORDED, ref)
    assert args == ["--file", str(here), "--factory", "build", "--function", "main", "--seed", "0"]
    assert STALE not in " ".join(map(str, [*args, *reads])) and here.parent in reads
    # without a reference (an older caller), the record's own arguments, as before
    old, old_reads = paired_rounds._model_args(RECORDED, None)
    assert old[:4] == ["--file", STALE, "--factory", "build"] and Path(STALE).parent in old_reads


def test_a_module_reference_replaces_the_records_module_and_keeps_its_weights(tmp_path: Path):
    root = tmp_path / "pkg_root"
    (root / "mypkg").mkdir(parents=True)
    ref = ModelRef("m", root / "mypkg" / "m.py", "build", module="mypkg.m", import_root=root)
    recorded = ["--module", "old.m", "--import-root", "/gone", "--factory", "old", "--function", "f",
                "--weights", str(tmp_path / "w.safetensors")]  # fmt: skip
    args, reads = paired_rounds._model_args(recorded, ref)
    assert args[:6] == ["--module", "mypkg.m", "--import-root", str(root), "--factory", "build"]
    assert args[6:] == ["--function", "f", "--weights", str(tmp_path / "w.safetensors")]
    assert root / "mypkg" in reads and "/gone" not in " ".join(map(str, reads))


def test_a_peer_that_failed_in_the_sitting_is_said_with_its_error():
    doc = _sitting(about=ZEN5)
    arms = doc["functions"][0]["arms"]
    why = "eager: FileNotFoundError: [Errno 2] No such file or directory: '/gone/nc.py'"
    for arm in arms:
        if arm["kind"] == advice.PEER:
            arm.update(ms=[], error=why)
    (a,) = advice.derive(doc)
    assert a.vs_eager is None and a.vs_peer is None
    text = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "mobilenet_v2"))
    assert f"no torch eager: not timed in this sitting ({why})" in text
    assert "no ONNX Runtime: not timed in this sitting" in text
    assert "torch eager: not measured" not in text  # said once, with why
