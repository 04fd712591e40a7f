"""Unit tests for scripts/peers.py and the peers' shared helpers (scripts/peer_frameworks/): pure
helpers, and (marked torch) real runs."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.scripts_path import scripts_importable

SCRIPTS = scripts_importable()

import peer_frameworks as base  # noqa: E402  (scripts/ is on sys.path now; importing it needs no torch)
import peer_frameworks.onnxruntime as onnx_peer  # noqa: E402
import peers  # noqa: E402

# ---------------------------------------------------------------- parse_peers


def test_parse_peers_keeps_the_canonical_order():
    assert peers.parse_peers("tflite,eager") == ["eager", "tflite"]
    assert peers.parse_peers(" onnxruntime , torch_compile,") == ["torch_compile", "onnxruntime"]
    assert peers.parse_peers(",".join(reversed(peers.PEERS))) == list(peers.PEERS)


def test_parse_peers_rejects_unknown_and_empty():
    with pytest.raises(argparse.ArgumentTypeError, match="tvm"):
        peers.parse_peers("eager,tvm")
    with pytest.raises(argparse.ArgumentTypeError):
        peers.parse_peers(" , ")


def test_cli_defaults_and_validation(tmp_path):
    parser = peers.build_parser()
    args = parser.parse_args(["--module", "models.tiny_cnn", "--out", str(tmp_path)])
    assert args.peers == list(peers.PEERS)
    assert (args.threads, args.warmup, args.repetitions) == (1, 3, 10)
    assert (args.factory, args.function, args.seed, args.weights) == ("build", "main", 0, None)
    for bad in (["--repetitions", "0"], ["--threads", "0"], ["--warmup", "-1"], ["--peers", "x"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["--module", "m", "--out", "o"] + bad)
    with pytest.raises(SystemExit):  # --module and --file exclude each other, one is required
        parser.parse_args(["--out", "o"])


# ---------------------------------------------------------------- time_calls


def test_time_calls_counts_warmup_and_repetitions():
    calls = []
    ticks = iter(range(100))

    def clock():
        return next(ticks) / 1000.0  # each reading 1 ms after the previous one

    result, times = base.time_calls(lambda: calls.append(1) or len(calls), 2, 3, clock=clock)
    assert len(calls) == 5
    assert result == 5  # the last call's result
    assert times == pytest.approx([1.0, 1.0, 1.0])


def test_time_calls_without_warmup():
    result, times = base.time_calls(lambda: "x", 0, 1)
    assert result == "x" and len(times) == 1 and times[0] >= 0


def test_each_call_gets_its_own_arguments_made_outside_the_timing():
    """A model that changes its input in place changes only its own call's copy, and the copying is
    not timed: the clock is read around the call alone."""
    made, given, readings = [], [], []

    def arguments():
        made.append([1.0])
        return (made[-1],)

    def call(x):
        given.append(x)
        x[0] *= 2.0  # in place
        return x[0]

    def clock():
        readings.append(len(made))
        return len(readings) / 1000.0

    result, times = base.time_calls(call, 1, 2, clock=clock, arguments=arguments)
    assert result == 2.0 and len(made) == 3 and all(g is m for g, m in zip(given, made))
    assert readings == [2, 2, 3, 3]  # each timed call's arguments made before its first reading


# ---------------------------------------------------------------- compare


def test_compare_identical_outputs():
    ref = [np.array([1.0, -2.0], dtype=np.float32), np.array([[3.0]], dtype=np.float32)]
    got = peers.compare(ref, [a.copy() for a in ref], atol=1e-6, rtol=1e-5)
    assert got == {"max_abs_err": 0.0, "max_rel_err": 0.0, "matches": True}


def test_compare_errors_are_global_maxima():
    ref = [np.array([1.0, -4.0]), np.array([2.0])]
    out = [np.array([1.5, -4.0]), np.array([2.1])]
    got = peers.compare(ref, out, atol=1e-3, rtol=1e-3)
    assert got["max_abs_err"] == pytest.approx(0.5)
    assert got["max_rel_err"] == pytest.approx(0.5 / 4.0)  # max abs err / max |reference|
    assert got["matches"] is False


def test_compare_uses_the_models_tolerance():
    ref = [np.array([100.0, 0.0])]
    out = [np.array([100.0005, 1e-6])]
    assert peers.compare(ref, out, atol=2e-6, rtol=1e-5)["matches"] is True
    assert peers.compare(ref, out, atol=2e-7, rtol=1e-5)["matches"] is False
    assert peers.compare(ref, out, atol=2e-6, rtol=1e-6)["matches"] is False


def test_compare_output_count_and_shape_differences():
    ref = [np.zeros((1, 4))]
    got = peers.compare(ref, [np.zeros((1, 4)), np.zeros(1)], atol=1, rtol=1)
    assert got["matches"] is False and got["max_abs_err"] is None
    assert "2 outputs" in got["compare_note"]

    got = peers.compare(ref, [np.zeros((4,))], atol=1e-6, rtol=1e-6)  # same size: reshaped
    assert got["matches"] is True and "reshaped" in got["compare_note"]

    got = peers.compare(ref, [np.zeros((5,))], atol=1e-6, rtol=1e-6)
    assert got["matches"] is False and "shape [5]" in got["compare_note"]


def test_compare_dtype_and_non_finite_values():
    ref = [np.array([1, 2], dtype=np.int64)]
    got = peers.compare(ref, [np.array([1, 2], dtype=np.int32)], atol=0, rtol=0)
    assert got["matches"] is True and "dtype int32" in got["compare_note"]

    got = peers.compare([np.array([1.0, 2.0])], [np.array([1.0, np.nan])], atol=1e-6, rtol=1e-6)
    assert got["matches"] is False
    assert got["max_abs_err"] is None and got["max_rel_err"] is None  # NaN is not a JSON number
    assert "non-finite" in got["compare_note"]
    json.dumps(got, allow_nan=False)


def test_compare_zero_reference():
    got = peers.compare([np.zeros(3)], [np.full(3, 1e-3)], atol=1e-2, rtol=0)
    assert got["max_abs_err"] == pytest.approx(1e-3)
    assert got["max_rel_err"] is None  # infinite: reported as unknown
    assert got["matches"] is True
    got = peers.compare([np.zeros(3)], [np.zeros(3)], atol=0, rtol=0)
    assert got["max_rel_err"] == 0.0


# ---------------------------------------------------------------- error_info, status_of


def test_error_info_clips_the_message_saying_its_length():
    info = base.error_info("convert", RuntimeError("x" * 5000))
    assert info["phase"] == "convert" and info["type"] == "RuntimeError"
    assert info["message"].startswith("RuntimeError: xxx")
    said = " …(5014 characters; the whole in the log)"
    assert info["message"] == f"RuntimeError: {'x' * (base.MESSAGE_CHARS - 14)}{said}"
    words = base.error_info("model", ValueError("the operator is not supported " * 200), limit=4000)[
        "message"
    ]
    assert words.endswith("is not …(6012 characters; the whole in the log)"), words[-80:]
    assert base.error_info("run", ValueError("short"))["message"] == "ValueError: short"


def test_status_of():
    assert peers.status_of({"matches": True}) == "ok"
    assert peers.status_of({"matches": None}) == "ok"  # nothing to compare with
    assert peers.status_of({}) == "ok"
    assert peers.status_of({"matches": False}) == "mismatch"
    assert peers.status_of({"matches": False, "error": {}}) == "fail"


# ---------------------------------------------------------------- run_peer (fake peers)


class _FakeSpec:
    atol = 1e-6
    rtol = 1e-5


class _FakeContext:
    spec = _FakeSpec()
    reference = [np.array([1.0, 2.0])]


def test_run_peer_records_the_failing_phase_and_keeps_partial_results(capsys):
    def failing(ctx, entry):
        entry["_phase"] = "convert"
        entry["exporter"] = "dynamo"
        raise NotImplementedError("aten::weird_op is not supported")

    entry = peers.run_peer("onnxruntime", _FakeContext(), failing)
    assert entry["status"] == "fail"
    assert entry["error"] == {
        "phase": "convert",
        "type": "NotImplementedError",
        "message": "NotImplementedError: aten::weird_op is not supported",
    }
    assert entry["exporter"] == "dynamo"
    assert "_phase" not in entry
    assert "aten::weird_op" in capsys.readouterr().err  # the traceback goes to stderr


def test_run_peer_import_failure_is_the_import_phase():
    def missing(ctx, entry):
        import peers_no_such_library  # noqa: F401

    entry = peers.run_peer("tflite", _FakeContext(), missing)
    assert entry["status"] == "fail"
    assert entry["error"]["phase"] == "import"
    assert entry["error"]["type"] == "ModuleNotFoundError"


def test_run_peer_compares_with_the_reference():
    entry = peers.run_peer("x", _FakeContext(), lambda ctx, entry: [np.array([1.0, 2.0])])
    assert entry["status"] == "ok" and entry["matches"] is True
    entry = peers.run_peer("x", _FakeContext(), lambda ctx, entry: [np.array([1.0, 2.5])])
    assert entry["status"] == "mismatch" and entry["max_abs_err"] == pytest.approx(0.5)

    ctx = _FakeContext()
    ctx.reference = None
    entry = peers.run_peer("x", ctx, lambda ctx, entry: [np.array([1.0])])
    assert entry["status"] == "ok" and "no torch reference" in entry["compare_note"]


# ---------------------------------------------------------------- one thread's CPU time (issue #36)


class _PolicyContext(_FakeContext):
    warmup = 2
    repetitions = 3


def test_cpu_times_uses_the_wall_timings_policy_and_the_process_clock():
    calls = []
    times = base.cpu_times(_PolicyContext(), lambda: calls.append(time.sleep(0.03)))
    assert len(calls) == 5 and len(times) == 3  # 2 untimed warm-up calls, 3 timed
    assert all(0 <= t < 15 for t in times)  # 30 ms asleep is no CPU time: process_time, not wall


def test_one_thread_cpu_records_latencys_shape_with_times_and_threads(monkeypatch):
    monkeypatch.setattr(base, "RETIME_SPREAD", math.inf)  # one round, whatever its spread
    entry = {}
    base.one_thread_cpu(entry, lambda: [2.0, 4.0, 3.0])
    assert entry == {"cpu_ms": {"median": 3.0, "min": 2.0, "max": 4.0, "stdev": 1.0, "n": 3,
                                "times": [2.0, 4.0, 3.0], "threads": 1}}  # fmt: skip


def test_one_thread_cpus_failure_is_a_message_not_the_peers_failure(capsys):
    def refused():
        raise RuntimeError("intra_op_num_threads=1 refused")

    def peer(ctx, entry):
        entry["latency_ms"] = {"median": 1.0, "min": 1.0, "max": 1.0, "stdev": 0.0, "n": 1}
        base.one_thread_cpu(entry, refused)
        return [np.array([1.0, 2.0])]

    entry = peers.run_peer("onnxruntime", _FakeContext(), peer)
    assert entry["status"] == "ok" and entry["matches"] is True and "error" not in entry
    assert entry["latency_ms"]["median"] == 1.0  # the wall timing stands
    assert entry["cpu_ms_error"] == "RuntimeError: intra_op_num_threads=1 refused"
    assert "cpu_ms" not in entry
    assert "intra_op_num_threads=1 refused" in capsys.readouterr().err


def test_distribution_versions():
    versions = peers.distribution_versions(("numpy", "peers-no-such-distribution"))
    assert versions == {"numpy": np.__version__, "peers-no-such-distribution": None}


# ---------------------------------------------------------------- real runs (need torch)


@pytest.mark.torch
def test_eager_peer_on_tiny_cnn(tmp_path):
    pytest.importorskip("torch")
    argv = ["--module", "models.tiny_cnn", "--import-root", str(SCRIPTS), "--threads", "1"]
    argv += ["--warmup", "1", "--repetitions", "3", "--peers", "eager", "--out", str(tmp_path)]
    assert peers.main(argv) == 0
    result = json.loads((tmp_path / "peers.json").read_text())
    assert (result["threads"], result["warmup"], result["repetitions"]) == (1, 1, 3)
    assert result["torch_version"] and result["versions"]["torch"]
    assert list(result["peers"]) == ["eager"]
    eager = result["peers"]["eager"]
    assert eager["status"] == "ok", eager
    assert eager["latency_ms"]["n"] == 3
    assert 0 < eager["latency_ms"]["min"] <= eager["latency_ms"]["median"] <= eager["latency_ms"]["max"]
    assert eager["max_abs_err"] == 0.0 and eager["matches"] is True
    cpu = eager["cpu_ms"]  # the same repetitions again, on one thread, by CPU time
    assert cpu["threads"] == 1 and cpu["n"] == 3 and len(cpu["times"]) == 3
    assert 0 <= cpu["min"] <= cpu["median"] <= cpu["max"] and "cpu_ms_error" not in eager


@pytest.mark.torch
@pytest.mark.parametrize("peer,library", [("onnxruntime", "onnxruntime"), ("tflite", "litert_torch")])
def test_converted_peer_on_tiny_cnn(tmp_path, peer, library):
    pytest.importorskip("torch")
    pytest.importorskip(library)
    if peer == "onnxruntime":
        pytest.importorskip("onnxscript")  # the dynamo exporter's
    argv = ["--module", "models.tiny_cnn", "--import-root", str(SCRIPTS), "--threads", "1"]
    argv += ["--warmup", "1", "--repetitions", "2", "--peers", "eager," + peer, "--out", str(tmp_path)]
    assert peers.main(argv) == 0
    entry = json.loads((tmp_path / "peers.json").read_text())["peers"][peer]
    assert entry["status"] == "ok", entry
    assert entry["convert_seconds"] > 0 and entry["latency_ms"]["n"] == 2
    assert math.isfinite(entry["max_abs_err"])
    assert "cpu_ms_error" not in entry, entry["cpu_ms_error"]
    cpu = entry["cpu_ms"]  # a second session / interpreter on one thread
    assert cpu["threads"] == 1 and cpu["n"] == 2 and len(cpu["times"]) == 2 and cpu["median"] > 0


# A model that notes torch's thread count at each eager call.
THREADS_MODEL = """
import torch
from models.api import ModelSpec

