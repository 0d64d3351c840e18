"""A quick seeded local search for the default mechanism parameters (issue 2, point 6).

Fits the free parameters of the calibration of record (conf/calibration/default.yaml, within
its priors) once for the whole history, against every homicide and security figure of
sim/data/reported.csv, on a reduced-scale model (rates per person are the same) with common
random numbers, scoring each figure in tolerances. It is a hand-fitting aid, not the
calibration of record (that is `sim-calibrate`): it prints the best overrides found (and
writes them to --out as JSON); made the defaults with `python -m sim.calibration.apply`, they
are checked at national scale over 10 seeds by validate.py.

    python experiments/quick_fit/quick_fit.py --iters 300 --scale 0.25 --seeds 2 --out best.json
"""

from __future__ import annotations

import argparse
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sim.calibration import space
from sim.calibration.space import Parameter
from sim.compose import compose
from sim.io import write_text
from sim.model import GangViolenceModel, load_config
from sim.observation import compare


def free_parameters() -> list[Parameter]:
    """The free parameters and prior ranges of the calibration of record
    (conf/calibration/default.yaml): one definition of what is fitted and within which range."""
    from sim.calibration.config import register

    register()
    return space.free_parameters(load_config(compose([], config_name="calibrate")).params)


HISTORY = "scenario=historical_2017"  # the reported figures are of 2011-2017

SERIES = {"homicides", "police_killed", "soldiers_killed", "relatives_killed",
          "gang_members_street", "gang_members_prison"}


def loss_of(overrides: dict, seeds, scale: float) -> float:
    errors: dict[str, list[float]] = {}
    for seed in seeds:
        ov = [f"{k}={v}" for k, v in overrides.items()] + [
            HISTORY, f"seed={seed}", f"model.scale={scale}", "output.figures=false"]
        model = GangViolenceModel(compose(ov))
        fit = compare(model.run(), scale=model.scale)
        for row in fit.rows:
            if row.figure.series in SERIES and row.error is not None:
                err = row.error if math.isfinite(row.error) else 1.0
                errors.setdefault(row.figure.id, []).append(err / row.figure.tolerance)
    return float(sum(np.median(v) ** 2 for v in errors.values()))


def _eval(args):
    return loss_of(*args)


def propose(current: dict, free: dict[str, Parameter], rng: np.random.Generator, k: int,
            step: float) -> dict:
    new = dict(current)
    for key in rng.choice(list(free), size=k, replace=False):
        p = free[key]
        x = current[key]
        if p.log:
            x = x * math.exp(rng.normal(0, step))
        else:
            x = x + rng.normal(0, step * (p.high - p.low) / 2)
        new[key] = float(min(max(x, p.low), p.high))
    return new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--start", type=str, default=None, help="JSON file of starting overrides")
    ap.add_argument("--out", type=str, default=None, help="JSON file for the best overrides")
    args = ap.parse_args()
    rng = np.random.default_rng(12345)
    free = {p.key: p for p in free_parameters()}
    base = load_config(compose([HISTORY]))
    current = {k: space.get_value(base, k) for k in free}  # start from the defaults
    if args.start:
        current.update(json.loads(Path(args.start).read_text(encoding="utf-8")))
    seeds = list(range(args.seeds))
    best = loss_of(current, seeds, args.scale)
    print(f"start loss {best:.3f}", flush=True)
    with ProcessPoolExecutor(args.workers) as ex:
        for it in range(0, args.iters, args.workers):
            step = 0.5 * (1 - it / args.iters) + 0.08
            cands = [propose(current, free, rng, int(rng.integers(1, 4)), step)
                     for _ in range(args.workers)]
            losses = list(ex.map(_eval, [(c, seeds, args.scale) for c in cands]))
            i = int(np.argmin(losses))
            if losses[i] < best:
                best, current = losses[i], cands[i]
                if args.out:
                    write_text(args.out, json.dumps(current, indent=1) + "\n")
                print(f"iter {it}: loss {best:.3f}", flush=True)
    print(json.dumps(current, indent=1))


if __name__ == "__main__":
    main()
