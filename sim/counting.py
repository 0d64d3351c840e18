"""What the official homicide count counts (M12): the rule in force on each day.

The official definition of a homicide changed after 2019 (TIMELINE_2018_2024.md, "What the
official homicide count leaves out, and from when"); sim/data/counting_rules.csv holds the
changes as data: from which day which category of killing leaves the count, with its source.
:func:`apply_counting` turns a day's killings, split into categories, into the official
count under the rule of that day.

How the categories relate. Every killing of a day is in ``homicides_true``; the categories
below are **disjoint** parts of it, taken in this order of precedence, so that a killing that
fits several is in the first that fits and is left out at most once:

1. ``hidden``: the body is hidden and never found. Never counted, under any rule.
2. ``excluded_security``: killed by security forces (police or soldiers), whoever the
   victim: a gang member killed by security forces is here, not in 3 or 4.
3. ``excluded_graves``: the body is found in a clandestine grave (and the killer was not
   the security forces).
4. ``excluded_gang_members``: the victim is a gang member killed by anyone else (gangs),
   body found, not in a grave.

The rest (``homicides_true`` minus the four) is counted on every day. As inputs, the three
``excluded_*`` series count their category on **every** day, whatever the rule (a gang
member killed by soldiers in 2015 is in ``excluded_security`` although the count of 2015
included him); :func:`apply_counting` returns them as the part of ``homicides_true`` that the
rule in force that day did leave out (0 before their rule; DESIGN.md section 5), and
``homicides = homicides_true - hidden - left-out parts``. Applying it twice changes nothing.

Because the rules only ever add categories (July 2019: killed by security and graves;
May 2021: graves again, formally; April 2022: gang members), the precedence never changes a
day's official count; it only decides under which name a doubly-classed killing is reported.
Deaths in custody are not homicides: they are not in ``homicides_true`` at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sim.datafile import Row, packaged_text, read_file, read_rows
from sim.trajectory import _day_array

__all__ = ["CATEGORY_SERIES", "COUNTING_RULES_CSV", "CountingRule", "apply_counting",
           "categories_in_force", "load_counting_rules", "official_homicides",
           "packaged_counting_rules"]

COUNTING_RULES_CSV = "sim/data/counting_rules.csv"

#: Category of a rule -> the daily series of those killings, in order of precedence (after
#: ``hidden``). The category ``none`` is a change that leaves no killing out (the forensic
#: institute stops publishing its own counts in March 2022).
CATEGORY_SERIES: dict[str, str] = {
    "killed_by_security": "excluded_security",
    "clandestine_graves": "excluded_graves",
    "gang_members": "excluded_gang_members",
}
_NO_CATEGORY = "none"

_COLUMNS: tuple[str, ...] = ("from", "category", "date_note", "change", "source", "quote")


@dataclass(frozen=True)
class CountingRule:
    """From ``start`` on, killings of ``category`` (None: no category) leave the official count."""

    start: date
    category: str | None
    date_note: str
    change: str
    source: str
    quote: str


def _parse_row(row: Row) -> CountingRule:
    category = row.choice("category", [*CATEGORY_SERIES, _NO_CATEGORY])
    return CountingRule(start=row.day("from"), category=None if category == _NO_CATEGORY else category,
                        date_note=row.text("date_note"), change=row.text("change"),
                        source=row.text("source"), quote=row.text("quote"))


def _parse(text: str, label: str) -> tuple[CountingRule, ...]:
    return tuple(sorted((_parse_row(r) for r in read_rows(text, label, _COLUMNS)),
                        key=lambda r: r.start))


@lru_cache(maxsize=1)
def packaged_counting_rules() -> tuple[CountingRule, ...]:
    """The rules of sim/data/counting_rules.csv in order of their start, parsed once."""
    return _parse(packaged_text("counting_rules.csv"), COUNTING_RULES_CSV)


def load_counting_rules(path: str | Path | None = None) -> list[CountingRule]:
    """The counting rules (default: the packaged file), sorted by start. A malformed row is a
    ValueError in one line naming the file, the line and the column."""
    if path is None:
        return list(packaged_counting_rules())
    return list(_parse(*read_file(path)))


def _first_days(rules) -> dict[str, date]:
    """The first day each category is left out (a rule repeated later changes nothing)."""
    first: dict[str, date] = {}
    for rule in rules:
        if rule.category is not None and (rule.category not in first or rule.start < first[rule.category]):
            first[rule.category] = rule.start
    return first


def categories_in_force(day: date, rules=None) -> frozenset[str]:
    """The categories left out of the official count on `day`."""
    first = _first_days(packaged_counting_rules() if rules is None else rules)
    return frozenset(c for c, start in first.items() if start <= day)


def _checked(df: pd.DataFrame) -> dict[str, np.ndarray]:
    needed = ["date", "homicides_true", "hidden", *CATEGORY_SERIES.values()]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"daily table: no column {missing[0]!r}; accepted: a table with "
                         f"{', '.join(needed)}")
    values = {c: df[c].to_numpy(dtype=float) for c in needed[1:]}
    for column, v in values.items():
        bad = np.flatnonzero(~(v >= 0))  # negative or NaN
        if bad.size:
            raise ValueError(f"daily table: {df['date'].iloc[bad[0]]}: column {column!r}: "
                             f"{v[bad[0]]:g} is not accepted; accepted: a count >= 0")
    parts = values["hidden"] + sum(values[c] for c in CATEGORY_SERIES.values())
    # A small slack: scaled or averaged tables may carry rounding error.
    over = np.flatnonzero(parts > values["homicides_true"] + 1e-9 * np.maximum(1.0, parts))
    if over.size:
        i = over[0]
        raise ValueError(f"daily table: {df['date'].iloc[i]}: hidden + excluded_* = {parts[i]:g} "
                         f"exceeds homicides_true = {values['homicides_true'][i]:g}; accepted: "
                         "disjoint parts of homicides_true (sim.counting)")
    return values


def apply_counting(df: pd.DataFrame, rules=None) -> pd.DataFrame:
    """A copy of the daily table with ``homicides`` the official count under the rule in force
    each day and each ``excluded_*`` the part the rule left out that day (see the module).

    `df` needs ``date``, ``homicides_true``, ``hidden`` and the three ``excluded_*`` series
    (disjoint category counts). A missing column, a negative count, or categories adding up
    to more than ``homicides_true`` is a ValueError in one line naming the day and column.
    """
    values = _checked(df)
    days = _day_array(df["date"])
    first = _first_days(packaged_counting_rules() if rules is None else rules)
    out = df.copy()
    left_out = values["hidden"].copy()
    for category, series in CATEGORY_SERIES.items():
        start = first.get(category)
        in_force = (np.zeros(len(days), dtype=bool) if start is None
                    else days >= np.datetime64(start, "D"))
        part = np.where(in_force, values[series], 0.0)
        left_out += part
        out[series] = part.astype(df[series].dtype, copy=False)
    official = values["homicides_true"] - left_out
    out["homicides"] = official.astype(df["homicides_true"].dtype, copy=False)
    return out


def official_homicides(df: pd.DataFrame, rules=None) -> pd.Series:
    """The official count of each day of the table (``apply_counting(df)['homicides']``)."""
    return apply_counting(df, rules)["homicides"]