SEEN = []


class Doubler(torch.nn.Module):
    def forward(self, x):
        if not torch.compiler.is_compiling():
            SEEN.append(torch.get_num_threads())
        return x * 2.0 + 1.0


def build():
    return ModelSpec(Doubler().eval(), (torch.ones(2, 3),), 1e-6, 1e-6)
"""


@pytest.mark.torch
def test_eager_is_timed_on_the_matrixs_threads_then_on_one(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from iree_matrix.stages.peer import STAGE

    monkeypatch.setattr(base, "RETIME_SPREAD", math.inf)  # microsecond calls spread: no second round

    model = tmp_path / "threads_model.py"
    model.write_text(THREADS_MODEL)
    before = torch.get_num_threads()
    try:
        argv = ["--file", str(model), "--threads", "2", "--warmup", "1", "--repetitions", "3"]
        assert peers.main(argv + ["--peers", "eager", "--out", str(tmp_path / "out")]) == 0
        # the model's first call (before the quiet lock), then wall: 1 warm-up + 3 timed calls on 2
        # threads; CPU: 1 + 3 on one, then 2 threads again
        assert sys.modules["user_model_threads_model"].SEEN == [2] + [2] * 4 + [1] * 4
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    result = json.loads((tmp_path / "out" / "peers.json").read_text())
    eager = result["peers"]["eager"]
    assert eager["latency_ms"]["n"] == 3 and eager["cpu_ms"]["n"] == 3 and eager["cpu_ms"]["threads"] == 1
    assert set(result) <= set(STAGE.metrics)  # the peer stage records peers.json as its metrics


# The drill's model that changes its input in place, and one whose torch output is all NaN.
BEHAVING_MODEL = """
import torch
from models.api import ModelSpec


