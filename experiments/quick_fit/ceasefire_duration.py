"""A one-parameter refit: how long the gangs' resolve to keep their cease-fire order of March
2016 lasts (`ceasefire.order_halflife_days`), weighed against the reported figures of 2016-2017.

    python experiments/quick_fit/ceasefire_duration.py [--seeds 8] [--workers 2]

Every other parameter stays at its default. For each half-life of a log-spaced grid, the
2011-2017 history (`historical_2017`) runs at national scale over `--seeds` seeds (0..seeds-1);
the loss is the mean over the 2016-2017 homicide figures of REPORTED.md of the squared log error
of the median over seeds. Writes results/quick_fit/ceasefire_duration.md (the table and the best
value) and prints it. The default in sim/config.py is the grid's best point, and says so in its
source.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sim.compose import compose
from sim.io import write_text
from sim.model import GangViolenceModel
from sim.observation import compare

OUT = Path(__file__).resolve().parents[2] / "results" / "quick_fit" / "ceasefire_duration.md"
GRID = (90.0, 180.0, 365.0, 730.0, 1460.0, 2920.0, 5840.0, 100000.0)
FIGURES = ("ceasefire_start", "janmay_2016", "janmay_2017", "janmay_ratio", "jun_2017_start")


def one(args: tuple[float, int]) -> tuple[float, int, dict]:
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    halflife, seed = args
    model = GangViolenceModel(compose(["scenario=historical_2017", f"seed={seed}",
                                       f"model.ceasefire.order_halflife_days={halflife}"]))
    fit = compare(model.run(), scale=model.scale)
    return halflife, seed, {r.figure.id: (r.simulated, r.figure.value) for r in fit.rows
                            if r.figure.id in FIGURES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    jobs = [(h, s) for h in GRID for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one, jobs))
    rows = []
    for h in GRID:
        sims = {f: np.median([r[f][0] for hh, _, r in results if hh == h]) for f in FIGURES}
        reported = {f: next(r[f][1] for hh, _, r in results if hh == h) for f in FIGURES}
        loss = float(np.mean([np.log(sims[f] / reported[f]) ** 2 for f in FIGURES]))
        rows.append((h, loss, sims, reported))
    best = min(rows, key=lambda r: r[1])
    lines = ["| order half-life (days) | loss | " + " | ".join(FIGURES) + " |",
             "|---|---|" + "---|" * len(FIGURES),
             "| reported | | " + " | ".join(f"{best[3][f]:.4g}" for f in FIGURES) + " |"]
    for h, loss, sims, _ in rows:
        mark = " **best**" if h == best[0] else ""
        lines.append(f"| {h:g}{mark} | {loss:.4f} | " + " | ".join(f"{sims[f]:.4g}" for f in FIGURES) + " |")
    text = (f"`python experiments/quick_fit/ceasefire_duration.py --seeds {args.seeds}`: medians over "
            f"seeds 0-{args.seeds - 1}, every other parameter at its default; loss = mean squared log "
            f"error over {', '.join(FIGURES)}.\n\n" + "\n".join(lines)
            + f"\n\nBest: {best[0]:g} days.\n")
    write_text(OUT, text)
    print(text)


if __name__ == "__main__":
    main()
