"""Every built-in model and function through the real toolchain (turbine 3.9.0, IREE 3.9.0):
plain-torch models export, compile and match torch within their tolerance; the transformers
variants show what IREE 3.9.0 really does with the library's code (recorded, not hidden).

CI runs each kind of export (a plain module, one with named functions, an export variant, every
transformers family with its known failures) on its smallest models; the whole zoo (marker `zoo`,
11 minutes at load 8-15) runs in `nox -s slow` and the weekly workflow. Every model's torch code
runs in CI either way (tests/processes/test_models.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.findings import release_choice
from iree_matrix.matrix.models import builtin_names, resolve

from .conftest import EXPORTER, iree_matrix, matrix_toml, records

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PLAIN = [
    "mobilenet_v2",
    "mobilenet_v3_small",
    "yolox_nano",
    "quartznet5x5",
    "whisper_tiny",
    "whisper_tiny@decomposed",  # the flag search's export variant: attention without SDPA
    "llama_stories15m",
    "ops",
    "ds_cnn_kws",  # the keyword-spotting DS-CNN the Cortex-M target runs (issue 28)
]
UPSTREAM = [
    "whisper_tiny@transformers",
    "llama@transformers",
    "bert_tiny@transformers",
    "vit_tiny@transformers",
    "gpt2_tiny@transformers",
]
# In CI: a plain module with many op kinds, a small plain CNN, a model of named functions (decode,
# prefill), an export variant, and every transformers family (their failures are asserted below).
PLAIN_IN_CI = ["ops", "ds_cnn_kws", "llama_stories15m", "whisper_tiny@decomposed"]


def test_every_builtin_model_is_covered_here() -> None:
    assert set(builtin_names()) == set(PLAIN) | set(UPSTREAM) | {"tiny_cnn"}


def test_each_kind_of_export_compiles_and_matches_torch(cache: Path, tmp_path: Path) -> None:
    assert set(PLAIN_IN_CI) <= set(PLAIN)
    _through_the_toolchain(PLAIN_IN_CI, cache, tmp_path)


@pytest.mark.zoo
def test_every_builtin_function_exports_compiles_and_matches_torch(cache: Path, tmp_path: Path) -> None:
    _through_the_toolchain(PLAIN, cache, tmp_path)


def _through_the_toolchain(plain: list[str], cache: Path, tmp_path: Path) -> None:
    """`plain` and every transformers model through turbine 3.9.0 and IREE 3.9.0: the plain ones
    match torch, each failing transformers cell has a hint, the two known failures are as known."""
    matrix = tmp_path / "all.toml"
    matrix.write_text(matrix_toml(models=[*plain, *UPSTREAM], tables={"benchmark": {"repetitions": 1}}))
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), cache=cache, results=results, timeout=3600)
    assert done.returncode == 0, done.stderr
    got = records(results)

    for model in plain:
        for function in resolve(model, Path.cwd()).functions:
            unit = model if function == "main" else f"{model}.{function}"
            ran = got[f"run:{unit}/{EXPORTER}/iree3.9.0/x86_64/default"]
            # OK means numpy.allclose(iree, torch, rtol, atol) held for every output.
            assert ran.status is Status.OK, f"{unit}: {ran.status.value} {ran.message}"
            assert ran.metrics["matches"] is True and ran.metrics["latency_ms"]["median"] > 0

    upstream = f"{EXPORTER}+transformers5.23.0"
    for model in UPSTREAM:
        for function in resolve(model, Path.cwd()).functions:
            unit = model if function == "main" else f"{model}.{function}"
            assert got[f"export:{unit}/{upstream}"].status is Status.OK, unit
            # every failing cell of a transformers model says what to do (issue #50 item 4)
            for stage in ("compile", "run"):
                record = got[f"{stage}:{unit}/{upstream}/iree3.9.0/x86_64/default"]
                if record.status in (Status.FAIL, Status.MISMATCH):
                    assert release_choice.hint(record) is not None, f"{record.job}: {record.message}"
    # IREE 3.9.0 rejects SDPA with an explicit scale (transformers always passes one)...
    prefill = got[f"compile:llama@transformers.prefill/{upstream}/iree3.9.0/x86_64/default"]
    assert prefill.status is Status.FAIL and "scaled_dot_product_attention" in prefill.message
    # ...and silently treats scale=1.0 as the default, so the encoder runs but is wrong.
    encoder = got[f"run:whisper_tiny@transformers.encoder/{upstream}/iree3.9.0/x86_64/default"]
    assert encoder.status is Status.MISMATCH and encoder.metrics["max_abs_err"] > 1e-2
