"""An ABC-SMC posterior by pyabc, generation by generation, in a SQLite run that resumes.

This is approximate Bayesian computation with the calibration loss as the distance: the model
of a particle returns its loss (the weighted sum of half-deviances of
:mod:`sim.calibration.objective`, scored on the seed-mean) and the distance to the observation
``{"loss": 0}`` is that loss itself. A particle is accepted when its loss is at most the
generation's threshold epsilon. Generation 0 accepts every draw from the prior (epsilon is
infinite); after that epsilon is the weighted median of the previous generation's losses
(pyabc's quantile epsilon), so the acceptance threshold on the loss shrinks generation by
generation and the particles move from the prior towards the region of low loss. With a
deviance as distance, accepting ``loss <= eps`` approximates the posterior under a likelihood
flattened to a step at ``eps``; it is a calibration posterior, not an exact Bayesian one.

Priors are uniform on [low, high], or uniform on log(value) for a log parameter (sampled as
``log__<key>`` and transformed back before the model is called); an integer parameter is
sampled as a real and rounded when it is set on the model (and reported rounded). Results are
in natural units under the parameter keys ('model.border.kill_rate').

Each proposal gets its own random seed, drawn from a stream seeded by ``(sampler_seed,
generation)``, and proposals are accepted in the order they were drawn, whichever worker
finishes first. A run is therefore reproducible bit for bit with the same `sampler_seed`,
whatever the number of workers, and an interrupted run that is started again gives the same
populations as one that was not interrupted. Worker processes evaluate proposals ahead of time;
the few still in flight when a generation has its particles are discarded and not counted.

The budget counts simulations (parameter sets evaluated, each costing ``len(objective.seeds)``
model runs) and is checked between generations, as pyabc does: a generation is never cut
short, so the last one may take the total past the budget. pyabc keeps only accepted
particles, so the history has one row per accepted particle of every generation, not one per
simulation.

When the calibration is started again with the same `out` and `name`, the stored run is loaded
and continued until the budget (counting the simulations already done), `max_populations` or
`min_epsilon` stops it; when it has already stopped, nothing is simulated. The run stores its
name, priors, figure ids, seeds and scale; a stored run of the same name with other priors or
scored otherwise raises ValueError rather than mixing losses that do not compare.
"""

from __future__ import annotations

import ast
import logging
import math
import random
import time
import uuid
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from sim.calibration.objective import Objective
from sim.calibration.result import SearchResult
from sim.calibration.space import Parameter

DB_FILE = "abc.db"

#: Distance of a parameter set whose loss is undefined (no figure could be compared). Finite,
#: because pyabc interpolates quantiles of the distances and an infinity would make them NaN.
UNDEFINED_LOSS = 1e12

_LOGGERS = ("ABC", "ABC.Sampler", "ABC.Epsilon", "ABC.Distance", "ABC.History", "ABC.Acceptor",
            "ABC.Transition", "ABC.Population", "ABC.Predictor")


def _safe_name(p: Parameter) -> str:
    """pyabc's name of a parameter: no dots, and marked when it is sampled in log space."""
    name = p.key.replace(".", "__")
    return f"log__{name}" if p.log else name


def _spec(parameters: Sequence[Parameter]) -> list[tuple]:
    """What identifies the prior of a run; stored with it and compared on resume."""
    return [(p.key, float(p.low), float(p.high), bool(p.log), bool(p.integer)) for p in parameters]


def _natural(p: Parameter, value: float) -> float:
    """A sampled value (log space for a log parameter) in the parameter's own units."""
    x = math.exp(value) if p.log else float(value)
    return float(round(x)) if p.integer else x


class _LossModel:
    """pyabc model: a parameter set (pyabc names) -> {"loss": objective loss}.

    Holds a single-process copy of the objective, so it pickles into the worker processes and
    runs the seeds one after the other there.
    """

    def __init__(self, objective: Objective, fresh_seeds: bool = False) -> None:
        self.objective = Objective(objective.base, objective.parameters, objective.figures,
                                   objective.seeds, objective.scale, workers=1,
                                   tolerance_weight=objective.tolerance_weight)
        self.names = [_safe_name(p) for p in objective.parameters]
        self.fresh_seeds = fresh_seeds

    def values(self, pars) -> dict[str, float]:
        return {p.key: _natural(p, pars[n]) for p, n in zip(self.objective.parameters, self.names)}

    def __call__(self, pars) -> dict[str, float]:
        seeds = None
        if self.fresh_seeds:  # np.random is seeded per proposal by the sampler: reproducible
            seeds = [int(s) for s in np.random.randint(0, 2**31 - 1, len(self.objective.seeds))]
        loss = self.objective.evaluate([self.values(pars)], seeds)[0].loss
        return {"loss": float(loss) if math.isfinite(loss) else UNDEFINED_LOSS}


