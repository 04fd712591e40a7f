"""`iree-matrix merge` and `--shard` on the command line: duplicate-safe, order-independent, one-line
errors."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.findings.merge import merge, merge_records
from tests.unit.test_cli import _one_error_line

SMOKE = Path(__file__).resolve().parents[2] / "matrix" / "smoke.toml"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _rec(job: str, status: Status = Status.OK, key: str = "k", finished: str = "2026-01-01T00:00:00", **kw):
    stage, _, cell = job.partition(":")
    return Record(job, stage, cell, key, status, {"model": "m"}, finished=finished, started=finished, **kw)


def _write(directory: Path, *records: Record) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.jsonl").write_text("".join(r.to_json() + "\n" for r in records))
    return directory


def test_same_job_and_key_is_one_record_the_first_made():
    early = _rec("install:e", finished="2026-01-01T00:00:01")
    late = dataclasses.replace(early, finished="2026-01-01T00:00:09", host=HostIdentity.of({"name": "other"}))
    merged = merge_records([("a", [late]), ("b", [early])])
    assert merged.records == (early,)
    assert (merged.inputs, merged.duplicates) == (2, 1)


def test_a_job_one_input_measured_again_under_its_key_replaces_the_older_copy():
    """A run re-timed (--retime) in one input replaced its older record there: another input's copy
    of that older record gives way (keeping the first made would bring back the older figure), in
    either order; two inputs' independent measurements (shards) still keep the first made."""
    old = _rec("run:m/1", key="r", finished="2026-01-01T00:00:01")
    again = _rec("run:m/1", key="r", finished="2026-01-02T00:00:01")
    assert merge_records([("published", [old]), ("retimed", [old, again])]).records == (again,)
    assert merge_records([("retimed", [old, again]), ("published", [old])]).records == (again,)
    assert merge_records([("shard-1", [again]), ("shard-2", [old])]).records == (old,)


def test_result_does_not_depend_on_input_order():
    a = [_rec("install:e", finished="t1"), _rec("export:m/e", key="x1", finished="t2")]
    a.append(_rec("run:m/1", key="r1"))
    b = [_rec("install:e", finished="t3"), _rec("export:m/e", key="x2", finished="t4")]
    b.append(_rec("run:m/2", key="r2"))
    c = [_rec("run:m/3", Status.NOT_RUN, key="", blocked_by="compile:m/3", message="not run because …")]
    orders = itertools.permutations([("a", a), ("b", b), ("c", c)])
    outputs = {tuple(r.to_json() for r in merge_records(list(p)).records) for p in orders}
    assert len(outputs) == 1


def test_different_keys_are_both_kept_newest_last():
    # A timed stage measured on two hosts: the host's CPU is in its key.
    old, new = _rec("export:m/e", key="x1", finished="t1"), _rec("export:m/e", key="x2", finished="t2")
    merged = merge_records([("a", [new]), ("b", [old])])
    assert merged.records == (old, new)


def test_same_key_different_status_is_an_error_naming_both():
    with pytest.raises(cli.UserError) as err:
        merge_records([("shard-1", [_rec("compile:m/e/3.9", Status.OK)]),
                       ("shard-2", [_rec("compile:m/e/3.9", Status.FAIL)])])  # fmt: skip
    message = str(err.value)
    assert "\n" not in message
    assert "compile:m/e/3.9" in message and "shard-1" in message and "shard-2" in message
    assert "'ok'" in message and "'fail'" in message


def test_not_run_gives_way_to_an_executed_record():
    blocked = _rec("run:m/1", Status.NOT_RUN, key="", blocked_by="install:rt", message="not run because …")
    ran = _rec("run:m/1", Status.FAIL, key="r", error_class="incompatible-module")
    assert merge_records([("a", [blocked]), ("b", [ran])]).records == (ran,)
    assert merge_records([("a", [blocked]), ("b", [blocked])]).records == (blocked,)


