"""Same model, shown statistically: compare every reported figure's distribution between two
engines over many national runs of the 2011-2017 history (a two-sample test per figure).

    # sample the engine importable as `sim` (this checkout) over seeds 0..199
    python benchmarks/equivalence.py sample --seeds 200 --out results/equivalence/new.csv
    # sample an older engine: check out its commit beside this one and put it first on the path
    git worktree add /tmp/ref <commit>
    PYTHONPATH=/tmp/ref python benchmarks/equivalence.py sample --seeds 200 \
        --out results/equivalence/reference.csv
    # test: Kolmogorov-Smirnov and Mann-Whitney per figure, Holm-adjusted; writes a table
    python benchmarks/equivalence.py test results/equivalence/reference.csv \
        results/equivalence/new.csv --out results/equivalence/table.md

`sample` writes one row per seed and figure (seed, id, simulated) plus each run's totals of
the daily series, so that series no figure covers are compared too.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

TOTALS = ("homicides", "homicides_true", "hidden", "gang_vs_gang", "gang_vs_civilian",
          "gang_vs_security", "security_vs_gang", "police_killed", "soldiers_killed",
          "relatives_killed", "arrests", "releases", "recruits", "civilians_fled", "deported",
          "extortion", "police_resigned")
FINAL = ("gang_members_street", "gang_members_prison", "police_officers", "population")


def _history_2017() -> str:
    """The 2011-2017 history of the engine imported as `sim` (`historical` in checkouts from
    before it ran to 2024), so that both engines run the same years."""
    import sim

    scenarios = Path(sim.__file__).resolve().parent.parent / "conf" / "scenario"
    return "historical_2017" if (scenarios / "historical_2017.yaml").exists() else "historical"


def _one(args: tuple[int, float, tuple[str, ...]]) -> list[dict]:
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    from sim.compose import compose
    from sim.model import GangViolenceModel
    from sim.observation import compare

    seed, scale, overrides = args
    model = GangViolenceModel(compose([f"scenario={_history_2017()}", f"seed={seed}",
                                       f"model.scale={scale}", "output.figures=false", *overrides]))
    df = model.run()
    fit = compare(df, scale=model.scale)
    rows = [{"seed": seed, "id": r.figure.id, "simulated": r.simulated} for r in fit.rows]
    rows += [{"seed": seed, "id": f"total:{c}", "simulated": float(df[c].sum())}
             for c in TOTALS if c in df]
    rows += [{"seed": seed, "id": f"final:{c}", "simulated": float(df[c].iloc[-1])}
             for c in FINAL if c in df]
    return rows


def sample(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    import sim
    print(f"engine: {Path(sim.__file__).parent}", file=sys.stderr)
    jobs = [(s, args.scale, tuple(args.overrides)) for s in range(args.first, args.first + args.seeds)]
    rows: list[dict] = []
    with ProcessPoolExecutor(args.workers) as ex:
        for r in tqdm(ex.map(_one, jobs), total=len(jobs), unit="run", file=sys.stderr):
            rows += r
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    pd.DataFrame(rows).to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, out)


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, (m - k) * p[i])
        adj[i] = min(running, 1.0)
    return adj


def test(args: argparse.Namespace) -> None:
    from scipy import stats

    a = pd.read_csv(args.reference)
    b = pd.read_csv(args.new)
    rows = []
    for fid in dict.fromkeys(a.id):
        x = a[a.id == fid].simulated.dropna().to_numpy(float)
        y = b[b.id == fid].simulated.dropna().to_numpy(float)
        if len(x) < 5 or len(y) < 5:
            continue
        ks = stats.ks_2samp(x, y)
        mw = stats.mannwhitneyu(x, y, alternative="two-sided")
        rows.append({"figure": fid, "n_ref": len(x), "n_new": len(y),
                     "median_ref": np.median(x), "median_new": np.median(y),
                     "mean_ref": x.mean(), "mean_new": y.mean(),
                     "ks_D": ks.statistic, "ks_p": ks.pvalue, "mw_p": mw.pvalue})
    df = pd.DataFrame(rows)
    # each engine's median over its runs against the figure's tolerance (the README fit table's
    # criterion, on all runs instead of seeds 0-9)
    from sim.reported import load_reported
    figures = {f.id: f for f in load_reported()}
    for side in ("ref", "new"):
        df[f"within_{side}"] = [
            ("yes" if figures[f].is_within(figures[f].error(m)) else "NO") if f in figures else ""
            for f, m in zip(df.figure, df[f"median_{side}"])]
    df["ks_p_holm"] = _holm(df.ks_p.to_numpy())
    df["mw_p_holm"] = _holm(df.mw_p.to_numpy())
    figs = df[~df.figure.str.contains(":")]
    lines = [f"Reference `{args.reference}` against `{args.new}`: two-sample Kolmogorov-Smirnov "
             f"and Mann-Whitney tests per figure; Holm-adjusted p over the {len(df)} tests.",
             "", f"Reported figures: smallest raw KS p {figs.ks_p.min():.3g}, "
             f"{int((figs.ks_p < 0.05).sum())} of {len(figs)} below 0.05 (about "
             f"{0.05 * len(figs):.1f} expected by chance); smallest Holm-adjusted KS p "
             f"{df.ks_p_holm.min():.3g}. Figures whose median over the runs is within "
             f"tolerance: {int((figs.within_ref == 'yes').sum())} of {len(figs)} (reference), "
             f"{int((figs.within_new == 'yes').sum())} of {len(figs)} (new).", "",
             "| figure | n | median ref | median new | mean ref | mean new | KS D | KS p | "
             "MW p | KS p (Holm) | within (ref/new) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        lines.append(f"| {r.figure} | {r.n_ref}/{r.n_new} | {r.median_ref:.4g} | "
                     f"{r.median_new:.4g} | {r.mean_ref:.4g} | {r.mean_new:.4g} | {r.ks_D:.3f} | "
                     f"{r.ks_p:.3f} | {r.mw_p:.3f} | {r.ks_p_holm:.3f} | "
                     f"{r.within_ref}/{r.within_new} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--seeds", type=int, default=200)
    s.add_argument("--first", type=int, default=0)
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--out", required=True)
    s.add_argument("overrides", nargs="*")
    t = sub.add_parser("test")
    t.add_argument("reference")
    t.add_argument("new")
    t.add_argument("--out")
    args = ap.parse_args()
    sample(args) if args.cmd == "sample" else test(args)


if __name__ == "__main__":
    main()
