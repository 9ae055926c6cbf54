import errno
import os
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.outputs import (
    SHOWN_CHARACTERS,
    atomic_path,
    atomic_paths,
    markdown_code,
    markdown_table,
    markdown_text,
    spreadsheet_safe,
    visible,
)

from .markup import HOSTILE, code_spans, inert, table_rows, tokens


def write_then_fail(target: Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text)
        raise RuntimeError("interrupted")


def write_first_of_two_then_fail(first: Path, second: Path) -> None:
    with atomic_paths(first, second) as (first_out, _):
        first_out.write_text("new first")
        raise RuntimeError("second never written")


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("last good")

    with pytest.raises(RuntimeError, match="interrupted"):
        write_then_fail(target, "half")

    assert target.read_text() == "last good"
    assert list(tmp_path.iterdir()) == [target]


def test_no_output_of_a_group_is_replaced_unless_all_were_written(tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("old first")
    second.write_text("old second")

    with pytest.raises(RuntimeError, match="second never written"):
        write_first_of_two_then_fail(first, second)

    assert (first.read_text(), second.read_text()) == ("old first", "old second")


def test_a_successful_write_creates_missing_folders(tmp_path):
    target = tmp_path / "deep" / "folder" / "out.txt"

    with atomic_path(target) as temporary:
        temporary.write_text("done")

    assert target.read_text() == "done"


def test_debris_of_a_killed_write_is_swept_by_the_next_write(tmp_path):
    target = tmp_path / "metrics.json"
    debris = tmp_path / ".metrics.json.k1ll3d.tmp"
    other = tmp_path / ".roc.json.k1ll3d.tmp"
    debris.write_text("half")
    other.write_text("another output's, swept when that one is written")

    with atomic_path(target) as temporary:
        temporary.write_text("done")

    assert sorted(path.name for path in tmp_path.iterdir()) == [other.name, target.name]


def test_a_full_disk_is_one_error_naming_the_output_and_keeps_the_last_one(tmp_path):
    target = tmp_path / "model.skops"
    target.write_text("last good")

    with pytest.raises(PipelineError) as raised, atomic_path(target):
        raise OSError(errno.ENOSPC, "No space left on device")

    assert str(raised.value) == (
        f"could not write {target}: the disk is full: free some space and run again; "
        "the last good model.skops is left in place"
    )
    assert target.read_text() == "last good"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_read_only_folder_is_one_error_naming_the_output(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    target = folder / "model.skops"
    target.write_text("last good")
    folder.chmod(0o555)
    try:
        with (
            pytest.raises(PipelineError, match=rf"could not write {target}: permission denied"),
            atomic_path(target) as temporary,
        ):
            temporary.write_text("new")
    finally:
        folder.chmod(0o755)

    assert target.read_text() == "last good"


@pytest.mark.parametrize("text", HOSTILE)
def test_data_in_a_table_cell_is_one_cell_of_text(text):
    table = markdown_table(["name", "note"], [[markdown_code(text), markdown_text(text)]])

    assert table_rows(table) == 1
    assert code_spans(table) == [visible(text)]
    assert inert(table)
    assert len(table) < 2 * SHOWN_CHARACTERS + 100


@pytest.mark.parametrize("text", HOSTILE)
def test_data_in_a_list_item_stays_one_item_of_text(text):
    markdown = f"- {markdown_text(text)}\n- {markdown_code(text)}\n"

    assert inert(markdown)
    assert sum(token.type == "list_item_open" for token in tokens(markdown)) == 2
    assert code_spans(markdown) == [visible(text)]


def test_line_breaks_and_direction_marks_are_shown_not_obeyed():
    assert visible("a\nb\u202ec\t") == "a\\nb\\u202ec\\t"
    assert visible("x" * 500, limit=10) == "x" * 9 + "…"


def test_spreadsheet_formulas_in_text_cells_are_quoted_and_numbers_kept():
    formulas = ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(A1)", "\tx", "ok"]
    frame = pd.DataFrame({"feature": formulas, "value": -0.5})
    frame["=name"] = 1

    safe = spreadsheet_safe(frame)

    assert list(safe["feature"]) == ["'=cmd|' /C calc'!A0", "'+1", "'-x", "'@SUM(A1)", "'\tx", "ok"]
    assert list(safe["value"]) == [-0.5] * 6
    assert list(safe.columns) == ["feature", "value", "'=name"]
