"""The report's 'Your machine' section and the run's last lines (report/machine.py): IREE, torch
eager and the peers by one signal, ratios that say which is faster, the command that confirms the
pick here, no placeholder file (issues #48 and #52)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.iree import flags
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.matrix.spec import Cell
from iree_matrix.report import machine
from iree_matrix.report.compatibility import render_compatibility
from iree_matrix.report.sections import Setting
from iree_matrix.stages import peer

EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"


def _record(
    stage: str, job: str, labels: dict[str, str], status: Status = Status.OK, **metrics: Any
) -> Record:
    return Record(job=f"{stage}:{job}", stage=stage, cell=job, status=status, key="k", labels=labels,
                  metrics={"timing": "native", **metrics} if stage == "run" else metrics)  # fmt: skip


def _run(function: str, release: str, cpu: float, wall: float, **labels: str) -> Record:
    label = {"model": function, "source_model": function.split(".")[0], "exporter": EXPORTER,
             "compiler": release, "runtime": release, "profile": "default", **labels}  # fmt: skip
    job = f"{function}/{EXPORTER}/iree{release}/x86_64/{label['profile']}"
    if label["runtime"] != release:
        job += f"/rt{label['runtime']}"
    return _record(
        "run", job, label, latency_ms={"median": wall}, cpu_ms={"median": cpu, "min": cpu, "max": cpu}
    )


def _export(function: str, eager_cpu: dict, eager_wall: float) -> Record:
    label = {"model": function, "source_model": function.split(".")[0], "exporter": EXPORTER}
    return _record("export", f"{function}/{EXPORTER}", label, eager_ms={"median": eager_wall},
                   eager_cpu_ms=eager_cpu)  # fmt: skip


def _peer(function: str, **entries: dict) -> Record:
    label = {"model": function, "source_model": function.split(".")[0], "torch": "2.13.0"}
    return _record("peer", f"{function}/py3.11-torch2.13.0-peers-onnxruntime", label, peers=entries)


def _ort(cpu: float, wall: float = 1.0) -> dict:
    return {"status": "ok", "latency_ms": {"median": wall}, "cpu_ms": {"median": cpu, "min": cpu, "max": cpu}}


def _records() -> list[Record]:
    return [
        # MobileNetV2: IREE slower than ONNX Runtime, faster than eager; a wall time that says the
        # opposite of the CPU time (issue #52's 0.63x against 2.36x) enters nothing.
        _run("mobilenet_v2", "3.12.0", cpu=40.0, wall=9.0),
        _run("mobilenet_v2", "3.13.0", cpu=19.8, wall=8.0),
        _run("mobilenet_v2", "3.13.0", cpu=99.0, wall=99.0, runtime="3.12.0"),  # a cross: not IREE's figure
        _export("mobilenet_v2", {"median": 24.0, "min": 23.5, "max": 25.0}, eager_wall=268.0),
        _peer("mobilenet_v2", onnxruntime=_ort(12.0), eager=_ort(30.0)),  # the peers' eager: not a 2nd figure
        # tiny_cnn: IREE faster than ONNX Runtime; eager's repetitions spread 61183 %
        _run("tiny_cnn", "3.13.0", cpu=0.1, wall=0.1),
        _export("tiny_cnn", {"median": 0.438, "min": 0.228, "max": 268.0}, eager_wall=134.0),
        _peer("tiny_cnn", onnxruntime=_ort(0.2)),
        # the Whisper encoder: ONNX Runtime failed to convert; IREE's own run failed
        _run("whisper_tiny.encoder", "3.13.0", cpu=1.0, wall=1.0),
        _export("whisper_tiny.encoder", {"median": 200.0, "min": 199.0, "max": 201.0}, eager_wall=150.0),
        _peer("whisper_tiny.encoder", onnxruntime={"status": "fail", "error": {"phase": "convert"}}),
    ]


def test_the_ratios_say_which_is_faster_never_a_bare_multiple() -> None:
    fast, slow = machine.Figure(10.0), machine.Figure(16.5)
    assert machine.compared(slow, fast, "ONNX Runtime") == "IREE takes 1.65× ONNX Runtime's time"
    assert machine.compared(fast, slow, "ONNX Runtime") == "IREE is 1.65× faster than ONNX Runtime"
    assert machine.compared(fast, machine.Figure(10.001), "ONNX Runtime") == (
        "IREE takes the same time as ONNX Runtime (1.00×)"
    )
    assert machine.compared(None, fast, "ONNX Runtime") == ""


def test_every_figure_is_one_threads_cpu_time_from_one_stage_each() -> None:
    rows = {row.function: row for row in machine.rows(_records())}
    mnv2 = rows["mobilenet_v2"]
    assert (mnv2.release, mnv2.iree.median) == ("3.13.0", 19.8)  # the newest release, on its own runtime
    assert mnv2.eager is not None and mnv2.eager.median == 24.0  # the export stage's, not the peers' 30.0
    assert [(name, figure.median if figure else None) for name, figure, _ in mnv2.peers] == [
        ("onnxruntime", 12.0)
    ]
    assert rows["whisper_tiny.encoder"].peers == (("onnxruntime", None, "failed (convert)"),)
    assert rows["tiny_cnn"].disturbed == ["torch eager"] and rows["mobilenet_v2"].disturbed == []


def test_the_section_gives_every_model_its_peer_ratio_and_the_command_that_confirms_the_pick() -> None:
    text = "\n".join(machine.render_machine(_records()))
    assert "## Your machine: IREE against the alternatives" in text
    row = next(line for line in text.splitlines() if line.startswith("| mobilenet_v2 "))
    assert "19.8 ms (3.13.0)" in row and "24.0 ms" in row and "12.0 ms" in row
    assert "IREE takes 1.65× ONNX Runtime's time" in row and "IREE is 1.21× faster than torch eager" in row
    assert "268" not in text and "134 ms" not in text and "8.00 ms" not in text  # no wall time anywhere
    assert "IREE is 2.00× faster than ONNX Runtime" in text  # tiny_cnn
    assert "failed (convert)" in text
    assert "0.438 ms ⚠️ spread 61135%" in text and "tiny_cnn (torch eager)" in text  # flagged, with a re-time
    assert "`iree-matrix matrix --retime 'export:tiny_cnn/*'`" in text
    for model in ("mobilenet_v2", "tiny_cnn", "whisper_tiny"):
        assert f"`iree-matrix advise {model}`" in text
    assert "YOUR.toml" not in text


def test_the_console_says_the_same_in_a_line_per_function() -> None:
    lines = machine.console_lines(_records(), "runs/default/COMPATIBILITY.md")
    mnv2 = next(line for line in lines if line.strip().startswith("mobilenet_v2"))
    assert (
        "IREE 19.8 ms · torch eager 24.0 ms · ONNX Runtime 12.0 ms → IREE takes 1.65× ONNX Runtime's time"
        in mnv2
    )
    whisper = next(line for line in lines if line.strip().startswith("whisper_tiny.encoder"))
    assert "ONNX Runtime failed (convert) → IREE is 200.00× faster than torch eager" in whisper
    # one command a line, each runnable as printed (no MODEL placeholder to fill in), by the tool as
    # it runs here (nox's venv is on no shell's PATH: its launcher's path)
    from iree_matrix.core import shipped

    assert [line.strip() for line in lines[-4:-1]] == [
        f"{shipped.command()} advise {model}" for model in ("mobilenet_v2", "tiny_cnn", "whisper_tiny")
    ]
    assert machine.console_lines([]) == []


def test_a_runs_report_has_the_section_and_a_published_set_does_not() -> None:
    mine = render_compatibility(_records(), setting=Setting(own=True))
    assert "## Your machine: IREE against the alternatives" in mine
    # one signal in a run's report: the peers' wall-time table is left to PERFORMANCE.md there
    assert "## Performance: IREE against" not in mine
    published = render_compatibility(_records())
    assert "## Your machine" not in published and "## Performance: IREE against" in published


def test_the_peer_environment_installs_only_what_the_asked_peers_need() -> None:
    cell = Cell("tiny_cnn", "3.11", "2.13.0", "3.9.0", "3.13.0", "3.13.0", "x86_64", "default")
    onnx = peer.environment(cell, ("onnxruntime",))
    assert onnx.id.endswith("torch2.13.0-peers-onnxruntime")
    assert not any(r.startswith(("litert", "ai-edge")) for r in onnx.requirements)
    assert "onnxruntime==1.31.1" in onnx.requirements and "onnxscript==0.7.2" in onnx.requirements
    # eager brings nothing of its own: the same environment as ONNX Runtime alone (advise's)
    assert peer.environment(cell, ("eager", "onnxruntime")).id == onnx.id
    every = peer.environment(cell, peer_registry.names())  # the shipped peers, and any peer added beside them
    assert every.id.endswith("torch2.13.0-peers")  # as it always was: stored peer results keep their keys
    assert every.requirements == (
        "torch==2.13.0", "numpy", "onnxruntime==1.31.1", "onnx==1.23.2", "onnxscript==0.7.2",
        "litert-torch==0.10.0", "ai-edge-litert==2.3.0",
    )  # fmt: skip
    assert peer.environment(cell, ("eager",)).id.endswith("torch2.13.0-peers-torch")


def test_the_run_report_gives_one_answer_per_function_with_its_flags_and_whose_cpu_it_is():
    """Issue #61: the first report named two "best" configurations per function (the published
    answers' and a "published search's best" column), neither saying which question it answered, and
    no flags, only a command not on PATH. Now: the one answer `query model` gives, flags printed, the
    identity (NEAREST when not this CPU), and every command as it runs here."""
    from iree_matrix.findings import advice
    from tests.unit.test_advice import ROCKETLAKE, ZEN5, _sitting

    published = advice.derive(_sitting())
    tool = ".nox/matrix/bin/iree-matrix"
    advised = (advice.answer(published, "mobilenet_v2", HostIdentity.of(ROCKETLAKE)),)
    here = render_compatibility(_records(), setting=Setting(own=True, advised=advised, tool=tool))
    row = next(
        line for line in here.splitlines() if line.startswith("| mobilenet_v2 ") and "this CPU" in line
    )
    assert "3.50× faster than `default`" in row and "IREE takes 1.65× ONNX Runtime's time" in row
    (pick,) = [a for a in published if a.model == "mobilenet_v2"]
    assert flags.compile_line(pick.flags) in here
    # one answer: no second "best" configuration beside it (the best peer is a peer)
    assert "best" not in here.split("## Answers")[0].replace("the best peer", "")
    assert f"`{tool} query model MODEL`" in here and f"`{tool} advise tiny_cnn`" in here  # none published
    assert "`python3 -m pip install .`" in here  # how to have iree-matrix on the PATH
    advised = (advice.answer(published, "mobilenet_v2", HostIdentity.of(ZEN5)),)
    elsewhere = render_compatibility(_records(), setting=Setting(own=True, advised=advised))
    row = next(
        line for line in elsewhere.splitlines() if line.startswith("| mobilenet_v2 ") and "NEAREST" in line
    )
    assert "not this CPU" in row and "`iree-matrix advise mobilenet_v2`" in elsewhere
    assert "on your PATH" not in elsewhere  # `iree-matrix` is on the PATH: nothing to say
    # Issue #69: the answers and their flags open the report, before the legend (off an 80x24 screen
    # under it); the legend and the rest follow, and the flags are printed once.
    head = here.split("**Legend.**")[0]
    assert head.startswith("# IREE compatibility matrix\n\n**What to take here**")
    assert flags.compile_line(pick.flags) in head
    assert "# mobilenet_v2: IREE 3.13.0 " in head and "--module models.mobilenet_v2 " in head
    assert here.count("iree-compile model.mlir ") == 1
    assert "**What to take here**" not in render_compatibility(_records())  # a published set's: none


def test_a_models_eager_line_gives_one_threads_cpu_time_first_and_labels_the_wall_time() -> None:
    """Issue #52: a loaded wall time read '~1.83 s' for a call of 10 ms of CPU, unlabelled."""
    text = render_compatibility(_records(), setting=Setting(own=True))
    line = next(ln for ln in text.splitlines() if ln.startswith("- torch eager: 24.0 ms"))
    assert line.startswith("- torch eager: 24.0 ms per call, one thread's CPU time (23.5 ms–25.0 ms); ")
    assert "on the matrix's threads, wall: 268 ms" in line
    flagged = next(ln for ln in text.splitlines() if ln.startswith("- torch eager: 0.438 ms"))
    assert flagged.startswith("- torch eager: 0.438 ms ⚠️ spread 61135% per call, one thread's CPU time")


