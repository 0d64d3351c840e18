"""Compare a simulated daily trajectory with the figures reported in the seed articles.

The reported figures live in ``sim/data/reported.csv`` (one row per figure of
REPORTED.md). :func:`compare` turns a run's daily table into a :class:`Fit`: one
:class:`FigureFit` per figure and one overall score, the root mean square of the
relative errors. Calibration calls it thousands of times, so the daily table is
converted once into a :class:`Trajectory` (a date array plus cumulative sums) and
every window is then two ``searchsorted`` look-ups.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "SERIES",
    "KINDS",
    "ReportedFigure",
    "Trajectory",
    "FigureFit",
    "Fit",
    "load_reported",
    "check_reported",
    "compare",
    "fit_values",
    "write_fit_json",
]

#: Simulated columns a reported figure may be compared with.
SERIES: frozenset[str] = frozenset(
    {
        "homicides",
        "police_killed",
        "soldiers_killed",
        "relatives_killed",
        "gang_members_street",
        "gang_members_prison",
        "population",
        "leaders_isolated",
    }
)

#: Kinds of reported figure; see :meth:`ReportedFigure.simulated`.
KINDS: frozenset[str] = frozenset(
    {"total", "mean", "lower_bound_total", "lower_bound_mean", "ratio", "trend", "level"}
)

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
# Same, with the calibration weight after the tolerance (the packaged file has it).
_COLUMNS_WEIGHTED: tuple[str, ...] = (*_COLUMNS[:9], "weight", *_COLUMNS[9:])

_DAYS_PER_YEAR = 365.25

# A ratio whose reference window holds no event at all is undefined; scoring it as a
# 100 % error keeps degenerate runs (nothing happens) from looking good in calibration.
_UNDEFINED_RATIO_ERROR = 1.0


class Trajectory:
    """A simulated daily table prepared once for many window look-ups.

    Dates are held as ``datetime64[D]`` and each series as a cumulative sum with a
    leading zero, so the sum over rows ``[i, j)`` is ``cs[j] - cs[i]``. Values are
    divided by ``scale`` (the model may run with a shrunken population) so that
    every figure is compared in national units.
    """

    def __init__(self, df: pd.DataFrame, scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        if "date" not in df.columns:
            raise ValueError("the simulated table has no 'date' column")
        dates = _day_array(df["date"])
        # Sort once if needed: searchsorted below requires increasing dates.
        order = None if np.all(dates[1:] >= dates[:-1]) else np.argsort(dates, kind="stable")
        self.dates: np.ndarray = dates if order is None else dates[order]
        self.scale: float = float(scale)
        self._df = df
        self._order = order
        self._values: dict[str, np.ndarray] = {}
        self._cumsums: dict[str, np.ndarray] = {}

    def covers(self, start: date, end: date) -> bool:
        """True when the window [start, end] lies fully inside the simulated dates."""
        if not len(self.dates):
            return False
        return self.dates[0] <= np.datetime64(start, "D") and np.datetime64(end, "D") <= self.dates[-1]

    def values(self, series: str) -> np.ndarray:
        """Daily values of ``series`` in national units (divided by scale)."""
        cached = self._values.get(series)
        if cached is None:
            if series not in self._df.columns:
                raise ValueError(f"the simulated table has no {series!r} column")
            raw = self._df[series].to_numpy(dtype=float)
            if self._order is not None:
                raw = raw[self._order]
            cached = raw / self.scale
            self._values[series] = cached
        return cached

    def rows(self, start: date, end: date) -> tuple[int, int]:
        """Row slice [i, j) of the inclusive calendar window [start, end]."""
        i = int(np.searchsorted(self.dates, np.datetime64(start, "D"), side="left"))
        j = int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        return i, j

    def window_sum(self, series: str, start: date, end: date) -> float:
        cs = self._cumsums.get(series)
        if cs is None:
            cs = np.concatenate(([0.0], np.cumsum(self.values(series))))
            self._cumsums[series] = cs
        i, j = self.rows(start, end)
        return float(cs[j] - cs[i])

    def window_mean(self, series: str, start: date, end: date) -> float:
        i, j = self.rows(start, end)
        if j <= i:
            return math.nan
        return self.window_sum(series, start, end) / (j - i)

    def window_slope_per_year(self, series: str, start: date, end: date) -> float:
        """OLS slope of the daily series over the window, in units per day per year."""
        i, j = self.rows(start, end)
        if j - i < 2:
            return math.nan
        x = (self.dates[i:j] - self.dates[i]).astype(float)
        y = self.values(series)[i:j]
        dx = x - x.mean()
        denom = float(dx @ dx)
        if denom == 0.0:
            return math.nan
        return float(dx @ (y - y.mean())) / denom * _DAYS_PER_YEAR


def _day_array(column: pd.Series) -> np.ndarray:
    """Dates as ``datetime64[D]``; ISO strings take numpy's fast parser."""
    if column.dtype.kind == "M":
        return column.to_numpy().astype("datetime64[D]")
    try:
        return column.to_numpy(dtype=object).astype("datetime64[D]")
    except (ValueError, TypeError):
        return pd.to_datetime(column).to_numpy().astype("datetime64[D]")


