"""The browser dashboard (sim-app): a Mesa SolaraViz page on a small model.

:class:`DashboardModel` is the model with flat keyword parameters (SolaraViz re-creates the
model from them on Reset); the components draw the territory map (sim.figures.draw_territory),
how the territory changed (cells that changed hands, people under each one's control),
homicides by kind against the reported figures, gang members, security forces killed, and
the date, the active policies and the policy switch (GangViolenceModel.switch_policy).
The page itself is :func:`Page`; sim/app.py serves it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import uuid
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.calibration.space import accepted_range, parameter_fields
from sim.compose import compose, options
from sim.config import GANGS
from sim.figures import (_KIND_COLOURS, _KIND_COLUMNS, _SECURITY_SERIES, _STATUS_COLOURS,
                         _TERRITORY_SERIES, _format_date_axis, _per_day_level, _policy_periods,
                         _segment, _shade_policies, draw_changes, draw_territory)
from sim.model import GangViolenceModel
from sim.observation import compare
from sim.reported import load_reported

# Mesa's function/method loggers log every call at DEBUG; under solara's logging set-up that
# floods the console and slows every frame.
logging.getLogger("MESA").setLevel(logging.WARNING)

DEFAULT_SCENARIO = "historical"
DEFAULT_SCALE = 0.05  # model=small: each frame stays quick
MEAN_DAYS = 7  # homicides are shown as a 7-day mean


@dataclass(frozen=True)
class Mechanism:
    """A mechanism parameter as a slider: slider value x factor = config value.

    The slider spans the parameter's accepted range in sim.config (in slider units), narrowed
    by `lo` / `hi` where given; a bound the parameter does not have must be given."""
    key: str
    label: str
    step: float
    factor: float = 1.0
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self) -> None:
        section, name = self.key.removeprefix("model.").split(".")
        low, high = (None if b is None else b / self.factor
                     for b in accepted_range(parameter_fields()[section][name]))
        lo = low if self.lo is None else self.lo
        hi = high if self.hi is None else self.hi
        if lo is None or hi is None:
            raise ValueError(f"{self.key}: the parameter has no bound to give the slider an end")
        if (low is not None and lo < low) or (high is not None and hi > high):
            raise ValueError(f"{self.key}: slider [{lo}, {hi}] leaves the accepted values "
                             f"[{low}, {high}]")
        object.__setattr__(self, "lo", float(lo))
        object.__setattr__(self, "hi", float(hi))


# slider name (a keyword of DashboardModel) -> the config key it sets
MECHANISMS: dict[str, Mechanism] = {
    "border_kill_rate": Mechanism("model.border.kill_rate", "border kills x1e-4", 0.02,
                                  factor=1e-4, hi=5.0),
    "civilian_kill_rate": Mechanism("model.civilians.kill_rate", "civilian kills x1e-5", 0.1,
                                    factor=1e-5, hi=25.0),
    "obedience_mean": Mechanism("model.orders.obedience_mean", "obedience", 0.01),
    "grievance_rate": Mechanism("model.truce.grievance_rate", "grievance build-up x1e-4 / day",
                                0.1, factor=1e-4, lo=0.5, hi=25.0),
    "pressure_gain": Mechanism("model.repression.pressure_gain", "pressure gain", 0.5,
                               hi=60.0),
}


def _default_slider_values() -> dict[str, float]:
    cfg = compose(["model=small"])
    out = {}
    for name, m in MECHANISMS.items():
        node = cfg
        for part in m.key.split("."):
            node = node[part]
        out[name] = float(node) / m.factor
    return out


DEFAULTS = _default_slider_values()
_COMPOSE_LOCK = threading.Lock()


class DashboardModel(GangViolenceModel):
    """GangViolenceModel built from flat keyword parameters (the dashboard's controls).

    The scenario keyword is `scenario_name`: Mesa's Model already has a `scenario`
    attribute, and SolaraViz passes a Mesa Scenario as `scenario` to models that take one.
    A mechanism keyword left at None (or at the config default) keeps the config value.
    Stepping and switching policy hold a lock, so the page reads consistent frames while
    the model plays in a worker thread.
    """

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, seed: int = 0,
                 scale: float = DEFAULT_SCALE, border_kill_rate: float | None = None,
                 civilian_kill_rate: float | None = None, obedience_mean: float | None = None,
                 grievance_rate: float | None = None,
                 pressure_gain: float | None = None):
        sliders = {"border_kill_rate": border_kill_rate, "civilian_kill_rate": civilian_kill_rate,
                   "obedience_mean": obedience_mean,
                   "grievance_rate": grievance_rate,
                   "pressure_gain": pressure_gain}
        overrides = ["model=small", f"scenario={scenario_name}", f"seed={int(seed)}",
                     f"model.scale={float(scale)}"]
        for name, value in sliders.items():
            if value is not None and not math.isclose(value, DEFAULTS[name], rel_tol=1e-9):
                m = MECHANISMS[name]
                overrides.append(f"{m.key}={float(value) * m.factor!r}")
        self.overrides = overrides
        self.scenario_name = scenario_name
        self._lock = threading.RLock()
        self.token = uuid.uuid4().hex  # tells models apart for the figures' caches
        self.revision = 0  # bumped by every step and policy switch
        self.switches: list[tuple[dt.date, str]] = []
        self._frame: Frame | None = None
        with _COMPOSE_LOCK:  # Hydra's global state: one composition at a time across sessions
            cfg = compose(overrides)
        super().__init__(cfg)

    def step(self) -> None:
        with self._lock:
            if not self.running:  # SolaraViz steps a whole render interval past the end
                return
            super().step()
            self.revision += 1

    def switch_policy(self, name: str) -> None:
        with self._lock:
            super().switch_policy(name)
            self.switches.append((self.date, name))
            self.revision += 1

    def frame(self) -> "Frame":
        """What the page shows, read under the lock; one per revision, shared by components."""
        with self._lock:
            if self._frame is None or self._frame.revision != self.revision:
                self.update_layers()
                police, army = self.unit_positions()
                series = self.series()
                status = {r.figure.id: r.within
                          for r in compare(series, scale=self.scale).rows} if len(series) else {}
                self._frame = Frame(
                    revision=self.revision, date=self.date, days=len(series),
                    policies=self.timeline.names(self.date), series=series, status=status,
                    gang=self.grid.gang.data.copy(), violence=self.grid.violence.data.copy(),
                    population=self.grid.population.data.copy(), police=police, army=army,
                    changes=self.grid.changes.data.copy(), running=self.running)
            return self._frame


@dataclass(frozen=True)
class Frame:
    revision: int
    date: dt.date  # the next day to simulate
    days: int  # days simulated so far
    policies: str  # active on `date`
    series: pd.DataFrame
    status: dict  # reported figure id -> within tolerance (None: window not covered yet)
    gang: np.ndarray
    violence: np.ndarray
    population: np.ndarray
    police: np.ndarray
    army: np.ndarray
    changes: np.ndarray  # times each cell changed hands so far
    running: bool


# ---------------------------------------------------------------- components

def _figure(width: float, height: float, bottom: float = 0.11) -> Figure:
    # fixed margins: a constrained layout would double the cost of every frame
    fig = Figure(figsize=(width, height), dpi=90)
    fig.subplots_adjust(left=0.085, right=0.97, top=0.91, bottom=bottom)
    return fig


def _show(fig: Figure, model: DashboardModel) -> None:
    solara.FigureMatplotlib(fig, format="png", dependencies=[model.token, model.revision])


def _shown_day(frame: Frame) -> dt.date:
    """The last simulated day (the day before the next one), or the start."""
    return frame.date - dt.timedelta(days=1) if frame.days else frame.date


def _timeline_axes(model: DashboardModel, frame: Frame, ax) -> tuple[pd.DatetimeIndex, list]:
    """The whole scenario on the x axis, policy periods so far shaded; returns the dates and
    the shading's legend handles."""
    dates = pd.DatetimeIndex(pd.to_datetime(frame.series["date"]))
    ax.set_xlim(pd.Timestamp(model.start_date), pd.Timestamp(model.end_date)
                + pd.Timedelta(days=1))
    _format_date_axis(ax)
    handles = []
    if len(dates):
        handles = _shade_policies([ax], _policy_periods(dates, frame.series["policies"]))
    return dates, handles


def _reported_segments(ax, model: DashboardModel, frame: Frame, series: tuple[str, ...],
                       colours: dict[str, str] | None = None, times: float = 1.0) -> None:
    """The reported figures of `series` over their windows: green / red once the run has
    covered the window (within / outside tolerance), grey before."""
    for figure in load_reported():
        if figure.series not in series or figure.kind in ("trend", "ratio"):
            continue
        if figure.end < model.start_date or figure.start > model.end_date:
            continue
        level = _per_day_level(figure)
        if level is None:
            continue
        colour = _STATUS_COLOURS[frame.status.get(figure.id)] if colours is None \
            else colours[figure.series]
        _segment(ax, figure, level * times, colour, figure.kind.startswith("lower_bound"))


@solara.component
def TerritoryMap(model: DashboardModel):
    update_counter.get()
    frame = model.frame()
    fig = _figure(7.2, 4.3, bottom=0.2)
    ax = fig.subplots()
    handles = draw_territory(ax, frame.gang, frame.violence, frame.population, frame.police,
                             frame.army, GANGS, marker_size=16)
    ax.set_title(f"Territory, recent violence, police and army units - {_shown_day(frame)}",
                 fontsize=10)
    ax.tick_params(labelsize=7)
    fig.legend(handles=handles, loc="lower center", ncols=4, fontsize=7)
    _show(fig, model)


@solara.component
def TerritoryChange(model: DashboardModel):
    """How the territory moved so far: cells that changed hands, and the people under each
    gang's and the state's control by day."""
    update_counter.get()
    frame = model.frame()
    fig = Figure(figsize=(7.2, 4.3), dpi=90)
    fig.subplots_adjust(left=0.09, right=0.97, top=0.93, bottom=0.08, hspace=0.35)
    left, ax = fig.subplots(2, 1, height_ratios=(1.0, 1.0))
    draw_changes(left, frame.changes, frame.population)
    left.set_title(f"Cells that changed hands by {_shown_day(frame)} (darker: more often)",
                   fontsize=9)
    dates, _ = _timeline_axes(model, frame, ax)
    if len(frame.series):
        for column, label, colour in _TERRITORY_SERIES:
            ax.plot(dates, frame.series[column].to_numpy() / model.scale / 1e6, color=colour,
                    lw=1.4, label=label)
        ax.legend(loc="lower left", fontsize=6)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("people under control (millions, national)", fontsize=7)
    ax.set_title("People living under each one's control", fontsize=9)
    ax.tick_params(labelsize=7)
    _show(fig, model)


@solara.component
def HomicideChart(model: DashboardModel):
    update_counter.get()
    frame = model.frame()
    fig = _figure(7.2, 4.3)
    ax = fig.subplots()
    dates, _ = _timeline_axes(model, frame, ax)
    df = frame.series
    if len(df):
        means = [(df[column].astype(float) / model.scale).rolling(MEAN_DAYS, min_periods=1)
                 .mean().to_numpy() for column, _ in _KIND_COLUMNS]
        ax.stackplot(dates, means, labels=[label for _, label in _KIND_COLUMNS],
                     colors=_KIND_COLOURS, alpha=0.75, lw=0)
        found = (df["homicides"].astype(float) / model.scale).rolling(30, min_periods=1).mean()
        ax.plot(dates, found.to_numpy(), color="#111111", lw=1.4,
                label="homicides found, 30-day mean")
    _reported_segments(ax, model, frame, ("homicides",))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("per day, national", fontsize=8)
    ax.set_title(f"Homicides per day by kind ({MEAN_DAYS}-day mean); reported figures over "
                 "their windows", fontsize=10)
    ax.tick_params(labelsize=7)
    if len(df):
        ax.legend(loc="upper left", fontsize=7, ncols=3)
    _show(fig, model)


@solara.component
def GangChart(model: DashboardModel):
    update_counter.get()
    frame = model.frame()
    fig = _figure(7.2, 3.4)
    ax = fig.subplots()
    dates, policies = _timeline_axes(model, frame, ax)
    colours = {"gang_members_street": "#c44e52", "gang_members_prison": "#4c72b0"}
    for column, label in (("gang_members_street", "on the street"),
                          ("gang_members_prison", "in prison")):
        if len(frame.series):
            ax.plot(dates, frame.series[column].astype(float).to_numpy() / model.scale,
                    color=colours[column], lw=1.4, label=label)
    _reported_segments(ax, model, frame, tuple(colours), colours)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("members, national", fontsize=8)
    ax.set_title("Gang members (reported levels as segments); shading: policies", fontsize=10)
    ax.tick_params(labelsize=7)
    if len(frame.series):
        lines = ax.legend(loc="lower left", fontsize=7)
        ax.add_artist(lines)
        ax.legend(handles=policies, loc="center left", fontsize=7, ncols=2,
                  title="policies", title_fontsize=7)
    _show(fig, model)


@solara.component
def SecurityChart(model: DashboardModel):
    """Cumulative killings; a reported total is a segment rising by the reported number over
    its window from where the run stood when the window opened."""
    update_counter.get()
    frame = model.frame()
    fig = _figure(7.2, 3.4)
    ax = fig.subplots()
    dates, _ = _timeline_axes(model, frame, ax)
    df = frame.series
    colours = {column: colour for column, _, colour in _SECURITY_SERIES}
    cumulative = {}
    for column, label, colour in _SECURITY_SERIES:
        if len(df):
            cumulative[column] = (df[column].astype(float) / model.scale).cumsum().to_numpy()
            ax.plot(dates, cumulative[column], color=colour, lw=1.4, label=label)
    for figure in load_reported():
        if figure.series not in cumulative or not figure.kind.endswith("total"):
            continue
        opened = int(np.searchsorted(dates, pd.Timestamp(figure.start)))
        if opened >= len(dates):  # the run has not reached the window yet
            continue
        base = cumulative[figure.series][opened - 1] if opened else 0.0
        x = [pd.Timestamp(figure.start), pd.Timestamp(figure.end + dt.timedelta(days=1))]
        ax.plot(x, [base, base + figure.value], color=colours[figure.series], lw=2.4,
                alpha=0.55, ls="--" if figure.kind.startswith("lower_bound") else "-")
        ax.annotate(figure.id, (x[1], base + figure.value), fontsize=6,
                    color=colours[figure.series], ha="left", va="bottom")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("killed since the start, national", fontsize=8)
    ax.set_title("Police, soldiers and their relatives killed (cumulative); reported totals "
                 "as rises over their windows", fontsize=9)
    ax.tick_params(labelsize=7)
    if len(df):
        ax.legend(loc="upper left", fontsize=7)
    _show(fig, model)


def _mechanism_values(model: DashboardModel) -> str:
    """The slider-controlled parameters of the running model, as config keys."""
    values = []
    for m in MECHANISMS.values():
        node = model.cfg
        for part in m.key.split("."):
            node = getattr(node, part)
        values.append(f"{m.key.removeprefix('model.')}={node:.4g}")
    return ", ".join(values)


@solara.component
def PolicyPanel(model: solara.Reactive[DashboardModel]):
    """The date, the active policies and the policy switch (in the sidebar)."""
    update_counter.get()
    m = model.value
    frame = m.frame()
    names = list(m.cfg.policies)
    choice, set_choice = solara.use_state(names[0])

    def switch():
        m.switch_policy(choice)
        force_update()

    shown = _shown_day(frame)
    heading = f"{shown:%d %B %Y}" if frame.days else f"starts {shown:%d %B %Y}"
    small = {"font-size": "0.8em"}
    with solara.Card("Run"):
        # HTML, not solara.Markdown: Markdown loads mermaid and KaTeX in the browser
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>{heading}</b><br>"
            f"Days simulated: <b id='days-simulated'>{frame.days}</b> of {m.n_days} "
            f"({m.start_date} to {m.end_date})<br>"
            f"Active policies: <b id='active-policies'>"
            f"{escape(frame.policies.replace('+', ' + '))}</b><br>"
            f"Scenario: {escape(m.scenario_name)}, seed {m.cfg.seed}<br>"
            f"<span style='font-size: 0.8em'>{escape(_mechanism_values(m))}</span>"))
        solara.Text(f"A {m.scale:.0%} model (scale {m.scale:g}) so that each frame stays quick; "
                    "the charts are in national units (counts divided by the scale). Step "
                    "advances by the render interval (days); model parameters take effect "
                    "on Reset.", style=small)
        if not frame.running:
            solara.Info("The run has reached its end date.")
    with solara.Card("Switch policy"), solara.Column():
        solara.Select(label="Policy", values=names, value=choice, on_value=set_choice)
        solara.Button(f"Apply from {frame.date}", color="primary", on_click=switch,
                      disabled=not frame.running)
        solara.Text("The chosen policy alone holds from the current day on, over the "
                    "baseline levers; the scenario's remaining timeline is dropped and the "
                    "run continues.", style=small)
        for day, name in m.switches:
            solara.Text(f"Switched to {name} on {day}.", style=small)


