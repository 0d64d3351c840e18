"""PNG figures of one run: the trajectory against the reports, homicides by kind, the territory.

Figures are built with matplotlib's object API (``Figure`` plus an Agg canvas), never
pyplot, so nothing touches global backend state and figures are freed with the
function. Files are written atomically and without a Software/date tag, so the same
data always gives byte-identical PNGs.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from sim.io import save_figure
from sim.observation import Fit, compare
from sim.reported import ReportedFigure

__all__ = ["plot_trajectory", "plot_kinds", "plot_territory", "plot_territory_change",
           "draw_territory", "draw_changes"]

_SIZE = (11.0, 7.0)
_DPI = 110
_ROLLING_DAYS = 30
# Fixed margins of sim-run's figures (fractions of the 11 x 7 in figure): room for the tick
# labels, titles and the legends placed outside the axes (policies below the trajectory, the
# map's key on its right).
_TRAJECTORY_MARGINS = {"left": 0.055, "right": 0.982, "top": 0.965, "bottom": 0.125, "hspace": 0.13}
_KINDS_MARGINS = {"left": 0.06, "right": 0.985, "top": 0.955, "bottom": 0.06}
_TERRITORY_MARGINS = {"left": 0.05, "right": 0.81, "top": 0.95, "bottom": 0.08}

_KIND_COLUMNS: tuple[tuple[str, str], ...] = (
    ("gang_vs_gang", "gang vs gang"),
    ("gang_vs_civilian", "gang vs civilian"),
    ("gang_vs_security", "gang vs security forces"),
    ("security_vs_gang", "security forces vs gang"),
)
_KIND_COLOURS = ("#4c72b0", "#dd8452", "#c44e52", "#55a868")

_STATUS_COLOURS = {True: "#1a7f37", False: "#cf222e", None: "#6e7781"}
_SECURITY_SERIES: tuple[tuple[str, str, str], ...] = (
    ("police_killed", "police killed", "#1f4e9c"),
    ("soldiers_killed", "soldiers killed", "#6b8e23"),
    ("relatives_killed", "relatives of security forces killed", "#9c27b0"),
)

_GANG_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd")  # MS-13, B18 Sureños, B18 Revolucionarios
_NO_GANG = "#b0b0b0"
_STATE = "#2ca02c"  # cells held by the state (territorial plan)
_UNINHABITED = "#f7f7f7"


# ---------------------------------------------------------------- shared helpers


def draw_all(jobs: Sequence[tuple]) -> None:
    """Draw figures, each job `(function, args, kwargs)`, on two cores where the platform can
    fork (a child inherits the imported modules, so it starts in milliseconds); the files are
    byte for byte those drawn one after the other (tests/test_figures.py)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if len(jobs) < 2 or (os.cpu_count() or 1) < 2 or "fork" not in \
            multiprocessing.get_all_start_methods():
        for function, args, kwargs in jobs:
            function(*args, **kwargs)
        return
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        for done in [pool.submit(function, *args, **kwargs) for function, args, kwargs in jobs]:
            done.result()  # a failure in a child is raised here


def _new_figure(nrows: int = 1, height_ratios: Sequence[float] | None = None,
                margins: dict[str, float] | None = None) -> tuple[Figure, list]:
    """A figure with `nrows` axes sharing x. With `margins` (figure fractions, as for
    subplots_adjust) the axes are placed once; without, a constrained layout places them at
    every draw (it measures every text first: about 0.1-0.3 s a figure, so sim-run's three
    figures, drawn after every run, use fixed margins)."""
    fig = Figure(figsize=_SIZE, dpi=_DPI, layout=None if margins else "constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": height_ratios})
    if margins:
        fig.subplots_adjust(**margins)
    return fig, list(axes[:, 0])


def _save(fig: Figure, path: str | os.PathLike[str], dpi: int = _DPI) -> None:
    """Save atomically and free the figure (sim.io.save_figure)."""
    save_figure(fig, path, dpi)


def _dates(df: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(df["date"])).normalize()