def _as_trajectory(df: pd.DataFrame | Trajectory, scale: float) -> Trajectory:
    if isinstance(df, Trajectory):
        if df.scale != float(scale):
            raise ValueError(f"trajectory was prepared with scale {df.scale}, not {scale}")
        return df
    return Trajectory(df, scale)


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
    #: inputs (population, leaders moved) rather than outcomes.
    weight: float = 1.0

    @property
    def days(self) -> int:
        """Length of the window in days, both ends included."""
        return (self.end - self.start).days + 1

    def simulated(self, df: pd.DataFrame | Trajectory, scale: float = 1.0) -> float | None:
        """The simulated counterpart of this figure, in national units.

        None when the window (or the reference window of a ratio) is not fully inside
        the simulated dates. For a trend it is the OLS slope per year; for a ratio
        whose reference window is empty of events it is NaN.
        """
        run = _as_trajectory(df, scale)
        if not run.covers(self.start, self.end):
            return None
        if self.kind in ("total", "lower_bound_total"):
            return run.window_sum(self.series, self.start, self.end)
        if self.kind in ("mean", "lower_bound_mean", "level"):
            return run.window_mean(self.series, self.start, self.end)
        if self.kind == "trend":
            return run.window_slope_per_year(self.series, self.start, self.end)
        if self.kind == "ratio":
            if self.ref_start is None or self.ref_end is None:
                raise ValueError(f"figure {self.id!r}: a ratio needs ref_start and ref_end")
            if not run.covers(self.ref_start, self.ref_end):
                return None
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
        return relative

    def is_within(self, error: float | None) -> bool | None:
        if error is None:
            return None
        if self.kind in ("trend", "lower_bound_total", "lower_bound_mean"):
            return error == 0.0
        return abs(error) <= self.tolerance


# ---------------------------------------------------------------- loading the csv


def _parse_date(text: str, fig_id: str, column: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"reported figure {fig_id!r}: column {column!r}: {text!r} is not an ISO date"
        ) from None


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

    if any(row.get(c) is None for c in _COLUMNS) or ("weight" in row and row["weight"] is None):
        raise bad("note", "too few fields in the row")
    series = row["series"].strip()
    if series not in SERIES:
        raise bad("series", f"unknown series {series!r} (expected one of {sorted(SERIES)})")
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
    )


def _parse_csv(text: str) -> tuple[ReportedFigure, ...]:
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header not in (_COLUMNS, _COLUMNS_WEIGHTED):
        raise ValueError(f"reported figures: header is {','.join(header)!r}, "
                         f"expected {','.join(_COLUMNS_WEIGHTED)!r} (weight optional)")
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


