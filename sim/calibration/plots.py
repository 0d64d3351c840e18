"""Figures of a calibration: the loss by trial and the parameters' (posterior) distributions."""

from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.calibration.space import Parameter
from sim.io import save_figure

_DPI = 130


def _save(fig: Figure, path: str | os.PathLike[str]) -> None:
    FigureCanvasAgg(fig)
    save_figure(fig, path, dpi=_DPI)


def plot_loss(history: pd.DataFrame, path: str | os.PathLike[str], method: str) -> None:
    """Loss of every evaluation (log scale) with the running best; by generation for ABC."""
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax = fig.add_subplot()
    loss = history["loss"].to_numpy(dtype=float)
    x = np.arange(len(loss))
    finite = np.isfinite(loss)
    if "generation" in history:
        gens = history["generation"].to_numpy()
        sc = ax.scatter(x[finite], loss[finite], c=gens[finite], s=8, cmap="viridis")
        fig.colorbar(sc, ax=ax, label="generation")
        ax.set_xlabel("accepted particle (in generation order)")
    else:
        ax.scatter(x[finite], loss[finite], s=6, color="#8c959f", label="trial")
        ax.set_xlabel("trial")
    best = np.minimum.accumulate(np.where(finite, loss, np.inf))
    ax.plot(x, best, color="#cf222e", lw=1.8, label="best so far")
    if len(loss):
        ax.axhline(loss[0], color="#0969da", lw=1, ls="--", label=f"first ({loss[0]:.1f})")
    ax.set_yscale("log")
    ax.set_ylabel("loss (sum of half-deviances)")
    ax.set_title(f"Calibration loss ({method})")
    ax.legend(fontsize=8, loc="upper right")
    _save(fig, path)


def plot_parameters(parameters: Sequence[Parameter], history: pd.DataFrame, best: dict[str, float],
                    path: str | os.PathLike[str], posterior: pd.DataFrame | None = None) -> None:
    """One panel per parameter over its prior range.

    With a posterior (ABC): its weighted histogram, i.e. the marginal. Without (Optuna): every
    trial's value against its loss, the best trial marked, the best 10 % of trials shaded.
    """
    n = len(parameters)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.2 * cols, 2.5 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    loss = history["loss"].to_numpy(dtype=float)
    good = loss <= np.nanquantile(loss[np.isfinite(loss)], 0.1) if np.isfinite(loss).any() else loss > 0
    for ax, p in zip(axes, parameters):
        if posterior is not None:
            values = posterior[p.key].to_numpy(dtype=float)
            bins = (np.geomspace(p.low, p.high, 25) if p.log else np.linspace(p.low, p.high, 25))
            ax.hist(values, bins=bins, weights=posterior["weight"], color="#0969da", alpha=0.7)
            ax.set_ylabel("posterior weight", fontsize=7)
        else:
            values = history[p.key].to_numpy(dtype=float)
            ax.scatter(values, loss, s=4, color="#8c959f")
            ax.scatter(values[good], loss[good], s=6, color="#0969da", label="best 10%")
            ax.set_yscale("log")
            ax.set_ylabel("loss", fontsize=7)
        ax.axvline(best[p.key], color="#cf222e", lw=1.5)
        ax.set_xlim(p.low, p.high)
        if p.log:
            ax.set_xscale("log")
        ax.set_title(p.short, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("Posterior marginals (red: best particle)" if posterior is not None
                 else "Trials by parameter (red: best trial)", fontsize=10)
    _save(fig, path)
