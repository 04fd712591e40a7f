"""One place turns exceptions into statuses and one makes records: the executor and armv6-smoke
both go through them, so a cross build that times out is a TIMEOUT record, not a traceback."""

from __future__ import annotations

from pathlib import Path

from iree_matrix import __version__
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.model import outcome
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.core.system import processes
from iree_matrix.tasks import pi_zero_session


def test_exceptions_become_statuses():
    assert outcome.from_exception(processes.Timeout(["gcc"], 120.0, "last words")).status is Status.TIMEOUT
    failed = outcome.from_exception(StageFailure("compile-error", "no"))
    assert (failed.status, failed.error_class, failed.cacheable) == (Status.FAIL, "compile-error", True)
    user = outcome.from_exception(UserError("--iree-source x: no IREE tree there"))
    assert (user.error_class, user.cacheable) == ("user-error", False)
    bug = outcome.from_exception(ZeroDivisionError("x"))
    assert bug.error_class == "internal" and "a bug in iree-matrix" in bug.message


def test_a_record_says_when_where_and_by_which_version():
    made = outcome.record(
        "run:m/e", "run", "m/e", {"model": "m"}, outcome.Outcome(Status.OK, {"x": 1}), seconds=1.23456
    )
    assert made.finished and made.host.known and made.tool_version == __version__
    assert made.seconds == 1.235 and made.metrics == {"x": 1} and made.labels == {"model": "m"}


def test_armv6_smoke_records_a_timed_out_cross_gcc_of_the_hello_world(monkeypatch, tmp_path: Path):
    """The issue's own case: the hello world's cross-gcc hangs. It used to escape as a traceback."""
    from iree_matrix import images
    from iree_matrix.core.system import containers
    from iree_matrix.source_builds import armv6_hello

    class Bases:
        def __init__(self, root: Path) -> None:
            pass

        def suite(self, *args: object, **kwargs: object) -> object:
            return object()

    def run(request):
        argv = request.argv
        assert argv[0] == armv6_hello.CROSS_GCC  # the compiler is the first command the hello world runs
        raise processes.Timeout(argv, 120.0, "cc1: still thinking")

    monkeypatch.setattr(containers, "require", lambda: None)
    monkeypatch.setattr(images, "Bases", Bases)
    monkeypatch.setattr(pi_zero_session, "base_environment", lambda name, base: object())
    monkeypatch.setattr(processes, "run", run)
    log = ResultsLog(tmp_path / "results.jsonl")
    record = pi_zero_session.hello(tmp_path / "cache", log)
    assert (record.status, record.error_class) == (Status.TIMEOUT, "timeout")
    assert armv6_hello.CROSS_GCC in record.message and "cc1: still thinking" in record.message
    assert [r.job for r in log] == [pi_zero_session.HELLO_JOB]
    assert record.labels == {"arch": "armv6-arm1176jzf-s", "compiler": "gcc-arm-linux-gnueabi"}
