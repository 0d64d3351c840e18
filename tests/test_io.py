"""Atomic writes: a finished file has the usual mode, an interrupted write leaves nothing."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from sim.io import atomic_dir, atomic_path, write_csv, write_text


class Interrupted(Exception):
    pass


def test_a_written_file_has_the_mode_of_any_new_file(tmp_path):
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x\n")
        (tmp_path / "plain.txt").write_text("x\n")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "a.txt").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "plain.txt"]


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    write_csv(pd.DataFrame({"a": [1, 2]}), target)
    assert target.read_text() == "a\n1\n2\n"
    with pytest.raises(Interrupted):
        with atomic_path(target) as tmp:
            tmp.write_text("a\n3\n")
            raise Interrupted
    assert target.read_text() == "a\n1\n2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    out = tmp_path / "analysis"
    with atomic_dir(out) as stage:
        write_text(stage / "one.md", "first\n")
    with pytest.raises(Interrupted):
        with atomic_dir(out) as stage:
            write_text(stage / "two.md", "second\n")
            raise Interrupted
    assert [p.name for p in out.iterdir()] == ["one.md"]
    with atomic_dir(out) as stage:
        write_text(stage / "two.md", "second\n")
    assert [p.name for p in out.iterdir()] == ["two.md"]
    assert [p.name for p in tmp_path.iterdir()] == ["analysis"]
