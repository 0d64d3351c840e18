"""ABC-SMC with MCMC moves: a posterior whose particles keep equal weights.

pyabc's ABC-SMC weighs each accepted particle by prior / proposal density. With 17 free
parameters and a few hundred particles those importance weights degenerate: in the
calibration of record's first run the effective sample size fell to 23 of 250 in generation 1
and to 1-9 afterwards, and its final 1,000 particles had an effective size of 1.5 (one
particle held 83 % of the weight), so its "posterior" was a point.
`python experiments/abc_degeneracy/compare.py` shows the same on a 17-dimensional problem
whose posterior is known, and this sampler's behaviour there.

This sampler follows the ABC-SMC of Del Moral, Doucet & Jasra (2012, Statistics and
Computing 22) with the fixed quantile schedule of Drovandi & Pettitt (2011, Biometrics 67):

1. `population_size` particles from the prior, each scored once (the distance: the loss of
   `seeds` runs with fresh seeds of its own);
2. each generation sets the threshold at the `alpha`-quantile of the particles' distances,
   keeps those at or below it, resamples the population from them (equal weights), and moves
   every particle `moves` times by a Metropolis-Hastings step: a Gaussian random walk on the
   priors' scales (log for a log-uniform prior) with the covariance of the kept particles times
   2.38^2 / d (Roberts & Rosenthal 2001), reflected at the faces of the prior box, accepted
   when its own fresh distance is at or below the threshold (the prior is uniform on those
   scales and the reflected step symmetric, so no other ratio enters);
3. the last generation resamples `final_population_size` particles before its moves.

The distances are noisy (fresh seeds): a particle keeps the distance it was scored with, so
this is noisy ABC (Wilkinson 2013) with a pseudo-marginal chain. Particles stay equally
weighted; their diversity is the number of distinct particles, reported per generation with
the moves' acceptance rate. Every random draw comes from streams seeded by (`sampler_seed`,
generation, sweep), and the seeds of the runs from the proposal's index in its sweep, so a run
is the same whatever the number of workers; its state is saved after every generation
(`smc.npz`) and a run started again continues from there.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from sim.calibration.abc_search import UNDEFINED_LOSS, _natural
from sim.calibration.objective import Objective
from sim.calibration.result import SearchResult
from sim.calibration.space import Parameter
from sim.io import atomic_path

STATE_FILE = "smc.npz"


def _to_natural(parameters: Sequence[Parameter], z: np.ndarray) -> list[dict[str, float]]:
    return [{p.key: _natural(p, v) for p, v in zip(parameters, zi)} for zi in z]


def _box(parameters: Sequence[Parameter]) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([math.log(p.low) if p.log else p.low for p in parameters], dtype=float)
    hi = np.array([math.log(p.high) if p.log else p.high for p in parameters], dtype=float)
    return lo, hi


def _reflect(z: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Fold a random-walk step back into the prior box by reflection at its faces: the step
    stays symmetric (so the Metropolis-Hastings ratio is still the prior's, 1 inside the box),
    and in 17 dimensions no proposal is wasted outside it."""
    width = hi - lo
    y = np.mod(z - lo, 2 * width)
    return lo + width - np.abs(y - width)


class _Scorer:
    """Distances of a batch of points, each with seeds of its own, over the objective's pool."""

    def __init__(self, objective: Objective, fresh_seeds: bool) -> None:
        self.objective = objective
        self.fresh_seeds = fresh_seeds

    def __call__(self, points: list[dict[str, float]], rng: np.random.Generator) -> np.ndarray:
        if not points:
            return np.zeros(0)
        o = self.objective
        seeds = (rng.integers(0, 2**31 - 1, size=(len(points), len(o.seeds))) if self.fresh_seeds
                 else np.tile(np.asarray(o.seeds, dtype=np.int64), (len(points), 1)))
        losses = [r.loss for r in o.evaluate(points, item_seeds=seeds.tolist())]
        return np.array([x if math.isfinite(x) else UNDEFINED_LOSS for x in losses])


def _save(path: Path, state: dict) -> None:
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)


