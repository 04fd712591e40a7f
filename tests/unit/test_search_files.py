"""What the flag search keeps beside its results, read by other versions of the tool: search.json
(published, and read by `advise`) and an interrupted search's progress file. The code calls a
descent's model.function name its `function`; the files keep the names they were written with. A
search's batch was its "round": files that say so are read in today's words."""

from __future__ import annotations

import json
from pathlib import Path

from iree_matrix.core.model.configuration import Config
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
        fresh = search_descent.Walk("m", "3.13.0", (), prior, Config(), {"default"}, [])
        progress = search_descent.Progress({"budget": 12}, 2, (written,), ())
        flag_search._restore({("m", "3.13.0"): fresh}, progress)
        assert (fresh.incumbent, fresh.tried, fresh.steps, fresh.spent) == (
            walk.incumbent,
            walk.tried,
            walk.steps,
            walk.spent,
        ), written


def test_a_search_s_files_from_before_batches_read_in_today_s_words(tmp_path: Path) -> None:
    """A search's batch was its "round" (docs/glossary.md: a round is a sitting's): the progress file
    and search.json an older iree-matrix left, byte for byte as it wrote them, still resume and
    render, in today's words."""
    command = flag_search
    old_pruned = "round 2: left out: 3 past the round's width, for the next rounds (next: im2col+ukernels)"
    (tmp_path / search_descent.PROGRESS).write_text(json.dumps({
        "signature": {"budget": 12, "width": 4, "rounds": 6, "functions": "*"},
        "round": 2,
        "descents": [{"unit": "mobilenet_v2", "compiler": "3.13.0", "incumbent": "im2col",
                      "tried": ["default", "im2col"], "steps": [[2, "im2col", ["im2col+ukernels"], None]],
                      "spent": 1, "done": "", "pruned": [old_pruned]}],
        "sittings": [["mobilenet_v2", "3.13.0", ["im2col", "im2col+ukernels"]]],
    }))  # fmt: skip
    back = search_descent.read_progress(tmp_path)
    assert back is not None and back.batch == 2
    assert back.signature == {"budget": 12, "width": 4, "batches": 6, "functions": "*"}  # resumes today's
    prior = search.Prior({"im2col": 1.5}, frozenset(), frozenset({"im2col"}))
    fresh = search_descent.Walk("mobilenet_v2", "3.13.0", (), prior, Config(), {"default"}, [])
    command._restore({("mobilenet_v2", "3.13.0"): fresh}, back)
    assert fresh.steps == [search.Step(2, "im2col", ("im2col+ukernels",), None)]
    assert (
        fresh.pruned == [f"batch 2: left out: 3 {search.PAST_WIDTH} (next: im2col+ukernels)"]
        and "round" not in search.PAST_WIDTH
    )

    (tmp_path / search_descent.DESCENTS).write_text(json.dumps({
        "budget": {"budget": 12, "width": 4, "rounds": 6},
        "descents": [{"unit": "mobilenet_v2", "compiler": "3.13.0", "path": "default → im2col",
                      "result": "im2col", "spent": 12, "stopped": "rounds spent", "pruned": [old_pruned]}],
    }))  # fmt: skip
    (descent,) = search_descent.read_descents(tmp_path)
    assert (descent.function, descent.stopped) == ("mobilenet_v2", "batches spent")
    assert descent.pruned == (f"batch 2: left out: 3 {search.PAST_WIDTH} (next: im2col+ukernels)",)
    merged = tmp_path / "merged"
    merged.mkdir()
    assert search_descent.merge_descents([tmp_path], merged) == 1
    kept = json.loads((merged / search_descent.DESCENTS).read_text())
    assert kept["budget"] == {"budget": 12, "width": 4, "batches": 6}  # written in today's words
    assert kept["descents"][0]["stopped"] == "batches spent" and kept["descents"][0]["unit"] == "mobilenet_v2"