def _loss_distance(x: dict, x_0: dict) -> float:  # noqa: ARG001 - the observation is loss 0
    return float(x["loss"])


def _epsilon(alpha: float = 0.5):
    """pyabc's quantile epsilon, infinite for generation 0 (no calibration sample from the
    prior) and, from generation 1 on, the weighted `alpha`-quantile of the last generation's
    distances; on resume it is recomputed from the stored population, so continuing a stored
    run gives the epsilon an uninterrupted run would have used."""
    from pyabc.epsilon import QuantileEpsilon

    class LossQuantileEpsilon(QuantileEpsilon):
        def initialize(self, t, get_weighted_distances, get_all_records, max_nr_populations,
                       acceptor_config):
            if t == 0:
                self._look_up = {0: math.inf}
                return
            super().initialize(t, get_weighted_distances, get_all_records, max_nr_populations,
                               acceptor_config)

    return LossQuantileEpsilon(initial_epsilon="from_sample", alpha=alpha, weighted=True)


# ------------------------------------------------------------------ deterministic sampler

_WORKER_CACHE: dict[str, Callable] = {}


def _simulate_seeded(payload: bytes, token: str, seed: int):
    """Worker task: one proposal of the generation `token`, with numpy and random seeded."""
    import cloudpickle

    simulate_one = _WORKER_CACHE.get(token)
    if simulate_one is None:
        _WORKER_CACHE.clear()
        simulate_one = _WORKER_CACHE[token] = cloudpickle.loads(payload)
    np.random.seed(seed)
    random.seed(seed)
    return simulate_one()


