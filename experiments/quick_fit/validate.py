"""Check the default parameters against every reported figure: national scale, 10 seeds.

    python experiments/quick_fit/validate.py [--seeds 10] [--scale 1.0] [--workers 2]

The 2011-2017 history (`historical_2017`). Writes results/quick_fit/fit_table.md (the
README's table), fit_by_seed.csv, and seed 0's run with its figures in results/quick_fit/seed0/.
A figure passes when the median over seeds is within its tolerance of the report (25% for
homicides and stocks, 15% for a year's homicides, 50% for the smaller counts of police,
soldiers, relatives and gang members killed by security forces), a bound when it is met, the
2013-2014 trend when rising. The model's inputs (population, leaders moved) are no criterion.
Column "likelihood" says how the calibration scores the figure: `yes`, `share` (its share of
the figures it is nested in) or `no` (a sum or ratio of scored figures, or an input).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compose import compose
from sim.io import write_csv, write_text
from sim.likelihood import EVENT_SERIES
from sim.model import GangViolenceModel
from sim.observation import compare
from sim.reported import load_reported
from sim.run import run_and_write

OUT = Path(__file__).resolve().parents[2] / "results" / "quick_fit"
HISTORY = "scenario=historical_2017"  # the reported figures are of 2011-2017


def one(args) -> list[dict]:
    seed, scale = args
    model = GangViolenceModel(compose([HISTORY, f"seed={seed}", f"model.scale={scale}"]))
    fit = compare(model.run(), scale=model.scale)
    return [{"seed": seed, "id": r.figure.id, "simulated": r.simulated, "error": r.error}
            for r in fit.rows]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with ProcessPoolExecutor(args.workers) as ex:
        rows = [r for rs in ex.map(one, [(s, args.scale) for s in range(args.seeds)]) for r in rs]
    df = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    write_csv(df, OUT / "fit_by_seed.csv")
    lines = ["| figure | window | kind | reported | simulated median (5-95%) | error of median | "
             "criterion | pass | likelihood |", "|---|---|---|---|---|---|---|---|---|"]
    passed = total = 0
    for fig in load_reported():
        sims = df[df.id == fig.id].simulated.astype(float).to_numpy()
        med = float(np.median(sims))
        lo, hi = np.percentile(sims, [5, 95])
        err = fig.error(med)
        if fig.series in ("population", "leaders_isolated"):
            crit = "(not a criterion)"
        elif "bound" in fig.kind:
            crit = "bound met"
        else:
            crit = "rising" if fig.kind == "trend" else f"within {fig.tolerance:.0%}"
        ok = fig.is_within(err)
        if crit != "(not a criterion)":
            total += 1
            passed += bool(ok)
        value = {"trend": "rising", "lower_bound_total": f"> {_fmt(fig.value)}",
                 "lower_bound_mean": f"> {_fmt(fig.value)}" + ("/day" if fig.series in EVENT_SERIES else ""),
                 "upper_bound_total": f"< {_fmt(fig.value)}"}.get(fig.kind, _fmt(fig.value))
        sim = (f"{med:+.1f}/day/yr" if fig.kind == "trend" else
               f"{_fmt(med)} ({_fmt(lo)}-{_fmt(hi)})")
        lines.append(f"| {fig.id} | {fig.start}..{fig.end} | {fig.kind} | {value} | {sim} | "
                     f"{err:+.0%} | {crit} | {'yes' if ok else 'NO'} | "
                     f"{'no' if fig.weight == 0 else ('share' if fig.nested_in else 'yes')} |")
    head = (f"National scale (`model.scale={args.scale}`), seeds 0-{args.seeds - 1}, default "
            f"parameters: {passed} of {total} criteria met.\n\n")
    write_text(OUT / "fit_table.md", head + "\n".join(lines) + "\n")
    print(head + "\n".join(lines))
    # seed 0's run, with its figures, as the README shows it
    run_and_write(compose([HISTORY, f"model.scale={args.scale}", "seed=0",
                           "output.progress=false"]), OUT / "seed0", progress=False)


if __name__ == "__main__":
    main()
