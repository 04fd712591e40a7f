"""The smoke matrix end to end on host venvs: real pip, torch, iree-turbine, iree-compile and the
IREE runtime tools. Asserts statuses, numbers, the runtime's own refusal messages and the table."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iree_matrix.core import shipped
from iree_matrix.core.model.results import Status
from iree_matrix.findings import compat
from iree_matrix.matrix import spec_file

from .conftest import REPO, SMOKE, TomlValue, iree_matrix, matrix_toml, raw_lines, records

pytestmark = pytest.mark.integration

EXPORT = "export:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"
BASE = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"


def test_smoke_matrix_end_to_end_then_fully_reused(cache: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    first = iree_matrix("matrix", "--matrix", str(SMOKE), cache=cache, results=results)
    assert first.returncode == 0, first.stderr

    got = records(results)
    assert len(got) == 12
    installs = [r for r in got.values() if r.stage == "install"]
    assert {r.status for r in installs} == {Status.OK}
    compiler = got["install:py3.11-iree-compiler3.13.0"]
    assert compiler.env["packages"]["iree-base-compiler"] == "3.13.0"
    exporter = got["install:py3.11-torch2.13.0-turbine3.9.0"]
    assert exporter.env["packages"]["iree-turbine"] == "3.9.0"
    assert exporter.env["packages"]["torch"].startswith("2.13.0")
    assert exporter.env["packages"]["iree-base-compiler"] == "3.9.0"  # pinned to turbine's release

    export = got[EXPORT]
    assert export.status is Status.OK
    assert export.metrics["parameters"] == 24_346
    assert export.metrics["mlir_bytes"] > 10_000
    assert export.metrics["eager_ms"]["n"] == 5 and export.metrics["eager_ms"]["median"] > 0
    assert len(export.metrics["mlir_sha256"]) == 64 and len(export.metrics["io_sha256"]) == 64
    assert export.metrics["other_load"] >= 0  # how busy the machine was while eager was timed

    for version in ("3.9.0", "3.13.0"):
        compiled = got[f"compile:{BASE}/iree{version}/x86_64/default"]
        assert compiled.status is Status.OK, compiled.message
        assert compiled.metrics["module_bytes"] > 10_000
        assert "--iree-llvmcpu-target-cpu=host" in compiled.command
        # What the module asks of a runtime, read from the .vmfb itself.
        versions = compiled.metrics["module_versions"]
        assert versions["bytecode"] == {"3.9.0": "15.0", "3.13.0": "17.0"}[version]
        assert versions["hal"] == {"3.9.0": "6", "3.13.0": "7"}[version]
        assert versions["executables"] == "embedded_elf_x86_64"

        ran = got[f"run:{BASE}/iree{version}/x86_64/default"]
        assert ran.status is Status.OK, ran.message
        assert ran.metrics["max_abs_err"] <= ran.metrics["atol"] + ran.metrics["rtol"]
        latency = ran.metrics["latency_ms"]
        assert latency["n"] == 5 and 0 < latency["min"] <= latency["median"] <= latency["max"]
        assert ran.labels["runtime"] == version == ran.labels["compiler"]

    old_on_new = got[f"run:{BASE}/iree3.9.0/x86_64/default/rt3.13.0"]
    assert old_on_new.status is Status.FAIL
    assert old_on_new.error_class == "incompatible-module"
    assert "bytecode version mismatch; runtime supports 17.0, module has 15.0" in old_on_new.message
    # The refused call's own command, which a reader re-runs by hand (`show --commands`).
    assert Path(old_on_new.command[0]).name == "iree-run-module" and "--function=main" in old_on_new.command
    assert "iree-runtime3.13.0" in old_on_new.command[0]
    new_on_old = got[f"run:{BASE}/iree3.13.0/x86_64/default/rt3.9.0"]
    assert new_on_old.status is Status.FAIL
    assert "required module features [Ch] are not available" in new_on_old.message

    table = (results / "COMPATIBILITY.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| py3.11-torch2.13.0-turbine3.9.0"))
    assert row.count("✅") == 2 and " ms" in row
    assert "bytecode version mismatch; runtime supports 17.0, module has 15.0" in table

    # An unchanged matrix run again does no stage work and publishes nothing new.
    lines_before = len(raw_lines(results))
    second = iree_matrix("matrix", "--matrix", str(SMOKE), cache=cache, results=results)
    assert second.returncode == 0, second.stderr
    assert "(0 executed, 12 reused from earlier runs)" in second.stdout
    assert " ...\n" not in second.stderr and "= ok (stored result)" in second.stderr  # progress: stderr
    assert len(raw_lines(results)) == lines_before

    # Logs are write-once: the re-run reused every result and emptied none of the first run's logs,
    # and every log path printed beside a failure still has the tool's words in it.
    logs = sorted((cache / "logs").rglob("*.log"))  # logs/<job>/<started>.log
    assert len(logs) >= 9 and all(log.stat().st_size > 0 for log in logs), [str(p) for p in logs]
    # The smoke run's only non-ok cells are the two refusals: answers, printed with the runtime's
    # words rather than as failures with a log path (a failure's printed log must exist, if any).
    printed = re.findall(r"\(log: (\S+)\)", first.stderr)  # progress lines: stderr
    assert all(Path(p).stat().st_size > 0 for p in printed)
    assert first.stderr.count("the runtime says: ") == 2 and "2 refused (expected answers)" in first.stdout
    assert "the whole message and the logs of one: iree-matrix show JOB" in first.stdout
    shown = iree_matrix("show", f"run:{BASE}/iree3.9.0/x86_64/default/rt3.13.0", cache=cache, results=results)
    assert shown.returncode == 0, shown.stderr
    assert "status: fail (incompatible-module)" in shown.stdout
    assert "bytecode version mismatch; runtime supports 17.0, module has 15.0" in shown.stdout
    assert str(cache / "logs") in shown.stdout and "/log.txt" in shown.stdout

    # The report's companions: the answers for scripts and the site.
    compat.validate(json.loads((results / "compat.json").read_text()))
    assert (results / "site" / "index.html").is_file()
    assert (results / "site" / "models" / "tiny_cnn.html").is_file()

    # calibrate on the run's modules states its cost before it starts, then a progress line with an
    # ETA per pair (issue #52).
    argv = ["calibrate", "--pairs", "2", "--controls", "1", "--rounds", "6", "--repetitions", "1"]
    calibrated = subprocess.run(
        [sys.executable, "-m", "iree_matrix", *argv, "--results-dir", str(results)],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert calibrated.returncode == 0, calibrated.stderr
    said = calibrated.stderr.splitlines()  # progress goes to the log (stderr), answers to stdout
    costs = [line for line in said if line.startswith("calibrate: 3 pairs (2 null, 1 controls) x 6 paired")]
    assert len(costs) == 1 and " on this machine now (load " in costs[0] and "cheaper: --pairs N" in costs[0]
    progress = [line for line in said if re.match(r"\[\d/3 \d+:\d\d:\d\d ETA \d+:\d\d:\d\d\] ", line)]
    steps = [line.split("] ")[1].split(" tiny_cnn")[0] for line in progress]
    assert steps == ["null 1/2", "null 2/2", "control 1/1"]
    assert said.index(costs[0]) < said.index(progress[0])


def test_interrupted_run_resumes_without_redoing_finished_stages(cache: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", str(SMOKE)]
    # One stage at a time (the default runs two): the first compile has finished when the second starts.
    argv += ["--cache", str(cache), "--results-dir", str(results), "--jobs", "1"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        # Interrupt while the second compile is running: the first is finished by then.
        if re.search(r"compile .*iree3\.9\.0.* \.\.\.$", line.rstrip()):
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "interrupted" in output

    finished = {job for job, r in records(results).items() if r.status is not Status.NOT_RUN}
    assert f"compile:{BASE}/iree3.13.0/x86_64/default" in finished
    assert not any(job.startswith("run:") for job in finished)
    staging = cache / "store" / "staging"
    assert not staging.exists() or not any(staging.iterdir()), "interrupted stage left staging files"

    resumed = iree_matrix("matrix", "--matrix", str(SMOKE), cache=cache, results=results)
    assert resumed.returncode == 0, resumed.stderr
    for job in finished:
        stage, _, cell = job.partition(":")
        assert f"{stage:<7} {cell} = ok (stored result)" in resumed.stderr
    assert f"compile {BASE}/iree3.9.0/x86_64/default ..." in resumed.stderr  # the interrupted one
    final = records(results)
    assert final[f"run:{BASE}/iree3.9.0/x86_64/default"].status is Status.OK
    assert final[f"run:{BASE}/iree3.13.0/x86_64/default"].status is Status.OK


def test_unresolvable_environment_is_a_recorded_failure_and_the_rest_goes_on(
    warm_cache: Path, tmp_path: Path
) -> None:
    # An exporter environment pip cannot resolve (a model asking for a package no index has): its
    # install fails with pip's own words, that model's chain is not run, the other cells go on.
    # (Compiler 3.7.1, which has no runtime 3.7.1, now runs on runtime 3.7.0: issue #29's item 1.)
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    model = tmp_path / "needs_missing.py"
    model.write_text(
        "import torch\n"
        "from models.api import ModelSpec\n"
        'REQUIREMENTS = ("iree-matrix-no-such-package==0.0.1",)\n'
        "def build(seed=0):\n"
        "    torch.manual_seed(seed)\n"
        "    return ModelSpec(torch.nn.Linear(4, 2).eval(), (torch.randn(1, 4),), atol=1e-5, rtol=1e-4)\n"
    )
    matrix = tmp_path / "bad.toml"
    tables = {"benchmark": {"repetitions": 2}}
    matrix.write_text(matrix_toml(compiler=["3.9.0"], models=["tiny_cnn", f"{model}:build"], tables=tables))
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)

    failed = [r for r in got.values() if r.stage == "install" and r.status is Status.FAIL]
    assert len(failed) == 1, [r.job for r in failed]
    install = failed[0]
    assert install.error_class == "resolve", install.message
    assert "iree-matrix-no-such-package==0.0.1" in install.message
    assert "No matching distribution" in install.message  # pip's own words

    chain = [r for r in got.values() if "needs_missing" in r.job and r.stage != "install"]
    assert chain and all(r.status is Status.NOT_RUN for r in chain)
    export = next(r for r in chain if r.stage == "export")
    assert export.blocked_by == install.job
    assert got[f"run:{BASE}/iree3.9.0/x86_64/default"].status is Status.OK

    table = (results / "COMPATIBILITY.md").read_text()
    assert "No matching distribution found for iree-matrix-no-such-package==0.0.1" in table


def test_stage_timeout_is_recorded_not_stored_and_the_rest_goes_on(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    matrix = tmp_path / "slow.toml"
    # tiny_cnn compiles in ~2 s, MobileNetV2 in ~20 s: only the latter hits the limit.
    tables = {"benchmark": {"repetitions": 2}, "timeouts": {"compile": 8}}
    matrix.write_text(matrix_toml(models=["tiny_cnn", "mobilenet_v2"], tables=tables))
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)

    slow = got["compile:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"]
    assert slow.status is Status.TIMEOUT
    assert "did not finish within 8 s" in slow.message
    mobilenet = "mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"
    assert got[f"run:{mobilenet}"].status is Status.NOT_RUN
    assert got[f"run:{BASE}/iree3.9.0/x86_64/default"].status is Status.OK
    assert not (cache / "store" / "compile" / slow.key).exists()  # a timeout is retried, not stored

    again = iree_matrix("matrix", "--matrix", str(matrix), cache=cache, results=results)
    assert f"compile {mobilenet} ..." in again.stderr


def test_the_first_runs_report_says_how_iree_compares_with_the_default_peer(
    warm_cache: Path, tmp_path: Path
) -> None:
    """The default matrix's peer (issue #48): tiny_cnn on 3.13.0 with the peers `matrix/default.toml`
    names, for real — the report's 'Your machine' row and the console's line give IREE, torch eager
    and ONNX Runtime by one thread's CPU time, a ratio in words, and the command that confirms the
    pick here; no placeholder file."""
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    default = spec_file.load(REPO / "matrix" / "default.toml")
    assert default.peers == ("onnxruntime",)
    cross = default.benchmark.time_cross_runtime
    timing: dict[str, dict[str, TomlValue]] = {"benchmark": {"repetitions": 3, "time_cross_runtime": cross}}
    runtimes, peers = ["3.12.0", "3.13.0"], list(default.peers)
    text = matrix_toml(compiler="3.13.0", runtime=runtimes, peers=peers, tables=timing)
    (tmp_path / "matrix.toml").write_text(text)
    done = iree_matrix("matrix", "--matrix", str(tmp_path / "matrix.toml"), "--backend", "venv", cache=cache,
                       results=tmp_path / "results")  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(tmp_path / "results")
    peer = got["peer:tiny_cnn/py3.11-torch2.13.0-peers-onnxruntime"]
    assert peer.status is Status.OK, peer.message
    assert set(peer.metrics["peers"]) == {"onnxruntime"}  # eager is the export's figure, not timed twice
    ort = peer.metrics["peers"]["onnxruntime"]
    assert ort["status"] == "ok" and ort["cpu_ms"]["threads"] == 1 and ort["cpu_ms"]["median"] > 0
    assert got[f"export:{BASE}"].metrics["eager_cpu_ms"]["median"] > 0
    assert got[f"run:{BASE}/iree3.13.0/x86_64/default"].metrics["cpu_ms"]["median"] > 0
    # The other release's runtime loads the module and agrees, checked by one call, timed for no table.
    cross = got[f"run:{BASE}/iree3.13.0/x86_64/default/rt3.12.0"]
    assert cross.status is Status.OK and cross.metrics["matches"] is True, cross.message
    assert "latency_ms" not in cross.metrics and "cpu_ms" not in cross.metrics
    assert "default/rt3.12.0 -> ok\n" in done.stderr + done.stdout

    slower, faster = r"takes \d+\.\d\d× ONNX Runtime's time", r"is \d+\.\d\d× faster than ONNX Runtime"
    verdict = rf"IREE ({slower}|{faster}|takes the same time)"
    report = (tmp_path / "results" / "COMPATIBILITY.md").read_text()
    section = report.split("## Your machine: IREE against the alternatives\n", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| tiny_cnn "))
    said = re.search(verdict, row)
    assert said, row
    tool = shipped.command()  # the tool as it runs here: the venv's launcher, on no shell's PATH
    assert f"`{tool} advise tiny_cnn`" in section and "YOUR.toml" not in report
    # the console's last lines: the same ratio, and the command
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith("tiny_cnn "))
    assert "ONNX Runtime" in line and said.group(0) in line, line
    assert (
        f"    {tool} advise tiny_cnn --matrix " in done.stdout
    )  # one runnable command a line, with the run's settings
