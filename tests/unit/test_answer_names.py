"""The answers' tables name each CPU identity so that two rows never read alike for two machines."""

from __future__ import annotations

from iree_matrix.findings import advice
from iree_matrix.report import answers as report_answers
from tests.unit.test_advice import ROCKETLAKE, ZEN5, _sitting


def test_two_machines_of_one_cpu_model_are_told_apart_in_the_tables_by_their_flags():
    """Two Zen 3 hosts exposing different CPU flags are two identities with one short name: their rows
    read alike with different figures unless the name says which is which (results/answers had two
    `znver3` MobileNetV2 rows, 1.74× and 1.32× ONNX Runtime's time, that read the same)."""
    other = {**ROCKETLAKE, "cpu_flags_sha256": "1ddebed0" + "0" * 56}
    (a,) = advice.derive(_sitting())
    (b,) = advice.derive(_sitting(about=other))
    (c,) = advice.derive(_sitting(about=ZEN5))
    named = report_answers.names([a, b, c])
    assert named[a.identity.key] == f"{a.identity.short} (flags fc7df03f…)"
    assert named[b.identity.key] == f"{a.identity.short} (flags 1ddebed0…)"
    assert named[c.identity.key] == c.identity.short  # alone of its name: as before
    shown = [row[1] for row in report_answers.rows([a, b, c])]
    assert len(set(shown)) == 3
    assert f"## mobilenet_v2 on {named[b.identity.key]}" in report_answers.render([a, b, c])
