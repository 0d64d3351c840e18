"""Best parameters by Optuna's TPE sampler, batch by batch, in a SQLite study that resumes.

Trials are asked for in batches of `workers`, evaluated in parallel and told back, so a seeded
sampler gives the same trials whatever the speed of the machine. The first trial is the
current configuration, so the result is never worse than where the search started. When an
interrupted calibration is started again, it opens the same study: finished trials are kept,
trials left running are marked failed and their parameters asked again, and the search goes on
until the budget counts that many finished trials.

The best trial on the search's own seeds is partly the luckiest: with common random numbers a
trial can fit those seeds' noise. So the `reselect_top` best trials, and trial 0, are run again
on `reselect_seeds` fresh seeds (from RESELECT_SEED on) and the one with the lowest loss there
is the result.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.calibration.objective import Objective
from sim.calibration.result import SearchResult
from sim.calibration.space import Parameter

STUDY_FILE = "study.db"
RESELECT_SEED = 500


def _distributions(parameters: Sequence[Parameter]) -> dict:
    import optuna

    out = {}
    for p in parameters:
        if p.integer:
            out[p.key] = optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            out[p.key] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
    return out


def run_optuna(objective: Objective, out: Path, name: str, budget: int, sampler_seed: int,
               start: Mapping[str, float], n_startup_trials: int = 40, multivariate: bool = True,
               reselect_top: int = 10, reselect_seeds: int = 6, progress: Callable[[int, int, float], None] | None = None) -> SearchResult:
    """Run (or resume) the study `name` stored in `out/study.db` until `budget` trials finished.

    `start` is enqueued as the first trial of a new study. `progress(done, budget, best)` is
    called after every batch.
    """
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(out / STUDY_FILE).resolve()}"
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=n_startup_trials,
                                         multivariate=multivariate, constant_liar=True)
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler,
                                direction="minimize", load_if_exists=True)
    dists = _distributions(objective.parameters)
    keys = list(dists)
    resumed = len(study.trials) > 0
    if resumed:
        stored = set(study.trials[0].distributions)
        if stored and stored != set(keys):
            raise ValueError(f"{out / STUDY_FILE}: the stored study '{name}' frees other parameters "
                             f"({', '.join(sorted(stored))}); use another name or delete it")
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        if trial.state == TrialState.RUNNING:  # interrupted mid-evaluation: ask for it again
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=False)
    if not resumed:
        study.enqueue_trial({k: float(start[k]) if not isinstance(dists[k], optuna.distributions.IntDistribution)
                             else int(start[k]) for k in keys})

    def finished() -> int:
        return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))

    done = finished()
    while done < budget:
        batch = [study.ask(dists) for _ in range(min(objective.workers, budget - done))]
        results = objective.evaluate([t.params for t in batch])
        for trial, result in zip(batch, results):
            loss = result.loss
            for row in result.fit.rows:
                if row.error is not None and math.isfinite(row.error):
                    trial.set_user_attr(row.figure.id, row.error)
            study.tell(trial, loss if math.isfinite(loss) else float("inf"))
        done = finished()
        if progress is not None:
            progress(done, budget, study.best_value)

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    history = pd.DataFrame(
        [{"number": t.number, "loss": t.value, **t.params} for t in complete],
        columns=["number", "loss", *keys],
    ).sort_values("number", kind="stable").reset_index(drop=True)
    best, best_loss, reselected = _reselect(objective, complete, keys, reselect_top, reselect_seeds)
    # Time is summed over every session of the study, interrupted or not.
    elapsed = float(study.user_attrs.get("elapsed_s", 0.0)) + time.perf_counter() - t0
    study.set_user_attr("elapsed_s", elapsed)
    return SearchResult(method="optuna", best=best, best_loss=best_loss, history=history, posterior=None,
                        elapsed_s=elapsed, resumed=resumed, reselected=reselected)


def _reselect(objective: Objective, complete: list, keys: list[str], top: int, n_seeds: int
              ) -> tuple[dict[str, float], float, pd.DataFrame | None]:
    """The best of the `top` best trials (and trial 0) on `n_seeds` fresh seeds."""
    ranked = sorted(complete, key=lambda t: (t.value, t.number))
    if top <= 1 or n_seeds < 1 or len(ranked) < 2:
        best = ranked[0]
        return {k: float(best.params[k]) for k in keys}, float(best.value), None
    chosen = ranked[:top]
    first = min(complete, key=lambda t: t.number)
    if first not in chosen:
        chosen.append(first)
    seeds = range(RESELECT_SEED, RESELECT_SEED + n_seeds)
    results = objective.evaluate([t.params for t in chosen], seeds=seeds)
    table = pd.DataFrame({"number": [t.number for t in chosen], "search_loss": [t.value for t in chosen],
                          "reselect_loss": [r.loss for r in results]})
    k = int(np.nanargmin(table["reselect_loss"].to_numpy(dtype=float)))
    return ({key: float(chosen[k].params[key]) for key in keys}, float(table["search_loss"].iloc[k]), table)
