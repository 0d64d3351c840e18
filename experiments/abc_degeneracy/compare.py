"""pyabc's importance weights against sim.calibration.smc on a problem whose posterior is known.

    python experiments/abc_degeneracy/compare.py [--population 250] [--generations 9]

17 parameters with uniform priors on [0, 1] (as many as the calibration of record frees); the
distance is a chi-square around a true point, with per-parameter widths from 0.01 to 0.5 of
the prior, plus Gaussian noise of SD 3 (the model's distance is noisy too). Both samplers keep
the distances under the median of the last generation's. Prints, per generation, pyabc's
effective sample size (1 / sum of squared weights) and the SMC's distinct particles, and for
each the share of parameters whose posterior 90% interval holds the true value. Writes
results/abc_degeneracy/compare.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from sim.calibration.objective import Objective
from sim.calibration.smc import run_smc
from sim.calibration.space import Parameter
from sim.io import write_text

D = 17
TRUTH = np.random.default_rng(0).uniform(0.3, 0.7, D)
WIDTH = np.linspace(0.01, 0.5, D)
NOISE = 3.0
OUT = Path(__file__).resolve().parents[2] / "results" / "abc_degeneracy"


def distance(x: np.ndarray, rng) -> np.ndarray:
    return np.sum(((x - TRUTH) / WIDTH) ** 2, axis=-1) + rng.normal(0, NOISE, size=x.shape[:-1])


def covered(samples: np.ndarray, weights: np.ndarray) -> float:
    from sim.posterior import weighted_quantiles

    hits = [lo <= TRUTH[k] <= hi for k in range(D)
            for lo, _, hi in [weighted_quantiles(samples[:, k], weights)]]
    return float(np.mean(hits))


def with_pyabc(population: int, generations: int, seed: int) -> dict:
    import pyabc

    for name in ("ABC", "ABC.Sampler", "ABC.Epsilon", "ABC.History", "ABC.Population", "ABC.Transition"):
        logging.getLogger(name).setLevel(logging.ERROR)
    np.random.seed(seed)
    prior = pyabc.Distribution(**{f"p{k}": pyabc.RV("uniform", 0, 1) for k in range(D)})
    rng = np.random.default_rng(seed)

    def model(p):
        return {"d": float(distance(np.array([p[f"p{k}"] for k in range(D)]), rng))}

    abc = pyabc.ABCSMC(model, prior, lambda x, _: x["d"], population_size=population,
                       eps=pyabc.QuantileEpsilon(alpha=0.5), sampler=pyabc.SingleCoreSampler())
    with tempfile.TemporaryDirectory() as tmp:
        history = abc.new(f"sqlite:///{tmp}/toy.db", {"d": 0.0})
        history = abc.run(max_nr_populations=generations)
        ess, last = [], None
        for t in range(history.max_t + 1):
            frame, w = history.get_distribution(t=t)
            w = np.asarray(w, dtype=float)
            ess.append(round(float(1 / np.sum(w ** 2)), 1))
            last = (frame[[f"p{k}" for k in range(D)]].to_numpy(), w)
        evaluations = int(history.get_all_populations()["samples"].sum())
    return {"effective_size": ess, "evaluations": evaluations, "covered": covered(*last)}


def with_smc(population: int, generations: int, seed: int) -> dict:
    parameters = [Parameter(f"model.toy.p{k}", 0.0, 1.0) for k in range(D)]
    objective = Objective(None, parameters, (), [0], 1.0)

    def scorer(points, rng):
        return distance(np.array([[p[q.key] for q in parameters] for p in points]), rng)

    with tempfile.TemporaryDirectory() as tmp:
        result = run_smc(objective, Path(tmp), "toy", 10**9, seed, population, generations,
                         scorer=scorer, moves=2)
    samples = result.posterior[[p.key for p in parameters]].to_numpy()
    return {"distinct": [int(x) for x in result.generations["distinct"]],
            "acceptance": [round(float(x), 2) for x in result.generations["acceptance"]],
            "evaluations": int(result.evaluations),
            "covered": covered(samples, result.posterior["weight"].to_numpy())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=250)
    parser.add_argument("--generations", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = {"population": args.population, "generations": args.generations,
           "pyabc": with_pyabc(args.population, args.generations, args.seed),
           "smc": with_smc(args.population, args.generations, args.seed)}
    print(json.dumps(out, indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    write_text(OUT / "compare.json", json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