class InPlace(torch.nn.Module):
    def forward(self, x):
        x.mul_(2.0)
        return x + 1.0


class AllNaN(torch.nn.Module):
    def forward(self, x):
        return torch.log(-x.abs() - 1.0)


def build():
    x = torch.arange(6.0).reshape(2, 3)
    return {"main": ModelSpec(InPlace().eval(), (x,), 1e-6, 1e-6),
            "nan": ModelSpec(AllNaN().eval(), (x.clone(),), 1e-6, 1e-6)}
"""


class _AsBuiltPeer:
    """A peer that computes the model's answer on the inputs as built, by numpy: what a converted
    model (ONNX Runtime, LiteRT) gives, which never writes to its feed."""

    seen = []

    @classmethod
    def run(cls, ctx, entry):
        cls.seen.append(ctx.numpy_inputs[0].copy())
        entry["latency_ms"] = {"median": 1.0, "min": 1.0, "max": 1.0, "stdev": 0.0, "n": 1}
        return [ctx.numpy_inputs[0] * 2.0 + 1.0]


@pytest.mark.torch
def test_a_model_that_changes_its_input_is_checked_on_the_inputs_as_built(tmp_path, monkeypatch):
    """The reference was taken from the inputs the model had already changed (its first call
    doubled them), so a peer that computed the right answer was a false mismatch."""
    pytest.importorskip("torch")
    model = tmp_path / "behaving_model.py"
    model.write_text(BEHAVING_MODEL)
    monkeypatch.setattr(base, "RETIME_SPREAD", math.inf)
    monkeypatch.setitem(peers.FRAMEWORKS, "converted", _AsBuiltPeer)
    args = peers.build_parser().parse_args(
        ["--file", str(model), "--warmup", "2", "--repetitions", "3", "--out", str(tmp_path)]
    )
    args.peers = ["eager", "converted"]
    spec = peers.em.load_model(args)
    as_built = spec.inputs[0].clone()
    result = peers.run(args, spec)
    assert result["changes_inputs"] == ["input 0: 5 of 6 values"]  # 0 doubled is 0
    assert "reference_nonfinite" not in result and "reference_error" not in result
    converted, eager = result["peers"]["converted"], result["peers"]["eager"]
    assert converted["status"] == "ok" and converted["max_abs_err"] == 0.0, converted
    assert _AsBuiltPeer.seen[-1].tolist() == as_built.tolist()
    # every eager call on its own copy: the last one computes what the first did
    assert eager["status"] == "ok" and eager["max_abs_err"] == 0.0, eager
    assert "fresh copy" in eager["notes"]


@pytest.mark.torch
def test_a_reference_with_nothing_finite_is_said_and_the_peers_are_timed_uncompared(tmp_path):
    pytest.importorskip("torch")
    model = tmp_path / "behaving_model.py"
    model.write_text(BEHAVING_MODEL)
    argv = ["--file", str(model), "--function", "nan", "--warmup", "0", "--repetitions", "1"]
    assert peers.main(argv + ["--peers", "eager", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "peers.json").read_text())
    assert result["reference_error"].startswith("torch's own outputs are all NaN or inf (output0: 6 NaN")
    eager = result["peers"]["eager"]
    assert eager["status"] == "ok" and eager["compare_note"].startswith("no torch reference")


@pytest.mark.torch
def test_bfloat16_outputs_are_compared_widened_to_float32():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, -2.0, 3.140625], dtype=torch.bfloat16)
    (array,) = base.to_numpy([t])
    assert array.dtype == np.float32 and array.tolist() == [1.0, -2.0, 3.140625]


def test_model_that_fails_to_load_writes_error_json(tmp_path):
    model = tmp_path / "broken_model.py"
    model.write_text("raise RuntimeError('no such weights')\n")
    out = tmp_path / "out"
    assert peers.main(["--file", str(model), "--out", str(out)]) == 1
    error = json.loads((out / "error.json").read_text())
    assert error == {
        "phase": "model",
        "type": "RuntimeError",
        "message": "RuntimeError: no such weights",
    }
    assert not (out / "peers.json").exists()


def test_load_average_is_a_number_or_none():
    value = peers.load_average()
    assert value is None or value >= 0


def test_the_workers_peers_are_the_registrys():
    """scripts/peers.py runs inside the environments, without iree_matrix: it finds the peers by
    importing peer_frameworks/, iree_matrix by reading their declarations; both find the same, in
    the same order, with the same declaration."""
    from iree_matrix.matrix import peers as registry

    assert peers.PEERS == registry.names()
    assert base.DECLARED == registry.DECLARED
    for name, module in peers.FRAMEWORKS.items():
        declared = registry.get(name)
        assert (declared.rank, declared.display) == (module.PEER["rank"], module.PEER["display"])
        assert declared.requirements == tuple(module.PEER["requirements"])
        assert set(module.PEER) == set(base.DECLARED)


# ---------------------------------------------------------------- op profiles

PROFILES = Path(__file__).parents[1] / "data" / "profiles"


def test_onnxruntime_ops_from_a_real_profile():
    """ONNX Runtime's own profile of tiny_cnn (2 calls, captured by hand with the peer
    environment's onnxruntime): node kernel times summed per op type and weight shape."""
    events = json.loads((PROFILES / "tiny_cnn-onnxruntime-profile.json").read_text())
    result = onnx_peer.ops(events, calls=2)
    ops = {(r["op"], tuple(r["weight_shape"] or ())): r for r in result["ops"]}
    convs = [r for (op, _), r in ops.items() if op.endswith("Conv")]
    assert convs and all(r["weight_shape"] and len(r["weight_shape"]) == 4 for r in convs)
    assert all(r["ms_per_call"] > 0 and r["per_call"] >= 1 for r in result["ops"])
    assert result["sum_ms"] == pytest.approx(sum(r["ms_per_call"] for r in result["ops"]))
    kernel_us = sum(e["dur"] for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"))
    assert result["sum_ms"] == pytest.approx(kernel_us / 1000 / 2)


# ---------------------------------------------------------------- retimed


def test_a_round_that_spread_beyond_the_limit_is_timed_again_and_the_lower_median_kept():
    rounds = iter([[1.0, 1.02, 9.0, 1.01, 1.0], [1.0, 1.01, 1.0, 1.02, 1.01]])
    kept, other = base.retimed(lambda: next(rounds))
    assert kept == [1.0, 1.01, 1.0, 1.02, 1.01] and other == [1.0, 1.02, 9.0, 1.01, 1.0]
    assert base.spread([1.0, 1.02, 9.0, 1.01, 1.0]) == pytest.approx(7.92, rel=1e-3)
    # the first round kept when the second is slower: interference only adds time
    rounds = iter([[2.0, 2.0, 9.0], [5.0, 5.0, 5.0]])
    assert base.retimed(lambda: next(rounds)) == ([2.0, 2.0, 9.0], [5.0, 5.0, 5.0])


def test_a_quiet_round_is_timed_once_and_its_other_round_not_recorded():
    calls = []

    def timing():
        calls.append(1)
        return [3.0, 3.1, 3.05]

    assert base.retimed(timing) == ([3.0, 3.1, 3.05], None) and len(calls) == 1
    entry = {}
    base.one_thread_cpu(entry, timing)
    assert entry["cpu_ms"]["median"] == 3.05 and "cpu_ms_other_round" not in entry
    rounds = iter([[1.0, 5.0, 1.0], [1.0, 1.1, 1.0]])
    entry = {}
    base.one_thread_cpu(entry, lambda: next(rounds))
    assert entry["cpu_ms"]["max"] == 1.1 and entry["cpu_ms_other_round"]["max"] == 5.0


def test_a_failure_names_its_type_once():
    """An exporter whose message already starts with its type's name (a wrapped UnsupportedOperatorError
    read "UnsupportedOperatorError: UnsupportedOperatorError: ...") is said with the name once."""

    class UnsupportedOperatorError(Exception):
        pass

    wrapped = UnsupportedOperatorError("UnsupportedOperatorError: aten::foo is not supported")
    plain = UnsupportedOperatorError("aten::foo is not supported")
    once = "UnsupportedOperatorError: aten::foo is not supported"
    assert base.error_info("convert", wrapped)["message"] == once
    assert base.error_info("convert", plain)["message"] == once
    assert base.said(ValueError("")) == "ValueError: "
