"""The big reference models' weights and inputs are the same bits with 1 and 2 torch threads, under
two oneDNN ISAs and under ATen's scalar and AVX2 kernels (issue #51 item 8): tests/processes has the CNNs;
these take minutes under five settings. The transformers variants are built in the exporter
environment the tool installs for them (torch 2.13.0, transformers 5.23.0), the others in this
interpreter's torch."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from ..processes.test_model_determinism import assert_all_equal, digests_under_settings
from .conftest import matrix_toml, run_matrix_text

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BIG = ["ops", "whisper_tiny", "whisper_tiny__decomposed", "llama_stories15m"]
TRANSFORMERS = [
    "llama__transformers",
    "whisper_tiny__transformers",
    "bert_tiny__transformers",
    "vit_tiny__transformers",
    "gpt2_tiny__transformers",
]


def test_big_models_are_the_same_bits_under_every_setting() -> None:
    found = digests_under_settings(sys.executable, BIG)
    assert len(found) == 6 and set(next(iter(found.values()))) == set(BIG)
    assert_all_equal(found)


def test_transformers_models_are_the_same_bits_under_every_setting(cache: Path, tmp_path: Path) -> None:
    text = matrix_toml(models=["llama@transformers"])
    *_, got = run_matrix_text(text, cache, tmp_path / "install.toml", "--select", "install:*transformers*")
    (install,) = [r for r in got.values() if r.stage == "install" and "transformers" in r.job]
    assert install.status is Status.OK, install.message
    python = str(Path(install.env["path"]) / "bin" / "python")
    found = digests_under_settings(python, TRANSFORMERS)
    assert len(found) == 6 and set(next(iter(found.values()))) == set(TRANSFORMERS)
    assert_all_equal(found)
