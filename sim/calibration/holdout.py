"""Hold-out validation: fit the figures before a date, forecast the ones after it.

A figure is *fitted* when its window (and a ratio's reference window) ends before the split
date, *held out* when it starts on or after it, and left out of both when it straddles the
date; a nested figure goes with the figures that enclose it (its share of them is what is
scored), so a split never leaves a share without its total. Held-out figures are scored on an ensemble of calibrated runs:

- coverage of the 50 % and 90 % central intervals;
- the interval score of Gneiting & Raftery (2007) and the CRPS of the ensemble
  (``scoringrules.crps_ensemble``), both relative to the reported value;
- two naive forecasts, scored the same way (the CRPS of a point forecast is its absolute
  error): the last fitted level of the series carried forward (``naive``), and the same
  window a year before (``naive_year``: a fitted figure of the series whose window is this one
  shifted back a year, per day). The skill ``1 - CRPS / CRPS_naive`` is positive when the
  model beats the baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

import numpy as np
import pandas as pd

from sim.compare import covered, nan_quantiles
from sim.reported import ReportedFigure

#: Quantiles of an ensemble kept per figure: 90 % and 50 % central intervals and the median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class Split:
    fitted: tuple[ReportedFigure, ...]
    held_out: tuple[ReportedFigure, ...]
    straddling: tuple[ReportedFigure, ...]


def split(figures: Sequence[ReportedFigure], after: date | None) -> Split:
    """Figures to fit, to hold out, and neither. Without a date every figure is fitted."""
    if after is None:
        return Split(tuple(figures), (), ())
    by_id = {f.id: f for f in figures}

    def group(f: ReportedFigure) -> list[ReportedFigure]:
        return [f, *(by_id[i] for i in f.nested_in if i in by_id)]

    fitted = tuple(f for f in figures if max(g.last_day for g in group(f)) < after)
    held = tuple(f for f in figures if min(g.first_day for g in group(f)) >= after)
    rest = tuple(f for f in figures if f not in fitted and f not in held)
    return Split(fitted, held, rest)


_TOTALS = ("total", "lower_bound_total", "upper_bound_total")  # kinds whose value is a window's sum


def _per_day(figure: ReportedFigure) -> float:
    """The figure's value as a rate a day (a stock's level or a mean as is)."""
    return figure.value / figure.days if figure.kind in _TOTALS else figure.value


def _in_units(figure: ReportedFigure, rate: float) -> float:
    """A rate a day in the figure's own units (a window's sum for a total)."""
    return rate * figure.days if figure.kind in _TOTALS else rate


def naive_forecast(figure: ReportedFigure, fitted: Sequence[ReportedFigure]) -> float | None:
    """The last fitted level of the figure's series carried forward, in the figure's units.

    The level is the per-day rate of the fitted figure of that series with the latest end
    (a stock's level as is). None when no fitted figure of the series gives a level, or for
    a trend (a carried-forward level has no direction).
    """
    levels = [f for f in fitted if f.series == figure.series and f.kind not in ("trend", "ratio")]
    if not levels or figure.kind == "trend":
        return None
    last = max(levels, key=lambda f: (f.end, f.start))
    if figure.kind == "ratio":  # the same rate in both windows: the ratio of their lengths
        return figure.days / ((figure.ref_end - figure.ref_start).days + 1)
    return _in_units(figure, _per_day(last))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def naive_year(figure: ReportedFigure, fitted: Sequence[ReportedFigure]) -> float | None:
    """The same window a year before, per day, in the figure's units; None if no fitted figure
    of the series covers exactly that window (or for a trend or a ratio)."""
    if figure.kind in ("trend", "ratio"):
        return None
    start, end = _year_before(figure.start), _year_before(figure.end)  # 29 February: the 28th
    for f in fitted:
        if f.series == figure.series and f.start == start and f.end == end and f.kind not in ("trend", "ratio"):
            return _in_units(figure, _per_day(f))
    return None


def crps(figure: ReportedFigure, values: np.ndarray) -> float:
    """The ensemble's CRPS relative to the reported value; NaN for a bound or a trend, which
    state no value to score against, or with no finite run."""
    values = values[np.isfinite(values)]
    if figure.kind == "trend" or "bound" in figure.kind or not values.size:
        return math.nan
    import scoringrules

    return float(scoringrules.crps_ensemble(np.float64(figure.value), values)) / abs(figure.value)


def interval_score(lo: float, hi: float, y: float, alpha: float) -> float:
    """Gneiting-Raftery score of the central (1 - alpha) interval [lo, hi] for observation y."""
    return (hi - lo) + 2.0 / alpha * max(lo - y, 0.0) + 2.0 / alpha * max(y - hi, 0.0)


def _abs_error(figure: ReportedFigure, value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or figure.kind == "trend":
        return None  # a trend is a direction: scored by coverage only
    if figure.kind.startswith("lower_bound") and value >= figure.value:
        return 0.0
    if figure.kind.startswith("upper_bound") and value <= figure.value:
        return 0.0
    return abs(value / figure.value - 1.0)


def score(held_out: Sequence[ReportedFigure], per_run: np.ndarray,
          fitted: Sequence[ReportedFigure]) -> pd.DataFrame:
    """One row per held-out figure scored on `per_run` (runs x held-out figures).

    Columns: id, kind, reported, q05, q25, median, q75, q95, in_50, in_90, interval_score
    (90 %, relative to the reported value), crps (relative), model_error and naive_error
    (absolute relative errors of the median and of the naive forecast), naive, model_better,
    naive_year and naive_year_error, and the CRPS skills against both baselines.
    """
    rows = []
    _, qs = nan_quantiles(per_run.T, QUANTILES) if per_run.size else (None, np.full((len(held_out), 5), np.nan))
    for k, f in enumerate(held_out):
        q05, q25, q50, q75, q95 = (float(x) for x in qs[k])
        naive = naive_forecast(f, fitted)
        model_error, naive_error = _abs_error(f, q50), _abs_error(f, naive)
        year = naive_year(f, fitted)
        year_error = _abs_error(f, year)
        score_ = crps(f, per_run[:, k]) if per_run.size else math.nan
        valued = f.kind not in ("trend",) and math.isfinite(q05)
        rows.append({
            "id": f.id, "series": f.series, "kind": f.kind, "reported": f.value,
            "q05": q05, "q25": q25, "median": q50, "q75": q75, "q95": q95,
            "in_50": covered(f, q25, q75), "in_90": covered(f, q05, q95),
            "interval_score": (interval_score(q05, q95, f.value, 0.1) / abs(f.value)
                               if valued and "bound" not in f.kind else math.nan),
            "model_error": model_error, "naive": naive, "naive_error": naive_error,
            "model_better": (None if model_error is None or naive_error is None
                             else bool(model_error < naive_error)),
            "crps": score_, "naive_year": year, "naive_year_error": year_error,
            "skill_naive": _skill(score_, naive_error), "skill_naive_year": _skill(score_, year_error),
        })
    return pd.DataFrame(rows)


def _skill(model_crps: float, naive_abs_error: float | None) -> float:
    """1 - CRPS / CRPS of the point forecast (its absolute error); NaN if either is missing."""
    if naive_abs_error is None or not math.isfinite(model_crps) or naive_abs_error <= 0:
        return math.nan
    return 1.0 - model_crps / naive_abs_error


def mean_crps(table: pd.DataFrame, baseline: str) -> tuple[float, float, int]:
    """Mean relative CRPS of the model and of a baseline (``naive`` or ``naive_year``) over the
    figures where both are scored, and their number."""
    both = table.dropna(subset=["crps", f"{baseline}_error"])
    if both.empty:
        return math.nan, math.nan, 0
    return float(both["crps"].mean()), float(both[f"{baseline}_error"].mean()), len(both)


def verdict(table: pd.DataFrame) -> str:
    """One plain sentence: does the model beat the naive baseline on the held-out figures?"""
    both = table.dropna(subset=["model_error", "naive_error"])
    if both.empty:
        return "No held-out figure has both a model and a naive forecast; no verdict."
    m, n = both["model_error"].mean(), both["naive_error"].mean()
    wins = int(both["model_better"].sum())
    word = "beats" if m < n else "does not beat"
    text = (f"The model {word} the naive baseline: mean absolute error {100 * m:.0f}% against "
            f"{100 * n:.0f}%, better on {wins} of {len(both)} held-out figures.")
    if "crps" in table:
        for baseline, name in (("naive", "the last level"), ("naive_year", "the same window a year before")):
            model, naive, count = mean_crps(table, baseline)
            if count:
                text += (f" Mean relative CRPS {100 * model:.0f}% against {100 * naive:.0f}% for {name} "
                         f"({count} figures).")
    return text
