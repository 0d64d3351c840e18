"""Compare a simulated daily trajectory with the figures reported in the seed articles.

:func:`compare` turns a run's daily table into a :class:`Fit`: one :class:`FigureFit` per
reported figure (sim.reported) with its simulated value, relative error and likelihood
(sim.likelihood), and one overall score, the root mean square of the relative errors.
A run can be passed as a :class:`sim.trajectory.Trajectory` prepared once for many look-ups.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from sim.io import write_text
from sim.likelihood import EVENT_SERIES, half_deviance, share_half_deviance, tolerance_excess
from sim.reported import ReportedFigure, packaged_figures
from sim.trajectory import Trajectory, as_trajectory

__all__ = ["FigureFit", "Fit", "compare", "fit_values", "write_fit_json"]


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
    if f.kind in ("mean", "lower_bound_mean") and f.series in EVENT_SERIES:
        text += "/day"
    if f.kind.startswith("upper_bound"):
        return "<= " + text
    return (">= " + text) if f.kind.startswith("lower_bound") else text


def _format_simulated(f: ReportedFigure, simulated: float | None) -> str:
    if simulated is None:
        return "-"
    if math.isnan(simulated):
        return "undefined"
    if f.kind == "trend":
        return f"{simulated:+.3g}/day/yr"
    text = _format_number(simulated)
    return text + "/day" if f.kind in ("mean", "lower_bound_mean") and f.series in EVENT_SERIES else text


def compare(
    df: pd.DataFrame | Trajectory,
    scale: float = 1.0,
    figures: Iterable[ReportedFigure] | None = None,
) -> Fit:
    """Compare a simulated daily table with the reported figures (default: all packaged ones)."""
    run = as_trajectory(df, scale)
    chosen: Sequence[ReportedFigure] = packaged_figures() if figures is None else tuple(figures)
    return fit_values(chosen, [figure.simulated(run, scale) for figure in chosen], scale)


def fit_values(
    figures: Sequence[ReportedFigure], simulated: Sequence[float | None], scale: float = 1.0
) -> Fit:
    """A Fit from simulated values already reduced per figure (e.g. a mean over seeds)."""
    rows: list[FigureFit] = []
    values = dict(zip((f.id for f in figures), simulated, strict=True))
    by_id = {f.id: f for f in figures}
    for figure, value in zip(figures, simulated, strict=True):
        error = figure.error(value)
        rows.append(FigureFit(figure, value, error, figure.is_within(error),
                              _deviance(figure, value, values, by_id), tolerance_excess(figure, value)))
    errors = np.array([r.error for r in rows if r.error is not None], dtype=float)
    score = float(np.sqrt(np.mean(errors**2))) if errors.size else math.nan
    losses = [r.figure.weight * r.deviance for r in rows if r.deviance is not None]
    loss = float(sum(losses)) if losses else math.nan
    excesses = [r.figure.weight * r.excess for r in rows if r.excess is not None]
    excess = float(sum(excesses)) if excesses else math.nan
    return Fit(rows=tuple(rows), score=score, scale=float(scale), loss=loss, excess=excess)


def _deviance(figure: ReportedFigure, value: float | None, values: dict[str, float | None],
              by_id: dict[str, ReportedFigure]) -> float | None:
    """The figure's half-deviance; a nested figure's is that of its share of the enclosing
    figures, or its own when they are not all compared and simulated (a run that ends inside
    a total's window): then nothing is counted twice."""
    if not figure.nested_in or value is None:
        return half_deviance(figure, value)
    outer = [values.get(i) for i in figure.nested_in]
    if any(v is None for v in outer):
        # the total is outside the run or not among the figures compared: nothing is counted
        # twice, and the figure stands alone
        return half_deviance(figure, value)
    return share_half_deviance(figure, value, sum(by_id[i].as_total(v) for i, v in zip(figure.nested_in, outer)),
                               sum(by_id[i].window_days_total for i in figure.nested_in))


def write_fit_json(fit: Fit, path: str | os.PathLike[str]) -> None:
    """Write ``fit.to_dict()`` as JSON, atomically: readers never see half a file."""
    write_text(path, json.dumps(fit.to_dict(), indent=2, allow_nan=False) + "\n")
