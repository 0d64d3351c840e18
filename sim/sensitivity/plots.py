"""The figures of an analysis: Morris mu* against sigma, Sobol S1 and ST."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from sim.io import save_figure
from sim.sensitivity.config import LOSS, MEAN

_DPI = 110

_LABELS = {LOSS: "loss (sum of half-deviances)", MEAN: "homicides per day, whole run"}


def output_label(output: str) -> str:
    return _LABELS.get(output, output.removeprefix("homicides_").replace("_", " ")
                       + " homicides per day" if output.startswith("homicides_") else output)


def plot_morris(morris, outputs: Sequence[str], path: Path, label_top: int = 10) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = [o for o in (LOSS, MEAN) if o in outputs]
    fig = Figure(figsize=(6.0 * len(shown), 5.5), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    for ax, output in zip(axes, shown):
        df = morris[morris.output == output]
        sel = df.selected.to_numpy(dtype=bool)
        ax.errorbar(df.mu_star[~sel], df.sigma[~sel], xerr=df.mu_star_conf[~sel], fmt="o",
                    ms=4, color="#6e7781", ecolor="#d0d7de", elinewidth=1, label="screened")
        if sel.any():
            ax.errorbar(df.mu_star[sel], df.sigma[sel], xerr=df.mu_star_conf[sel], fmt="o",
                        ms=6, color="#cf222e", ecolor="#f5a3a3", elinewidth=1,
                        label="selected for Sobol")
        top = max(float(df.mu_star.max()), float(df.sigma.max()), 1e-12) * 1.05
        ax.plot([0, top], [0, top], ls="--", lw=0.8, color="#999999", label="sigma = mu*")
        floor = float(df.noise_floor.iloc[0])
        if math.isfinite(floor):
            ax.axvspan(0, floor, color="#fff1c2", zorder=0, label="mu* within seed noise")
        for _, row in df.nsmallest(label_top, "rank").iterrows():
            if row.mu_star > 0:
                ax.annotate(row.parameter, (row.mu_star, row.sigma), fontsize=7,
                            xytext=(4, 3), textcoords="offset points")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mu* (mean |elementary effect| per unit range)")
        ax.set_ylabel("sigma (interactions, non-linearity)")
        ax.set_title(f"Morris: {output_label(output)}")
        ax.legend(fontsize=8, loc="upper left")
    save_figure(fig, path, dpi=_DPI)


def plot_sobol(sobol, outputs: Sequence[str], path: Path) -> None:
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = min(3, len(outputs))
    nrows = math.ceil(len(outputs) / ncols)
    params = list(dict.fromkeys(sobol.parameter))
    height = max(3.2, 0.45 * len(params) + 1.4)
    right = float(np.nanmax([1.05, *(sobol.S1 + sobol.S1_conf), *(sobol.ST + sobol.ST_conf)]))
    fig = Figure(figsize=(5.0 * ncols, height * nrows), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    y = np.arange(len(params))
    for ax, output in zip(axes, outputs):
        df = sobol[sobol.output == output].set_index("parameter").loc[params]
        ax.barh(y - 0.2, df.S1, 0.38, xerr=df.S1_conf, color="#4c72b0", label="S1 (first order)",
                error_kw={"elinewidth": 1, "capsize": 2})
        ax.barh(y + 0.2, df.ST, 0.38, xerr=df.ST_conf, color="#dd8452", label="ST (total)",
                error_kw={"elinewidth": 1, "capsize": 2})
        ax.set_yticks(y, params, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlim(-0.1, right + 0.05)
        ax.set_title(output_label(output), fontsize=10)
        ax.set_xlabel("share of output variance")
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="lower right")
    save_figure(fig, path, dpi=_DPI)