def test_the_suggested_command_is_the_bare_name_where_the_path_runs_this_launcher(monkeypatch, tmp_path):
    """A venv outside the working directory: its launcher's whole path, unless the venv is active
    (its bin/ on the PATH), where `iree-matrix` is what the user types."""
    import sys

    from iree_matrix.core import shipped

    launcher = tmp_path / "venv" / "bin" / "iree-matrix"
    launcher.parent.mkdir(parents=True)
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("PATH", "/usr/bin")
    assert shipped.command() == str(launcher)
    monkeypatch.setenv("PATH", f"{launcher.parent}:/usr/bin")
    assert shipped.command() == "iree-matrix"


def test_the_console_keeps_the_runs_settings_and_advise_never_suggests_itself() -> None:
    """Issue #86: the suggested `advise` lines carry the run's settings; under `advise`'s own run
    (no settings given) no `advise` is suggested: it printed "Whether the published pick beats these
    here: iree-matrix advise MODEL" while that very command ran."""
    from iree_matrix.core import pasted

    here = pasted.Where(Path("lab.toml"), Path("runs/lab"), None)
    lines = machine.console_lines(_records(), "r", tool="iree-matrix", where=here)
    assert "    iree-matrix advise tiny_cnn --matrix lab.toml --results-dir runs/lab" in lines
    advising = machine.console_lines(_records(), "r", tool="iree-matrix", where=None)
    assert not any("advise" in line for line in advising), advising
    assert any(line.strip().startswith("mobilenet_v2") for line in advising)