def model_params() -> dict:
    """SolaraViz's controls: scenario, seed, scale (share of the national population) and the
    mechanism sliders, in the units of MECHANISMS; they take effect on Reset."""
    params: dict = {
        "scenario_name": {"type": "Select", "value": DEFAULT_SCENARIO,
                          "values": options("scenario"), "label": "scenario"},
        "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1,
                 "label": "seed"},
        "scale": {"type": "SliderFloat", "value": DEFAULT_SCALE, "min": 0.01, "max": 0.25,
                  "step": 0.01, "label": "scale"},
    }
    for name, m in MECHANISMS.items():
        params[name] = {"type": "SliderFloat", "value": DEFAULTS[name], "min": m.lo,
                        "max": m.hi, "step": m.step, "label": m.label}
    return params


COMPONENTS = [(TerritoryMap, 0), (TerritoryChange, 0), (HomicideChart, 0), (GangChart, 0),
              (SecurityChart, 0)]


@solara.component
def Page():
    """One model per browser session; SolaraViz's Reset replaces it with new parameters."""
    initial = solara.use_memo(DashboardModel, [])
    model = solara.use_reactive(initial)
    with solara.Sidebar():
        PolicyPanel(model)
    SolaraViz(model, components=COMPONENTS, model_params=model_params(), render_interval=7,
              play_interval=100, name="El Salvador gang violence: a small model")