def test_a_gpu_run_not_run_for_want_of_a_device_gives_way_to_the_same_key_run_on_one():
    """A vulkan run on a runtime that hid lavapipe was a skip ("not run: …"); the same job under the
    same key run later on SwiftShader is its answer, not a conflict. Any other skip still conflicts."""
    hidden = _rec(
        "run:m/vk", Status.SKIP, key="r", message="not run: this runtime hides lavapipe (llvmpipe) …"
    )
    ran = _rec("run:m/vk", Status.OK, key="r", finished="2026-01-02T00:00:00")
    assert merge_records([("published", [hidden]), ("swiftshader", [ran])]).records == (ran,)
    assert merge_records([("swiftshader", [ran]), ("published", [hidden])]).records == (ran,)
    assert merge_records([("a", [hidden]), ("b", [hidden])]).records == (hidden,)
    other = _rec("run:m/vk", Status.SKIP, key="r", message="a CPU profile on a GPU target")
    with pytest.raises(cli.UserError, match="conflicting results"):
        merge_records([("a", [other]), ("b", [ran])])


def test_only_each_inputs_latest_record_counts():
    # A shard's own history (a timeout, then the result) is not a conflict.
    first = _rec("run:m/1", Status.TIMEOUT, finished="t1")
    then = _rec("run:m/1", Status.OK, finished="t2")
    assert merge_records([("a", [first, then]), ("b", [then])]).records == (then,)


def test_merge_counts_the_lines_it_skipped_among_those_it_read(tmp_path, capsys):
    """A shard of 7 lines, one no record: merge said "6 records of 6 read; nothing dropped" (issue 94)."""
    shard = _write(tmp_path / "shard", *(_rec(f"run:m/{n}", key=f"k{n}") for n in range(6)))
    with open(shard / "results.jsonl", "a") as log:
        log.write('{"schema": 1, "job": "not a record"}\n')
    assert cli.main(["merge", str(shard), "--to", str(tmp_path / "merged")]) == 0
    assert "6 records of 7 read, 1 skipped; nothing dropped" in capsys.readouterr().out


