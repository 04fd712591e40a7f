"""The process-heavy part of tests/unit/test_hints.py (each test's marker says why); the rest there runs
in the fast tier. Here, the published failures read from the largest published logs: seconds of CPU."""

from __future__ import annotations

import pytest

from iree_matrix.findings import release_choice
from tests.unit.test_hints import HF, HF_SET, ROOT


@pytest.mark.heavy
def test_published_failures_carry_their_hints():
    """The signatures on real records of the published sets."""
    cases = {
        ("results/armv6/results.jsonl", "compile:yolox_nano/", "fail"): "armv6-libgcc",
        ("results/armv6/results.jsonl", "run:quartznet5x5/", "fail"): "armv6-fmaf",
        ("results/armv6/results.jsonl", "/native-math", "fail"): "armv6-libm",
        (
            "results/archive/bench/results.jsonl",
            "compile:whisper_tiny.encoder/",
            "fail",
        ): None,  # first: large vectors
        ("results/results.jsonl", "iree2.9.0/x86_64/default/rt3.10.0", "fail"): "bytecode-version",
        ("results/results.jsonl", "iree3.11.0/x86_64/default/rt2.9.0", "fail"): "runtime-abi",
        ("results/results.jsonl", "compile:llama@transformers.decode/", "fail"): "assert-tensor-metadata",
        (
            "results/results.jsonl",
            f"compile:llama@transformers.prefill/{HF}/iree3.10.0/",
            "fail",
        ): "sdpa-scale",
        ("results/results.jsonl", f"compile:whisper_tiny@transformers.encoder/{HF}/iree3.11.0/", "fail"): (
            "sdpa-scale"
        ),
        ("results/results.jsonl", f"compile:llama@transformers.prefill/{HF}/iree3.11.0/", "fail"): (
            "global-scatter"  # 'linalg.fill' op write affecting operations on global resources
        ),
        ("results/results.jsonl", f"compile:llama@transformers.decode/{HF}/iree3.13.0/", "fail"): (
            "global-scatter"  # 'linalg.generic' op …
        ),
        ("results/results.jsonl", f"run:whisper_tiny@transformers.encoder/{HF}/iree3.9.0/", "mismatch"): (
            "sdpa-scale-ignored"
        ),
        # results/transformers (matrix/transformers.toml): the three families added for issue #50
        (HF_SET, f"compile:bert_tiny@transformers/{HF}/iree3.13.0/", "fail"): "bool-literal",
        (HF_SET, f"compile:bert_tiny@transformers/{HF}/iree3.1.0/", "fail"): "assert-tensor-metadata",
        (HF_SET, f"compile:vit_tiny@transformers/{HF}/iree3.1.0/", "fail"): "sdpa-scale",
        (HF_SET, f"compile:gpt2_tiny@transformers.decode/{HF}/iree3.10.0/", "fail"): "sdpa-scale",
        (HF_SET, f"compile:whisper_tiny@transformers.encoder/{HF}/iree3.11.0/", "fail"): "sdpa-scale",
        (HF_SET, f"compile:llama@transformers.decode/{HF}/iree3.12.0/", "fail"): "global-scatter",
        (HF_SET, f"run:whisper_tiny@transformers.encoder/{HF}/iree3.10.0/", "mismatch"): "sdpa-scale-ignored",
    }
    from iree_matrix.core.model.results import ResultsLog

    for (path, part, status), name in cases.items():
        records = [r for r in ResultsLog(ROOT / path) if part in r.job and r.status.value == status]
        assert records, (path, part)
        found = [release_choice.hint(r) for r in records]
        if name is None:
            continue
        assert any(f is not None and f.name == name for f in found), (path, part, found[:1])
    stack = [
        r
        for r in ResultsLog(ROOT / "results/archive/bench/results.jsonl")
        if "stack allocation" in (r.message or "")
    ]
    hinted = release_choice.hint(stack[0])
    assert hinted is not None and hinted.name == "stack-limit"
    assert "--iree-llvmcpu-stack-allocation-limit=65536" in hinted.advice or "=131072" in hinted.advice