def test_a_peers_failure_names_its_cause() -> None:
    """Issue #86: "ONNX Runtime failed (run)" and nothing more; the cause (a torch ONNX exporter
    bug) was only in `show`. It now follows, on one line, safe in a table, and whole up to 120
    characters; past them cut at a word with its length said (issue 95: the FNO's was cut
    mid-sentence with nothing said)."""
    error = {"phase": "run", "type": "RuntimeError", "message": "Unsupported: ONNX export of op | x\nmore"}
    figure, why = machine._peer_figure({"status": "fail", "error": error})
    assert figure is None and why == "failed (run): RuntimeError Unsupported: ONNX export of op / x more"
    sentence = "Exporting the operator 'aten::fft_rfft2' to ONNX opset version 17 is not supported. " * 4
    long = {"phase": "convert", "type": "UnsupportedOperatorError", "message": sentence}
    why = machine._peer_figure({"status": "fail", "error": long})[1]
    whole = len("UnsupportedOperatorError " + sentence.strip())
    assert why.endswith(f"is not supported. Exporting …({whole} characters; the whole in the log)"), why
    assert len(why) < len("failed (convert): ") + 120 + 50


def test_a_slow_answer_leads_on_to_the_gap_profile() -> None:
    """Issue #86: a kNN block at 13.22× ONNX Runtime's time, and nothing said what to do next. A
    function over machine.SLOW times its best peer's time names the command that profiles the gap,
    with the run's settings; one under it (mobilenet_v2 at 1.65×) does not."""
    from iree_matrix.core import pasted

    records = [r for r in _records() if "tiny_cnn" not in r.job] + [
        _run("tiny_cnn", "3.13.0", cpu=1.0, wall=1.0),
        _peer("tiny_cnn", onnxruntime=_ort(0.25)),
    ]
    here = pasted.Where(None, Path("runs/lab"), None)
    lines = machine.console_lines(records, tool="iree-matrix", where=here)
    led = [line for line in lines if "op kinds that hold the gap" in line]
    assert led == [
        "  tiny_cnn: IREE takes 4.00× ONNX Runtime's time; `iree-matrix advise tiny_cnn --results-dir "
        "runs/lab` profiles both in context and names the op kinds that hold the gap (with `--kernel "
        "DIR`, a kernel for them timed too)"
    ], lines
    assert not any("gap" in line for line in machine.console_lines(records, tool="iree-matrix", where=None))


