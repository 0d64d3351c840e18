"""The figures reported in the seed articles: what each one measures, and reading them.

The figures live in two files with the same columns: ``sim/data/reported.csv`` (one row per
figure of the seed articles, REPORTED.md) and ``sim/data/official.csv`` (the official
2011-2017 series of OFFICIAL.md). Each row has a tolerance (the acceptance band of the fit
table) and a measurement error (the relative spread between the sources that report it), and
may name, in ``nested_in``, the figures whose windows enclose it: a nested figure is scored as
its share of them (sim.likelihood), so the evidence of the enclosing total is not counted twice.
A :class:`ReportedFigure` knows its window and how a simulated daily series is reduced over
it (:meth:`ReportedFigure.simulated`) and how far a simulated value misses it
(:meth:`ReportedFigure.error`); sim.likelihood scores the miss and sim.observation puts the
figures of one run together.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from sim.dates import parse_date

if TYPE_CHECKING:  # pandas is imported where a run is measured: checking the file needs none
    import pandas as pd

    from sim.trajectory import Trajectory

__all__ = ["COMPARED_SERIES", "KINDS", "ReportedFigure", "load_reported", "packaged_figures"]

#: Simulated columns a reported figure may be compared with; the last two are model inputs.
COMPARED_SERIES: tuple[str, ...] = (
    "homicides", "police_killed", "soldiers_killed", "relatives_killed", "security_vs_gang", "hidden",
    "gang_members", "gang_members_street", "gang_members_prison", "population", "leaders_isolated",
)

#: Kinds of reported figure; see :meth:`ReportedFigure.simulated`.
KINDS: frozenset[str] = frozenset(
    {"total", "mean", "lower_bound_total", "lower_bound_mean", "upper_bound_total", "ratio", "trend", "level"}
)

#: Kinds whose reported value bounds the simulated one from one side.
BOUND_KINDS: frozenset[str] = frozenset({"lower_bound_total", "lower_bound_mean", "upper_bound_total"})

#: Kinds a nested figure, and the figures enclosing it, may have: counts over a window.
COUNT_KINDS: frozenset[str] = frozenset({"total", "mean", "lower_bound_total", "lower_bound_mean",
                                         "upper_bound_total"})

_COLUMNS: tuple[str, ...] = (
    "id",
    "series",
    "start",
    "end",
    "kind",
    "value",
    "ref_start",
    "ref_end",
    "tolerance",
    "source",
    "note",
)
# Same, with the calibration weight after the tolerance.
_COLUMNS_WEIGHTED: tuple[str, ...] = (*_COLUMNS[:9], "weight", *_COLUMNS[9:])
# Same, with the measurement error and the enclosing figures too (the packaged files have them).
_COLUMNS_FULL: tuple[str, ...] = (*_COLUMNS[:9], "measurement_error", "nested_in", "weight", *_COLUMNS[9:])
_HEADERS = (_COLUMNS, _COLUMNS_WEIGHTED, _COLUMNS_FULL)


# A ratio whose reference window holds no event at all is undefined; scoring it as a
# 100 % error keeps degenerate runs (nothing happens) from looking good in calibration.
_UNDEFINED_RATIO_ERROR = 1.0


@dataclass(frozen=True)
class ReportedFigure:
    """One figure reported in the seed articles, with the window it covers.

    ``kind`` says how the simulated series is reduced over the inclusive window
    [start, end]: ``total`` (sum), ``mean`` (mean per day), ``lower_bound_total`` /
    ``lower_bound_mean`` (the reported value is a lower bound on the sum / mean),
    ``ratio`` (sum over [start, end] divided by sum over [ref_start, ref_end]),
    ``trend`` (sign of the OLS slope; value 1 means rising) and ``level`` (mean of a
    stock such as gang members in prison).
    """

    id: str
    series: str
    start: date
    end: date
    kind: str
    value: float
    ref_start: date | None
    ref_end: date | None
    tolerance: float
    source: str
    note: str = ""
    #: How much this figure counts in the calibration loss; 0 for figures that are model
    #: inputs (population, leaders moved) rather than outcomes, and for figures derived from
    #: others that are scored (a year that is the sum of its months, a ratio of two totals).
    weight: float = 1.0
    #: Relative measurement error (the spread between the sources); None: the tolerance.
    measurement_error: float | None = None
    #: Ids of the figures whose windows, together, enclose this one (same series); empty when
    #: the figure is evidence of its own.
    nested_in: tuple[str, ...] = ()

    @property
    def error_sd(self) -> float:
        """The relative measurement error: the sources' spread, or the tolerance if not given."""
        return self.tolerance if self.measurement_error is None else self.measurement_error

    def as_total(self, x: float) -> float:
        """A value of this figure's kind as a window total (a mean times the days)."""
        return x * self.days if self.kind in ("mean", "lower_bound_mean") else x

    @property
    def window_days_total(self) -> float:
        """The reported value as a window total."""
        return self.as_total(self.value)

    @property
    def days(self) -> int:
        """Length of the window in days, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def first_day(self) -> date:
        """The first day the figure needs simulated (a ratio's reference window included)."""
        return self.start if self.ref_start is None else min(self.start, self.ref_start)

    @property
    def last_day(self) -> date:
        """The last day the figure needs simulated (a ratio's reference window included)."""
        return self.end if self.ref_end is None else max(self.end, self.ref_end)

    def simulated(self, df: pd.DataFrame | Trajectory, scale: float = 1.0) -> float | None:
        """The simulated counterpart of this figure, in national units.

        None when the window (or the reference window of a ratio) is not fully inside
        the simulated dates. For a trend it is the OLS slope per year; for a ratio
        whose reference window is empty of events it is NaN.
        """
        from sim.trajectory import as_trajectory

        run = as_trajectory(df, scale)
        if not run.covers(self.first_day, self.last_day):
            return None
        if self.kind in ("total", "lower_bound_total", "upper_bound_total"):
            return run.window_sum(self.series, self.start, self.end)
        if self.kind in ("mean", "lower_bound_mean", "level"):
            return run.window_mean(self.series, self.start, self.end)
        if self.kind == "trend":
            return run.window_slope_per_year(self.series, self.start, self.end)
        if self.kind == "ratio":
            if self.ref_start is None or self.ref_end is None:
                raise ValueError(f"figure {self.id!r}: a ratio needs ref_start and ref_end")
            reference = run.window_sum(self.series, self.ref_start, self.ref_end)
            if reference == 0.0:
                return math.nan
            return run.window_sum(self.series, self.start, self.end) / reference
        raise ValueError(f"figure {self.id!r}: unknown kind {self.kind!r}")

    def error(self, simulated: float | None) -> float | None:
        """Signed relative error of a simulated value; 0 when a bound or trend is met."""
        if simulated is None:
            return None
        if self.kind == "trend":
            # Reported trends are a direction only: met or not.
            return 0.0 if simulated * self.value > 0 else -1.0
        if self.kind == "ratio" and math.isnan(simulated):
            return _UNDEFINED_RATIO_ERROR
        relative = simulated / self.value - 1.0
        if self.kind in ("lower_bound_total", "lower_bound_mean"):
            return 0.0 if simulated >= self.value else relative
        if self.kind == "upper_bound_total":
            return 0.0 if simulated <= self.value else relative
        return relative

    def is_within(self, error: float | None) -> bool | None:
        if error is None:
            return None
        if self.kind == "trend" or self.kind in BOUND_KINDS:
            return error == 0.0
        return abs(error) <= self.tolerance


# ---------------------------------------------------------------- loading the csv


def _parse_date(text: str, fig_id: str, column: str) -> date:
    return parse_date(text, f"reported figure {fig_id!r}: column {column!r}")


def _parse_float(text: str, fig_id: str, column: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            f"reported figure {fig_id!r}: column {column!r}: {text!r} is not a number"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"reported figure {fig_id!r}: column {column!r}: {text!r} is not finite")
    return number


def _parse_row(row: Mapping[str, str], line: int) -> ReportedFigure:
    fig_id = (row.get("id") or "").strip()
    if not fig_id:
        raise ValueError(f"reported figures line {line}: column 'id' is empty")

    def bad(column: str, why: str) -> ValueError:
        return ValueError(f"reported figure {fig_id!r}: column {column!r}: {why}")

    if any(row.get(c) is None for c in _COLUMNS) or any(
            c in row and row[c] is None for c in ("weight", "measurement_error", "nested_in")):
        raise bad("note", "too few fields in the row")
    series = row["series"].strip()
    if series not in COMPARED_SERIES:
        raise bad("series", f"unknown series {series!r} (expected one of {sorted(COMPARED_SERIES)})")
    kind = row["kind"].strip()
    if kind not in KINDS:
        raise bad("kind", f"unknown kind {kind!r} (expected one of {sorted(KINDS)})")
    start = _parse_date(row["start"], fig_id, "start")
    end = _parse_date(row["end"], fig_id, "end")
    if end < start:
        raise bad("end", f"{end} is before start {start}")
    value = _parse_float(row["value"], fig_id, "value")
    if kind == "trend":
        if value == 0:
            raise bad("value", "a trend needs a direction: 1 (rising) or -1 (falling)")
    elif value <= 0:
        raise bad("value", f"{value} must be positive for kind {kind!r}")

    ref_start: date | None = None
    ref_end: date | None = None
    if kind == "ratio":
        if not row["ref_start"].strip() or not row["ref_end"].strip():
            raise bad("ref_start", "a ratio needs ref_start and ref_end")
        ref_start = _parse_date(row["ref_start"], fig_id, "ref_start")
        ref_end = _parse_date(row["ref_end"], fig_id, "ref_end")
        if ref_end < ref_start:
            raise bad("ref_end", f"{ref_end} is before ref_start {ref_start}")
    elif row["ref_start"].strip() or row["ref_end"].strip():
        raise bad("ref_start", f"only a ratio has a reference window, not kind {kind!r}")

    tolerance = _parse_float(row["tolerance"], fig_id, "tolerance")
    if tolerance < 0:
        raise bad("tolerance", f"{tolerance} is negative")
    source = row["source"].strip()
    if not source:
        raise bad("source", "is empty")
    weight = 1.0
    if "weight" in row:
        weight = _parse_float(row["weight"], fig_id, "weight")
        if weight < 0:
            raise bad("weight", f"{weight} is negative")
    measurement_error: float | None = None
    nested_in: tuple[str, ...] = ()
    if "measurement_error" in row:
        measurement_error = _parse_float(row["measurement_error"], fig_id, "measurement_error")
        if measurement_error < 0:
            raise bad("measurement_error", f"{measurement_error} is negative")
        nested_in = tuple(i.strip() for i in row["nested_in"].split(";") if i.strip())
        if nested_in and kind not in COUNT_KINDS:
            raise bad("nested_in", f"only a count over a window can be nested, not kind {kind!r}")
    return ReportedFigure(
        id=fig_id,
        series=series,
        start=start,
        end=end,
        kind=kind,
        value=value,
        ref_start=ref_start,
        ref_end=ref_end,
        tolerance=tolerance,
        source=source,
        note=row["note"].strip(),
        weight=weight,
        measurement_error=measurement_error,
        nested_in=nested_in,
    )


def _parse_csv(text: str) -> tuple[ReportedFigure, ...]:
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header not in _HEADERS:
        raise ValueError(f"reported figures: header is {','.join(header)!r}, "
                         f"expected {','.join(_COLUMNS_FULL)!r} (measurement_error, nested_in "
                         "and weight optional)")
    figures: list[ReportedFigure] = []
    seen: set[str] = set()
    for row in reader:
        if None in row:  # DictReader puts surplus fields under the key None
            raise ValueError(f"reported figure {row.get('id')!r}: column 'note': too many fields in the row")
        figure = _parse_row(row, reader.line_num)
        if figure.id in seen:
            raise ValueError(f"reported figure {figure.id!r}: column 'id': duplicate id")
        seen.add(figure.id)
        figures.append(figure)
    return tuple(figures)


def check_nesting(figures: Sequence[ReportedFigure]) -> None:
    """ValueError (one line, naming the figure) unless every nested figure's enclosing figures
    exist, count the same series, join into one window that holds it, and are scored."""
    by_id = {f.id: f for f in figures}
    for f in figures:
        if not f.nested_in:
            continue
        def bad(why: str) -> ValueError:
            return ValueError(f"reported figure {f.id!r}: column 'nested_in': {why}")
        missing = [i for i in f.nested_in if i not in by_id]
        if missing:
            raise bad(f"unknown figure {missing[0]!r} (expected ids of other rows)")
        outer = sorted((by_id[i] for i in f.nested_in), key=lambda o: o.start)
        for o in outer:
            if o.id == f.id or o.nested_in or o.series != f.series or o.kind not in COUNT_KINDS:
                raise bad(f"{o.id!r} must be another, not nested, count of series {f.series!r}")
            if o.weight == 0:
                raise bad(f"{o.id!r} is not scored (weight 0): a share of it would be the only evidence")
        for a, b in zip(outer, outer[1:]):
            if (b.start - a.end).days != 1:
                raise bad(f"{a.id!r} and {b.id!r} are not consecutive windows")
        if not (outer[0].start <= f.start and f.end <= outer[-1].end):
            raise bad(f"the window {f.start}..{f.end} is not inside {outer[0].start}..{outer[-1].end}")


def _read_packaged(name: str) -> tuple[ReportedFigure, ...]:
    return _parse_csv(resources.files(__package__ or "sim").joinpath("data", name).read_text(encoding="utf-8"))


#: The packaged files: the seed articles' figures, then the official series.
PACKAGED_FILES: tuple[str, ...] = ("reported.csv", "official.csv")


@lru_cache(maxsize=1)
def packaged_figures() -> tuple[ReportedFigure, ...]:
    """The figures of sim/data/reported.csv and sim/data/official.csv, parsed once per process
    (calibration compares thousands of runs)."""
    figures = tuple(f for name in PACKAGED_FILES for f in _read_packaged(name))
    ids = [f.id for f in figures]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"reported figure {dup!r}: column 'id': duplicate id")
    check_nesting(figures)
    return figures


