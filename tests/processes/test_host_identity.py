"""The heavy part of tests/unit/test_host_identity.py: every published host, read and written back."""

from __future__ import annotations

import json

import pytest

from iree_matrix.core.model.host_identity import HostIdentity
from tests.unit.test_host_identity import _hosts


@pytest.mark.heavy  # every published record's JSON read: seconds
def test_every_published_host_reads_and_writes_back_byte_for_byte() -> None:
    hosts = _hosts()
    assert len(hosts) > 10_000
    kinds = set()
    for data in hosts:
        read = HostIdentity.of(data)
        assert json.dumps(read.as_dict(), sort_keys=True) == json.dumps(data, sort_keys=True)
        assert not read.extra, data  # every published field is a typed one
        kinds.add((read.legacy, read.llvm_cpu is not None, read.instance is not None))
    assert len(kinds) >= 4  # legacy hosts, identified ones, with and without LLVM's name and an instance