def _load(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        state = json.loads(str(data["meta"]))
        state.update({k: data[k] for k in data.files if k != "meta"})
    return state


def run_smc(objective: Objective, out: Path, name: str, budget: int, sampler_seed: int,
            population_size: int = 250, max_populations: int = 8, min_epsilon: float = 0.0,
            progress: Callable[[int, int, float], None] | None = None, fresh_seeds: bool = True,
            final_population_size: int | None = None, point: str = "median",
            alpha: float = 0.5, moves: int = 1, fingerprint: str = "",
            scorer: Callable[[list[dict[str, float]], np.random.Generator], np.ndarray] | None = None,
            ) -> SearchResult:
    """Run (or resume) the SMC run `name` stored in `out/smc.npz`.

    Stops after `max_populations` generations (generation 0 is the prior sample), or when the
    evaluations reach `budget` between generations (the last generation is then run, with
    `final_population_size` particles), or once the threshold is at most `min_epsilon`.
    `fingerprint` identifies what the losses were scored on; a stored run with another (or
    another prior) raises ValueError rather than mixing losses that do not compare.
    `scorer(points, rng)` replaces the model's distances (a problem whose posterior is known,
    to test the sampler).
    """
    if not 0 < alpha < 1 or moves < 1 or population_size < 2 or max_populations < 1:
        raise ValueError(f"smc: alpha {alpha} must be in (0, 1), moves {moves} >= 1, "
                         f"population_size {population_size} >= 2, max_populations >= 1")
    t0 = time.perf_counter()
    parameters = list(objective.parameters)
    keys = [p.key for p in parameters]
    d = len(parameters)
    lo, hi = _box(parameters)
    spec = [[p.key, float(p.low), float(p.high), bool(p.log), bool(p.integer)] for p in parameters]
    ident = {"name": name, "spec": spec, "fingerprint": fingerprint, "fresh_seeds": bool(fresh_seeds),
             "seeds": [int(s) for s in objective.seeds], "alpha": float(alpha), "moves": int(moves),
             "sampler_seed": int(sampler_seed), "population_size": int(population_size)}
    out.mkdir(parents=True, exist_ok=True)
    path = out / STATE_FILE
    score = _Scorer(objective, fresh_seeds) if scorer is None else scorer
    resumed = path.exists()
    if resumed:
        state = _load(path)
        stored = {k: state.get(k) for k in ident}
        if stored != ident:
            differs = ", ".join(k for k in ident if stored.get(k) != ident[k])
            raise ValueError(f"{path}: the stored SMC run differs in {differs}; use another name "
                             "or delete it")
        generations = [(state[f"z{t}"], state[f"d{t}"]) for t in range(int(state["generation"]) + 1)]
        log = list(state["log"])
        evaluations = int(state["evaluations"])
    else:
        rng = np.random.default_rng([sampler_seed, 0, 0])
        z = lo + (hi - lo) * rng.random((population_size, d))
        dist = score(_to_natural(parameters, z), rng)
        generations, evaluations = [(z, dist)], population_size
        log = [{"generation": 0, "epsilon": math.inf, "particles": population_size,
                "evaluations": population_size, "acceptance": 1.0, "distinct": population_size}]
        _save(path, {**ident, "generation": 0, "evaluations": evaluations, "log": log, "z0": z, "d0": dist})
    if progress is not None:
        progress(evaluations, budget, float(np.min(generations[-1][1])))

    while len(generations) < max_populations:
        t = len(generations)
        z, dist = generations[-1]
        eps = float(np.quantile(dist, alpha))
        if log[-1]["epsilon"] <= min_epsilon:
            break
        final = t == max_populations - 1 or evaluations >= budget
        size = int(final_population_size or population_size) if final else population_size
        rng = np.random.default_rng([sampler_seed, t, 0])
        kept = np.flatnonzero(dist <= eps)
        pick = kept[rng.integers(0, len(kept), size)]
        z, dist = z[pick].copy(), dist[pick].copy()
        cov = np.atleast_2d(np.cov(generations[-1][0][kept], rowvar=False))
        cov = cov * (2.38 ** 2 / d) + 1e-12 * np.eye(d)
        accepted_moves = tried = 0
        for sweep in range(moves):
            rng = np.random.default_rng([sampler_seed, t, sweep + 1])
            proposal = _reflect(z + rng.multivariate_normal(np.zeros(d), cov, size=size,
                                                            method="cholesky"), lo, hi)
            idx = np.arange(size)
            new = score(_to_natural(parameters, proposal), rng)
            evaluations += len(idx)
            ok = new <= eps
            z[idx[ok]], dist[idx[ok]] = proposal[idx[ok]], new[ok]
            accepted_moves += int(ok.sum())
            tried += size
        generations.append((z, dist))
        log.append({"generation": t, "epsilon": eps, "particles": size, "evaluations": evaluations,
                    "acceptance": accepted_moves / max(tried, 1),
                    "distinct": int(len(np.unique(z, axis=0)))})
        _save(path, {**ident, "generation": t, "evaluations": evaluations, "log": log,
                     **{f"z{k}": g[0] for k, g in enumerate(generations)},
                     **{f"d{k}": g[1] for k, g in enumerate(generations)}})
        if progress is not None:
            progress(evaluations, budget, float(np.min(dist)))
        if final:
            break

    rows = []
    for t, (z, dist) in enumerate(generations):
        frame = pd.DataFrame(_to_natural(parameters, z))
        frame.insert(0, "loss", dist)
        frame.insert(0, "generation", t)
        rows.append(frame)
    history = pd.concat(rows, ignore_index=True)
    history.insert(0, "number", np.arange(len(history)))
    last = history[history["generation"] == history["generation"].max()]
    posterior = last[keys].reset_index(drop=True)
    posterior.insert(0, "weight", 1.0 / len(posterior))
    if point == "median":
        best = {k: float(np.median(last[k])) for k in keys}
        best = {k: float(round(v)) if p.integer else v for (k, v), p in zip(best.items(), parameters)}
        best_loss = float(np.median(last["loss"]))
    else:
        row = last.iloc[int(np.argmin(last["loss"].to_numpy()))]
        best, best_loss = {k: float(row[k]) for k in keys}, float(row["loss"])
    return SearchResult(method="smc", best=best, best_loss=best_loss, history=history,
                        posterior=posterior, elapsed_s=time.perf_counter() - t0, resumed=resumed,
                        evaluations=evaluations, generations=pd.DataFrame(log))