def _format_date_axis(ax) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _policy_periods(dates: pd.DatetimeIndex, policies: pd.Series) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Runs of identical policy combinations as (combination, first day, day after the last)."""
    labels = policies.fillna("").astype(str).str.strip().to_numpy()
    if not len(labels):
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(labels)]))
    one_day = pd.Timedelta(days=1)
    return [(labels[s], dates[s], dates[e - 1] + one_day) for s, e in zip(starts, ends) if labels[s]]


def _shade_policies(axes: Sequence, periods: list[tuple[str, pd.Timestamp, pd.Timestamp]]) -> list[Patch]:
    """Shade each policy combination in its own colour; return legend handles in order of first use."""
    combos = list(dict.fromkeys(label for label, _, _ in periods))
    palette = [tuple(c) for c in _qualitative(len(combos))]
    colour = dict(zip(combos, palette))
    for label, start, stop in periods:
        for ax in axes:
            ax.axvspan(start, stop, color=colour[label], alpha=0.18, lw=0, zorder=0)
    return [Patch(facecolor=colour[c], alpha=0.35, label=c.replace("+", " + ")) for c in combos]


def _qualitative(n: int) -> np.ndarray:
    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return np.array([cmap(i % cmap.N)[:3] for i in range(n)])


def _segment(ax, figure: ReportedFigure, level: float, colour: str, lower_bound: bool) -> None:
    """A reported figure drawn as a horizontal segment over its own window."""
    x = [pd.Timestamp(figure.start), pd.Timestamp(figure.end + dt.timedelta(days=1))]
    ax.plot(x, [level, level], color=colour, lw=2.8, solid_capstyle="butt", zorder=5)
    if lower_bound:
        ax.plot(x, [level, level], ls="none", marker="^", ms=7, color=colour, zorder=6)
    elif figure.days < 20:  # a few days are a speck on a seven-year axis: mark the middle
        ax.plot([x[0] + (x[1] - x[0]) / 2], [level], ls="none", marker="D", ms=4, color=colour, zorder=6)
    # A text shifted 4 points up draws as the annotation it replaces, at a third of its cost.
    ax.text(x[0] + (x[1] - x[0]) / 2, level, figure.id, ha="center", va="bottom", fontsize=6,
            color=colour, zorder=6, transform=offset_copy(ax.transData, ax.figure, y=4, units="points"))


def _per_day_level(figure: ReportedFigure) -> float | None:
    """The reported figure as a daily rate, or None when it has no such reading."""
    if figure.kind in ("mean", "lower_bound_mean", "level"):
        return figure.value
    if figure.kind in ("total", "lower_bound_total"):
        return figure.value / figure.days
    return None


# ---------------------------------------------------------------- trajectory


def plot_trajectory(df: pd.DataFrame, fit: Fit | None, path: str | os.PathLike[str], scale: float = 1.0) -> None:
    """Daily homicides and security-force deaths against every reported figure.

    Top: daily homicides (national units) with a 30-day centred mean, each reported
    homicide figure as a segment over its window (green within tolerance, red outside,
    grey not compared), policy periods shaded. Bottom: police, soldiers and relatives
    killed per 30 days with the reported figures as per-30-day segments. Without a
    ``fit`` the run is compared with the packaged figures here.
    """
    dates = _dates(df)
    if fit is None:
        fit = compare(df, scale=scale)
    status = {r.figure.id: r.within for r in fit.rows}
    first, stop_day = dates.min(), dates.max() + pd.Timedelta(days=1)
    # Figures wholly outside the run would only stretch the date axis.
    figures = [r.figure for r in fit.rows if pd.Timestamp(r.figure.start) < stop_day and pd.Timestamp(r.figure.end) >= first]

    fig, (top, bottom) = _new_figure(2, height_ratios=(2.2, 1.0), margins=_TRAJECTORY_MARGINS)

    homicides = df["homicides"].to_numpy(dtype=float) / scale
    rolling = pd.Series(homicides).rolling(_ROLLING_DAYS, center=True, min_periods=_ROLLING_DAYS // 2).mean()
    top.plot(dates, homicides, color="#9aa5b1", lw=0.5, alpha=0.8, label="homicides per day (simulated)")
    top.plot(dates, rolling.to_numpy(), color="#111111", lw=1.8, label=f"{_ROLLING_DAYS}-day centred mean")

    for figure in figures:
        if figure.series != "homicides":
            continue
        colour = _STATUS_COLOURS[status.get(figure.id)]
        if figure.kind == "trend":
            _trend_arrow(top, figure, colour)
            continue
        level = _per_day_level(figure)
        if level is not None:  # the ratio has no daily reading
            _segment(top, figure, level, colour, figure.kind.startswith("lower_bound"))

    top.set_ylabel("homicides per day, national")
    top.set_title("Homicides: simulated trajectory against the reported figures")
    top.set_ylim(bottom=0)

    for column, label, colour in _SECURITY_SERIES:
        if column not in df.columns:
            continue
        per_30 = pd.Series(df[column].to_numpy(dtype=float) / scale).rolling(_ROLLING_DAYS, min_periods=1).sum()
        bottom.plot(dates, per_30.to_numpy(), color=colour, lw=1.2, label=f"{label} (simulated, past 30 days)")
        for figure in figures:
            level = _per_day_level(figure) if figure.series == column else None
            if level is not None:
                _segment(bottom, figure, level * _ROLLING_DAYS, colour, figure.kind.startswith("lower_bound"))
    bottom.set_ylabel("killed per 30 days, national")
    bottom.set_title("Security forces and their relatives killed")
    bottom.set_ylim(bottom=0)
    bottom.set_xlim(first, stop_day)
    _format_date_axis(bottom)

    policy_handles: list[Patch] = []
    if "policies" in df.columns:
        policy_handles = _shade_policies((top, bottom), _policy_periods(dates, df["policies"]))

    drawn = {status.get(f.id) for f in figures if f.series == "homicides" and f.kind != "ratio"}
    report_handles = [
        Line2D([], [], color=_STATUS_COLOURS[state], lw=2.8, label=f"reported: {label}")
        for state, label in ((True, "within tolerance"), (False, "outside tolerance"), (None, "not compared"))
        if state in drawn
    ]
    report_handles.append(Line2D([], [], color="#444444", lw=2.8, marker="^", label="reported lower bound"))
    top.legend(handles=top.get_legend_handles_labels()[0] + report_handles, loc="upper left", fontsize=7, ncols=2)
    bottom.legend(loc="upper left", fontsize=7, ncols=3)
    if policy_handles:
        fig.legend(
            handles=policy_handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=min(4, len(policy_handles)),
            fontsize=7,
            title="policies",
            title_fontsize=8,
        )
    _save(fig, path)


# ---------------------------------------------------------------- homicides by kind


def plot_kinds(df: pd.DataFrame, path: str | os.PathLike[str], scale: float = 1.0) -> None:
    """Monthly homicides by kind as a stacked area, with reported and true homicide totals."""
    columns = [c for c, _ in _KIND_COLUMNS] + ["homicides", "homicides_true"]
    monthly = (
        pd.DataFrame(df[columns].to_numpy(dtype=float) / scale, columns=columns, index=_dates(df))
        .resample("MS")
        .sum()
    )
    fig, (ax,) = _new_figure(1, margins=_KINDS_MARGINS)
    ax.stackplot(
        monthly.index,
        [monthly[c].to_numpy() for c, _ in _KIND_COLUMNS],
        labels=[label for _, label in _KIND_COLUMNS],
        colors=_KIND_COLOURS,
        alpha=0.85,
    )
    ax.plot(monthly.index, monthly["homicides_true"], color="#111111", lw=1.6, label="all homicides (incl. hidden bodies)")
    ax.plot(monthly.index, monthly["homicides"], color="#111111", lw=1.6, ls="--", label="reported homicides (bodies found)")
    ax.set_ylabel("homicides per month, national")
    ax.set_title("Homicides by kind (simulated)")
    ax.set_ylim(bottom=0)
    _format_date_axis(ax)
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, path)


# ---------------------------------------------------------------- territory


def _territory_rgb(gang: np.ndarray, violence: np.ndarray, population: np.ndarray) -> np.ndarray:
    """RGB image indexed [x, y]: gang colour, darkened by violence, pale where nobody lives."""
    rgb = np.empty(gang.shape + (3,))
    rgb[:] = to_rgb(_NO_GANG)
    for g, colour in enumerate(_GANG_COLOURS + (_STATE,)):  # 3: the state
        rgb[gang == g] = to_rgb(colour)
    # Violence is heavy-tailed: scale by the 95th percentile of violent cells so a few
    # massacres do not wash out the rest of the map.
    positive = violence[violence > 0]
    if positive.size:
        ceiling = float(np.quantile(positive, 0.95)) or float(positive.max())
        shade = np.clip(violence / ceiling, 0.0, 1.0)
        rgb *= (1.0 - 0.7 * shade)[..., None]
    rgb[population <= 0] = to_rgb(_UNINHABITED)
    return rgb


def draw_territory(
    ax,
    gang: np.ndarray,
    violence: np.ndarray,
    population: np.ndarray,
    police_xy: np.ndarray | None,
    army_xy: np.ndarray | None = None,
    gang_names: Sequence[str] = ("MS-13", "Barrio 18 Sureños", "Barrio 18 Revolucionarios"),
    marker_size: float = 14,
) -> list:
    """Draw the territory map on ``ax``; return the legend handles (the caller places them).

    Arrays are indexed [x, y] and drawn with x horizontal; ``gang`` holds -1 for no
    gang, 0..2 for the gangs of ``gang_names`` and 3 for the state. Shared by :func:`plot_territory` and the
    dashboard (sim/dashboard.py).
    """
    gang = np.asarray(gang)
    violence = np.asarray(violence, dtype=float)
    population = np.asarray(population, dtype=float)
    if not (gang.shape == violence.shape == population.shape) or gang.ndim != 2:
        raise ValueError(
            "gang, violence and population must be 2-D of one shape, "
            f"got {gang.shape}, {violence.shape}, {population.shape}"
        )
    width, height = gang.shape

    # imshow wants [row, column] = [y, x]; origin lower puts y = 0 at the bottom.
    ax.imshow(
        _territory_rgb(gang, violence, population).transpose(1, 0, 2),
        origin="lower",
        interpolation="nearest",
        extent=(-0.5, width - 0.5, -0.5, height - 0.5),
    )
    handles: list = [Patch(facecolor=c, label=name) for c, name in zip(_GANG_COLOURS, gang_names)]
    handles += [
        Patch(facecolor=_STATE, label="the state"),
        Patch(facecolor=_NO_GANG, label="no gang (empty ground)"),
        Patch(facecolor=_UNINHABITED, edgecolor="#999999", label="uninhabited"),
        Patch(facecolor="#333333", label="darker: more recent violence"),
    ]
    for units, marker, colour, label in (
        (police_xy, "o", "#ffffff", "police unit"),
        (army_xy, "^", "#ffd700", "army unit"),
    ):
        if units is None:
            continue
        xy = np.asarray(units, dtype=float).reshape(-1, 2)
        ax.scatter(xy[:, 0], xy[:, 1], s=marker_size, marker=marker, c=colour, edgecolors="#000000", linewidths=0.6, zorder=3)
        handles.append(Line2D([], [], ls="none", marker=marker, markerfacecolor=colour, markeredgecolor="#000000", label=label))

    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(-0.5, height - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return handles


def plot_territory(
    gang: np.ndarray,
    violence: np.ndarray,
    population: np.ndarray,
    police_xy: np.ndarray,
    path: str | os.PathLike[str],
    gang_names: Sequence[str] = ("MS-13", "Barrio 18 Sureños", "Barrio 18 Revolucionarios"),
    date: dt.date | str | None = None,
    army_xy: np.ndarray | None = None,
) -> None:
    """Map of gang control, recent violence and police / army units.

    Arrays are indexed [x, y] and drawn with x horizontal; ``gang`` holds -1 for no
    gang, 0..2 for the gangs of ``gang_names`` and 3 for the state.
    """
    fig, (ax,) = _new_figure(1, margins=_TERRITORY_MARGINS)
    handles = draw_territory(ax, gang, violence, population, police_xy, army_xy, gang_names)
    ax.set_xlabel("x (cell)")
    ax.set_ylabel("y (cell)")
    title = "Territorial control, recent violence and security forces"
    ax.set_title(f"{title}, {date}" if date is not None else title)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    _save(fig, path)


def draw_changes(ax, changes: np.ndarray, population: np.ndarray):
    """How often each populated cell changed hands, darker for more (uninhabited cells blank);
    shared by :func:`plot_territory_change` and the dashboard. Returns the image."""
    shown = np.where(population > 0, changes, np.nan).astype(float)
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0
    width, height = shown.shape
    image = ax.imshow(shown.T, origin="lower", interpolation="nearest", cmap="magma_r", vmin=0,
                      vmax=max(top, 1.0), extent=(-0.5, width - 0.5, -0.5, height - 0.5))
    ax.set_xticks([])
    ax.set_yticks([])
    return image


_TERRITORY_SERIES = (("territory_ms13", "MS-13", _GANG_COLOURS[0]),
                     ("territory_b18s", "Barrio 18 Sureños", _GANG_COLOURS[1]),
                     ("territory_b18r", "Barrio 18 Revolucionarios", _GANG_COLOURS[2]),
                     ("territory_state", "the state", _STATE))


def plot_territory_change(snapshots: dict[str, np.ndarray], population: np.ndarray,
                          changes: np.ndarray, df: pd.DataFrame, path: str | os.PathLike[str],
                          scale: float = 1.0) -> None:
    """How the territory moved: who held each cell on the chosen dates (`snapshots`, date ->
    control layer as in :func:`draw_territory`), how often each cell changed hands over the
    run, and the people living under each one's control with the cliques active, by day."""
    dates = list(snapshots)
    ncols = min(max(len(dates), 1), 4)
    rows = -(-len(dates) // ncols) if dates else 1
    fig = Figure(figsize=(12.0, 3.0 + 1.9 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    outer = fig.add_gridspec(2, 1, height_ratios=(1.9 * rows, 3.0))
    maps = outer[0].subgridspec(rows, ncols)
    below = outer[1].subgridspec(1, 2, width_ratios=(1.0, 1.7))
    zero = np.zeros_like(population, dtype=float)
    handles: list = []
    for k, date in enumerate(dates):
        ax = fig.add_subplot(maps[k // ncols, k % ncols])
        handles = draw_territory(ax, snapshots[date], zero, population, None)
        ax.set_title(f"who holds each cell, {date}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.legend(handles=handles[:6], loc="outside upper center", ncols=6, fontsize=8)
    ax = fig.add_subplot(below[0])
    fig.colorbar(draw_changes(ax, changes, population), ax=ax, location="bottom", shrink=0.8,
                 label="times the cell changed hands over the run")
    ax = fig.add_subplot(below[1])
    x = _dates(df)
    for column, label, colour in _TERRITORY_SERIES:
        ax.plot(x, df[column] / scale / 1e6, color=colour, lw=1.6, label=label)
    ax.set_ylabel("people (millions, national)")
    _format_date_axis(ax)
    twin = ax.twinx()
    twin.plot(x, df["cliques_active"] / scale, color="#444444", lw=1.0, ls="--",
              label="cliques active (right)")
    twin.set_ylabel("cliques active (national)")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=lines, loc="upper left", fontsize=8, ncols=2)
    ax.set_title("people living under each one's control", fontsize=9)
    _save(fig, path)


# ---------------------------------------------------------------- ensembles (sim-compare)

__all__ += ["plot_ensemble_bands", "plot_ensemble_comparison", "plot_ensemble_kinds"]

_BAND_COLOUR = "#1f4e9c"
_COVERED_LABELS = ((True, "inside the 90% band"), (False, "outside the 90% band"), (None, "not compared"))


def _trend_arrow(ax, figure: ReportedFigure, colour: str) -> None:
    """A reported trend: its window hatched (fills are reserved for policy periods), an arrow in
    its direction placed in axes fraction so it stays visible whatever the homicide scale."""
    start, stop = pd.Timestamp(figure.start), pd.Timestamp(figure.end + dt.timedelta(days=1))
    ax.axvspan(start, stop, fill=False, hatch="//", edgecolor=colour, alpha=0.2, lw=0, zorder=1)
    rising = figure.value > 0
    ax.annotate(
        "rising" if rising else "falling",
        xy=(stop, 0.85 if rising else 0.6),
        xytext=(start, 0.6 if rising else 0.85),
        xycoords=("data", "axes fraction"),
        textcoords=("data", "axes fraction"),
        arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.5},
        fontsize=8,
        color=colour,
        zorder=6,
    )


def plot_ensemble_bands(
    dates: Sequence,
    quantiles: dict[str, np.ndarray],
    path: str | os.PathLike[str],
    figures: Sequence[ReportedFigure] = (),
    covered: dict[str, bool | None] | None = None,
    title: str = "Homicides per day: ensemble",
) -> None:
    """An ensemble's homicides per day: median with 50 % and 90 % bands, against the reports.

    ``quantiles`` holds arrays ``q05, q25, median, q75, q95`` over ``dates`` (national
    units, typically of each job's 30-day centred mean). Each reported homicide figure in
    the date range is drawn over its window as in :func:`plot_trajectory`, green when the
    ensemble's 90 % interval covers it (``covered[id]``), red when not, grey otherwise.
    """
    dates = pd.DatetimeIndex(dates)
    covered = covered or {}
    fig, (ax,) = _new_figure(1)
    ax.fill_between(dates, quantiles["q05"], quantiles["q95"], color=_BAND_COLOUR, alpha=0.15, lw=0, label="90% of jobs")
    ax.fill_between(dates, quantiles["q25"], quantiles["q75"], color=_BAND_COLOUR, alpha=0.3, lw=0, label="50% of jobs")
    ax.plot(dates, quantiles["median"], color="#111111", lw=1.6, label=f"median ({_ROLLING_DAYS}-day centred mean per job)")

    first, stop_day = dates.min(), dates.max() + pd.Timedelta(days=1)
    drawn: set[bool | None] = set()
    bounds = False
    for figure in figures:
        if figure.series != "homicides" or not (pd.Timestamp(figure.start) < stop_day and pd.Timestamp(figure.end) >= first):
            continue
        state = covered.get(figure.id)
        colour = _STATUS_COLOURS[state]
        if figure.kind == "trend":
            _trend_arrow(ax, figure, colour)
            drawn.add(state)
            continue
        level = _per_day_level(figure)
        if level is not None:
            _segment(ax, figure, level, colour, figure.kind.startswith("lower_bound"))
            drawn.add(state)
            bounds = bounds or figure.kind.startswith("lower_bound")

    ax.set_ylabel("homicides per day, national")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.set_xlim(first, stop_day)
    _format_date_axis(ax)
    handles = ax.get_legend_handles_labels()[0] + [
        Line2D([], [], color=_STATUS_COLOURS[state], lw=2.8, label=f"reported: {label}")
        for state, label in _COVERED_LABELS
        if state in drawn
    ]
    if bounds:
        handles.append(Line2D([], [], color="#444444", lw=2.8, marker="^", label="reported lower bound"))
    ax.legend(handles=handles, loc="upper left", fontsize=7, ncols=2)
    _save(fig, path)


def plot_ensemble_comparison(
    groups: Sequence[tuple[str, Sequence, dict[str, np.ndarray]]],
    path: str | os.PathLike[str],
    ylabel: str = "",
    title: str = "",
) -> None:
    """Groups side by side on one set of axes: each group's median and 90 % band.

    ``groups`` holds ``(label, dates, quantiles)`` with quantile arrays ``q05``,
    ``median`` and ``q95`` over ``dates``.
    """
    fig, (ax,) = _new_figure(1)
    colours = _qualitative(len(groups))
    first = last = None
    for (label, dates, quantiles), colour in zip(groups, colours):
        dates = pd.DatetimeIndex(dates)
        colour = tuple(colour)
        ax.fill_between(dates, quantiles["q05"], quantiles["q95"], color=colour, alpha=0.18, lw=0)
        ax.plot(dates, quantiles["median"], color=colour, lw=1.5, label=label)
        if len(dates):
            first = dates.min() if first is None else min(first, dates.min())
            last = dates.max() if last is None else max(last, dates.max())
    if first is not None:
        ax.set_xlim(first, last + pd.Timedelta(days=1))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    _format_date_axis(ax)
    ax.legend(
        handles=ax.get_legend_handles_labels()[0] + [Patch(facecolor="#888888", alpha=0.3, label="90% of jobs")],
        loc="upper left",
        fontsize=7,
        ncols=2,
    )
    _save(fig, path)


def plot_ensemble_kinds(
    months: Sequence,
    medians: dict[str, np.ndarray],
    path: str | os.PathLike[str],
    title: str = "Homicides by kind: ensemble median",
) -> None:
    """Monthly median homicides by kind, stacked, with the median reported and true totals.

    ``medians`` holds one array over ``months`` (month starts) per kind column and for
    ``homicides`` and ``homicides_true`` (national units). Medians are taken kind by
    kind, so the stack need not add up to the median total.
    """
    months = pd.DatetimeIndex(months)
    fig, (ax,) = _new_figure(1)
    kinds = [(c, label) for c, label in _KIND_COLUMNS if c in medians]
    ax.stackplot(
        months,
        [np.nan_to_num(np.asarray(medians[c], dtype=float)) for c, _ in kinds],
        labels=[f"{label} (median)" for _, label in kinds],
        colors=_KIND_COLOURS[: len(kinds)],
        alpha=0.85,
    )
    if "homicides_true" in medians:
        ax.plot(months, medians["homicides_true"], color="#111111", lw=1.6, label="all homicides, median (incl. hidden bodies)")
    if "homicides" in medians:
        ax.plot(months, medians["homicides"], color="#111111", lw=1.6, ls="--", label="reported homicides, median (bodies found)")
    ax.set_ylabel("homicides per month, national")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    _format_date_axis(ax)
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, path)