def _cdist_records(*more: Record) -> list[Record]:
    """A kNN block (issue #86): the default export fails on `aten.cdist` (the cdist hint names
    `fx+rewrite` before `fx+decompose`); `~fx+decompose` passes at 13.16× ONNX Runtime's time."""
    import dataclasses

    labels = {"model": "knn", "source_model": "knn", "exporter": EXPORTER, "compiler": "3.13.0"}
    failed = _record("compile", f"knn/{EXPORTER}/iree3.13.0/x86_64/default", labels, Status.FAIL)
    words = "error: failed to legalize operation 'torch.aten.cdist' that was explicitly marked illegal"
    slow = "knn~fx+decompose"
    return [dataclasses.replace(failed, message=words), _run(slow, "3.13.0", cpu=1.0, wall=1.0),
            _peer(slow, onnxruntime=_ort(0.076)), *more]  # fmt: skip


def _led(records: list[Record]) -> list[str]:
    from iree_matrix.core import pasted

    lines = machine.console_lines(
        records, tool="iree-matrix", where=pasted.Where(None, Path("runs/lab"), None)
    )
    return [line for line in lines if "'s time;" in line]


def test_a_slow_recipe_names_the_recipe_its_hint_ranks_first() -> None:
    """Issue #86: the kNN block by `~fx+decompose` took 13.22× ONNX Runtime's time and nothing said
    what next. Its line names the `advise` command that profiles the gap and, from the cdist hint
    of the default export's failure, `run it:` for `~fx+rewrite` (cdist p=2 by matmul)."""
    led = _led(_cdist_records())
    assert len(led) == 1 and led[0].startswith("  knn~fx+decompose: IREE takes 13.16× ONNX Runtime's time; ")
    assert "`iree-matrix advise 'knn~fx+decompose' --results-dir runs/lab` profiles both" in led[0]
    assert led[0].endswith(
        "; fx+rewrite first in its failure's hint, not run yet: run it: `iree-matrix matrix --model "
        "'knn~fx+rewrite' --results-dir runs/lab`"
    )


