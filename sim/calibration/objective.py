"""The calibration objective: parameter values -> simulated figures -> one loss.

A trial runs the model once per seed (the same seeds for every trial: common random numbers),
reduces each run to one simulated value per target figure, averages those over the seeds and
scores the averages with :func:`sim.observation.fit_values` (negative-binomial / log-normal
half-deviances, see :mod:`sim.likelihood`). Runs are spread over worker processes.
"""

from __future__ import annotations

import copy
import math
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.calibration.space import Parameter, set_value
from sim.config import Config
from sim.observation import Fit, fit_values
from sim.reported import ReportedFigure
from sim.trajectory import Trajectory


def configure(base: Config, values: Mapping[str, float], seed: int, scale: float) -> Config:
    """A copy of `base` with the parameter values, seed and scale set."""
    cfg = copy.deepcopy(base)
    for key, value in values.items():
        set_value(cfg, key, value)
    cfg.seed = int(seed)
    cfg.model.scale = float(scale)
    cfg.output.progress = False
    cfg.output.figures = False
    return cfg


def run_series(base: Config, values: Mapping[str, float], seed: int, scale: float) -> pd.DataFrame:
    """One run's daily table (model units: divide counts by `scale` for national units)."""
    from sim.model import GangViolenceModel

    return GangViolenceModel(configure(base, values, seed, scale)).run()


def figure_values(run: Trajectory, figures: Sequence[ReportedFigure]) -> np.ndarray:
    """A run's simulated value per figure (NaN where a window is not simulated)."""
    out = np.full(len(figures), np.nan)
    for i, figure in enumerate(figures):
        value = figure.simulated(run, run.scale)
        if value is not None:
            out[i] = value
    return out


def simulate_figures(base: Config, values: Mapping[str, float], seed: int, scale: float,
                     figures: Sequence[ReportedFigure]) -> np.ndarray:
    """One run reduced to its simulated value per figure (NaN where a window is not simulated)."""
    return figure_values(Trajectory(run_series(base, values, seed, scale), scale), figures)


def _simulate_task(args: tuple) -> np.ndarray:
    return simulate_figures(*args)


def fit_of(figures: Sequence[ReportedFigure], per_seed: np.ndarray, scale: float = 1.0) -> Fit:
    """The Fit of the seed-mean of `per_seed` (seeds x figures)."""
    with np.errstate(all="ignore"):
        mean = np.nanmean(per_seed, axis=0) if per_seed.size else np.array([])
    values = [None if not math.isfinite(v) else float(v) for v in mean]
    return fit_values(figures, values, scale)


def objective_loss(fit: Fit, tolerance_weight: float = 0.0) -> float:
    """What the search minimises: the likelihood loss, plus `tolerance_weight` times the
    figures' squared misses beyond their tolerance bands when the calibration asks for it."""
    if tolerance_weight > 0:
        return fit.loss + tolerance_weight * fit.excess
    return fit.loss


@dataclass
class TrialResult:
    values: dict[str, float]
    per_seed: np.ndarray  # seeds x figures
    fit: Fit
    tolerance_weight: float = 0.0

    @property
    def loss(self) -> float:
        return objective_loss(self.fit, self.tolerance_weight)


class Objective:
    """Evaluates parameter sets against `figures`, `len(seeds)` runs each, at `scale`."""

    def __init__(self, base: Config, parameters: Sequence[Parameter], figures: Sequence[ReportedFigure],
                 seeds: Sequence[int], scale: float, workers: int = 1,
                 tolerance_weight: float = 0.0) -> None:
        self.base = base
        self.tolerance_weight = float(tolerance_weight)
        self.parameters = list(parameters)
        self.figures = tuple(figures)
        self.seeds = list(seeds)
        self.scale = float(scale)
        self.workers = int(workers)
        self._pool: Executor | None = None

    def __enter__(self) -> "Objective":
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(self.workers)
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def evaluate(self, batch: Iterable[Mapping[str, float]], seeds: Sequence[int] | None = None,
                 item_seeds: Sequence[Sequence[int]] | None = None) -> list[TrialResult]:
        """Evaluate parameter sets (all runs of the batch share the worker pool), on the
        objective's seeds, on `seeds`, or each set on its own `item_seeds` (equally many)."""
        batch = [dict(v) for v in batch]
        if item_seeds is None:
            item_seeds = [self.seeds if seeds is None else list(seeds)] * len(batch)
        tasks = [(self.base, v, int(seed), self.scale, self.figures)
                 for v, own in zip(batch, item_seeds) for seed in own]
        mapper = self._pool.map if self._pool is not None else map
        rows = list(mapper(_simulate_task, tasks))
        n = len(item_seeds[0]) if len(item_seeds) else 0
        results = []
        for k, values in enumerate(batch):
            per_seed = np.vstack(rows[k * n:(k + 1) * n]) if n else np.empty((0, len(self.figures)))
            results.append(TrialResult(values, per_seed, fit_of(self.figures, per_seed),
                                       self.tolerance_weight))
        return results


def simulate_for_report(base: Config, values: Mapping[str, float], seed: int, scale: float,
                        figures: Sequence[ReportedFigure]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One run as (simulated value per figure, dates, daily homicides in national units)."""
    run = Trajectory(run_series(base, values, seed, scale), scale)
    return figure_values(run, figures), run.dates, run.values("homicides").astype(np.float32)


def _report_task(args: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return simulate_for_report(*args)


def ensemble(base: Config, members: Sequence[tuple[Mapping[str, float], int]], scale: float,
             figures: Sequence[ReportedFigure], workers: int = 1,
             progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of (values, seed) members: (members x figures, dates, members x days homicides)."""
    tasks = [(base, dict(v), int(s), scale, tuple(figures)) for v, s in members]
    rows = []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for row in pool.map(_report_task, tasks):
                rows.append(row)
                if progress is not None:
                    progress(1)
    else:
        for task in tasks:
            rows.append(_report_task(task))
            if progress is not None:
                progress(1)
    per_run = np.vstack([r[0] for r in rows])
    return per_run, rows[0][1], np.vstack([r[2] for r in rows])
