"""What the data identify: a calibration's posterior against its priors, and its correlations.

    python -m sim.calibration.identify record          # or a calibration's name

Reads results/calibration/<name>/posterior.csv and the priors in its summary.json, and writes
beside them:

- identification.csv: per parameter the prior's range, the posterior's 5/50/95 % quantiles, the
  width ratio (the posterior's 90 % interval over the prior's, on the prior's scale: log for a
  log-uniform prior) and `identified` (ratio at most sim.posterior.IDENTIFIED_WIDTH);
- correlations.csv: the weighted correlation matrix of the particles on the priors' scales;
- identification.md: both, in words, with the strongly correlated pairs (|r| >= STRONG): a
  parameter unidentified alone may be identified in a combination;
- identification.png: the width ratios and the correlation matrix.

sim-calibrate writes the same files at the end of an ABC calibration.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.io import write_csv, write_text
from sim.posterior import (IDENTIFIED_WIDTH, Posterior, calibration_priors, identification,
                           load_posterior)

#: |r| from which two parameters' posterior correlation is reported as strong.
STRONG = 0.5


def correlations(posterior: Posterior, priors: dict[str, dict]) -> pd.DataFrame:
    """The particles' weighted correlations, each parameter on its prior's scale."""
    x = np.column_stack([np.log(posterior.values[:, k]) if priors[key].get("log") else posterior.values[:, k]
                         for k, key in enumerate(posterior.keys)])
    w = posterior.weights
    centred = x - w @ x
    cov = (centred * w[:, None]).T @ centred
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.outer(sd, sd)
    names = [k.removeprefix("model.") for k in posterior.keys]
    return pd.DataFrame(r, index=names, columns=names)


def strong_pairs(r: pd.DataFrame, threshold: float = STRONG) -> list[tuple[str, str, float]]:
    names = list(r.index)
    pairs = [(a, b, float(r.loc[a, b])) for i, a in enumerate(names) for b in names[i + 1:]
             if np.isfinite(r.loc[a, b]) and abs(r.loc[a, b]) >= threshold]
    return sorted(pairs, key=lambda p: -abs(p[2]))


def markdown(posterior: Posterior, table: pd.DataFrame, r: pd.DataFrame) -> str:
    def g(x: float) -> str:
        return f"{x:.3g}"

    ident = table[table.identified]
    w = posterior.weights
    ess = 1.0 / float(np.sum(w ** 2))
    distinct = len(np.unique(posterior.values, axis=0))
    lines = [f"# What the data identify: calibration `{posterior.name}`", "",
             f"{len(posterior)} weighted particles, {distinct} distinct; effective sample size "
             f"{ess:.1f} (1 / sum of squared weights)"
             + (": **the weights have degenerated, and the intervals below describe a handful of "
                "particles, not the posterior**" if ess < 0.1 * len(posterior) else "") + ".", "",
             "A parameter is **identified** when its "
             f"posterior's 90% interval is at most {IDENTIFIED_WIDTH:.0%} of its prior's (on the "
             "prior's scale: log for a log-uniform prior); `python -m sim.calibration.identify "
             f"{posterior.name}`.", "",
             f"**Identified ({len(ident)} of {len(table)}):** "
             + (", ".join(f"`{p}`" for p in ident.parameter) or "none") + ".", "",
             f"**Not identified ({len(table) - len(ident)}):** "
             + (", ".join(f"`{p}`" for p in table[~table.identified].parameter) or "none") + ".", "",
             "| parameter | prior | posterior median | 90% interval | width ratio | identified |",
             "|---|---|---|---|---|---|"]
    for _, row in table.sort_values("width_ratio").iterrows():
        lines.append(f"| `{row.parameter}` | [{g(row.prior_low)}, {g(row.prior_high)}]"
                     f"{' log' if row.log else ''} | {g(row['median'])} | [{g(row.q05)}, {g(row.q95)}] | "
                     f"{row.width_ratio:.2f} | {'yes' if row.identified else 'no'} |")
    pairs = strong_pairs(r)
    lines += ["", f"**Strong posterior correlations** (|r| >= {STRONG}, on the priors' scales): "
              + ("; ".join(f"`{a}` and `{b}` {v:+.2f}" for a, b, v in pairs) if pairs else "none")
              + ". A pair strongly correlated is constrained in combination (a ridge) even where "
                "each alone is not."]
    return "\n".join(lines) + "\n"


def plot(table: pd.DataFrame, r: pd.DataFrame, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.io import save_figure

    n = len(table)
    fig = Figure(figsize=(13, max(4.5, 0.32 * n + 1.5)), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.25])
    order = table.sort_values("width_ratio")
    ax.barh(order.parameter, order.width_ratio,
            color=["#1a7f37" if i else "#8c959f" for i in order.identified])
    ax.axvline(IDENTIFIED_WIDTH, color="#cf222e", lw=1, ls="--", label=f"identified below {IDENTIFIED_WIDTH:g}")
    ax.axvline(1.0, color="#57606a", lw=0.8, ls=":", label="as wide as the prior")
    ax.invert_yaxis()
    ax.set_xlabel("posterior 90% interval / prior 90% interval")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("posterior against prior")
    im = ax2.imshow(r.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax2.set_xticks(range(n), r.columns, rotation=90, fontsize=7)
    ax2.set_yticks(range(n), r.index, fontsize=7)
    fig.colorbar(im, ax=ax2, label="weighted correlation")
    ax2.set_title("posterior correlations")
    FigureCanvasAgg(fig)
    save_figure(fig, path, dpi=130)


def write(posterior: Posterior, out: Path) -> pd.DataFrame:
    """Write the four files into `out`; returns the identification table."""
    priors = calibration_priors(posterior)
    table = identification(posterior, priors)
    r = correlations(posterior, priors)
    write_csv(table, out / "identification.csv")
    write_csv(r.reset_index(names="parameter"), out / "correlations.csv")
    write_text(out / "identification.md", markdown(posterior, table, r))
    plot(table, r, out / "identification.png")
    return table


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.calibration.identify <record | calibration name>", file=sys.stderr)
        return 2
    try:
        posterior = load_posterior(args[0])
        table = write(posterior, posterior.path.parent)
    except ConfigError as exc:
        print(f"sim.calibration.identify: {exc}", file=sys.stderr)
        return 2
    print(f"{int(table.identified.sum())} of {len(table)} parameters identified; "
          f"{posterior.path.parent / 'identification.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
