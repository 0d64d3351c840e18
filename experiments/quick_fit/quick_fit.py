"""A quick seeded local search for the default mechanism parameters (issue 2, point 6).

Fits the free parameters once for the whole history, against every homicide and security
figure of sim/data/reported.csv, on a reduced-scale model (rates per person are the same) with
common random numbers. It is a hand-fitting aid, not the calibration of record (that is
`sim-calibrate`): it prints the best overrides found, which were then written into the
defaults of sim/config.py and checked at national scale over 10 seeds.

    python experiments/quick_fit/quick_fit.py --iters 300 --scale 0.25 --seeds 2
"""

from __future__ import annotations

import argparse
import json
import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from sim.compose import compose
from sim.model import GangViolenceModel
from sim.observation import compare

# parameter -> (low, high, log scale)
FREE = {
    "model.border.kill_rate": (5e-5, 8e-4, True),
    "model.civilians.kill_rate": (1e-5, 3e-4, True),
    "model.border.retaliation_per_killing": (0.05, 2.0, True),
    "model.orders.attack_strength": (0.1, 10.0, True),
    "model.orders.opportunism_strength": (0.0, 3.0, False),
    "model.orders.opportunism_halflife_days": (30.0, 3000.0, True),
    "model.orders.habit_halflife_days": (30.0, 1500.0, True),
    "model.repression.pressure_gain": (0.2, 60.0, True),
    "model.repression.security_kill_rate": (1e-7, 2e-5, True),
    "model.repression.lethal_kill_rate": (2e-7, 2e-5, True),
    "model.repression.response_per_killing": (0.01, 2.0, True),
    "model.repression.recruit_rate": (5e-5, 6e-4, True),
    "model.repression.recruits_per_repression": (0.1, 10.0, True),
    "model.repression.relatives_per_security_killing": (0.1, 3.0, True),
    "model.truce.grievance_halflife_days": (20.0, 5000.0, True),
    "model.truce.expectation_halflife_days": (60.0, 2000.0, True),
    "model.truce.comfort_weight": (0.0, 1.0, False),
    "model.truce.arms_halflife_days": (30.0, 1500.0, True),
    "model.truce.rearm_elasticity": (0.0, 3.0, False),
    "model.ceasefire.norm_halflife_days": (30.0, 3000.0, True),
    "model.ceasefire.strength": (0.2, 1.0, False),
    "model.isolation.campaign_threshold": (50.0, 2000.0, True),
    "model.isolation.campaign_hostility": (0.1, 40.0, True),
    "model.repression.revenge_per_killing": (0.01, 5.0, True),
    "model.repression.revenge_halflife_days": (10.0, 720.0, True),
    "model.repression.revenge_spillover": (0.0, 3.0, False),
    "model.orders.comm_max_security": (0.05, 0.7, False),
    "model.orders.obedience_mean": (0.3, 0.95, False),
    "model.ceasefire.reach": (0.3, 1.0, False),
    "model.truce.peace_extortion_gain": (0.0, 2.0, False),
    "model.reporting.hide_share": (0.0, 0.3, False),
    "model.border.retaliation_halflife_days": (3.0, 120.0, True),
    "model.truce.incentive_halflife_days": (30.0, 900.0, True),
    "model.isolation.campaign_relatives_hostility": (1.0, 200.0, True),
    "model.ceasefire.covers_security": (0.0, 1.0, False),
    "model.ceasefire.erosion_per_revenge": (0.0, 0.05, False),
    "model.repression.revenge_cap": (0.5, 20.0, True),
    "model.repression.response_cap": (0.0, 5.0, False),
    "model.repression.arrest_rate": (5e-5, 6e-4, True),
    "model.prisons.mean_sentence_days": (200.0, 2000.0, True),
    "model.orders.visits_share": (0.1, 0.95, False),
    "model.repression.recruits_per_arrest": (0.0, 2.0, False),
}
SERIES = {"homicides", "police_killed", "soldiers_killed", "relatives_killed",
          "gang_members_street", "gang_members_prison"}


def loss_of(overrides: dict, seeds, scale: float) -> float:
    errors: dict[str, list[float]] = {}
    for seed in seeds:
        ov = [f"{k}={v}" for k, v in overrides.items()] + [f"seed={seed}", f"model.scale={scale}",
                                                           "output.figures=false"]
        model = GangViolenceModel(compose(ov))
        fit = compare(model.run(), scale=model.scale)
        for row in fit.rows:
            if row.figure.series in SERIES and row.error is not None:
                err = row.error if math.isfinite(row.error) else 1.0
                errors.setdefault(row.figure.id, []).append(err / row.figure.tolerance)
    return float(sum(np.median(v) ** 2 for v in errors.values()))


def _eval(args):
    return loss_of(*args)


def propose(current: dict, rng: np.random.Generator, k: int, step: float) -> dict:
    new = dict(current)
    for key in rng.choice(list(FREE), size=k, replace=False):
        lo, hi, log = FREE[key]
        x = current[key]
        if log:
            x = x * math.exp(rng.normal(0, step))
        else:
            x = x + rng.normal(0, step * (hi - lo) / 2)
        new[key] = float(min(max(x, lo), hi))
    return new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--start", type=str, default=None, help="JSON file of starting overrides")
    ap.add_argument("--out", type=str, default="experiments/quick_fit/best.json")
    args = ap.parse_args()
    rng = np.random.default_rng(12345)
    base = compose([])
    current = {k: float(OmegaGet(base, k)) for k in FREE}  # start from the defaults
    if args.start:
        current.update(json.load(open(args.start)))
    seeds = list(range(args.seeds))
    best = loss_of(current, seeds, args.scale)
    print(f"start loss {best:.3f}", flush=True)
    with ProcessPoolExecutor(args.workers) as ex:
        for it in range(0, args.iters, args.workers):
            step = 0.5 * (1 - it / args.iters) + 0.08
            cands = [propose(current, rng, int(rng.integers(1, 4)), step)
                     for _ in range(args.workers)]
            losses = list(ex.map(_eval, [(c, seeds, args.scale) for c in cands]))
            i = int(np.argmin(losses))
            if losses[i] < best:
                best, current = losses[i], cands[i]
                json.dump(current, open(args.out, "w"), indent=1)
                print(f"iter {it}: loss {best:.3f}", flush=True)
    print(json.dumps(current, indent=1))


def OmegaGet(cfg, key):
    from omegaconf import OmegaConf
    return OmegaConf.select(cfg, key)


if __name__ == "__main__":
    main()
