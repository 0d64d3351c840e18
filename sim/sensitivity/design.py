"""The design of an analysis: which parameters vary over which ranges, and which outputs.

Ranges follow one rule (see sim.sensitivity) from the field's accepted range in sim.config;
outputs are the loss over the reported figures inside the run and homicides per day over the
whole run and over policy periods of the scenario's timeline (sim.dates.policy_periods).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from sim.calibration.space import (Parameter, accepted_range, check_scale, free_parameters,
                                  parameter_fields)
from sim.config import ConfigError, parse_date
from sim.dates import Period, policy_periods
from sim.reported import ReportedFigure, load_reported
from sim.sensitivity.config import LOSS, LOSS_GROUPS, MEAN, MECHANISM_SECTIONS


# ----------------------------------------------------------------------------- parameters
def auto_range(key: str, f: dataclasses.Field, value: float) -> Parameter | None:
    """The range of one parameter by the rule of sim.sensitivity's docstring, within the
    field's accepted range; None if it is empty."""
    lo, hi = accepted_range(f)
    integer = f.type in ("int", int)
    if value > 0:
        low, high = value / 2, value * 2
        if lo is not None:
            low = max(low, lo)
        if hi is not None:
            high = min(high, hi)
    elif value == 0:
        low = 0.0 if lo is None else float(lo)
        high = float(hi) if hi is not None else 1.0
    else:  # no mechanism parameter is negative today; mirror the positive rule
        low, high = value * 2, value / 2
    if integer:
        low, high = math.ceil(low), math.floor(high)
    if not low < high:
        return None
    return Parameter(key, float(low), float(high), log=low > 0, integer=integer)


def _check_selection(values: Sequence[str], key: str) -> None:
    fields = parameter_fields()
    for item in values:
        section, _, name = str(item).partition(".")
        if section not in MECHANISM_SECTIONS or name and name not in fields[section]:
            raise ConfigError(f"{key}: '{item}' is unknown; accepted: a mechanism section ("
                              f"{', '.join(MECHANISM_SECTIONS)}) or <section>.<parameter>")


