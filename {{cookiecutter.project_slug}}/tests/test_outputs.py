from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.outputs import atomic_path, atomic_paths


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