@lru_cache(maxsize=1)
def _packaged_figures() -> tuple[ReportedFigure, ...]:
    # Parsed once per process: calibration compares thousands of runs.
    text = resources.files(__package__ or "sim").joinpath("data", "reported.csv").read_text(encoding="utf-8")
    return _parse_csv(text)


def load_reported(path: str | os.PathLike[str] | None = None) -> list[ReportedFigure]:
    """Read the reported figures; by default the copy packaged with ``sim``.

    Raises ValueError with a one-line message naming the row id and the column for a
    malformed row (unknown series or kind, bad date, end before start, ...).
    """
    if path is None:
        return list(_packaged_figures())
    return list(_parse_csv(Path(path).read_text(encoding="utf-8")))


#: The packaged reported figures, as error messages name them.
REPORTED_CSV = "sim/data/reported.csv"


def check_reported() -> list[ReportedFigure]:
    """The packaged reported figures, or a ConfigError in one line naming the file. The apps
    that compare runs with them call it before they run or write anything: a run would
    otherwise be lost once it finished."""
    from sim.config import ConfigError

    try:
        return load_reported()
    except FileNotFoundError:
        raise ConfigError(f"{REPORTED_CSV}: the file is missing; accepted: the reported "
                          "figures, one row per figure of REPORTED.md") from None
    except (OSError, ValueError, csv.Error) as exc:  # unreadable, not UTF-8, malformed rows
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{REPORTED_CSV}: {first}; accepted: the columns and values "
                          "load_reported reads (sim/observation.py)") from None


# ---------------------------------------------------------------- fitting


def _json_number(x: float | None) -> float | None:
    # JSON has no NaN or infinity; an undefined number is written as null.
    if x is None or not math.isfinite(x):
        return None
    return float(x)


@dataclass(frozen=True)
class FigureFit:
    """One reported figure with its simulated counterpart.

    ``simulated``, ``error`` and ``within`` are None when the figure's window is not
    inside the run, and the figure then counts for nothing in the score.
    """

    figure: ReportedFigure
    simulated: float | None
    error: float | None
    within: bool | None
    #: Half-deviance under the figure's likelihood (sim.likelihood); None if not compared.
    deviance: float | None = None
    #: Squared miss beyond the tolerance band (sim.likelihood.tolerance_excess); 0 inside it.
    excess: float | None = None

    @property
    def compared(self) -> bool:
        return self.error is not None

    def to_dict(self) -> dict[str, Any]:
        f = self.figure
        out: dict[str, Any] = {
            "series": f.series,
            "kind": f.kind,
            "window": [f.start.isoformat(), f.end.isoformat()],
            "reported": f.value,
            "simulated": _json_number(self.simulated),
            "error": _json_number(self.error),
            "tolerance": f.tolerance,
            "within": self.within,
            "deviance": _json_number(self.deviance),
            "weight": f.weight,
            "source": f.source,
        }
        if f.ref_start is not None and f.ref_end is not None:
            out["ref_window"] = [f.ref_start.isoformat(), f.ref_end.isoformat()]
        return out


