"""A model whose code ends the export worker's process before it writes its result (issue 29,
item 14): said as such, not as `[Errno 2] No such file … export.json`."""

from __future__ import annotations

import pytest

from iree_matrix._proc import Completed
from iree_matrix.errors import StageFailure
from iree_matrix.stages._model_worker import read_result


def test_a_model_process_that_exits_before_its_result_is_said_so(tmp_path):
    done = Completed(("python", "export_model.py"), 0, "building my_net\n", "", 0.1)
    with pytest.raises(StageFailure) as caught:
        read_result(tmp_path / "export.json", done)
    assert caught.value.error_class == "model-error"
    message = caught.value.message
    assert "exited (status 0) before writing its result (export.json)" in message
    assert "os._exit()" in message and "building my_net" in message and "Errno" not in message


def test_a_result_is_read(tmp_path):
    (tmp_path / "export.json").write_text('{"seconds": 1.5}')
    assert read_result(tmp_path / "export.json", Completed(("x",), 0, "", "", 0.1)) == {"seconds": 1.5}
