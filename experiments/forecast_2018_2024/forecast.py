"""The blind forecast of 2018-2024: a posterior-predictive ensemble of the 2011-2024 history.

    python experiments/forecast_2018_2024/forecast.py [--posterior record] [--n 400] [--seed 0]
                                                      [--workers 2] [--scale 1.0] [--out DIR]

Runs `sim-ensemble posterior=<posterior> scenario=historical n=<n> seed=<seed>` (each replicate
at its own draw from the posterior of a calibration fitted to 2011-2017 only, and its own seed;
the ensemble is kept under results/ensembles/forecast_2018_2024/, not tracked), then writes
into `--out` (default results/forecast_2018_2024/):

- quantiles.csv: per series and month of 2018-2024, the 5/25/50/75/95 % quantiles over the
  replicates (event series: the month's total; stocks: the month's mean), national units;
- annual.csv: the same per year;
- forecast.png: the monthly bands of each series;
- README.md: what was forecast, with which model (git commit) and posterior, on which date.

No homicide figure after 2017 is in the project: the forecast is scored elsewhere. It is kept
as it was made: the script refuses to write into a folder that already holds a forecast
(`--out` elsewhere for a new one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "results" / "forecast_2018_2024"
ENSEMBLE = ROOT / "results" / "ensembles" / "forecast_2018_2024"
FIRST, LAST = "2018-01", "2024-12"
#: series -> (title, how a month is reduced)
SERIES = {
    "homicides": ("official homicides", "sum"),
    "homicides_true": ("true homicides (hidden and excluded included)", "sum"),
    "security_vs_gang": ("gang members killed by security forces", "sum"),
    "police_killed": ("police officers killed", "sum"),
    "soldiers_killed": ("soldiers killed", "sum"),
    "prison_population": ("prisoners (all)", "mean"),
    "gang_members_prison": ("gang members in prison", "mean"),
    "gang_members_street": ("gang members on the street", "mean"),
    "territory_state": ("people living in ground the state holds", "mean"),
}
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def run_ensemble(posterior: str, n: int, seed: int, workers: int, scale: float, folder: Path,
                 model: str | None = None) -> None:
    cmd = [sys.executable, "-m", "sim.ensemble", f"posterior={posterior}", "scenario=historical",
           f"n={n}", f"seed={seed}", f"workers={workers}", f"model.scale={scale}",
           f"hydra.run.dir={folder}", *([f"model={model}"] if model else [])]
    subprocess.run(cmd, check=True, cwd=ROOT)


def monthly(folder: Path) -> dict[str, np.ndarray]:
    """series -> replicates x months (2018-01 .. 2024-12), national units."""
    from sim.compare import read_config
    from sim.ensemble_tables import RUNS, iter_replicates

    scale = float(read_config(folder / ".hydra" / "config.yaml", ("model.scale",))["model.scale"])
    months = pd.period_range(FIRST, LAST, freq="M")
    out: dict[str, list[np.ndarray]] = {s: [] for s in SERIES}
    for _, _, days, values in iter_replicates(folder / RUNS, list(SERIES)):
        month = pd.PeriodIndex(pd.DatetimeIndex(days), freq="M")
        for s, (_, how) in SERIES.items():
            frame = pd.Series(values[s].astype(float) / scale, index=month)
            per = frame.groupby(level=0).sum() if how == "sum" else frame.groupby(level=0).mean()
            out[s].append(per.reindex(months).to_numpy())
    return {s: np.vstack(v) for s, v in out.items()}


def tables(per_month: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = pd.period_range(FIRST, LAST, freq="M")
    rows, years = [], []
    for s, (_, how) in SERIES.items():
        values = per_month[s]
        q = np.quantile(values, QUANTILES, axis=0)
        for k, m in enumerate(months):
            rows.append({"series": s, "month": str(m), **{f"q{int(p * 100):02d}": q[i, k] for i, p in enumerate(QUANTILES)}})
        for year in range(2018, 2025):
            cols = [k for k, m in enumerate(months) if m.year == year]
            annual = values[:, cols].sum(axis=1) if how == "sum" else values[:, cols].mean(axis=1)
            qa = np.quantile(annual, QUANTILES)
            years.append({"series": s, "year": year, **{f"q{int(p * 100):02d}": qa[i] for i, p in enumerate(QUANTILES)}})
    return pd.DataFrame(rows), pd.DataFrame(years)


def figure(quantiles: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.io import save_figure

    fig, axes = plt.subplots(3, 3, figsize=(13, 9), sharex=True)
    for ax, (s, (title, how)) in zip(axes.flat, SERIES.items()):
        q = quantiles[quantiles.series == s]
        x = pd.PeriodIndex(q.month, freq="M").to_timestamp()
        ax.fill_between(x, q.q05, q.q95, color="tab:blue", alpha=0.2, lw=0, label="90%")
        ax.fill_between(x, q.q25, q.q75, color="tab:blue", alpha=0.4, lw=0, label="50%")
        ax.plot(x, q.q50, color="tab:blue", lw=1.2, label="median")
        ax.set_title(f"{title} ({'a month' if how == 'sum' else 'monthly mean'})", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_ylim(bottom=0)
    axes.flat[0].legend(fontsize=7, loc="upper right")
    fig.suptitle("Blind forecast 2018-2024: posterior-predictive ensemble of a model fitted to 2011-2017", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _fitted_to(posterior) -> str:
    """What the calibration saw, from its summary.json."""
    from sim.posterior import calibration_summary

    summary = calibration_summary(posterior)
    if not summary:
        return "the figures its summary.md lists (no summary.json found)"
    after = summary.get("holdout_after")
    return (f"the seed and official figures that end before {after}" if after
            else "the seed and official figures of 2011-2017 only")


def readme(out: Path, annual: pd.DataFrame, args, posterior, made: str) -> None:
    def fmt(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"

    lines = [
        "# Blind forecast of 2018-2024", "",
        f"**Made on {made}** by `python experiments/forecast_2018_2024/forecast.py --posterior "
        f"{args.posterior} --n {args.n} --seed {args.seed} --scale {args.scale}` at commit `{_commit()}`, "
        "and kept as it was made (the script will not overwrite it).", "",
        f"**Model and posterior.** The scenario `historical` (2011-2024, the policy timeline of "
        f"TIMELINE_2018_2024.md with its inputs: arrests, prison population, releases); {args.n} replicates, "
        f"each at its own weighted draw from the posterior of the calibration `{posterior.name}` "
        f"({len(posterior)} particles, `{_shown(posterior.path)}`), fitted to {_fitted_to(posterior)}, "
        "and its own seed. The intervals carry the uncertainty of the drawn parameters and seed noise "
        "together; not that of the parameters the calibration left fixed, nor of the mechanisms themselves.", "",
        "**Blind.** No homicide figure after 2017 is in the project; nothing was tuned to one. "
        "The forecast will be scored against figures held elsewhere.", "",
        "Annual medians with 90% intervals (national units; event series are totals, stocks yearly means):", "",
        "| series | " + " | ".join(str(y) for y in range(2018, 2025)) + " |",
        "|---|" + "---|" * 7,
    ]
    for s, (title, _) in SERIES.items():
        a = annual[annual.series == s].set_index("year")
        lines.append(f"| {title} | " + " | ".join(f"{fmt(a.loc[y, 'q50'])} ({fmt(a.loc[y, 'q05'])}-"
                                                   f"{fmt(a.loc[y, 'q95'])})" for y in range(2018, 2025)) + " |")
    lines += ["", "![forecast](forecast.png)", "",
              "Files: `quantiles.csv` (per series and month), `annual.csv` (per year), `forecast.png`."]
    from sim.io import write_text

    write_text(out / "README.md", "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posterior", default="record")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--ensemble", type=Path, default=ENSEMBLE, help="where the ensemble is run (not tracked)")
    args = ap.parse_args(argv)
    if (args.out / "quantiles.csv").exists():
        ap.error(f"{args.out} already holds a forecast, kept as it was made; accepted: --out another folder")
    from sim.config import ConfigError
    from sim.posterior import load_posterior

    try:
        posterior = load_posterior(args.posterior)  # a missing posterior fails before any run
    except ConfigError as exc:
        print(f"forecast.py: config error: {exc}", file=sys.stderr)
        sys.exit(2)
    made = dt.date.today().isoformat()
    from sim.posterior import model_preset

    # on the model the posterior was fitted on, beneath the draws
    run_ensemble(args.posterior, args.n, args.seed, args.workers, args.scale, args.ensemble, model_preset(posterior))
    quantiles, annual = tables(monthly(args.ensemble))
    args.out.mkdir(parents=True, exist_ok=True)
    from sim.io import write_csv, write_text

    write_csv(quantiles, args.out / "quantiles.csv")
    write_csv(annual, args.out / "annual.csv")
    figure(quantiles, args.out / "forecast.png")
    write_text(args.out / "forecast.json", json.dumps(
        {"made": made, "commit": _commit(), "posterior": posterior.name, "particles": len(posterior),
         "n": args.n, "seed": args.seed, "scale": args.scale}, indent=2) + "\n")
    readme(args.out, annual, args, posterior, made)
    print(f"forecast in {args.out}")


if __name__ == "__main__":
    main()