def test_a_faster_recipe_already_run_is_pointed_to_and_never_run_again() -> None:
    """With `~fx+rewrite` run (the command being run, say), the slow row points to its figure and its
    `advise`, and prints no `run it:` for it; one no faster beyond noise is offered nothing."""
    fast = _run("knn~fx+rewrite", "3.13.0", cpu=0.05, wall=0.05)
    led = _led(_cdist_records(fast, _peer("knn~fx+rewrite", onnxruntime=_ort(0.076))))
    assert len(led) == 1 and "run it:" not in led[0], led
    assert led[0].endswith(
        "; `knn~fx+rewrite` takes 0.0500 ms here: `iree-matrix advise 'knn~fx+rewrite' --results-dir "
        "runs/lab` answers for it"
    ), led
    within_noise = _run("knn~fx+rewrite", "3.13.0", cpu=0.9, wall=0.9)  # runs_view.NOISE_RATIO: 1.3×
    led = _led(_cdist_records(within_noise))
    assert len(led) == 1 and "run it:" not in led[0] and "fx+rewrite" not in led[0], led


def test_a_slow_row_with_profiles_names_the_op_kinds_instead_of_the_command() -> None:
    """Where the run and ONNX Runtime were profiled in context (advise's profiled sitting, or a
    matrix's op_timings), the line names the op kinds that hold the gap, not the command."""
    import dataclasses

    dispatches = [{"name": "main$async_dispatch_0_generic_64x64x3_f32", "ms_per_call": 0.9},
                  {"name": "main$async_dispatch_1_matmul_64x64x3_f32", "ms_per_call": 0.1}]  # fmt: skip
    records = _cdist_records()
    run = records[1]
    records[1] = dataclasses.replace(run, metrics={**run.metrics, "op_profile": {"dispatches": dispatches}})
    ops = [{"op": "MatMul", "ms_per_call": 0.05}, {"op": "Sub", "ms_per_call": 0.02}]
    records[2] = _peer("knn~fx+decompose", onnxruntime={**_ort(0.076), "op_profile": {"ops": ops}})
    led = _led(records)
    assert len(led) == 1 and "; where the gap is: against ONNX Runtime, both profiled in context" in led[0]
    assert "advise" not in led[0] and "run it: `iree-matrix matrix --model 'knn~fx+rewrite'" in led[0], led