def _sampler_class():
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Proposal i of generation t runs with seed i of a stream seeded by (seed, t), and
        proposals are taken in order until n are accepted: the sample does not depend on the
        number of workers nor on their speed."""

        def __init__(self, seed: int, pool: Executor | None, workers: int) -> None:
            super().__init__()
            self.seed = int(seed)
            self.pool = pool
            self.ahead = 2 * max(1, workers)  # proposals in flight, to keep every worker busy

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            seeds = np.random.default_rng([self.seed, int(t)])

            def next_seed() -> int:
                return int(seeds.integers(0, 2**32 - 1))

            sample = self._create_empty_sample()
            accepted = evaluated = 0
            if self.pool is None:
                state = np.random.get_state(), random.getstate()
                try:
                    while accepted < n:
                        seed = next_seed()
                        np.random.seed(seed)
                        random.seed(seed)
                        particle = simulate_one()
                        sample.append(particle)
                        evaluated += 1
                        accepted += bool(particle.accepted)
                finally:
                    np.random.set_state(state[0])
                    random.setstate(state[1])
            else:
                import cloudpickle

                payload, token = cloudpickle.dumps(simulate_one), uuid.uuid4().hex
                pending: deque = deque()
                try:
                    while accepted < n:
                        while len(pending) < self.ahead:
                            pending.append(self.pool.submit(_simulate_seeded, payload, token,
                                                            next_seed()))
                        particle = pending.popleft().result()
                        sample.append(particle)
                        evaluated += 1
                        accepted += bool(particle.accepted)
                finally:
                    for future in pending:  # proposals beyond the n-th acceptance: discarded
                        future.cancel()
            self.nr_evaluations_ = evaluated
            return sample

    return SeededSampler


# ------------------------------------------------------------------ stored runs


def _fingerprint(objective: Objective) -> str:
    """A digest of what the free parameters are set on: the model's other values, the policies,
    the scenario and the dates (not the output settings, which change no loss). A run resumed
    on another base would mix losses that do not compare."""
    import dataclasses
    import hashlib
    import json

    from sim.posterior import model_digest

    base = objective.base
    other = {k: dataclasses.asdict(getattr(base, k)) if dataclasses.is_dataclass(getattr(base, k))
             else getattr(base, k) for k in ("scenario", "start", "end")}
    other["policies"] = {name: dataclasses.asdict(p) for name, p in sorted(base.policies.items())}
    other["model"] = model_digest(base.model, [p.key for p in objective.parameters])
    return hashlib.sha256(json.dumps(other, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _scoring(objective: Objective, fresh_seeds: bool = False) -> dict:
    """What the losses of a run were scored on; stored with it and compared on resume."""
    out = {"figures": [f.id for f in objective.figures], "seeds": [int(s) for s in objective.seeds],
           "scale": float(objective.scale), "model": _fingerprint(objective)}
    if fresh_seeds:  # only then, so that runs stored before the option still resume
        out["fresh_seeds"] = True
    return out


def _stored_run(db: str, path: Path, name: str, spec: list[tuple], scoring: dict) -> int | None:
    """Id of the latest stored run called `name`, or None; ValueError if it has another prior
    or scored its losses on other figures, seeds or scale."""
    if not path.exists():
        return None
    from pyabc.storage import History

    runs = History(db, create=False).all_runs()
    for run in reversed(runs):
        try:
            meta = ast.literal_eval(run.json_parameters or "{}")
        except (ValueError, SyntaxError):
            continue
        if not isinstance(meta, dict) or meta.get("name") != name:
            continue
        stored = [tuple(s) for s in meta.get("parameters", [])]
        if stored != [tuple(s) for s in spec]:
            frees = ", ".join(f"{k} [{lo:g}, {hi:g}]{' log' if log else ''}"
                              for k, lo, hi, log, *_ in stored)
            raise ValueError(f"{path}: the stored ABC run '{name}' frees other parameters or "
                             f"priors ({frees}); use another name or delete it")
        stored_scoring = meta.get("scoring", scoring)
        # a key the stored run predates (the model digest) is not compared
        differs = [k for k in scoring if k in stored_scoring and stored_scoring[k] != scoring[k]]
        if differs or ("fresh_seeds" in stored_scoring) != ("fresh_seeds" in scoring):
            diff = ", ".join(f"{k} {stored_scoring.get(k)}" for k in scoring
                             if stored_scoring.get(k) != scoring[k])
            raise ValueError(f"{path}: the stored ABC run '{name}' scored other {diff}; "
                             f"use another name or delete it")
        return int(run.id)
    return None


def _particles(history, parameters: Sequence[Parameter]) -> pd.DataFrame:
    """Accepted particles of every generation, in order: generation, loss, weight (summing to
    1 within a generation) and values in natural units."""
    # Untidy query pivoted here: pyabc's tidy form drops particles sharing a distance and weight.
    df = history.get_population_extended(t="all", tidy=False)
    df = df[df["t"] >= 0]
    per_particle = df.groupby("particle_id")[["t", "distance", "w"]].first().sort_index()
    values = (df.drop_duplicates(["particle_id", "par_name"])
              .pivot(index="particle_id", columns="par_name", values="par_val")
              .reindex(per_particle.index))
    out = pd.DataFrame({"generation": per_particle["t"].astype(int).to_numpy(),
                        "loss": per_particle["distance"].astype(float).to_numpy(),
                        "weight": per_particle["w"].astype(float).to_numpy()})
    for p in parameters:
        out[p.key] = [_natural(p, v) for v in values[_safe_name(p)].astype(float)]
    out = out.sort_values("generation", kind="stable").reset_index(drop=True)
    out["weight"] /= out.groupby("generation")["weight"].transform("sum")
    return out


def run_abc(objective: Objective, out: Path, name: str, budget: int, sampler_seed: int,
            population_size: int = 100, max_populations: int = 8, min_epsilon: float = 0.0,
            progress: Callable[[int, int, float], None] | None = None, fresh_seeds: bool = False,
            final_population_size: int | None = None, point: str = "best") -> SearchResult:
    """Run (or resume) the ABC-SMC run `name` stored in `out/abc.db`.

    Stops after the generation that brings the simulations to `budget`, after
    `max_populations` generations, or once a generation's loss threshold is at most
    `min_epsilon`. `progress(simulations, budget, best)` is called after every generation,
    `best` being the lowest loss of that generation. `best` of the result is the particle of
    the last generation with the lowest loss; `posterior` is the last generation, weighted.
    With `fresh_seeds` each proposal runs seeds of its own (see _LossModel); the generation
    `max_populations - 1` has `final_population_size` particles when it is given (and when
    the budget ends the run before it, one more generation of that size is run). With
    `point="median"` the result's `best` is the posterior's weighted median of each parameter
    (and `best_loss` the median loss of the last generation) instead of its best particle,
    whose low loss is partly a lucky draw of seeds when the seeds are fresh.
    """
    if budget < 1 or population_size < 1 or max_populations < 1:
        raise ValueError(f"abc: budget {budget}, population_size {population_size} and "
                         f"max_populations {max_populations} must be at least 1")
    import pyabc

    for logger in _LOGGERS:
        logging.getLogger(logger).setLevel(logging.WARNING)
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    path = out / DB_FILE
    db = f"sqlite:///{path.resolve()}"
    parameters = list(objective.parameters)
    spec = _spec(parameters)
    names = [_safe_name(p) for p in parameters]
    if len(set(names)) != len(names):
        raise ValueError(f"free parameters repeat a key: {', '.join(p.key for p in parameters)}")
    scoring = _scoring(objective, fresh_seeds)
    run_id = _stored_run(db, path, name, spec, scoring)
    resumed = run_id is not None

    prior = pyabc.Distribution(**{
        n: pyabc.RV("uniform", math.log(p.low), math.log(p.high) - math.log(p.low)) if p.log
        else pyabc.RV("uniform", p.low, p.high - p.low)
        for p, n in zip(parameters, names)
    })
    own_pool: ProcessPoolExecutor | None = None
    pool = objective._pool  # the objective's workers, when run inside `with objective:`
    if pool is None and objective.workers > 1:
        pool = own_pool = ProcessPoolExecutor(objective.workers)
    sampler = _sampler_class()(sampler_seed, pool, objective.workers)

    def smc(generation: int = 0, final: bool = False):
        # A fresh ABCSMC per generation: pyabc caches the population it calibrates epsilon on,
        # so a reused one would keep the threshold of the first generation it continued.
        size = population_size
        if final_population_size is not None and (final or generation >= max_populations - 1):
            size = final_population_size
        return pyabc.ABCSMC(_LossModel(objective, fresh_seeds), prior, distance_function=_loss_distance,
                            population_size=int(size), eps=_epsilon(), sampler=sampler)

    try:
        if resumed:
            history = smc().load(db, run_id)
        else:
            meta = {"name": name, "parameters": spec, "scoring": scoring}
            history = smc().new(db, {"loss": 0.0}, meta_info=meta)
            run_id = history.id
        np.random.seed(sampler_seed)  # the sampler seeds every proposal; this is for the rest

        while True:
            n_populations = history.max_t + 1
            out_of_budget = (history.total_nr_simulations or 0) >= budget
            if n_populations >= max_populations or out_of_budget:
                # the posterior must have its final size even when the budget ends the run early
                last_size = len(history.get_weighted_distances(t=history.max_t)) if n_populations else 0
                if (out_of_budget and final_population_size is not None and n_populations > 0
                        and last_size < final_population_size):
                    abc = smc(n_populations, final=True)
                    history = abc.load(db, run_id)
                    abc.run(max_nr_populations=1, minimum_epsilon=min_epsilon)
                    if progress is not None:
                        last = history.get_weighted_distances(t=history.max_t)
                        progress(int(history.total_nr_simulations), budget, float(last["distance"].min()))
                break
            if n_populations > 0:
                populations = history.get_all_populations()
                last_eps = float(populations.loc[populations["t"].idxmax(), "epsilon"])
                if last_eps <= min_epsilon:
                    break
            abc = smc(n_populations)
            history = abc.load(db, run_id)
            abc.run(max_nr_populations=1, minimum_epsilon=min_epsilon)
            if progress is not None:
                last = history.get_weighted_distances(t=history.max_t)
                progress(int(history.total_nr_simulations), budget, float(last["distance"].min()))
    finally:
        if own_pool is not None:
            own_pool.shutdown(cancel_futures=True)

    keys = [p.key for p in parameters]
    particles = _particles(history, parameters)
    history_df = particles[["generation", "loss", *keys]].copy()
    history_df.insert(0, "number", np.arange(len(history_df)))
    last = particles[particles["generation"] == particles["generation"].max()]
    posterior = last[["weight", *keys]].reset_index(drop=True)
    if point == "median":
        from sim.posterior import weighted_quantiles

        w = last["weight"].to_numpy(dtype=float)
        (best_loss,) = weighted_quantiles(last["loss"].to_numpy(dtype=float), w, (0.5,))
        # an integer parameter's particles are whole numbers (_natural), and so is their median
        best = {k: weighted_quantiles(last[k].to_numpy(dtype=float), w, (0.5,))[0] for k in keys}
    else:
        best_row = last.iloc[int(np.argmin(last["loss"].to_numpy()))]
        best, best_loss = {k: float(best_row[k]) for k in keys}, float(best_row["loss"])
    return SearchResult(method="abc", best=best, best_loss=best_loss, history=history_df,
                        posterior=posterior,
                        elapsed_s=time.perf_counter() - t0, resumed=resumed)
