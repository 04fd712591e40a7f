"""What the flag search keeps beside its results, read by other versions of the tool: search.json
(published, and read by `advise`) and an interrupted search's progress file. The code calls a
descent's model.function name its `function`; the files keep the names they were written with."""

from __future__ import annotations

import json
from pathlib import Path

from iree_matrix.findings import search, search_descent
from iree_matrix.tasks import flag_search

ROOT = Path(__file__).resolve().parents[2]


def test_a_published_search_json_reads_and_writes_back_byte_for_byte(tmp_path: Path) -> None:
    """search.json keeps the key it was published with, "unit" (`advise` reads it there too): each
    published file read and written again is the same bytes, budget and all."""
    published = sorted((ROOT / "results").glob("*/search.json"))
    assert published, "no published search.json to hold"
    for path in published:
        descents = search_descent.read_descents(path.parent)
        assert descents and all(d.function for d in descents), path
        out = tmp_path / path.parent.name
        out.mkdir()
        budget = json.loads(path.read_text(encoding="utf-8"))["budget"]
        search_descent.write_descents(out, descents, budget)
        assert (out / "search.json").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_a_progress_file_an_older_version_left_is_still_resumed() -> None:
    """Its descents named the function "unit"; this version writes "function" and reads both."""
    prior = search.Prior({"im2col": 1.5}, frozenset(), frozenset({"im2col"}))
    walk = search_descent.Walk("m", "3.13.0", (), prior, search.parse("im2col"), {"default", "im2col"}, [])
    walk.steps.append(search.Step(2, "im2col", ("im2col+ukernels",), None))
    walk.spent = 1
    state = flag_search._states({("m", "3.13.0"): walk})[0]
    assert state["function"] == "m" and "unit" not in state
    older = {("unit" if k == "function" else k): v for k, v in state.items()}
    for written in (state, older):
        fresh = search_descent.Walk("m", "3.13.0", (), prior, search.Config(), {"default"}, [])
        progress = search_descent.Progress({"budget": 12}, 2, (written,), ())
        flag_search._restore({("m", "3.13.0"): fresh}, progress)
        assert (fresh.incumbent, fresh.tried, fresh.steps, fresh.spent) == (
            walk.incumbent,
            walk.tried,
            walk.steps,
            walk.spent,
        ), written
