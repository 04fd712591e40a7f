"""A user's model is a first-class model: every command takes it by the name the tool printed or by
FILE:FACTORY (one name derivation, matrix/models.py), every command the tool suggests for it runs as
printed, advise times the reference models' picks for it, and `query` answers from anywhere with
this machine's own sittings first."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

from iree_matrix import cli
from iree_matrix.advise import advise_plan, advise_sitting
from iree_matrix.commands import base
from iree_matrix.commands import query as query_command
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import advice, query
from iree_matrix.iree import hints
from iree_matrix.matrix import models
from iree_matrix.report import machine

EXP = "py3.11-torch2.13.0-turbine3.9.0+transformers5.23.0"
TWO = "def a(seed=0):\n    pass\n\ndef b(seed=0, attn_implementation='sdpa'):\n    pass\n"
SDPA = "model.mlir:9:11: error: failed to legalize operation 'torch.aten.scaled_dot_product_attention'"
ODD = "model.mlir:9:11: error: something no signature knows"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _two(tmp_path: Path) -> Path:
    file = tmp_path / "nets" / "two.py"
    file.parent.mkdir()
    file.write_text(TWO)
    return file


def _records(file: Path) -> list[Record]:
    """Two factories of one file: `a` passes on 3.13.0, `b` fails on 3.10.0 (SDPA) and 3.13.0 (words
    no hint knows)."""
    out = []
    for factory, outcomes in (("a", {"3.13.0": None}), ("b", {"3.10.0": SDPA, "3.13.0": ODD})):
        ref = models.resolve(f"{file}:{factory}", file.parent)
        name = ref.name
        labels = {"model": name, "source_model": name, "function": "main", "exporter": EXP}
        cell = f"{name}/{EXP}"
        command = ("python", "export_model.py", *ref.worker_args(), "--function", "main", "--out", "o")
        out.append(Record(f"export:{cell}", "export", cell, "k", Status.OK, labels,
                          {"eager_cpu_ms": {"median": 2.0}}, command=command))  # fmt: skip
        for release, failure in outcomes.items():
            at = {**labels, "compiler": release, "arch": "x86_64", "profile": "default"}
            c = f"{cell}/iree{release}/x86_64/default"
            if failure:
                out.append(Record(f"compile:{c}", "compile", c, "k", Status.FAIL, at, {}, message=failure,
                                  error_class="compile-error"))  # fmt: skip
                continue
            out.append(Record(f"compile:{c}", "compile", c, "k", Status.OK, at, {}))
            run = {**at, "runtime": release}
            out.append(Record(f"run:{c}", "run", c, "k", Status.OK, run,
                              {"timing": "native", "matches": True, "cpu_ms": {"median": 1.0}}))  # fmt: skip
    return out


def _suggested(text: str) -> list[str]:
    return re.findall(r"iree-matrix (?:advise|search-recipes) [^`\n]+", text)


def test_every_command_the_tool_suggests_for_a_users_model_runs_as_printed(tmp_path, monkeypatch):
    file = _two(tmp_path)
    records = _records(file)
    monkeypatch.chdir(tmp_path)  # not where the file is: a printed reference must not depend on it
    said = "\n".join(machine.console_lines(records)) + "\n" + "\n".join(machine.render_machine(records))
    for name in ("two-a", "two-b"):
        answer = query.model(records, name)
        said += "\n" + query.with_advice(answer, None, name, models.references(records)).text()
    commands = _suggested(said)
    # A hint cannot know the model's reference: it names no command that takes one (query does).
    assert not [h.name for h in hints.HINTS if _suggested(h.advice)]
    assert f"iree-matrix advise {file}:a" in commands
    assert f"iree-matrix search-recipes --model {file}:b" in commands
    assert not any("advise" in c and ":b" in c for c in commands), "advise offered for a model that never ran"
    for command in commands:
        args = cli._parser().parse_args(shlex.split(command)[1:])
        if args.verb == "advise":
            reference, name = base.built_model(args.model_ref, "advise")
        else:
            (reference,) = [base.model_reference(m) for m in args.model]
            name = models.resolve(reference, Path.cwd()).name
        assert name in ("two-a", "two-b") and models.name_of(reference) == name


def test_a_users_failure_with_no_known_signature_offers_the_recipe_search(tmp_path):
    text = query.model(_records(_two(tmp_path)), "two-b").text()
    odd = text.split("something no signature knows", 1)[1].splitlines()[1]
    assert "what to do: no known failure signature" in odd and "search-recipes --model" in odd
    sdpa = text.split("scaled_dot_product_attention", 1)[1].splitlines()[1]
    assert 'attn_implementation="eager"' in sdpa  # the SDPA hint, by the exporter, not the model's name


def test_advise_and_search_recipes_take_the_name_the_tool_printed(tmp_path, monkeypatch):
    file = _two(tmp_path)
    log = tmp_path / "runs" / "default" / "results.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("".join(r.to_json() + "\n" for r in _records(file)))
    monkeypatch.chdir(tmp_path)
    assert base.built_model("two-b", "advise") == (f"{file}:b", "two-b")
    assert base.built_model(f"{file}:a", "advise") == (f"{file}:a", "two-a")
    assert base.built_model("nets/two.py:a", "advise") == ("nets/two.py:a", "two-a")
    assert base.model_reference("two-b~nonstrict") == f"{file}:b~nonstrict"
    assert base.built_model("mobilenet_v2", "advise") == ("mobilenet_v2", "mobilenet_v2")
    with pytest.raises(UserError, match="path/to/file.py:factory"):
        base.built_model("two-c", "advise")
    with pytest.raises(UserError, match="no such file"):
        base.built_model("nets/none.py:a", "advise")


def test_search_recipes_lists_a_users_factory_with_its_recipes(tmp_path, monkeypatch, capsys):
    file = _two(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = ["search-recipes", "--model", f"{file}:b", "--list", "--results-dir", str(tmp_path / "r")]
    code = cli.main(argv)
    out = capsys.readouterr().out
    assert code == 0
    for recipe in ("eager", "nonstrict", "fx", "fx+decompose"):  # `b` takes an attention implementation
        assert f"export:two-b~{recipe}/" in out


def test_a_users_model_is_timed_with_the_reference_answers_when_no_search_ships():
    published = [
        SimpleNamespace(release="3.13.0", config="dt+x", model=m) for m in ("mobilenet_v2", "yolox_nano")
    ] + [
        SimpleNamespace(release="3.13.0", config="default", model="quartznet5x5"),
        SimpleNamespace(release="3.9.0", config="old", model="quartznet5x5"),
    ]
    args = SimpleNamespace(release=None, picks=None, fleet=[])
    plan = advise_plan.choose(args, "two-a", published, [])  # an installed wheel: answers, no search.json
    assert [p.name for p in plan.picks] == ["dt+x"] and "published answer" in plan.picks[0].source


def _sitting(started: str, pick_ms: float) -> dict:
    default = [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9]
    arm = {"kind": advice.PICK, "release": "3.13.0", "matches": True, "flags": ["--x"], "module_sha256": "p"}
    return {
        "schema": advice.SCHEMA, "model": "two-a", "started": started, "rounds": 8, "llvm_cpu": "znver4",
        "host": {"vendor": "AuthenticAMD", "family": "25", "model": "17", "cpu_flags_sha256": "ab" * 32},
        "functions": [{"function": "main", "arms": [
            {"name": "default", "kind": advice.DEFAULT, "config": "default", "release": "3.13.0",
             "ms": default, "matches": True, "flags": ["--d"], "module_sha256": "d"},
            {**arm, "name": "pick", "config": "pick", "ms": [x * pick_ms for x in default]},
        ]}],
    }  # fmt: skip


def test_sittings_are_kept_side_by_side_and_the_newest_answers(tmp_path, monkeypatch):
    first = advise_sitting.write(tmp_path, "two-a", _sitting("2026-11-26T08:00:00+00:00", 0.5))
    second = advise_sitting.write(tmp_path, "two-a", _sitting("2026-11-26T09:00:00+00:00", 0.25))
    again = advise_sitting.write(tmp_path, "two-a", _sitting("2026-11-26T09:00:00+00:00", 0.25))
    assert len({first, second, again}) == 3 and all(p.is_file() for p in (first, second, again))
    assert json.loads(first.read_text())["started"].startswith("2026-11-26T08")
    (newest,) = advice.sittings(sorted(tmp_path.glob("advice-*.json")))
    assert newest.source in (str(second), str(again)) and newest.ms == pytest.approx(10.05, rel=0.01)


def test_query_reads_this_machines_sitting_without_naming_its_folder(tmp_path, monkeypatch):
    from iree_matrix.core.system import host

    monkeypatch.chdir(tmp_path)
    sat = advise_sitting.write(Path("runs") / "advise", "two-a", _sitting("2026-11-26T08:00:00+00:00", 0.5))
    about = {**_sitting("", 1)["host"], "cpu_flags_sha256": "ab" * 32}
    monkeypatch.setattr(host, "describe", lambda: about)
    from iree_matrix.core.model import host_identity
    from iree_matrix.findings import advice, results_folder

    results = results_folder.load(query_command._results_dir(None))  # what `query model` answers from
    chosen = advice.answer(results.gathered, "two-a", host_identity.here())
    assert chosen is not None and chosen.here
    assert [a.source for a in chosen.advice if a.model == "two-a"] == [str(sat)]


def test_query_outside_a_checkout_reads_the_published_results(tmp_path, monkeypatch):
    from iree_matrix.core import shipped

    monkeypatch.chdir(tmp_path)
    assert query_command._results_dir(None) == shipped.results_dir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.jsonl").write_text("")
    assert query_command._results_dir(None) == Path("results")  # a set of one's own here comes first
    assert query_command._results_dir(tmp_path) == tmp_path


def test_advise_plans_a_users_factory_with_the_reference_picks_as_arms(tmp_path, monkeypatch, capsys, caplog):
    file = _two(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert (
        cli.main(["advise", f"{file}:b", "--list", "--no-proof", "--results-dir", str(tmp_path / "r")]) == 0
    )
    out = capsys.readouterr().out
    picks = re.findall(r"compile:two-b/\S+/iree[\d.]+/x86_64/(\S+)", out)
    assert {"default", "generic"} <= set(picks) and len(set(picks) - {"default", "generic"}) >= 1, out
    assert "none published" not in caplog.text


def test_query_model_takes_file_and_factory(tmp_path, capsys):
    file = _two(tmp_path)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.jsonl").write_text("".join(r.to_json() + "\n" for r in _records(file)))
    assert cli.main(["query", "model", f"{file}:a", "--results-dir", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.startswith("two-a")