def _selected(short: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    section = short.split(".")[0]
    if include and not (section in include or short in include):
        return False
    return not (section in exclude or short in exclude)


def mechanism_parameters(cfg: Any) -> list[Parameter]:
    """The parameters of the analysis, in model order: every numeric field of the mechanism
    sections (filtered by include/exclude) with its automatic range unless `auto_ranges` is
    false, plus `params`."""
    _check_selection(cfg.include, "include")
    _check_selection(cfg.exclude, "exclude")
    params = dataclasses.asdict(cfg.params) if dataclasses.is_dataclass(cfg.params) \
        else OmegaConf.to_container(cfg.params)
    explicit = {p.key: p for p in free_parameters(params)} if any(params.values()) else {}
    if cfg.free:
        unknown = [n for n in cfg.free if f"model.{n}" not in explicit]
        if unknown:
            raise ConfigError(f"free: '{unknown[0]}' has no range in params; accepted: section.name "
                              f"of a parameter of params ({len(explicit)} of them)")
        explicit = {k: p for k, p in explicit.items() if k.removeprefix("model.") in set(cfg.free)}
    out: list[Parameter] = []
    for section, fields in parameter_fields().items():
        node = getattr(cfg.model, section)
        for name, f in fields.items():
            key = f"model.{section}.{name}"
            if key in explicit:
                out.append(explicit.pop(key))
            elif cfg.auto_ranges and section in MECHANISM_SECTIONS and _selected(
                    f"{section}.{name}", cfg.include, cfg.exclude):
                p = auto_range(key, f, getattr(node, name))
                if p is not None:
                    out.append(p)
    return out


def unit_to_values(parameters: Sequence[Parameter], unit_row: Sequence[float]) -> dict[str, float]:
    return {p.key: p.from_unit(float(u)) for p, u in zip(parameters, unit_row)}


# ----------------------------------------------------------------------------- outputs
def loss_figures() -> list[ReportedFigure]:
    return [f for f in load_reported() if f.weight > 0]


def _period_figure(name: str, period: Period) -> ReportedFigure:
    """A homicides-per-day window as a (weightless) figure, so that simulate_figures reduces
    it with the same window arithmetic as the reported figures."""
    return ReportedFigure(id=name, series="homicides", start=period.start, end=period.end,
                          kind="mean", value=1.0, ref_start=None, ref_end=None, tolerance=0.25,
                          source="sim-sensitivity", weight=0.0)


def run_period(cfg: Any) -> Period:
    """The simulated days, start to end."""
    return Period(parse_date(cfg.start, "start"), parse_date(cfg.end, "end"))


def output_windows(cfg: Any) -> tuple[list, list[str]]:
    """The homicide windows of the outputs as figures: the whole run, and the period of each
    policy of `periods` in the scenario's timeline that the run covers; and the policies of
    `periods` that have no period inside the run."""
    run = run_period(cfg)
    windows = [_period_figure(MEAN, run)]
    periods = policy_periods(cfg.scenario)
    whole_run = MEAN.removeprefix("homicides_")  # a period cannot take the whole run's name
    accepted = [n for n in sorted(set(cfg.policies) | set(periods)) if n != whole_run]
    skipped = []
    for name in dict.fromkeys(cfg.periods):
        if name not in accepted:
            raise ConfigError(f"periods: '{name}' is not a policy of the config; accepted: "
                              f"{', '.join(accepted)}")
        period = periods.get(name)
        if period is not None and run.covers(period.start, period.end):
            windows.append(_period_figure(f"homicides_{name}", period))
        else:
            skipped.append(name)
    return windows, skipped


@dataclasses.dataclass(frozen=True)
class Answer:
    """A counterfactual difference output: its name, the counterfactual's config (the analysed
    one with the scenario swapped), the window as a homicides-per-day figure, its days."""
    name: str
    config: Any
    window: ReportedFigure
    days: int


def answers(cfg: Any, base: Any) -> list[Answer]:
    """The `answers` of a SensitivityConfig, each checked and built on `base` (its Config)."""
    from sim.compose import compose, options
    from sim.model import load_config

    run = run_period(cfg)
    found = []
    for name, answer in cfg.answers.items():
        key = f"answers.{name}"
        if answer.scenario not in options("scenario"):
            raise ConfigError(f"{key}.scenario: '{answer.scenario}' is unknown; accepted: "
                              f"{', '.join(options('scenario'))}")
        scenario = load_config(compose([f"scenario={answer.scenario}"])).scenario
        if parse_date(scenario.start, key) > run.start or parse_date(scenario.end, key) < run.end:
            raise ConfigError(f"{key}.scenario: {answer.scenario} runs {scenario.start}..{scenario.end}; "
                              f"accepted: a scenario spanning the analysed run, {run}")
        window = Period(parse_date(answer.start, f"{key}.start"), parse_date(answer.end, f"{key}.end"))
        if window.start > window.end or not run.covers(window.start, window.end):
            raise ConfigError(f"{key}: {answer.start}..{answer.end} is not a window inside the run; "
                              f"accepted: start <= end inside {run}")
        found.append(Answer(f"answer_{name}", dataclasses.replace(base, scenario=scenario),
                            _period_figure(f"answer_{name}", window), window.days))
    return found


# ----------------------------------------------------------------------------- validation
def _power_of_two(n: int) -> bool:
    return n >= 2 and n & (n - 1) == 0


def validate_analysis(cfg: Any) -> tuple[list[Parameter], list[Answer]]:
    """Check the analysis keys (the model is checked by sim.config.validate); the parameters
    and the answers, each built once."""
    check_scale("scale", cfg.scale)
    for key, value in (("seeds", cfg.seeds), ("workers", cfg.workers)):
        if value < 1:
            raise ConfigError(f"{key}: {value} is too small; accepted: an integer >= 1")
    if cfg.morris.trajectories < 2:
        raise ConfigError(f"morris.trajectories: {cfg.morris.trajectories} is too few; "
                          "accepted: an integer >= 2")
    if cfg.morris.levels < 2 or cfg.morris.levels % 2:
        raise ConfigError(f"morris.levels: {cfg.morris.levels} is not accepted; accepted: an "
                          "even integer >= 2")
    if cfg.noise == 1 or cfg.noise < 0:
        raise ConfigError(f"noise: {cfg.noise} is not accepted; accepted: 0 (off) or an "
                          "integer >= 2")
    if not _power_of_two(cfg.sobol.n):
        raise ConfigError(f"sobol.n: {cfg.sobol.n} is not a power of 2; accepted: 2, 4, 8, "
                          "..., e.g. 64")
    parameters = mechanism_parameters(cfg)
    if len(parameters) < 2:
        raise ConfigError(f"include: {len(parameters)} parameter(s) selected; accepted: a "
                          "selection of at least 2 parameters")
    if not 0 <= cfg.sobol.top <= len(parameters):
        raise ConfigError(f"sobol.top: {cfg.sobol.top} is out of range; accepted: 0 (no "
                          f"Sobol stage) to {len(parameters)} (the parameters screened)")
    windows, _ = output_windows(cfg)
    from sim.sensitivity.runner import simulation_config

    built = answers(cfg, simulation_config(cfg))
    names = [LOSS, *LOSS_GROUPS] + [w.id for w in windows] + [a.name for a in built]
    if cfg.sobol.select_by not in (*names, "any"):
        raise ConfigError(f"sobol.select_by: '{cfg.sobol.select_by}' is not an output of this "
                          f"run; accepted: {', '.join(names)}, any")
    run = run_period(cfg)
    if not any(run.covers(f.first_day, f.last_day) for f in loss_figures()):
        first = min(f.end for f in loss_figures())
        raise ConfigError(f"end: no reported figure lies inside {run}, so there is no "
                          f"loss; accepted: an end on or after {first}")
    return parameters, built


def load(cfg: DictConfig) -> tuple[Any, list[Parameter], list[Answer]]:
    """The typed, validated SensitivityConfig, its parameters and its answers."""
    from sim.model import load_config

    typed = load_config(cfg)
    return (typed, *validate_analysis(typed))
