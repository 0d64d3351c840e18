"""Running the samples of an analysis: seeds x parameter sets on a process pool."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Mapping, Sequence

from sim.config import Config
from sim.sensitivity.config import LOSS, LOSS_GROUPS
from sim.sensitivity.design import loss_figures, run_period


def simulation_config(cfg: Any) -> Config:
    """The plain simulation Config inside a SensitivityConfig (lighter to send to workers)."""
    return Config(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config)})


class Evaluator:
    """Runs parameter sets (seeds x samples) on a process pool, reduced to the outputs."""

    def __init__(self, base: Config, windows: Sequence, seeds: Sequence[int], scale: float,
                 workers: int, log_loss: bool = False) -> None:
        self.log_loss = bool(log_loss)
        self.base = base
        self.loss_figures = loss_figures()
        self.windows = list(windows)
        self.figures = tuple(self.loss_figures) + tuple(self.windows)
        # each group's figures as positions among the loss figures (a share's total is of its series)
        run = run_period(base)
        self.groups = {name: [k for k, f in enumerate(self.loss_figures) if f.series in series]
                       for name, series in LOSS_GROUPS.items()}
        self.groups = {name: idx for name, idx in self.groups.items()  # with a figure in the run
                       if any(run.covers(self.loss_figures[k].first_day, self.loss_figures[k].last_day)
                              for k in idx)}
        self.outputs = [LOSS, *self.groups] + [w.id for w in self.windows]
        self.seeds = list(seeds)
        self.scale = float(scale)
        self.workers = int(workers)
        self.runs = 0
        self._pool = None

    def __enter__(self) -> "Evaluator":
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: no fork of a process that already has threads (tqdm's monitor, the pool's)
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def evaluate(self, samples: Sequence[Mapping[str, float]], desc: str,
                 offsets: Sequence[int] | None = None) -> "np.ndarray":
        """samples x outputs: the loss of the seed-mean figures, and seed-mean homicides/day.

        Every sample runs with the same seeds (common random numbers) unless `offsets` shifts
        the seeds of each sample (replicates of one point for the noise level)."""
        import warnings

        import numpy as np
        from tqdm import tqdm

        from sim.calibration.objective import fit_of, simulate_figures

        n_seeds, n_loss = len(self.seeds), len(self.loss_figures)
        raw = np.full((len(samples), n_seeds, len(self.figures)), np.nan)
        tasks = [(i, j) for i in range(len(samples)) for j in range(n_seeds)]
        offsets = [0] * len(samples) if offsets is None else list(offsets)
        seed = {(i, j): self.seeds[j] + offsets[i] for i, j in tasks}
        bar = tqdm(total=len(tasks), desc=desc, unit="run", file=sys.stderr, mininterval=1.0,
                   dynamic_ncols=True)
        try:
            if self._pool is None:
                for i, j in tasks:
                    raw[i, j] = simulate_figures(self.base, samples[i], seed[i, j],
                                                 self.scale, self.figures)
                    bar.update()
            else:
                from concurrent.futures import as_completed

                futures = {self._pool.submit(simulate_figures, self.base, dict(samples[i]),
                                             seed[i, j], self.scale, self.figures): (i, j)
                           for i, j in tasks}
                for future in as_completed(futures):
                    i, j = futures[future]
                    try:
                        raw[i, j] = future.result()
                    except Exception as exc:
                        raise RuntimeError(f"{desc}: the run of sample {i} seed "
                                           f"{seed[i, j]} failed ({samples[i]})") from exc
                    bar.update()
        finally:
            bar.close()
        self.runs += len(tasks)
        out = np.empty((len(samples), len(self.outputs)))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # figures outside the run: NaN
            n_groups = len(self.groups)
            for i in range(len(samples)):
                out[i, 0] = fit_of(self.loss_figures, raw[i, :, :n_loss]).loss
                for g, idx in enumerate(self.groups.values(), start=1):
                    out[i, g] = fit_of([self.loss_figures[k] for k in idx], raw[i][:, idx]).loss
                out[i, 1 + n_groups:] = np.nanmean(raw[i, :, n_loss:], axis=0)
            if self.log_loss:  # a loss is >= 0; a perfect 0 is floored at 1e-3
                out[:, :1 + n_groups] = np.log10(np.maximum(out[:, :1 + n_groups], 1e-3))
        return out
