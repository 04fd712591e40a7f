"""A reference model's weights and inputs are a function of its seed alone: the same bits with 1 and
2 torch threads, under two oneDNN ISAs and under ATen's scalar and AVX2 kernels (issue #51 item 8; the
models draw and calibrate inside `models.api.exactly`). Each setting is read when torch loads, so
each runs `model_digests.py` in a fresh interpreter. The big models (Whisper, Llama, the operator
set and the transformers variants) take minutes under five settings: tests/integration has them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

pytest.importorskip("torch")

pytestmark = [pytest.mark.torch, pytest.mark.processes]  # each setting is a fresh torch process

ROOT = Path(__file__).parents[2]
DIGESTS = Path(__file__).parents[1] / "unit" / "model_digests.py"
SMALL = ["tiny_cnn", "ds_cnn_kws", "mobilenet_v2", "mobilenet_v3_small", "quartznet5x5", "yolox_nano"]
# what each fresh interpreter sets, and the thread counts it builds with; the first is the reference
SETTINGS: dict[str, tuple[dict[str, str], str]] = {
    "default": ({}, "2,1"),
    "ONEDNN_MAX_CPU_ISA=AVX2": ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, "2"),
    "ONEDNN_MAX_CPU_ISA=AVX512_CORE": ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, "2"),
    "ATEN_CPU_CAPABILITY=default": ({"ATEN_CPU_CAPABILITY": "default"}, "2"),
    # an AVX-512 machine's default is avx512; transformers' float32 RoPE table differed under avx2
    "ATEN_CPU_CAPABILITY=avx2": ({"ATEN_CPU_CAPABILITY": "avx2"}, "2"),
}
_READ_AT_LOAD = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS")


def digests_under_settings(
    python: str,
    models: Sequence[str],
    settings: Mapping[str, tuple[dict[str, str], str]] = SETTINGS,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 1200,
) -> dict[str, dict]:
    """{"<setting> threads <n>": {model: {function: {"weights", "inputs"}}}}, every setting in its own
    interpreter (all started at once)."""
    base = {k: v for k, v in os.environ.items() if k not in _READ_AT_LOAD}
    procs = {
        name: subprocess.Popen(
            [python, str(DIGESTS), str(ROOT / "scripts"), threads, *models],
            env={**base, **(extra_env or {}), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (env, threads) in settings.items()
    }
    found = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"{name}: {err[-3000:]}"
        for threads, per_model in json.loads(out.splitlines()[-1]).items():
            found[f"{name} threads {threads}"] = per_model
    return found


def assert_all_equal(found: Mapping[str, dict]) -> None:
    """Every setting's digests equal the first's; the message names each model, function and part
    that differs, and under which settings."""
    (reference_name, reference), *others = found.items()
    differ = [
        f"{model}.{function} {part}: {name} != {reference_name}"
        for name, per_model in others
        for model, functions in reference.items()
        for function, parts in functions.items()
        for part, digest in parts.items()
        if per_model[model][function][part] != digest
    ]
    assert not differ, "\n".join(differ)


def test_small_models_are_the_same_bits_under_every_setting() -> None:
    found = digests_under_settings(sys.executable, SMALL)
    assert len(found) == 6
    assert set(next(iter(found.values()))) == set(SMALL)
    assert_all_equal(found)


def test_assert_all_equal_names_what_differs() -> None:
    same = {"mobilenet_v2": {"main": {"weights": "a", "inputs": "b"}}}
    other = {"mobilenet_v2": {"main": {"weights": "c", "inputs": "b"}}}
    assert_all_equal({"default threads 2": same, "default threads 1": same})
    with pytest.raises(
        AssertionError, match=r"mobilenet_v2.main weights: default threads 1 != default threads 2"
    ):
        assert_all_equal({"default threads 2": same, "default threads 1": other})