def test_a_function_timed_only_under_a_profile_of_its_own_gets_its_speed_answer_from_it() -> None:
    """Issue 95: a model that passed only under a profile (a recipe and the stack limit) had no speed
    answer ("no `default` run"): the line now gives the fastest passing profile's figure, named, and
    its ratio to the peers; `default` still wins where it ran."""
    records = [
        _run("whisper_tiny.encoder", "3.9.0", cpu=758.0, wall=398.0, profile="pick"),
        _run("whisper_tiny.encoder", "3.9.0", cpu=900.0, wall=450.0, profile="slower"),
        _peer("whisper_tiny.encoder", onnxruntime=_ort(424.0)),
    ]
    (line,) = [x for x in machine.console_lines(records) if x.strip().startswith("whisper_tiny.encoder")]
    assert "IREE 758 ms (`pick`)" in line and "IREE takes 1.79× ONNX Runtime's time" in line, line
    records.append(_run("whisper_tiny.encoder", "3.9.0", cpu=800.0, wall=400.0))
    (line,) = [x for x in machine.console_lines(records) if x.strip().startswith("whisper_tiny.encoder")]
    assert "IREE 800 ms ·" in line and "`pick`" not in line, line
    failed = [
        _record("run", "w/x", {"model": "w", "profile": "default"}, Status.FAIL),
        _peer("w", onnxruntime=_ort(4.0)),
    ]
    (line,) = [x for x in machine.console_lines(failed) if x.strip().startswith("w ")]
    assert "IREE: no passing run" in line


def test_query_model_says_the_slow_pass_line_the_runs_summary_says(tmp_path: Path, capsys: Any) -> None:
    """Issue #86 item 2: the run's summary led the kNN block by `~fx+decompose` on (13.16× ONNX
    Runtime's time: the `advise` command, `run it:` for `~fx+rewrite`), but `query model` on the
    same results said nothing of it. Asked for the recipe's model or the model itself, it now says
    the same line (no `advise` sitting answers it)."""
    from iree_matrix import cli
    from iree_matrix.core import pasted
    from iree_matrix.core.model.results import ResultsLog

    records = _cdist_records()
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in records:
        log.append(record)
    summary = machine.console_lines(records, tool="iree-matrix", where=pasted.HERE)
    led = [line for line in summary if line.startswith("  knn~fx+decompose: IREE takes 13.16×")]
    assert len(led) == 1 and "run it: `iree-matrix matrix --model 'knn~fx+rewrite'`" in led[0], summary
    for name in ("knn~fx+decompose", "knn"):
        cli.main(["query", "model", name, "--results-dir", str(tmp_path)])
        assert led[0] in capsys.readouterr().out.splitlines(), name


def test_a_gap_held_by_a_sort_names_the_recipe_that_rewrites_topk() -> None:
    """Issue #86: the kNN block's answer named its gap (a `sort_1x64x64` dispatch, IREE's `topk`) and
    no step past it. The `rewrite` recipe now takes a small `topk` off the sort; a row whose gap a
    sort holds says `run it:` for it, and one already exported by it is offered nothing more."""
    import dataclasses

    def profiled(model: str) -> list[Record]:
        sort = "main$async_dispatch_5_sort_1x64x64xf32_dispatch_tensor_store"
        dispatches = [{"name": sort, "ms_per_call": 0.7},
                      {"name": "main$async_dispatch_1_matmul_64x64x3_f32", "ms_per_call": 0.1}]  # fmt: skip
        run = _run(model, "3.13.0", cpu=0.85, wall=0.85)
        run = dataclasses.replace(run, metrics={**run.metrics, "op_profile": {"dispatches": dispatches}})
        ops = [{"op": "TopK", "ms_per_call": 0.02}, {"op": "MatMul", "ms_per_call": 0.05}]
        return [run, _peer(model, onnxruntime={**_ort(0.2), "op_profile": {"ops": ops}})]

    (led,) = _led(profiled("knn"))
    assert "where the gap is: against ONNX Runtime" in led and "sort " in led, led
    assert led.endswith(
        "; `fx+rewrite` exports a `topk` of k <= 16 as k rounds of a reduction, not a sort of each row: "
        "run it: `iree-matrix matrix --model 'knn~fx+rewrite' --results-dir runs/lab`"
    ), led
    (led,) = _led(profiled("knn~fx+rewrite"))
    assert "run it:" not in led, led