@dataclass(frozen=True)
class Fit:
    """All figure fits of one run: its score (RMS of the compared relative errors) and its
    loss (weighted sum of half-deviances, what calibration minimises); lower is better."""

    rows: tuple[FigureFit, ...]
    score: float
    scale: float = 1.0
    loss: float = math.nan
    #: weighted sum of the figures' squared misses beyond their tolerance bands
    excess: float = math.nan
    by_id: dict[str, FigureFit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {r.figure.id: r for r in self.rows})

    def __getitem__(self, fig_id: str) -> FigureFit:
        return self.by_id[fig_id]

    @property
    def n_compared(self) -> int:
        return sum(r.compared for r in self.rows)

    @property
    def n_within(self) -> int:
        return sum(bool(r.within) for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: per-figure entries keyed by id, and the overall score."""
        return {
            "score": _json_number(self.score),
            "loss": _json_number(self.loss),
            "excess": _json_number(self.excess),
            "n_compared": self.n_compared,
            "n_within": self.n_within,
            "scale": self.scale,
            "figures": {r.figure.id: r.to_dict() for r in self.rows},
        }

    def table(self) -> str:
        """A compact aligned text table for a terminal."""
        header = ("figure", "reported", "simulated", "error %", "deviance", "ok")
        lines = [header]
        for r in self.rows:
            lines.append(
                (
                    r.figure.id,
                    _format_reported(r.figure),
                    _format_simulated(r.figure, r.simulated),
                    "-" if r.error is None else f"{100.0 * r.error:+.1f}",
                    "-" if r.deviance is None else f"{r.deviance:.2f}",
                    "-" if r.within is None else ("ok" if r.within else "MISS"),
                )
            )
        widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
        text = [
            "  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(line, widths)))
            for line in lines
        ]
        text.insert(1, "  ".join("-" * w for w in widths))
        score = "n/a" if math.isnan(self.score) else f"{self.score:.3f}"
        loss = "n/a" if math.isnan(self.loss) else f"{self.loss:.2f}"
        text.append(f"score (RMS error) {score}; loss {loss}; {self.n_within}/{self.n_compared} "
                    f"within tolerance; scale {self.scale:g}")
        return "\n".join(text)


def _format_number(x: float) -> str:
    if x == round(x) or abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _format_reported(f: ReportedFigure) -> str:
    if f.kind == "trend":
        return "rising" if f.value > 0 else "falling"
    text = _format_number(f.value)
    if f.kind in ("mean", "lower_bound_mean"):
        text += "/day"
    return (">= " + text) if f.kind.startswith("lower_bound") else text


def _format_simulated(f: ReportedFigure, simulated: float | None) -> str:
    if simulated is None:
        return "-"
    if math.isnan(simulated):
        return "undefined"
    if f.kind == "trend":
        return f"{simulated:+.3g}/day/yr"
    text = _format_number(simulated)
    return text + "/day" if f.kind in ("mean", "lower_bound_mean") else text


def compare(
    df: pd.DataFrame | Trajectory,
    scale: float = 1.0,
    figures: Iterable[ReportedFigure] | None = None,
) -> Fit:
    """Compare a simulated daily table with the reported figures (default: all packaged ones)."""
    run = _as_trajectory(df, scale)
    chosen: Sequence[ReportedFigure] = _packaged_figures() if figures is None else tuple(figures)
    return fit_values(chosen, [figure.simulated(run, scale) for figure in chosen], scale)


def fit_values(
    figures: Sequence[ReportedFigure], simulated: Sequence[float | None], scale: float = 1.0
) -> Fit:
    """A Fit from simulated values already reduced per figure (e.g. a mean over seeds)."""
    from sim.likelihood import half_deviance, tolerance_excess

    rows: list[FigureFit] = []
    for figure, value in zip(figures, simulated, strict=True):
        error = figure.error(value)
        rows.append(FigureFit(figure, value, error, figure.is_within(error), half_deviance(figure, value),
                              tolerance_excess(figure, value)))
    errors = np.array([r.error for r in rows if r.error is not None], dtype=float)
    score = float(np.sqrt(np.mean(errors**2))) if errors.size else math.nan
    losses = [r.figure.weight * r.deviance for r in rows if r.deviance is not None]
    loss = float(sum(losses)) if losses else math.nan
    excesses = [r.figure.weight * r.excess for r in rows if r.excess is not None]
    excess = float(sum(excesses)) if excesses else math.nan
    return Fit(rows=tuple(rows), score=score, scale=float(scale), loss=loss, excess=excess)


def write_fit_json(fit: Fit, path: str | os.PathLike[str]) -> None:
    """Write ``fit.to_dict()`` as JSON, atomically: readers never see half a file."""
    target = Path(path)
    text = json.dumps(fit.to_dict(), indent=2, allow_nan=False) + "\n"
    # A unique name opened normally (not mkstemp, which makes the file 0600 whatever the umask).
    tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
