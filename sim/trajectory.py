"""A simulated daily table prepared once for many window look-ups.

Calibration reduces thousands of runs to their reported figures, so a run's daily table is
converted once into a :class:`Trajectory` (a date array plus cumulative sums) and every window
is then two ``searchsorted`` look-ups.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from sim.dates import Period

__all__ = ["DERIVED_SERIES", "Trajectory", "as_trajectory", "columns_of"]

_DAYS_PER_YEAR = 365.25

#: Series a figure may compare that a run does not write: each is the sum of written ones.
DERIVED_SERIES: dict[str, tuple[str, ...]] = {
    "gang_members": ("gang_members_street", "gang_members_prison"),  # officials count both
}


def columns_of(series: str) -> tuple[str, ...]:
    """The written columns a series is read from: itself, or the parts of a derived series."""
    return DERIVED_SERIES.get(series, (series,))


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
        #: The simulated dates, first to last; None for a table without (valid) dates.
        ends = self.dates[[0, -1]] if len(self.dates) else None
        self.period: Period | None = (None if ends is None or np.isnat(ends).any()
                                      else Period(ends[0].item(), ends[1].item()))
        self._df = df
        self._order = order
        self._values: dict[str, np.ndarray] = {}
        self._cumsums: dict[str, np.ndarray] = {}

    def covers(self, start: date, end: date) -> bool:
        """True when the window [start, end] lies fully inside the simulated dates."""
        return self.period is not None and self.period.covers(start, end)

    def values(self, series: str) -> np.ndarray:
        """Daily values of ``series`` in national units (divided by scale)."""
        cached = self._values.get(series)
        if cached is None:
            parts = (series,) if series in self._df.columns else columns_of(series)
            for part in parts:
                if part not in self._df.columns:
                    raise ValueError(f"the simulated table has no {part!r} column")
            raw = sum(self._df[part].to_numpy(dtype=float) for part in parts)
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


def as_trajectory(df: pd.DataFrame | Trajectory, scale: float) -> Trajectory:
    if isinstance(df, Trajectory):
        if df.scale != float(scale):
            raise ValueError(f"trajectory was prepared with scale {df.scale}, not {scale}")
        return df
    return Trajectory(df, scale)
