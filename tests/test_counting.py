"""What the official homicide count counts (sim.counting, M12), on hand-built days."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sim.counting import (apply_counting, categories_in_force, load_counting_rules,
                          official_homicides, packaged_counting_rules)

TIMELINE = Path(__file__).resolve().parents[2] / "shared" / "TIMELINE_2018_2024.md"
HEADER = "from,category,date_note,change,source,quote\n"


def _days(rows):
    """rows: (date, homicides_true, hidden, security, graves, gang_members)."""
    return pd.DataFrame(rows, columns=["date", "homicides_true", "hidden", "excluded_security",
                                       "excluded_graves", "excluded_gang_members"])


# The same day's killings before and after each change: 10 killings, of which 1 body hidden,
# 2 killed by security forces, 1 found in a clandestine grave, 3 gang members killed by gangs.
SAME_DAY = [(d, 10, 1, 2, 1, 3) for d in
            ("2019-06-30", "2019-07-01", "2021-05-01", "2022-03-31", "2022-04-01", "2024-12-31")]


def test_the_rule_in_force_each_day():
    out = apply_counting(_days(SAME_DAY))
    # Before July 2019 only the hidden body is missing: 10 - 1. From July 2019 the security
    # forces' victims and the grave go too: 10 - 1 - 2 - 1. From April 2022 the gang members
    # as well: 10 - 1 - 2 - 1 - 3.
    assert out.homicides.tolist() == [9, 6, 6, 6, 3, 3]
    assert out.excluded_security.tolist() == [0, 2, 2, 2, 2, 2]
    assert out.excluded_graves.tolist() == [0, 1, 1, 1, 1, 1]
    assert out.excluded_gang_members.tolist() == [0, 0, 0, 0, 3, 3]
    assert out.hidden.tolist() == [1] * 6 and out.homicides_true.tolist() == [10] * 6
    # What the official count leaves out is exactly the parts returned.
    parts = out.hidden + out.excluded_security + out.excluded_graves + out.excluded_gang_members
    assert (out.homicides_true - parts == out.homicides).all()


def test_a_gang_member_killed_by_security_forces_is_left_out_once():
    # One killing: a gang member shot by the police, classed under security (first in order).
    out = official_homicides(_days([("2019-06-30", 1, 0, 1, 0, 0), ("2019-07-01", 1, 0, 1, 0, 0),
                                    ("2022-04-02", 1, 0, 1, 0, 0)]))
    assert out.tolist() == [1, 0, 0]  # never -1 after April 2022
    # Classing it under both categories would count it twice: refused.
    with pytest.raises(ValueError, match=r"2022-04-02: hidden \+ excluded_\* = 2 exceeds homicides_true = 1"):
        apply_counting(_days([("2022-04-02", 1, 0, 1, 0, 1)]))


def test_a_day_with_only_gang_members_killed_is_a_day_without_homicides_after_april_2022():
    out = official_homicides(_days([("2022-03-31", 4, 0, 0, 0, 4), ("2022-04-01", 4, 0, 0, 0, 4)]))
    assert out.tolist() == [4, 0]


def test_applying_the_rule_twice_changes_nothing():
    once = apply_counting(_days(SAME_DAY))
    pd.testing.assert_frame_equal(apply_counting(once), once)


def test_a_repeated_rule_changes_nothing():
    rules = packaged_counting_rules()
    without_may_2021 = [r for r in rules if r.start != date(2021, 5, 1)]
    assert len(without_may_2021) == len(rules) - 1
    days = _days(SAME_DAY)
    assert official_homicides(days, without_may_2021).tolist() == official_homicides(days, rules).tolist()


def test_categories_in_force():
    assert categories_in_force(date(2019, 6, 30)) == frozenset()
    assert categories_in_force(date(2019, 7, 1)) == {"killed_by_security", "clandestine_graves"}
    assert categories_in_force(date(2022, 3, 31)) == {"killed_by_security", "clandestine_graves"}
    assert categories_in_force(date(2022, 4, 1)) == {"killed_by_security", "clandestine_graves",
                                                     "gang_members"}


@pytest.mark.parametrize("rows, says", [
    ([("2020-01-01", 3, -1, 0, 0, 0)], r"2020-01-01: column 'hidden': -1 is not accepted"),
    ([("2020-01-01", 3, 0, float("nan"), 0, 0)], r"2020-01-01: column 'excluded_security': nan"),
    ([("2020-01-01", 3, 1, 1, 1, 1)], r"2020-01-01: hidden \+ excluded_\* = 4 exceeds homicides_true = 3"),
])
def test_a_bad_table_is_one_line_naming_the_day_and_column(rows, says):
    with pytest.raises(ValueError, match=says) as err:
        apply_counting(_days(rows))
    assert "\n" not in str(err.value)


def test_a_missing_category_is_refused_not_taken_as_zero():
    days = _days(SAME_DAY).drop(columns="excluded_graves")
    with pytest.raises(ValueError, match=r"no column 'excluded_graves'"):
        apply_counting(days)


def test_packaged_rules_load():
    rules = load_counting_rules()
    assert [r.start for r in rules] == sorted(r.start for r in rules)
    assert all(r.source and r.quote for r in rules)


@pytest.mark.skipif(not TIMELINE.is_file(), reason="../shared/TIMELINE_2018_2024.md not present")
def test_every_rule_quotes_the_timeline():
    words = re.sub(r"\s+", " ", TIMELINE.read_text(encoding="utf-8"))
    for rule in load_counting_rules():
        assert re.sub(r"\s+", " ", rule.quote) in words, rule


@pytest.mark.parametrize("row, column", [
    ("2019-07-01,killed_by_police,x,c,s,q\n", "category"),
    ("July 2019,killed_by_security,x,c,s,q\n", "from"),
    ("2019-07-01,killed_by_security,x,c,,q\n", "source"),
])
def test_a_malformed_rule_is_one_line_naming_file_line_and_column(tmp_path, row, column):
    path = tmp_path / "rules.csv"
    path.write_text(HEADER + "2019-07-01,clandestine_graves,x,c,s,q\n" + row, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_counting_rules(path)
    assert str(err.value).startswith(f"{path}: line 3: column '{column}'"), str(err.value)
    assert "\n" not in str(err.value)
