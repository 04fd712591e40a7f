"""An exporter environment's outcomes through compat.json's validation and the whole site render:
more than a second of CPU, so this tier, not the unit tier (issue 72)."""

from __future__ import annotations

import pytest

from iree_matrix.findings import compat
from iree_matrix.report import site
from tests.unit.test_exporters_report import _env, _records

pytestmark = pytest.mark.heavy


def test_bytecode_compiles_stay_out_of_the_text_answers():
    records = _records()
    document = compat.derive(records)
    compat.validate(document)
    (model,) = document["models"]
    assert model["passing"] == ["3.6.0", "3.9.0"]  # the bytecode refusal is not a failing release
    envs = {e["exporter"]: e for e in document["exporters"]["environments"]}
    assert envs[_env("3.13", "2.9.1", "3.9.0")]["bytecode"] == ["3.9.0"]
    assert document["exporters"]["distinct"] == [
        {"function": "tiny", "exporters": 2, "texts": 1, "bytecodes": 2}
    ]
    assert "exporters.html" in site.render(records)
