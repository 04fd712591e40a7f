"""`advise MODEL@VARIANT`: a model named with its variant is advised as itself. `advise
whisper_tiny@decomposed` built everything and sat nothing ("`default` did not run and match torch",
its records ok): the sitting kept only runs whose name without the variant was the model's, and it was
timed with a user's model's picks on the newest release instead of whisper_tiny's picks of that export."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from iree_matrix.advise import advise_plan, advise_sitting, paired_rounds
from iree_matrix.core.model.results import Record, Status


def _run(model: str, function: str, profile: str) -> Record:
    labels = {"model": f"{model}.{function}", "source_model": model, "function": function,
              "compiler": "3.9.0", "runtime": "3.9.0", "profile": profile, "arch": "x86_64"}  # fmt: skip
    metrics = {"module_sha256": profile, "matches": True, "cpu_ms": {"median": 10.0, "n": 3}}
    job = f"run:{model}.{function}/{profile}"
    return Record(job, "run", job[4:], "k", Status.OK, labels, metrics)


@pytest.mark.parametrize(
    ("model", "sat"),
    [
        ("whisper_tiny@decomposed", ["encoder"]),  # an export variant named as the model
        ("bert_tiny@transformers", ["forward"]),  # an upstream variant: no base model beside it
        ("whisper_tiny", ["decoder_step", "encoder"]),  # the base: its variant's runs are its pick's
    ],
)
def test_a_model_named_with_its_variant_sits_its_own_functions(
    model: str, sat: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[str] = []

    def sit(arms: Any, where: Any) -> tuple[list[Any], bool]:
        asked.append(f"{where.sitter.model}.{where.function}")
        return [], False

    monkeypatch.setattr(advise_sitting, "_sit_function", sit)
    made = [
        ("whisper_tiny", "decoder_step"),
        ("whisper_tiny@decomposed", "encoder"),
        ("bert_tiny@transformers", "forward"),
    ]
    runs = [_run(m, f, p) for m, f in made for p in ("default", "generic")]  # every model's, as a results log
    pick = advise_plan.Pick.named("@decomposed+loop-unrolling", "3.9.0", "published")
    picks = () if "@" in model else (pick,)
    planned = advise_plan.arms(advise_plan.SittingPlan("3.9.0", picks, ()), {}, model)
    document = advise_sitting.run(
        advise_sitting.Sitter(paired_rounds.Request(6, 1), model, tmp_path), planned, runs
    )
    assert [f["function"] for f in document["functions"]] == sat
    assert asked == [f"{model}.{f}" for f in sat]


def _answer(function: str, config: str, tried: tuple[str, ...]) -> SimpleNamespace:
    identity = SimpleNamespace(short="AMD family 25 model 17 `znver4`")
    return SimpleNamespace(model="whisper_tiny", function=function, release="3.9.0", config=config,
                           picks_tried=tried, identity=identity)  # fmt: skip


PUBLISHED = [
    _answer(
        "encoder", "@decomposed+data-tiling+loop-unrolling", ("data-tiling", "@decomposed+loop-unrolling")
    ),
    _answer("decoder_step", "data-tiling", ("data-tiling", "@decomposed+loop-unrolling")),
    SimpleNamespace(model="mobilenet_v2", release="3.13.0", config="im2col", picks_tried=()),
]
SEARCHED = [advise_plan.SearchPick("whisper_tiny.encoder", "3.13.0", "@decomposed+O3", 9.0, "a search")]


def test_an_export_variant_is_timed_with_its_base_models_picks_of_that_export_on_their_release() -> None:
    plan = advise_plan.choose(advise_plan.Settings(), "whisper_tiny@decomposed", PUBLISHED, SEARCHED)
    assert plan.release == "3.9.0"  # the base's published answers', not the newest
    # its default is `@decomposed` itself: each pick without the variant, where it came from kept
    assert [p.name for p in plan.picks] == ["data-tiling+loop-unrolling", "loop-unrolling"]
    assert all(not p.config.variant and "published answer on AMD" in p.source for p in plan.picks)
    assert [(p.name, p.release) for p in plan.rivals] == [("O3", "3.13.0")]
    base = advise_plan.choose(advise_plan.Settings(), "whisper_tiny", PUBLISHED, SEARCHED)
    assert "@decomposed+loop-unrolling" in [p.name for p in base.picks]  # the base's own plan as it was


def test_a_variant_the_base_has_no_pick_of_is_a_users_model_and_picks_named_take_the_exports_release() -> (
    None
):
    upstream = advise_plan.choose(advise_plan.Settings(), "whisper_tiny@transformers", PUBLISHED, SEARCHED)
    assert (upstream.release, [p.name for p in upstream.picks]) == ("3.13.0", ["im2col"])
    named = advise_plan.choose(
        advise_plan.Settings(picks="im2col"), "whisper_tiny@decomposed", PUBLISHED, SEARCHED
    )
    assert (named.release, [p.name for p in named.picks]) == ("3.9.0", ["im2col"])  # on the export's release