def load_reported(path: str | os.PathLike[str] | None = None) -> list[ReportedFigure]:
    """Read the reported figures; by default the copies packaged with ``sim``.

    Raises ValueError with a one-line message naming the row id and the column for a
    malformed row (unknown series or kind, bad date, end before start, a nested figure
    outside its enclosing ones, ...).
    """
    if path is None:
        return list(packaged_figures())
    figures = _parse_csv(Path(path).read_text(encoding="utf-8"))
    check_nesting(figures)
    return list(figures)


REPORTED_CSV = "sim/data/reported.csv"


def check_reported() -> list[ReportedFigure]:
    """The packaged figures, or a ConfigError in one line naming the file. The apps that
    compare runs with them call it before they run or write anything: a run would otherwise
    be lost once it finished."""
    import csv

    from sim.config import ConfigError

    try:
        return load_reported()  # parsed once and cached: the apps read the figures again
    except (OSError, ValueError, csv.Error):
        pass
    # Something is wrong: name the file (each is read alone), or the two together.
    what = {"reported.csv": "the seed articles' figures, one row per figure of REPORTED.md",
            "official.csv": "the official series, one row per figure of OFFICIAL.md"}
    for name in PACKAGED_FILES:
        shown = f"sim/data/{name}"
        try:
            _read_packaged(name)
        except FileNotFoundError:
            raise ConfigError(f"{shown}: the file is missing; accepted: {what[name]}") from None
        except (OSError, ValueError, csv.Error) as exc:  # unreadable, not UTF-8, malformed rows
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(f"{shown}: {first}; accepted: the columns and values "
                              "load_reported reads (sim/reported.py)") from None
    try:
        return load_reported()
    except ValueError as exc:  # ids or nesting across the two files
        raise ConfigError(f"sim/data/official.csv: {exc}; accepted: ids unique across "
                          "reported.csv and official.csv, nesting as sim/reported.py checks") from None
