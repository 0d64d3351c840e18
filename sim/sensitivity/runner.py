"""Running the samples of an analysis: seeds x parameter sets on a process pool."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Mapping, Sequence

from sim.config import Config
from sim.sensitivity.config import LOSS, LOSS_GROUPS
from sim.sensitivity.design import Answer, loss_figures, run_period


def simulation_config(cfg: Any) -> Config:
    """The plain simulation Config inside a SensitivityConfig (lighter to send to workers)."""
    return Config(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config)})


class Evaluator:
    """Runs parameter sets (seeds x samples) on a process pool, reduced to the outputs."""

    def __init__(self, base: Config, windows: Sequence, seeds: Sequence[int], scale: float,
                 workers: int, log_loss: bool = False, answers: Sequence[Answer] = (),
                 relative_answers: bool = False) -> None:
        self.log_loss = bool(log_loss)
        self.relative_answers = bool(relative_answers)
        self.base = base
        self.loss_figures = loss_figures()
        self.windows = list(windows)
        self.answers = list(answers)
        # the analysed run is reduced to its answers' windows too: each answer is the paired
        # difference of the counterfactual's window and this one
        self.figures = (tuple(self.loss_figures) + tuple(self.windows)
                        + tuple(a.window for a in self.answers))
        # each group's figures as positions among the loss figures (a share's total is of its series)
        run = run_period(base)
        self.groups = {name: [k for k, f in enumerate(self.loss_figures) if f.series in series]
                       for name, series in LOSS_GROUPS.items()}
        self.groups = {name: idx for name, idx in self.groups.items()  # with a figure in the run
                       if any(run.covers(self.loss_figures[k].first_day, self.loss_figures[k].last_day)
                              for k in idx)}
        self.outputs = [LOSS, *self.groups] + [w.id for w in self.windows] + [a.name for a in self.answers]
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

        n_seeds, n_loss, n_answers = len(self.seeds), len(self.loss_figures), len(self.answers)
        raw = np.full((len(samples), n_seeds, len(self.figures)), np.nan)
        counter = np.full((len(samples), n_seeds, n_answers), np.nan)  # the counterfactuals' windows
        # a task: sample i, seed j, and the analysed scenario (a = -1) or answer a's counterfactual
        tasks = [(i, j, a) for i in range(len(samples)) for j in range(n_seeds) for a in range(-1, n_answers)]
        offsets = [0] * len(samples) if offsets is None else list(offsets)
        seed = {(i, j): self.seeds[j] + offsets[i] for i in range(len(samples)) for j in range(n_seeds)}

        def job(i: int, j: int, a: int) -> tuple:
            if a < 0:
                return self.base, dict(samples[i]), seed[i, j], self.scale, self.figures
            return self.answers[a].config, dict(samples[i]), seed[i, j], self.scale, (self.answers[a].window,)

        def store(i: int, j: int, a: int, values) -> None:
            if a < 0:
                raw[i, j] = values
            else:
                counter[i, j, a] = values[0]

        bar = tqdm(total=len(tasks), desc=desc, unit="run", file=sys.stderr, mininterval=1.0,
                   dynamic_ncols=True)
        try:
            if self._pool is None:
                for i, j, a in tasks:
                    store(i, j, a, simulate_figures(*job(i, j, a)))
                    bar.update()
            else:
                from concurrent.futures import as_completed

                futures = {self._pool.submit(simulate_figures, *job(i, j, a)): (i, j, a)
                           for i, j, a in tasks}
                for future in as_completed(futures):
                    i, j, a = futures[future]
                    try:
                        store(i, j, a, future.result())
                    except Exception as exc:
                        which = "" if a < 0 else f" under {self.answers[a].config.scenario.name} ({self.answers[a].name})"
                        raise RuntimeError(f"{desc}: the run of sample {i} seed {seed[i, j]}{which} "
                                           f"failed ({samples[i]})") from exc
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
                n_windows = len(self.windows)
                out[i, 1 + n_groups:1 + n_groups + n_windows] = np.nanmean(
                    raw[i, :, n_loss:n_loss + n_windows], axis=0)
                for a, answer in enumerate(self.answers):  # paired: seed by seed, then the mean
                    run = raw[i, :, n_loss + n_windows + a]
                    difference = counter[i, :, a] - run
                    out[i, 1 + n_groups + n_windows + a] = (
                        np.nanmean(difference / run) if self.relative_answers
                        else np.nanmean(difference) * answer.days)
            if self.log_loss:  # a loss is >= 0; a perfect 0 is floored at 1e-3
                out[:, :1 + n_groups] = np.log10(np.maximum(out[:, :1 + n_groups], 1e-3))
        return out
