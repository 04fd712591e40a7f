"""One table of every board and its RAM budget (report/budget.py, docs/boards.md; issue #42 item 4):
a Cortex-M firmware needs its 64 KiB stack reserve whatever the stack's peak, and the table says
what that leaves for the platform; the docs' table is the published records' and docs/boards.md no
longer contradicts itself on 3.11.0."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Record, Status
from iree_matrix.iree import targets
from iree_matrix.report import budget
from iree_matrix.source_builds import cortex_m

REPO = Path(__file__).resolve().parents[2]
KiB = 1024


def _firmware(
    model: str, compiler: str, *, data_bss: int, heap: int, stack: int, flash: int = 300 * KiB
) -> Record:
    labels = Labels(model=model, compiler=compiler, arch="cortex-m-cortex-m4", runtime=f"src:{compiler}")
    metrics = {"cpu": "cortex-m4", "flash_bytes": flash, "ram_bytes": data_bss + heap + stack,
               "heap_peak_bytes": heap, "stack_peak_bytes": stack}  # fmt: skip
    cell = f"{model}/e/iree{compiler}/cortex-m-cortex-m4/default/rtsrc{compiler}"
    return Record(job=f"run:{cell}", stage="run", cell=cell, key="k" + model + compiler, status=Status.OK,
                  labels=labels.as_dict(), metrics=metrics)  # fmt: skip


def _row(rows: list[list[str]], board: str) -> list[str]:
    return next(r for r in rows if r[0].startswith(board))


def test_the_stack_reserve_is_counted_and_what_is_left_is_said() -> None:
    # 180 KiB as measured (12 KiB stack peak), 232 KiB as linked: fits 256 KiB with 24 KiB left.
    small = _firmware("small", "3.9.0", data_bss=8 * KiB, heap=160 * KiB, stack=12 * KiB)
    # 240 KiB as measured, 292 KiB as linked: fits 256 KiB only with the reserve cut (16 KiB left).
    big = _firmware("big", "3.9.0", data_bss=8 * KiB, heap=220 * KiB, stack=12 * KiB)
    assert cortex_m.linked_ram(180 * KiB, 12 * KiB) == 232 * KiB
    nano = _row(budget.rows([small, big]), "Arduino Nano 33 BLE")
    assert "64.0 KiB stack reserve: 232 KiB (small 3.9.0) – 292 KiB (big 3.9.0)" in nano[3]
    assert nano[4] == "24.0 KiB … short by 36.0 KiB"
    cut = "1 more with the stack reserve cut to its peak, leaving 16.0 KiB"
    assert nano[5] == f"1 of 2 as linked (small 3.9.0); {cut}"
    stm = _row(budget.rows([small, big]), "STM32F4")
    assert stm[5] == "0 of 2 as linked; 1 more with the stack reserve cut to its peak, leaving 12.0 KiB"


def _pi_run(model: str, peak_mib: int) -> Record:
    labels = Labels(model=model, compiler="3.13.0", arch="aarch64-cortex-a53", runtime="3.13.0")
    cell = f"{model}/e/iree3.13.0/aarch64-cortex-a53/default/local-sync"
    return Record(job=f"run:{cell}", stage="run", cell=cell, key="k" + model, status=Status.OK,
                  labels=labels.as_dict(), metrics={"peak_memory_bytes": peak_mib * KiB * KiB})  # fmt: skip


def test_a_run_whose_upper_bound_exceeds_a_pi_says_short_by_and_names_it() -> None:
    rows = budget.rows([_pi_run("small", 100), _pi_run("big", 625)])
    zero2 = _row(rows, "Zero 2 W")  # 512 MiB
    assert zero2[4] == "short by 113 MiB for big 3.13.0 (an upper bound); ≥ 412 MiB for the rest"
    assert zero2[5] == "1 of 2 runs (over by the upper bound: big 3.13.0)"
    pi3 = _row(rows, "Pi 3")  # 1 GiB
    assert pi3[4] == "≥ 399 MiB" and pi3[5] == "2 of 2 runs"


def test_a_board_without_cells_has_no_row() -> None:
    assert budget.rows([]) == []
    names = [b.name for _, b in targets.boards()]
    assert all(r[0] in names for r in budget.rows([_firmware("m", "3.9.0", data_bss=1, heap=1, stack=1)]))


def test_the_docs_table_is_the_published_records() -> None:
    text = (REPO / "docs" / "boards.md").read_text()
    assert "<!-- board-budget -->" in text, "docs/boards.md holds no <!-- board-budget --> table"
    made = budget.table(budget.published(REPO))
    assert budget.rewrite_docs(text, made) == text, (
        "docs/boards.md's board table differs: run bin/update_board_budget.py"
    )
    nano = _row(budget.rows(budget.published(REPO)), "Arduino Nano 33 BLE")
    assert nano[5].startswith("1 of 10 as linked (ds_cnn_kws 3.3.0)")  # what docs/cortex-m.md says


def test_docs_boards_says_one_thing_about_3_11_0() -> None:
    text = (REPO / "docs" / "boards.md").read_text()
    assert "no 3.11.0 run is published yet" not in text
    assert "Runtimes of four windows" not in text
    assert "five runtime releases: 3.3.0, 3.7.0, 3.9.0, 3.10.0, 3.11.0" in text
