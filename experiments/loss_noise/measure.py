"""The Monte Carlo noise of the calibration loss at one parameter point (the defaults).

    python experiments/loss_noise/measure.py [--seeds 40] [--scale 1.0] [--workers 2]

Runs the 2011-2017 history (`historical_2017`) with seeds 0..N-1 and scores the mean of k
runs' figures (k = 1, 2, 4, 8, 16, drawn with replacement, 2,000 draws) with the calibration's
loss over every scored figure (`sim.calibration.objective.fit_of`): the loss's standard
deviation for k replicates per parameter point is what a search or an ABC distance must see
past. Writes results/loss_noise/loss_noise.json and per_seed.csv.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.calibration.objective import fit_of, simulate_figures
from sim.compose import compose
from sim.io import write_csv, write_text
from sim.reported import load_reported

OUT = Path(__file__).resolve().parents[2] / "results" / "loss_noise"
REPLICATES = (1, 2, 4, 8, 16)


def _figures():
    return [f for f in load_reported() if f.weight > 0]


def one(args: tuple[int, float]) -> np.ndarray:
    seed, scale = args
    cfg = OmegaConf.to_object(compose(["scenario=historical_2017"]))
    return simulate_figures(cfg, {}, seed, scale, _figures())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    figures = _figures()
    with ProcessPoolExecutor(args.workers) as ex:
        per_seed = np.array(list(ex.map(one, [(s, args.scale) for s in range(args.seeds)])))
    rng = np.random.default_rng(0)
    result = {"scenario": "historical_2017", "scale": args.scale, "seeds": args.seeds,
              "figures_scored": len(figures),
              "loss_of_one_run": {"mean": float(np.mean([fit_of(figures, per_seed[[i]]).loss for i in range(args.seeds)]))},
              "loss_of_all_runs_mean": fit_of(figures, per_seed).loss, "by_replicates": {}}
    for k in REPLICATES:
        losses = [fit_of(figures, per_seed[rng.integers(0, args.seeds, k)]).loss for _ in range(2000)]
        result["by_replicates"][str(k)] = {"mean": float(np.mean(losses)), "sd": float(np.std(losses))}
    OUT.mkdir(parents=True, exist_ok=True)
    write_csv(pd.DataFrame(per_seed, columns=[f.id for f in figures]).assign(seed=range(args.seeds)),
              OUT / "per_seed.csv")
    write_text(OUT / "loss_noise.json", json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
