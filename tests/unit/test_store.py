"""Unit tests for the content-addressed store (entries appear whole or not at all)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import RECORD, SUMS, Entry, Store, failure_is_stale


def _record(status: Status = Status.OK, **fields) -> Record:
    return Record(
        job="compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default",
        stage="compile",
        cell="tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default",
        key="k1",
        status=status,
        labels={"model": "tiny_cnn", "compiler": "3.9.0"},
        metrics={"seconds": 1.5},
        command=("iree-compile", "model.mlir"),
        **fields,
    )


def test_get_missing_is_none(tmp_path):
    store = Store(tmp_path)
    assert store.get("compile", "k1") is None
    assert not (tmp_path / "compile").exists()


def test_staging_then_commit(tmp_path):
    store = Store(tmp_path)
    record = _record()
    with store.staging() as out:
        assert out.is_dir()
        assert out.parent == tmp_path / "staging"
        (out / "model.vmfb").write_bytes(b"\x00vmfb")
        entry = store.commit("compile", "k1", out, record)
    assert entry.path == tmp_path / "compile" / "k1"
    got = store.get("compile", "k1")
    assert got is not None
    assert got.record == record
    assert got.path == entry.path
    assert got.artifact("model.vmfb").read_bytes() == b"\x00vmfb"
    assert json.loads((got.path / RECORD).read_text())["status"] == "ok"
    assert not (got.path / (RECORD + ".tmp")).exists()
    assert list((tmp_path / "staging").iterdir()) == []


def test_staging_removed_when_the_block_raises(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError, match="boom"):
        with store.staging() as out:
            (out / "half.vmfb").write_bytes(b"half")
            raise RuntimeError("boom")
    assert not out.exists()
    assert list((tmp_path / "staging").iterdir()) == []
    assert not (tmp_path / "compile").exists()
    assert store.get("compile", "k1") is None


def test_staging_dirs_are_private(tmp_path):
    store = Store(tmp_path)
    with store.staging() as a, store.staging() as b:
        assert a != b
        assert a.is_dir() and b.is_dir()


def test_commit_replaces_an_existing_entry(tmp_path):
    store = Store(tmp_path)
    with store.staging() as out:
        (out / "old.txt").write_text("old")
        store.commit("compile", "k1", out, _record(Status.FAIL, error_class="compile-error"))
    new = _record(Status.OK)
    with store.staging() as out:
        (out / "new.txt").write_text("new")
        store.commit("compile", "k1", out, new)
    got = store.get("compile", "k1")
    assert got is not None
    assert got.record == new
    assert got.record.status is Status.OK
    assert sorted(p.name for p in got.path.iterdir()) == [".verified", SUMS, "new.txt", RECORD]


def test_entries_are_per_stage_and_key(tmp_path):
    store = Store(tmp_path)
    with store.staging() as out:
        store.commit("compile", "k1", out, _record())
    assert store.get("compile", "k2") is None
    assert store.get("run", "k1") is None
    assert store.entry_path("run", "k1") == tmp_path / "run" / "k1"


def test_directory_without_record_is_not_an_entry(tmp_path):
    store = Store(tmp_path)
    path = store.entry_path("compile", "k1")
    path.mkdir(parents=True)
    (path / "model.vmfb").write_bytes(b"x")
    assert store.get("compile", "k1") is None


def test_a_file_where_the_entry_should_be_is_not_an_entry(tmp_path):
    store = Store(tmp_path)
    (tmp_path / "compile").mkdir()
    (tmp_path / "compile" / "k1").write_text("not a directory")
    assert store.get("compile", "k1") is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"job": "x"}',
        json.dumps({**json.loads(_record().to_json()), "status": "exploded"}),
    ],
)
def test_unreadable_record_is_not_an_entry(tmp_path, text):
    store = Store(tmp_path)
    path = store.entry_path("compile", "k1")
    path.mkdir(parents=True)
    (path / RECORD).write_text(text)
    assert store.get("compile", "k1") is None


def test_clean_staging(tmp_path):
    store = Store(tmp_path)
    with store.staging() as out:
        store.commit("compile", "k1", out, _record())
    leftover = tmp_path / "staging" / "deadbeef"
    leftover.mkdir()
    (leftover / "half.vmfb").write_bytes(b"x")
    store.clean_staging()
    assert not (tmp_path / "staging").exists()
    assert store.get("compile", "k1") is not None  # committed entries survive
    store.clean_staging()  # nothing to clean is fine
    with store.staging() as out:  # and staging works again afterwards
        assert out.is_dir()


def _committed_vmfb(tmp_path, content: bytes = b"\x00vmfb-module-bytes"):
    store = Store(tmp_path)
    with store.staging() as out:
        (out / "module.vmfb").write_bytes(content)
        (out / "sub").mkdir()
        (out / "sub" / "log.txt").write_text("compiled\n")
        entry = store.commit("compile", "k1", out, _record())
    return store, entry


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:5]),  # truncated (#14, defect 4)
        lambda p: p.write_bytes(b"\xff" + p.read_bytes()[1:]),  # same size, other bytes
        lambda p: p.unlink(),  # gone
    ],
    ids=["truncated", "flipped", "deleted"],
)
def test_a_damaged_artifact_discards_the_entry(tmp_path, capsys, damage):
    store, entry = _committed_vmfb(tmp_path)
    damage(entry.artifact("module.vmfb"))
    assert store.get("compile", "k1") is None
    assert not entry.path.exists()  # discarded, so the stage runs again and replaces it
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "module.vmfb" in err[0] and "redone" in err[0], err


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:5]),
        lambda p: p.write_bytes(b"\xff" + p.read_bytes()[1:]),
        # Same size, other bytes, its modification time set back: the status-change time still moves.
        lambda p: (
            lambda st: (
                p.write_bytes(b"\xff" + p.read_bytes()[1:]),
                os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns)),
            )
        )(p.stat()),
    ],
    ids=["truncated", "flipped", "flipped-and-mtime-restored"],
)
def test_a_file_changed_after_it_was_verified_is_hashed_again(tmp_path, capsys, damage):
    """The sums are checked without hashing what did not change since they last matched; a file
    that changed since is hashed again and found."""
    from iree_matrix.core.model import store as store_module

    store, entry = _committed_vmfb(tmp_path)
    assert (entry.path / store_module.VERIFIED).is_file()  # written at commit: the sums were just made
    assert store.get("compile", "k1") is not None
    damage(entry.artifact("module.vmfb"))
    assert store.get("compile", "k1") is None
    assert "module.vmfb" in capsys.readouterr().err


def test_an_unchanged_entry_is_not_hashed_again(tmp_path, monkeypatch):
    from iree_matrix.core.model import store as store_module

    store, entry = _committed_vmfb(tmp_path)
    hashed: list[Path] = []
    real = store_module.file_sha256
    monkeypatch.setattr(store_module, "file_sha256", lambda p: hashed.append(p) or real(p))
    assert store.get("compile", "k1") is not None and hashed == []
    (entry.path / store_module.VERIFIED).unlink()  # an entry stored before: checked once, then not
    assert store.get("compile", "k1") is not None and len(hashed) == 2
    assert store.get("compile", "k1") is not None and len(hashed) == 2
    assert (entry.path / store_module.SUMS).read_text().count("\n") == 2  # .verified is no artifact


def test_an_intact_entry_is_reused_silently(tmp_path, capsys):
    store, entry = _committed_vmfb(tmp_path)
    assert store.get("compile", "k1") is not None
    assert store.get("compile", "k1") is not None
    assert capsys.readouterr().err == ""


def _dated(status: Status, started: str, finished: str) -> Entry:
    return Entry(_record(status, started=started, finished=finished), Path("/nowhere"))


@pytest.mark.parametrize(
    "status, dep_finished, stale",
    [
        (Status.FAIL, "2026-11-23T02:00:00+00:00", True),  # compile redone after the run failed
        (Status.FAIL, "2026-11-23T00:30:00+00:00", False),  # the same compile the run failed on
        (Status.OK, "2026-11-23T02:00:00+00:00", False),  # a success is judged by its key alone
    ],
)
def test_a_failure_is_stale_once_an_input_was_redone(status, dep_finished, stale):
    """#14 defect 4: after a damaged module.vmfb was recompiled (same key), the run's stored
    failure, made from the damaged file, must not be reused."""
    run = _dated(status, "2026-11-23T01:00:00+00:00", "2026-11-23T01:00:05+00:00")
    compile_ = _dated(Status.OK, "2026-11-23T00:00:00+00:00", dep_finished)
    assert failure_is_stale(run, {"compile:x": compile_}) is stale


def test_changed_names_an_artifact_whose_bytes_changed_and_discards_its_entry(tmp_path):
    store = Store(tmp_path)
    with store.staging() as out:
        (out / "model.mlir").write_text("module {}")
        entry = store.commit("export", "k1", out, _record())
    assert store.changed(entry) is None
    (entry.path / "model.mlir").write_text("digraph G {}")  # a knob's dump file, written over it
    assert store.changed(entry) == "model.mlir"
    assert not entry.path.exists() and store.get("export", "k1") is None
    assert store.changed(entry) == RECORD  # and so does every later reader of that entry


def test_a_scratch_directory_links_the_inputs_by_name_and_is_no_store_entry(tmp_path):
    from iree_matrix.core.model.store import scratch

    store = Store(tmp_path)
    with store.staging() as out:
        (out / "model.mlir").write_text("module {}")
        entry = store.commit("export", "k1", out, _record())
    with store.staging() as out:
        with scratch(out, [entry.artifact("model.mlir")]) as cwd:
            assert cwd.parent == tmp_path / "staging" and cwd != out
            link = cwd / "model.mlir"
            assert link.is_symlink() and not os.path.isabs(os.readlink(link))
            assert link.read_text() == "module {}"
            (cwd / "graph.dot").write_text("a relative dump lands here")
        assert not cwd.exists()
    assert not (entry.path / "graph.dot").exists() and store.changed(entry) is None


@pytest.mark.parametrize(
    "sums",
    [
        b"",  # what a power loss after an unsynced commit left (the drill: a flipped byte then reused)
        b"\xff\xfe not text\n",
        b"not a sum line\n",
        b"  module.vmfb\n",  # a name without its digest
    ],
    ids=["empty", "not-utf8", "garbage", "no-digest"],
)
def test_a_sums_file_that_vouches_for_nothing_is_an_unverified_entry_redone(tmp_path, capsys, sums):
    store, entry = _committed_vmfb(tmp_path)
    (entry.path / SUMS).write_bytes(sums)
    entry.artifact("module.vmfb").write_bytes(b"\xff" + entry.artifact("module.vmfb").read_bytes()[1:])
    assert store.get("compile", "k1") is None
    assert not entry.path.exists()  # discarded: the stage runs again
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and SUMS in err[0] and "redone" in err[0], err


def test_an_unreadable_sums_file_is_an_unverified_entry_redone(tmp_path, capsys):
    store, entry = _committed_vmfb(tmp_path)
    (entry.path / SUMS).unlink()
    (entry.path / SUMS).mkdir()  # reading it is an OSError (root reads any mode: a directory it is)
    assert store.get("compile", "k1") is None and not entry.path.exists()
    assert "redone" in capsys.readouterr().err


def test_an_entry_without_artifacts_has_an_empty_sums_file_and_is_trusted(tmp_path):
    """A stored failure may hold no file but its record: its empty SHA256SUMS lists all there is."""
    store = Store(tmp_path)
    with store.staging() as out:
        store.commit("compile", "k1", out, _record(Status.FAIL))
    assert (tmp_path / "compile" / "k1" / SUMS).read_bytes() == b""
    assert store.get("compile", "k1") is not None


def test_an_entry_from_before_sums_were_kept_is_trusted_as_before(tmp_path):
    store, entry = _committed_vmfb(tmp_path)
    (entry.path / SUMS).unlink()
    assert store.get("compile", "k1") is not None


def test_commit_syncs_every_file_and_directory_before_the_rename(tmp_path, monkeypatch):
    """Every file (artifacts, SHA256SUMS, the record) and every directory of the staged entry is
    on disk before the rename makes it an entry, and the rename itself after it."""
    from iree_matrix.core.model import store as store_module

    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename
    monkeypatch.setattr(
        store_module.os, "fsync",
        lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))), real_fsync(fd))[1],
    )  # fmt: skip
    monkeypatch.setattr(
        store_module.os, "rename", lambda a, b: (events.append(("rename", str(a))), real_rename(a, b))[1]
    )
    store = Store(tmp_path)
    with store.staging() as out:
        (out / "module.vmfb").write_bytes(b"\x00vmfb")
        (out / "sub").mkdir()
        (out / "sub" / "log.txt").write_text("compiled\n")
        store.commit("compile", "k1", out, _record())
    renamed = events.index(("rename", str(out)))
    synced = {path for what, path in events[:renamed] if what == "fsync"}
    wanted = {out / "module.vmfb", out / "sub" / "log.txt", out / "sub", out / SUMS, out / RECORD, out}
    assert {str(p) for p in wanted} <= synced, sorted(synced)
    assert ("fsync", str(tmp_path / "compile")) in events[renamed:]


# Issue 68 item 2: what a stage wrote is kept as data. Each unsafe thing a drill's model left in its
# output, and the first words of the line that refuses it.
def _link_to_secret(out: Path, secret: Path) -> None:
    (out / "weights.bin").symlink_to(secret)


def _fifo(out: Path, secret: Path) -> None:
    os.mkfifo(out / "pipe")


def _setuid(out: Path, secret: Path) -> None:
    (out / "id").write_bytes(b"\x7fELF")
    os.chmod(out / "id", 0o4755)


def _setgid_deep(out: Path, secret: Path) -> None:
    (out / "sub").mkdir()
    (out / "sub" / "tool").write_bytes(b"#!")
    os.chmod(out / "sub" / "tool", 0o2755)


def _socket(out: Path, secret: Path) -> None:
    import socket

    here = os.getcwd()
    os.chdir(out)  # a socket's path is at most 107 bytes: bound by its relative name
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind("s.sock")
    finally:
        os.chdir(here)


def _dir_link(out: Path, secret: Path) -> None:
    (out / "inputs").symlink_to(secret.parent, target_is_directory=True)


@pytest.mark.parametrize(
    "leave, said",
    [
        (_link_to_secret, "its output holds weights.bin, a symbolic link (to '"),
        (_dir_link, "its output holds inputs, a symbolic link"),
        (_fifo, "its output holds pipe, a FIFO"),
        (_socket, "its output holds s.sock, a socket"),
        (_setuid, "its output holds id with the setuid bit (mode 4755)"),
        (_setgid_deep, "its output holds sub/tool with the setgid bit (mode 2755)"),
    ],
)
def test_a_stage_output_that_is_not_only_regular_files_is_refused_at_commit(tmp_path, leave, said):
    from iree_matrix.core.model.store import UnsafeOutput, refused

    secret = tmp_path / "secret" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:$6$hash")
    os.chmod(secret, 0o600)
    store = Store(tmp_path / "store")
    with store.staging() as out:
        (out / "model.mlir").write_text("module {}")
        leave(out, secret)
        why = refused(out)
        assert why is not None and why.startswith(said) and "\n" not in why, why
        assert "nothing of it is stored" in why
        with pytest.raises(UnsafeOutput, match="its output holds"):
            store.commit("export", "k1", out, _record())
    assert store.get("export", "k1") is None
    assert secret.read_text() == "root:$6$hash"


def test_a_refused_output_is_a_recorded_failure_that_stores_nothing_of_it(tmp_path):
    """The executor's side: the stage's outcome becomes an `unsafe-output` failure naming the file,
    its output emptied (the link removed, never its target), and that failure can be stored."""
    from iree_matrix.core.model.outcome import Outcome
    from iree_matrix.execution.execute import _kept_as_data

    secret = tmp_path / "secret"
    secret.write_text("key")
    store = Store(tmp_path / "store")
    with store.staging() as out:
        (out / "model.mlir").write_text("module {}")
        (out / "copy").symlink_to(secret)
        kept = _kept_as_data(out, Outcome(Status.OK, metrics={"eager_ms": 1.0}, command=("python", "w.py")))
        assert kept.status is Status.FAIL and kept.error_class == "unsafe-output" and kept.cacheable
        assert kept.message is not None and "copy, a symbolic link" in kept.message and not kept.metrics
        assert kept.command == ("python", "w.py") and list(out.iterdir()) == []
        (out / "log.txt").write_text("the stage's log")
        entry = store.commit("export", "k1", out, _record(Status.FAIL, message=kept.message))
    assert (entry.path / SUMS).read_text().endswith("  log.txt\n") and secret.read_text() == "key"
    plain = Outcome(Status.OK)
    with store.staging() as out:
        (out / "model.mlir").write_text("module {}")
        assert _kept_as_data(out, plain) is plain


def test_what_is_stored_is_writable_by_no_one_else_and_readable_by_all(tmp_path):
    store = Store(tmp_path)
    with store.staging() as out:
        (out / "sub").mkdir()
        (out / "sub" / "inputs.npy").write_bytes(b"x")
        os.chmod(out / "sub" / "inputs.npy", 0o666)
        os.chmod(out / "sub", 0o777)
        (out / "tool").write_bytes(b"#!")
        os.chmod(out / "tool", 0o777)
        (out / "private.npy").write_bytes(b"x")  # what a umask of 077 makes
        os.chmod(out / "private.npy", 0o600)
        entry = store.commit("export", "k1", out, _record())
    assert (entry.path / "private.npy").stat().st_mode & 0o777 == 0o644
    assert (entry.path / "sub" / "inputs.npy").stat().st_mode & 0o777 == 0o644
    assert (entry.path / "sub").stat().st_mode & 0o777 == 0o755
    assert (entry.path / "tool").stat().st_mode & 0o777 == 0o755


def test_a_link_put_in_a_stored_files_place_is_damage_never_followed(tmp_path):
    store = Store(tmp_path / "store")
    secret = tmp_path / "secret"
    secret.write_bytes(b"\x00vmfb")  # the very bytes committed: a followed link would match
    with store.staging() as out:
        (out / "module.vmfb").write_bytes(b"\x00vmfb")
        entry = store.commit("compile", "k1", out, _record())
    (entry.path / "module.vmfb").unlink()
    (entry.path / "module.vmfb").symlink_to(secret)
    (entry.path / ".verified").unlink()
    assert store.get("compile", "k1") is None
    assert secret.read_bytes() == b"\x00vmfb"


def test_a_sums_line_naming_a_path_outside_its_entry_vouches_for_nothing(tmp_path, capsys):
    store = Store(tmp_path / "store")
    with store.staging() as out:
        (out / "module.vmfb").write_bytes(b"m")
        entry = store.commit("compile", "k1", out, _record())
    (entry.path / SUMS).write_text(f"{'0' * 64}  ../../../etc/passwd\n")
    assert store.get("compile", "k1") is None
    assert "vouches for nothing" in capsys.readouterr().err


def test_disarm_makes_a_folder_a_model_wrote_data(tmp_path: Path) -> None:
    """bisect's --out folder (issue 85): a setuid file, a 0666 file, a 0777 folder and a link, as the
    drill's model left them, come out as the store's entries are: data."""
    import stat

    from iree_matrix.core.model import store

    (tmp_path / "open").mkdir()
    (tmp_path / "open").chmod(0o777)
    (tmp_path / "open" / "shared").write_text("x")
    (tmp_path / "open" / "shared").chmod(0o666)
    (tmp_path / "suid").write_text("#!/bin/sh\n")
    (tmp_path / "suid").chmod(0o4755)
    (tmp_path / "link").symlink_to("/etc/passwd")
    changed = store.disarm(tmp_path)
    assert sorted(changed) == ["link, a symbolic link, removed", "suid: its setuid or setgid bit cleared"]
    assert not os.path.lexists(tmp_path / "link")
    assert stat.S_IMODE((tmp_path / "suid").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "open" / "shared").stat().st_mode) == 0o644
