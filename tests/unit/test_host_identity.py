"""A record's host is typed (`HostIdentity`, `Record.host`): every published host reads and writes back
byte for byte; a value of the wrong type (a hand-edited record) reads as unknown and is kept; its
identity, label and slug are the ones published; no reader outside the view reads a host by string."""

from __future__ import annotations

import json
import re
from pathlib import Path

from iree_matrix.core.model.host_identity import HostIdentity, here
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.system import host
from iree_matrix.findings import advice

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "iree_matrix"
RESULTS = ROOT / "results"
VIEW = SRC / "core" / "model" / "host_identity.py"

ZEN4 = {
    "machine": "x86_64", "cpu": "AMD EPYC 9R14", "vendor": "AuthenticAMD", "family": "25", "model": "17",
    "stepping": "1", "cpu_flags_sha256": "aa" * 32, "cores": 2, "cpu_features": ["avx2", "avx512f"],
    "system": "Linux-6.1", "libc": "glibc-2.36", "python": "3.11.7",
}  # fmt: skip


def _hosts() -> list[object]:
    """Every host every published log holds (archives too), as the JSON holds it."""
    found = []
    for log in sorted(RESULTS.rglob("results.jsonl")):
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line).get("host"))
    return found


def test_a_published_record_writes_its_host_back_as_it_read_it() -> None:
    log = RESULTS / "bench-rocketlake" / "results.jsonl"
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines[:: max(1, len(lines) // 50)]:
        record = Record.from_dict(json.loads(line))
        assert json.loads(record.to_json())["host"] == json.loads(line)["host"]
        assert Record.from_dict(json.loads(record.to_json())).host == record.host


def test_a_value_of_the_wrong_type_reads_as_unknown_and_is_kept(tmp_path: Path) -> None:
    edited = {**ZEN4, "cores": "two", "family": 25, "cpu": "EPYC\x1b[2J", "cpu_features": "avx2",
              "llvm_cpu": None, "gpus": [1], "made_by": {"hand": True}}  # fmt: skip
    read = HostIdentity.of(edited)
    assert (read.cores, read.family, read.cpu, read.cpu_features, read.llvm_cpu, read.gpus) == (None,) * 6
    assert read.as_dict() == edited  # written back as it was: a rewrite of the log loses nothing
    label = read.label()
    assert "\x1b" not in label and label.startswith("unknown CPU (family/model not recorded")
    assert read.identity.startswith("legacy:")  # no family: no CPU a reader can name
    # in a log: the record is read (its host unknown where it is wrong), and written back whole
    good = {"job": "run:m/e/iree3.9.0/x86_64/default", "stage": "run", "cell": "m/e/iree3.9.0/x86_64/default",
            "key": "k", "status": "ok", "labels": {"model": "m"}, "schema": 2}  # fmt: skip
    (tmp_path / "results.jsonl").write_text(json.dumps({**good, "host": edited}) + "\n")
    (record,) = ResultsLog(tmp_path / "results.jsonl")
    assert record.host.cores is None and json.loads(record.to_json())["host"] == edited


def test_anything_but_an_object_is_an_unknown_host() -> None:
    for data in (None, "x86_64", [ZEN4], 5):
        read = HostIdentity.of(data)
        assert not read.known and read.label() == "unknown host" and read.as_dict() == {}
    assert not Record("j", "run", "c", "", Status.SKIP, {}).host.known  # a record that says nothing of it


def test_the_identity_is_the_recorded_one_else_made_of_its_fields_the_way_this_host_makes_it() -> None:
    d = host.describe()
    assert here().identity == d["identity"] == host.identity()
    fields = HostIdentity.of({k: v for k, v in d.items() if k != "identity"})
    assert fields.recorded_identity is None and fields.identity == d["identity"]
    assert here().consistent and not HostIdentity.of({**d, "identity": "x86_64|forged"}).consistent
    zen5 = HostIdentity.of({**ZEN4, "family": "26", "model": "2", "cpu_flags_sha256": "bb" * 32})
    assert HostIdentity.of(ZEN4).identity == "x86_64|AuthenticAMD|25|17|1|aaaaaaaaaaaaaaaa|2" != zen5.identity


def test_a_host_from_before_identities_is_legacy_and_says_what_it_lacks() -> None:
    old = HostIdentity.of({k: ZEN4[k] for k in ("machine", "cpu", "cpu_features", "cores")})
    assert old.legacy and old.identity == "legacy:x86_64|AMD EPYC 9R14|avx2,avx512f|2"
    assert old.label("znver4") == "AMD EPYC 9R14 (family/model not recorded, LLVM znver4), 2 cores"
    assert HostIdentity.of(ZEN4).label("znver4") == (
        "AMD EPYC 9R14, family 25 model 17 stepping 1 (LLVM znver4), 2 cores"
    )
    assert HostIdentity.of(ZEN4).where == "AMD EPYC 9R14 (x86_64)"


def test_each_published_sittings_identity_names_the_folder_it_is_published_in() -> None:
    sittings = sorted((RESULTS / advice.DIRNAME).glob(f"*/{advice.FILE_PREFIX}*.json"))
    assert sittings
    for path in sittings:
        data = json.loads(path.read_text(encoding="utf-8"))
        identity = advice.Identity.of(HostIdentity.of(data["host"]), str(data.get("llvm_cpu") or ""))
        assert identity.slug == path.parent.name, path


# A host read by its fields' names: `r.host.get("cpu")`, `record.host["identity"]`, and the functions
# that took a host's dictionary (`identity_of`, `identity_label`, `instance_of`).
HOST_ACCESS = re.compile(r"\.host\s*(?:\.get\(|\[)|\b(?:identity_of|identity_label|instance_of)\(")


def test_no_host_is_read_by_string_outside_the_typed_view() -> None:
    assert HOST_ACCESS.search('x = r.host.get("cpu")') and HOST_ACCESS.search("host.identity_of(d)")
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path != VIEW
        for line in path.read_text().splitlines()
        if HOST_ACCESS.search(line)
    ]
    assert not offenders, "read a host through Record.host / HostIdentity.of:\n" + "\n".join(offenders)