def test_merge_writes_the_log_manifests_and_report_and_is_incremental(tmp_path, capsys):
    one = _write(tmp_path / "shard-1", _rec("install:e"), _rec("export:m/e", key="x"))
    two = _write(tmp_path / "shard-2", _rec("install:e"), _rec("run:m/e", key="r"))
    (one / "manifests").mkdir()
    (one / "manifests" / "env.json").write_text("{}")
    (two / "releases.json").write_text('{"schema": 1, "packages": {}}\n')
    out = tmp_path / "merged"
    assert cli.main(["merge", str(one), str(two), "--to", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 records of 4 read; dropped 1 duplicate (the same result in two inputs)" in printed
    assert [r.job for r in ResultsLog(out / "results.jsonl")] == ["install:e", "export:m/e", "run:m/e"]
    assert (out / "manifests" / "env.json").is_file() and (out / "releases.json").is_file()
    assert (out / "COMPATIBILITY.md").is_file()
    # Merging shard by shard gives the same log as merging them at once.
    again = tmp_path / "again"
    merge([one], again)
    merge([two], again)
    assert (again / "results.jsonl").read_text() == (out / "results.jsonl").read_text()
    merge([one, two], out)  # idempotent
    assert (again / "results.jsonl").read_text() == (out / "results.jsonl").read_text()


def test_merging_into_a_published_log_again_keeps_what_it_kept_side_by_side(tmp_path, capsys):
    """A job timed on two hosts is kept twice in the merged log (oldest first); merging another shard
    into that log must not collapse it to the newest (250 records of results/armv6 were dropped so)."""
    amd = _rec("run:m/1", key="host-a", finished="2026-11-23T00:00:00")
    intel = _rec("run:m/1", key="host-b", finished="2026-11-25T00:00:00")
    out = tmp_path / "published"
    merge([_write(tmp_path / "a", amd), _write(tmp_path / "b", intel)], out)
    assert [r.key for r in ResultsLog(out / "results.jsonl")] == ["host-a", "host-b"]
    merge([_write(tmp_path / "c", _rec("run:m/2", key="x"))], out)
    assert [(r.job, r.key) for r in ResultsLog(out / "results.jsonl")] == [
        ("run:m/1", "host-a"), ("run:m/1", "host-b"), ("run:m/2", "x"),
    ]  # fmt: skip
    capsys.readouterr()


ZEN5 = HostIdentity.of({"identity": "x86_64|AuthenticAMD|26|2", "instance": "f63904bf"})


def _on(machine: HostIdentity, job: str, key: str, finished: str) -> Record:
    return _rec(job, key=key, finished=f"2026-11-27T{finished}:00+00:00", host=machine)


def test_a_job_run_again_on_one_machine_keeps_only_its_newest_record(tmp_path, capsys):
    """Issue 67: `merge results/kernels RUN --to MERGED` kept both the published record and the
    run's of every job whose key had changed (a kernel's new source: new keys for its kernel, compile
    and run jobs), because records with different keys counted as two hosts' results; only a second
    merge, reading MERGED as a plain input (its latest per job), dropped the old ones. One machine's
    records of one job under another key are that job run again: the newest alone is kept (the one
    the report showed), whichever way the logs are merged."""
    jobs = ("kernel:k/x86_64/host", "compile:m/e/3.9/x86_64/default+k:k", "run:m/e/3.9/x86_64/default+k:k")
    old = [_on(ZEN5, job, f"old-{i}", "08:43") for i, job in enumerate(jobs)]
    new = [_on(ZEN5, job, f"new-{i}", "12:17") for i, job in enumerate(jobs)]
    same = _on(ZEN5, "install:py3.11-ziglang", "z", "02:21")  # unchanged: one result either way
    published = _write(tmp_path / "published", same, *old)
    run = _write(tmp_path / "run", dataclasses.replace(same, finished="2026-11-27T12:16:00+00:00"), *new)

    def keys(folder: Path) -> list[tuple[str, str]]:
        return sorted((r.job, r.key) for r in ResultsLog(folder / "results.jsonl"))

    expected = sorted([(same.job, "z"), *((r.job, r.key) for r in new)])
    capsys.readouterr()
    assert cli.main(["merge", str(published), str(run), "--to", str(tmp_path / "merged")]) == 0
    assert keys(tmp_path / "merged") == expected
    # Said apart from the duplicate (the install both ran), in words (it said "2 duplicates dropped").
    printed = capsys.readouterr().out
    assert (
        "4 records of 8 read; dropped 1 duplicate (the same result in two inputs), "
        "3 records superseded by a newer run of the same job on the same machine"
    ) in printed, printed
    assert cli.main(["merge", str(run), str(published), "--to", str(tmp_path / "reversed")]) == 0
    assert keys(tmp_path / "reversed") == expected
    merge([tmp_path / "merged"], tmp_path / "again")  # the second merge changes nothing now
    assert keys(tmp_path / "again") == expected
    merge([run], published)  # into the published folder itself
    assert keys(published) == expected
    # A run that went back to the earlier inputs (its reused records keep the times they were first
    # made) received after that is the newest, as the report shows it: one record per job, its own.
    merge([_write(tmp_path / "went-back", *old)], published)
    assert keys(published) == sorted([(same.job, "z"), *((r.job, r.key) for r in old)])
    # A log the first merge wrote (both records of each job) merged with itself: one per job.
    both = _write(tmp_path / "both", same, *old, *new)
    merge([both], both)
    assert keys(both) == expected
    capsys.readouterr()


def test_what_a_merge_drops_is_counted_by_why():
    """Each record dropped is counted once, under its reason, and the reasons add up to what was
    dropped: the line a merge prints says each kind in words, and "nothing dropped" when none."""
    same = _rec("install:e")
    blocked = _rec("run:m/2", Status.NOT_RUN, blocked_by="compile:m/2")
    ran = _rec("run:m/2", key="r2")
    old = _rec("run:m/1", key="r", finished="2026-01-01T00:00:01")
    again = _rec("run:m/1", key="r", finished="2026-01-02T00:00:01")
    earlier = _on(ZEN5, "compile:m/3", "old", "08:43")
    later = _on(ZEN5, "compile:m/3", "new", "12:17")
    merged = merge_records(
        [("a", [same, blocked, old, earlier]), ("b", [same, ran, old, again, later])], newest_per_machine=True
    )
    assert sorted(r.job + r.key for r in merged.records) == sorted(
        [same.job + same.key, ran.job + ran.key, again.job + again.key, later.job + later.key]
    )
    counts = (merged.duplicates, merged.remeasured, merged.executed_elsewhere, merged.superseded)
    assert counts == (1, 1, 1, 1)
    assert sum(counts) == merged.inputs - len(merged.records) == 4
    assert merged.dropped() == (
        "dropped 1 duplicate (the same result in two inputs), 1 older measurement (timed again under the "
        "same key), 1 not-run record (another input ran the job), 1 record superseded by a newer run of "
        "the same job on the same machine"
    )
    assert merge_records([("a", [same]), ("b", [ran])]).dropped() == "nothing dropped"
    two = merge_records([("a", [same, old]), ("b", [same, old]), ("c", [same])])
    assert two.dropped() == "dropped 3 duplicates (the same result in two inputs)"


def test_a_job_of_two_machines_under_two_keys_keeps_both():
    """Only one machine's records give way to its newer one: two CPU identities (each's own timing),
    two machines of one identity, or records that name no machine (before `host.instance`) are all
    kept, oldest first, as before. The evidence log beside published sittings keeps every sitting's
    records (merge_records without `newest_per_machine`, as advise/received_sittings.py calls it)."""
    zen4 = HostIdentity.of({"identity": "x86_64|AuthenticAMD|25|17", "instance": "f63904bf"})
    twin = HostIdentity.of({"identity": ZEN5.identity, "instance": "0d1e2f3a"})
    here = _on(ZEN5, "run:m/1", "r-zen5", "12:00")
    for other in (zen4, twin, HostIdentity()):
        there = _on(other, "run:m/1", "r-other", "09:00")
        merged = merge_records([("here", [here]), ("there", [there])], newest_per_machine=True)
        assert merged.records == (there, here)
    unknown = _on(HostIdentity(), "run:m/1", "r-unknown", "13:00")
    merged = merge_records([("a", [here]), ("b", [unknown])], newest_per_machine=True)
    assert merged.records == (here, unknown)
    earlier = _on(ZEN5, "run:m/1", "r-zen5-earlier-sitting", "06:29")
    assert merge_records([("a", [earlier]), ("b", [here])], newest_per_machine=True).records == (here,)
    assert merge_records([("a", [earlier]), ("b", [here])]).records == (earlier, here)


def test_merge_of_an_empty_shard(tmp_path):
    empty = tmp_path / "shard-3"
    empty.mkdir()
    (empty / "results.jsonl").write_text("")
    one = _write(tmp_path / "shard-1", _rec("install:e"))
    assert len(merge([one, empty], tmp_path / "out").records) == 1


def test_merge_of_a_missing_directory_is_one_line(tmp_path, capsys):
    assert cli.main(["merge", str(tmp_path / "nowhere"), "--to", str(tmp_path / "out")]) == 2
    assert "no results file" in _one_error_line(capsys.readouterr().err)


def test_merge_conflict_is_one_line_and_writes_nothing(tmp_path, capsys):
    one = _write(tmp_path / "a", _rec("compile:m/e", Status.OK))
    two = _write(tmp_path / "b", _rec("compile:m/e", Status.FAIL))
    assert cli.main(["merge", str(one), str(two), "--to", str(tmp_path / "out")]) == 2
    assert "conflicting results for compile:m/e" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out" / "results.jsonl").exists()


# --- --shard on the command line --------------------------------------------------------------


def _listed(capsys) -> list[str]:
    return [line.strip() for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]


def test_list_of_two_shards_covers_the_plan(capsys):
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list"]) == 0
    everything = set(_listed(capsys))
    parts = []
    for k in (1, 2):
        assert cli.main(["matrix", "--matrix", str(SMOKE), "--list", "--shard", f"{k}/2"]) == 0
        parts.append(set(_listed(capsys)))
    assert parts[0] | parts[1] == everything
    runs = [{j for j in part if j.startswith("run:")} for part in parts]
    assert runs[0] and runs[1] and not runs[0] & runs[1]


@pytest.mark.parametrize("bad", ["3/2", "x", "0/1", "1/0", "2"])
def test_bad_shard_is_one_line(bad, capsys):
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list", "--shard", bad]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"--shard {bad}" in line or f"--shard {bad!r}" in line


def test_an_empty_shard_writes_an_empty_log(tmp_path, capsys):
    results = tmp_path / "shard-9"
    argv = ["matrix", "--matrix", str(SMOKE), "--shard", "9/9", "--results-dir", str(results)]
    assert cli.main(argv) == 0
    assert "no jobs" in capsys.readouterr().out
    assert (results / "results.jsonl").read_text() == ""


def test_list_of_a_shard_keeps_the_release_list_for_the_other_shards(tmp_path, monkeypatch, capsys):
    from iree_matrix.matrix import releases
    from tests.unit.fake_index import FakeIndex

    monkeypatch.setattr(releases, "query_pip", FakeIndex())
    matrix = tmp_path / "all.toml"
    matrix.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\n'
        'compiler = ">=3.8"\nmodels = ["tiny_cnn"]\n'
    )
    plan_dir = tmp_path / "plan"
    assert (
        cli.main(
            ["matrix", "--matrix", str(matrix), "--list", "--shard", "1/2", "--results-dir", str(plan_dir)]
        )
        == 0
    )
    assert (plan_dir / "releases.json").is_file()
    monkeypatch.setattr(releases, "query_pip", None)  # the shards plan from the file alone
    capsys.readouterr()
    for k in (1, 2):
        argv = [
            "matrix",
            "--matrix",
            str(matrix),
            "--list",
            "--shard",
            f"{k}/2",
            "--results-dir",
            str(plan_dir),
        ]
        assert cli.main(argv) == 0
    assert "run:tiny_cnn" in capsys.readouterr().out


def test_merge_never_drops_a_record_it_cannot_read(tmp_path, capsys):
    """Issue 29: the target's lines of a newer schema (or garbage) are kept verbatim, and the
    previous file is kept as results.jsonl.bak, as `results forget` does."""
    out = _write(tmp_path / "out", _rec("compile:a"))
    newer = '{"job":"compile:z","stage":"compile","status":"ok","schema":99}\n'
    garbage = "{half a rec\n"
    with open(out / "results.jsonl", "a") as f:
        f.write(newer + garbage)
    before = (out / "results.jsonl").read_text()
    shard = _write(tmp_path / "s1", _rec("compile:b", key="k2"))
    merge([shard], out)
    after = (out / "results.jsonl").read_text()
    assert newer in after and garbage in after
    assert {r.job for r in ResultsLog(out / "results.jsonl")} == {"compile:a", "compile:b"}
    assert (out / "results.jsonl.bak").read_text() == before
    assert "kept 2 lines it cannot read" in capsys.readouterr().err


def test_two_machines_of_one_identity_are_both_kept_for_a_timed_stage_only():
    """#51: records named no machine, so a run timed on two hosts of one CPU identity (one key)
    merged to one. Their `host.instance` now tells them apart; a compile under one key stays one."""
    a = _rec(
        "run:m/1",
        key="r",
        finished="2026-01-01T00:00:01",
        host=HostIdentity.of({"identity": "x", "instance": "aa"}),
    )
    b = _rec(
        "run:m/1",
        key="r",
        finished="2026-01-01T00:00:02",
        host=HostIdentity.of({"identity": "x", "instance": "bb"}),
    )
    assert merge_records([("one", [a]), ("two", [b])]).records == (a, b)
    c1 = dataclasses.replace(a, job="compile:m/1", stage="compile", cell="m/1")
    c2 = dataclasses.replace(b, job="compile:m/1", stage="compile", cell="m/1")
    assert merge_records([("one", [c1]), ("two", [c2])]).records == (c1,)


def test_a_hostile_results_folder_leaves_the_host_untouched(tmp_path, capsys):
    """Issue 68 item 3: a shard whose manifests/*.json and releases.json link to a root-only file,
    and an OUT whose results.jsonl.bak links elsewhere: merge copies no secret and writes through no
    link (the .bak is replaced by rename), each left-out file said on stderr."""
    import os

    secret = tmp_path / "secret"
    secret.write_text('{"ssh": "PRIVATE KEY"}')
    os.chmod(secret, 0o600)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    shard = _write(tmp_path / "shard", _rec("install:e"))
    (shard / "manifests").mkdir()
    (shard / "manifests" / "env.json").symlink_to(secret)
    (shard / "manifests" / "good.json").write_text("{}")
    (shard / "releases.json").symlink_to(secret)
    out = _write(tmp_path / "out", _rec("export:m/e", key="x"))
    (out / "results.jsonl.bak").symlink_to(victim)
    merge([shard], out)
    assert victim.read_text() == "untouched" and not (out / "results.jsonl.bak").is_symlink()
    assert "export:m/e" in (out / "results.jsonl.bak").read_text()
    assert not (out / "releases.json").exists() and not (out / "manifests" / "env.json").exists()
    assert (out / "manifests" / "good.json").read_text() == "{}"
    assert "PRIVATE KEY" not in "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    err = capsys.readouterr().err
    assert "env.json: a symbolic link" in err and "releases.json: a symbolic link" in err


def test_a_results_log_that_is_a_link_is_refused_in_one_line(tmp_path, capsys):
    elsewhere = _write(tmp_path / "elsewhere", _rec("install:e"))
    shard = tmp_path / "shard"
    shard.mkdir()
    (shard / "results.jsonl").symlink_to(elsewhere / "results.jsonl")
    assert cli.main(["merge", str(shard), "--to", str(tmp_path / "out")]) != 0
    line = _one_error_line(capsys.readouterr().err)
    assert "results.jsonl is a symbolic link" in line and not (tmp_path / "out" / "results.jsonl").exists()


def test_forget_writes_its_backup_by_rename_never_through_a_link(tmp_path):
    from iree_matrix.findings.publish import forget

    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    out = _write(tmp_path / "out", _rec("install:e"), _rec("export:m/e", key="x"))
    (out / "results.jsonl.bak").symlink_to(victim)
    assert forget(out, ["export:*"]).removed == 1
    assert victim.read_text() == "untouched" and not (out / "results.jsonl.bak").is_symlink()
    assert "export:m/e" in (out / "results.jsonl.bak").read_text()


def test_records_are_ordered_by_when_they_were_received_not_by_their_own_clocks(tmp_path, caplog):
    """Issue 68 item 6: a shard from a machine whose clock ran ahead outranked every later real
    measurement (records were ordered by their own `finished`). OUT's own records keep their order
    and come first; those received now follow, none later than the merge's time."""
    ahead = _rec("run:m/1", key="from-the-future", finished="2099-01-01T00:00:00+00:00")
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        merge([_write(tmp_path / "fast-clock", ahead)], out)
    assert "1 received record(s) dated after now" in caplog.text and "'run:m/1'" in caplog.text  # issue 85
    real = _rec("run:m/1", key="measured-later", finished="2026-11-27T00:00:00+00:00")
    merge([_write(tmp_path / "later", real)], out)
    log = ResultsLog(out / "results.jsonl")
    assert [r.key for r in log] == ["from-the-future", "measured-later"]
    assert log.latest()["run:m/1"].key == "measured-later"
    # In one merge, a record claiming a later time than the merge's own counts as received now.
    merged = merge_records(
        [("a", [ahead]), ("b", [_rec("run:m/1", key="now", finished="2026-11-27T10:00:00+00:00")])],
        received="2026-11-27T12:00:00+00:00",
    )
    assert [r.key for r in merged.records] == ["now", "from-the-future"]  # 10:00 < 12:00 (clamped)
    # The same result received again keeps its place: re-merging an older shard flips nothing.
    merge([_write(tmp_path / "fast-clock", ahead)], out)
    assert ResultsLog(out / "results.jsonl").latest()["run:m/1"].key == "measured-later"
