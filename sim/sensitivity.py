"""`sim-sensitivity`: global sensitivity analysis of the mechanism parameters (SALib).

    sim-sensitivity                                     # conf/sensitivity/default.yaml
    sim-sensitivity morris.trajectories=10 scale=0.25 sobol.n=128 sobol.top=6
    sim-sensitivity include=[border,truce] exclude=[truce.extortion_rate]
    sim-sensitivity sensitivity=small include=[border,ceasefire]   # a smoke test, seconds
    sim-sensitivity sobol.select_by=homicides_mean noise=16 seeds=2

Two stages. **Morris screening** (elementary effects, ``morris.trajectories`` one-at-a-time
trajectories on a grid of ``morris.levels`` levels) over every numeric parameter of the
mechanism sections of :class:`sim.config.ModelConfig` (all sections but the set-up ones,
``population`` and ``landscape``); then **Sobol indices** (Saltelli/Jansen estimators, first
order S1 and total ST, ``sobol.n`` base samples) over the ``sobol.top`` parameters with the
largest Morris mu* on ``sobol.select_by`` (the loss by default), the others held at their
configured values. Before both, ``noise`` replicates of the configured values with other seeds
measure each output's seed-to-seed noise: a change of any parameter that touches the random
draws reshuffles a run's future even under common random numbers, so mu* below the noise floor
(:func:`noise_floor`) and ST near the noise share of the variance are not effects.

Ranges, one rule for every parameter (the value `d` is the one configured, i.e. the default
unless overridden on the command line or by a model preset):

- ``d > 0``: ``[d/2, 2d]`` clipped to the field's accepted ``[lo, hi]`` (so probabilities and
  shares stay within [0, 1]), sampled log-uniformly: `d` sits at the centre of the unit
  interval unless the range was clipped.
- ``d == 0`` (a mechanism switched off, e.g. ``repression.revenge_spillover``): linear
  ``[lo, hi]`` with ``lo`` = the field's lower bound (0) and ``hi`` = its upper bound, or 1
  when it has none: "what if this mechanism were on".
- integers: the same range, rounded inwards to integers; each sample is rounded.
- ``params: {<section>: {<name>: {low, high, log}}}`` (as in sim-calibrate) replaces the rule
  for a parameter, and adds it even from a set-up section or one left out by include/exclude.
  OmegaConf cannot add such typed entries from the command line: put them in a preset of
  conf/sensitivity/.

SALib works on the unit cube; :class:`sim.calibration.space.Parameter` maps its samples to
values. Morris mu* (the mean absolute elementary effect) is therefore the change of an output
per unit of a parameter's whole (log-)range, in the output's own units: mu* values of different
parameters compare directly.

Outputs of each sample (a mean over ``seeds`` runs with the seeds ``seed, seed+1, ...``, the
same for every sample: common random numbers): ``loss``, the calibration loss of
:func:`sim.calibration.objective.fit_of` over the reported figures with weight > 0 inside the
run, and homicides per day (national units) over the whole run (``homicides_mean``) and each
period of ``periods`` that the run covers (``homicides_<period>``).

Runs go to a process pool (spawn: scripts that call :func:`analyse` need the usual
``if __name__ == "__main__":`` guard). Writes into ``out_dir`` (results/sensitivity/<name>),
all at once (a staging folder renamed into place; a re-run replaces the folder; Hydra itself
writes nothing): ``morris.csv``, ``sobol.csv``, ``sensitivity.md``,
``morris.png``, ``sobol.png``, ``runs_morris.csv``, ``runs_sobol.csv`` (every sample's
parameter values and outputs), ``config.yaml`` and ``summary.json``. The same config and seeds
give identical files, except the timings in summary.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from sim.calibration.config import SECTIONS, FreeParams
from sim.calibration.space import Parameter
from sim.compose import CONF_DIR
from sim.config import Config, ConfigError, ModelConfig, parse_date, register_configs

log = logging.getLogger("sim.sensitivity")

PROG = "sim-sensitivity"
SETUP_SECTIONS = ("population", "landscape")  # set-up, not mechanisms: left out by default
MECHANISM_SECTIONS = tuple(s for s in SECTIONS if s not in SETUP_SECTIONS)
LOSS = "loss"
MEAN = "homicides_mean"


# ----------------------------------------------------------------------------- config
@dataclass
class MorrisConfig:
    trajectories: int = 10  # one-at-a-time trajectories (runs: trajectories x (k+1) x seeds)
    levels: int = 4  # grid levels per parameter (even)


@dataclass
class SobolConfig:
    n: int = 64  # base samples, a power of 2 (runs: n x (top+2) x seeds)
    top: int = 5  # parameters with the largest Morris mu* on `select_by`; 0: Morris only
    select_by: str = "loss"  # an output (loss, homicides_mean, homicides_<period>) or "any"


@dataclass
class Period:
    """A policy period over which the mean homicides per day are an output."""
    start: str = MISSING
    end: str = MISSING


def default_periods() -> dict[str, Period]:
    return {
        "pre_truce": Period("2011-01-01", "2012-03-08"),
        "truce": Period("2012-03-09", "2013-07-08"),
        "mano_dura": Period("2014-01-01", "2015-12-31"),
        "2016_2017": Period("2016-01-01", "2017-12-31"),
    }


@dataclass
class SensitivityConfig(Config):
    """sim-sensitivity's whole config: the simulation (inherited) and the analysis."""
    name: str = "default"  # results in results/sensitivity/<name>
    scale: float = 0.5  # model scale of every run (rates per person are kept)
    seeds: int = 1  # runs per sample (seeds seed, seed+1, ...); outputs are their mean
    workers: int = 2  # processes running simulations at once
    sampler_seed: int = 0  # SALib samplers and bootstrap confidence intervals
    noise: int = 8  # replicates of the configured values (other seeds): the noise level; 0: off
    include: list[str] = field(default_factory=list)  # sections or section.name; empty: all
    exclude: list[str] = field(default_factory=list)  # sections or section.name left out
    params: FreeParams = field(default_factory=FreeParams)  # type: ignore[valid-type]
    periods: dict[str, Period] = field(default_factory=default_periods)
    morris: MorrisConfig = field(default_factory=MorrisConfig)
    sobol: SobolConfig = field(default_factory=SobolConfig)
    out_dir: str = "results/sensitivity/${name}"


def register() -> None:
    register_configs()
    ConfigStore.instance().store(group="schema", name="sensitivity", node=SensitivityConfig,
                                 package="_global_")


# ----------------------------------------------------------------------------- parameters
def _numeric(f: dataclasses.Field) -> bool:
    return f.type in ("float", "int", float, int)


def auto_range(key: str, f: dataclasses.Field, value: float) -> Parameter | None:
    """The range of one parameter by the rule of the module docstring; None if it is empty."""
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
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


def _sections_fields() -> dict[str, dict[str, dataclasses.Field]]:
    out = {}
    for f in dataclasses.fields(ModelConfig):
        if f.name in SECTIONS:
            out[f.name] = {g.name: g for g in dataclasses.fields(f.default_factory) if _numeric(g)}
    return out


def _check_selection(values: Sequence[str], key: str) -> None:
    fields = _sections_fields()
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
    sections (filtered by include/exclude) with its automatic range, plus `params`."""
    from sim.calibration.space import free_parameters

    _check_selection(cfg.include, "include")
    _check_selection(cfg.exclude, "exclude")
    params = dataclasses.asdict(cfg.params) if dataclasses.is_dataclass(cfg.params) \
        else OmegaConf.to_container(cfg.params)
    explicit = {p.key: p for p in free_parameters(params)} if any(params.values()) else {}
    out: list[Parameter] = []
    for section, fields in _sections_fields().items():
        node = getattr(cfg.model, section)
        for name, f in fields.items():
            key = f"model.{section}.{name}"
            if key in explicit:
                out.append(explicit.pop(key))
            elif section in MECHANISM_SECTIONS and _selected(f"{section}.{name}", cfg.include,
                                                             cfg.exclude):
                p = auto_range(key, f, getattr(node, name))
                if p is not None:
                    out.append(p)
    return out


def unit_to_values(parameters: Sequence[Parameter], unit_row: Sequence[float]) -> dict[str, float]:
    return {p.key: p.from_unit(float(u)) for p, u in zip(parameters, unit_row)}


# ----------------------------------------------------------------------------- outputs
def loss_figures() -> list:
    from sim.reported import load_reported

    return [f for f in load_reported() if f.weight > 0]


def _period_figure(name: str, start: dt.date, end: dt.date):
    """A homicides-per-day window as a (weightless) figure, so that simulate_figures reduces
    it with the same window arithmetic as the reported figures."""
    from sim.reported import ReportedFigure

    return ReportedFigure(id=name, series="homicides", start=start, end=end, kind="mean",
                          value=1.0, ref_start=None, ref_end=None, tolerance=0.25,
                          source="sim-sensitivity", weight=0.0)


def _inside(figure, start: dt.date, end: dt.date) -> bool:
    """True if the figure (and the reference window of a ratio) lies inside start..end."""
    windows = [(figure.start, figure.end)]
    if figure.ref_start is not None and figure.ref_end is not None:
        windows.append((figure.ref_start, figure.ref_end))
    return all(start <= s and e <= end for s, e in windows)


def output_windows(cfg: Any) -> tuple[list, list[str]]:
    """The homicide windows that the run covers (figures) and the periods it does not."""
    start, end = parse_date(cfg.start, "start"), parse_date(cfg.end, "end")
    windows = [_period_figure(MEAN, start, end)]
    skipped = []
    for name, period in cfg.periods.items():
        if f"homicides_{name}" == MEAN:
            raise ConfigError(f"periods.{name}: the name is taken by the whole-run output; "
                              "accepted: another period name")
        s = parse_date(period.start, f"periods.{name}.start")
        e = parse_date(period.end, f"periods.{name}.end")
        if e < s:
            raise ConfigError(f"periods.{name}.end: {e} is before its start {s}; accepted: a "
                              "date on or after start")
        if start <= s and e <= end:
            windows.append(_period_figure(f"homicides_{name}", s, e))
        else:
            skipped.append(name)
    return windows, skipped


# ----------------------------------------------------------------------------- validation
def _power_of_two(n: int) -> bool:
    return n >= 2 and n & (n - 1) == 0


def validate_analysis(cfg: Any) -> list[Parameter]:
    """Check the analysis keys (the model is checked by sim.config.validate); the parameters."""
    if not 0 < cfg.scale <= 1:
        raise ConfigError(f"scale: {cfg.scale} is out of range; accepted: (0, 1]")
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
    names = [LOSS] + [w.id for w in windows]
    if cfg.sobol.select_by not in (*names, "any"):
        raise ConfigError(f"sobol.select_by: '{cfg.sobol.select_by}' is not an output of this "
                          f"run; accepted: {', '.join(names)}, any")
    end = parse_date(cfg.end, "end")
    start = parse_date(cfg.start, "start")
    inside = [f for f in loss_figures() if _inside(f, start, end)]
    if not inside:
        first = min(f.end for f in loss_figures())
        raise ConfigError(f"end: no reported figure lies inside {start}..{end}, so there is no "
                          f"loss; accepted: an end on or after {first}")
    return parameters


def load(cfg: DictConfig) -> tuple[Any, list[Parameter]]:
    """The typed, validated SensitivityConfig and its parameters."""
    from sim.model import load_config

    typed = load_config(cfg)
    return typed, validate_analysis(typed)


# ----------------------------------------------------------------------------- evaluation
def _simulation_config(cfg: Any) -> Config:
    """The plain simulation Config inside a SensitivityConfig (lighter to send to workers)."""
    return Config(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config)})


class Evaluator:
    """Runs parameter sets (seeds x samples) on a process pool, reduced to the outputs."""

    def __init__(self, base: Config, windows: Sequence, seeds: Sequence[int], scale: float,
                 workers: int) -> None:
        self.base = base
        self.loss_figures = loss_figures()
        self.windows = list(windows)
        self.figures = tuple(self.loss_figures) + tuple(self.windows)
        self.outputs = [LOSS] + [w.id for w in self.windows]
        self.seeds = list(seeds)
        self.scale = float(scale)
        self.workers = int(workers)
        self.runs = 0
        self._pool = None

    def __enter__(self) -> "Evaluator":
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: no fork of a process that already has threads (tqdm's monitor, the pool's)
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def evaluate(self, samples: Sequence[Mapping[str, float]], desc: str,
                 offsets: Sequence[int] | None = None) -> "np.ndarray":
        """samples x outputs: the loss of the seed-mean figures, and seed-mean homicides/day.

        Every sample runs with the same seeds (common random numbers) unless `offsets` shifts
        the seeds of each sample (replicates of one point for the noise level)."""
        import warnings

        import numpy as np
        from tqdm import tqdm

        from sim.calibration.objective import fit_of, simulate_figures

        n_seeds, n_loss = len(self.seeds), len(self.loss_figures)
        raw = np.full((len(samples), n_seeds, len(self.figures)), np.nan)
        tasks = [(i, j) for i in range(len(samples)) for j in range(n_seeds)]
        offsets = [0] * len(samples) if offsets is None else list(offsets)
        seed = {(i, j): self.seeds[j] + offsets[i] for i, j in tasks}
        bar = tqdm(total=len(tasks), desc=desc, unit="run", file=sys.stderr, mininterval=1.0,
                   dynamic_ncols=True)
        try:
            if self._pool is None:
                for i, j in tasks:
                    raw[i, j] = simulate_figures(self.base, samples[i], seed[i, j],
                                                 self.scale, self.figures)
                    bar.update()
            else:
                from concurrent.futures import as_completed

                futures = {self._pool.submit(simulate_figures, self.base, dict(samples[i]),
                                             seed[i, j], self.scale, self.figures): (i, j)
                           for i, j in tasks}
                for future in as_completed(futures):
                    i, j = futures[future]
                    try:
                        raw[i, j] = future.result()
                    except Exception as exc:
                        raise RuntimeError(f"{desc}: the run of sample {i} seed "
                                           f"{seed[i, j]} failed ({samples[i]})") from exc
                    bar.update()
        finally:
            bar.close()
        self.runs += len(tasks)
        out = np.empty((len(samples), len(self.outputs)))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # figures outside the run: NaN
            for i in range(len(samples)):
                out[i, 0] = fit_of(self.loss_figures, raw[i, :, :n_loss]).loss
                out[i, 1:] = np.nanmean(raw[i, :, n_loss:], axis=0)
        return out


# ----------------------------------------------------------------------------- analysis
def _problem(parameters: Sequence[Parameter]) -> dict:
    return {"num_vars": len(parameters), "names": [p.short for p in parameters],
            "bounds": [[0.0, 1.0]] * len(parameters)}


def _describe(p: Parameter, value: float) -> dict:
    return {"parameter": p.short, "value": value, "low": p.low, "high": p.high,
            "log": p.log, "integer": p.integer}


def noise_floor(sd: float, levels: int) -> float:
    """The mu* of a parameter without any effect when an output's seed-to-seed noise has
    standard deviation `sd`: an elementary effect is then the difference of two independent
    draws over the step delta = levels / (2 (levels - 1)), and mu* = E|EE| = (2/sqrt(pi)) sd /
    delta. Under common random numbers a change of any parameter that touches the random draws
    reshuffles a run's future, so this is the level below which mu* is not an effect."""
    delta = levels / (2 * (levels - 1))
    return 2 / math.sqrt(math.pi) * sd / delta


def select(morris, by: str, top: int) -> list[str]:
    """The `top` parameters by mu* on output `by`, or on the largest mu*/max over outputs."""
    if by == "any":
        score = morris.groupby("parameter", sort=False).mu_star_norm.max()
    else:
        score = morris[morris.output == by].set_index("parameter").mu_star
    order = sorted(range(len(score)), key=lambda k: (-score.iloc[k], k))
    return [score.index[k] for k in order[:top]]


def morris_table(parameters, defaults, X, Y, outputs, levels, seed,
                 noise_sd=None) -> "pd.DataFrame":
    """One row per output and parameter: mu*, its confidence interval, mu, sigma, ranks and
    the output's noise floor (NaN without noise replicates)."""
    import numpy as np
    import pandas as pd
    from SALib.analyze import morris as morris_analyze

    problem = _problem(parameters)
    rows = []
    for j, output in enumerate(outputs):
        res = morris_analyze.analyze(problem, X, Y[:, j], num_resamples=1000, conf_level=0.95,
                                     num_levels=levels, seed=seed)
        mu_star = np.asarray(res["mu_star"], dtype=float)
        top = float(np.nanmax(mu_star)) if np.any(mu_star > 0) else 0.0
        order = np.lexsort((np.arange(len(parameters)), -mu_star))
        rank = np.empty(len(parameters), dtype=int)
        rank[order] = np.arange(1, len(parameters) + 1)
        for k, p in enumerate(parameters):
            rows.append({"output": output, "rank": int(rank[k]), **_describe(p, defaults[k]),
                         "mu_star": float(mu_star[k]),
                         "mu_star_conf": float(res["mu_star_conf"][k]),
                         "mu_star_norm": float(mu_star[k] / top) if top > 0 else 0.0,
                         "mu": float(res["mu"][k]), "sigma": float(res["sigma"][k]),
                         "noise_floor": (noise_floor(float(noise_sd[j]), levels)
                                         if noise_sd is not None else float("nan"))})
    df = pd.DataFrame(rows)
    return df.sort_values(["output", "rank"], key=lambda s: s.map(outputs.index)
                          if s.name == "output" else s, kind="stable").reset_index(drop=True)


def sobol_table(parameters, defaults, Y, outputs, seed) -> "pd.DataFrame":
    """One row per output and parameter: S1 and ST with their confidence intervals."""
    import warnings

    import numpy as np
    import pandas as pd
    from SALib.analyze import sobol as sobol_analyze

    problem = _problem(parameters)
    rows = []
    for j, output in enumerate(outputs):
        y = Y[:, j]
        if not np.all(np.isfinite(y)) or np.var(y) == 0:  # nothing to apportion
            res = {key: np.full(len(parameters), np.nan)
                   for key in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # a Generator: SALib's sobol.analyze ignores an integer seed of 0 (`if seed:`)
                res = sobol_analyze.analyze(problem, y, calc_second_order=False,
                                            num_resamples=1000, conf_level=0.95,
                                            seed=np.random.default_rng(seed))
        for k, p in enumerate(parameters):
            rows.append({"output": output, **_describe(p, defaults[k]),
                         "S1": float(res["S1"][k]), "S1_conf": float(res["S1_conf"][k]),
                         "ST": float(res["ST"][k]), "ST_conf": float(res["ST_conf"][k])})
    return pd.DataFrame(rows)


def runs_table(parameters, X, Y, outputs) -> "pd.DataFrame":
    import pandas as pd

    df = pd.DataFrame([unit_to_values(parameters, row) for row in X])
    df.columns = [p.short for p in parameters]
    for j, output in enumerate(outputs):
        df[output] = Y[:, j]
    df.insert(0, "sample", range(len(df)))
    return df


def analyse(cfg: Any, parameters: list[Parameter]) -> dict:
    """Run both stages; everything the writers need."""
    import numpy as np
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    from sim.calibration.space import get_value

    t0 = time.perf_counter()
    windows, skipped = output_windows(cfg)
    for name in skipped:
        log.info("period %s is not inside %s..%s: not an output", name, cfg.start, cfg.end)
    base = _simulation_config(cfg)
    defaults = [get_value(base, p.key) for p in parameters]
    seeds = [cfg.seed + i for i in range(cfg.seeds)]
    result: dict[str, Any] = {"parameters": parameters, "defaults": defaults,
                              "skipped_periods": skipped, "timings": {}}
    with Evaluator(base, windows, seeds, cfg.scale, cfg.workers) as ev:
        outputs = ev.outputs
        result["outputs"] = outputs
        start, end = parse_date(cfg.start, "start"), parse_date(cfg.end, "end")
        result["n_loss_figures"] = sum(_inside(f, start, end) for f in ev.loss_figures)
        noise_sd = None
        if cfg.noise:
            log.info("noise: the configured values, %d replicates x %d seed(s)", cfg.noise,
                     len(seeds))
            Yn = ev.evaluate([{}] * cfg.noise, "noise",
                             offsets=[k * len(seeds) for k in range(cfg.noise)])
            noise_sd = Yn.std(axis=0, ddof=1)
            result["noise_samples"] = Yn
        result["noise_sd"] = noise_sd
        result["timings"]["noise"] = time.perf_counter() - t0
        result["noise_runs"] = ev.runs
        X = morris_sample.sample(_problem(parameters), N=cfg.morris.trajectories,
                                 num_levels=cfg.morris.levels, seed=cfg.sampler_seed)
        log.info("Morris: %d parameters, %d trajectories, %d samples x %d seed(s)",
                 len(parameters), cfg.morris.trajectories, len(X), len(seeds))
        Y = ev.evaluate([unit_to_values(parameters, row) for row in X], "morris")
        result["timings"]["morris"] = time.perf_counter() - t0 - result["timings"]["noise"]
        result["morris_runs"] = ev.runs - result["noise_runs"]
        morris = morris_table(parameters, defaults, X, Y, outputs, cfg.morris.levels,
                              cfg.sampler_seed, noise_sd)
        result["morris"], result["morris_samples"] = morris, runs_table(parameters, X, Y, outputs)
        chosen = select(morris, cfg.sobol.select_by, cfg.sobol.top)
        below = morris[(morris.output == cfg.sobol.select_by) & morris.parameter.isin(chosen)
                       & (morris.mu_star <= morris.noise_floor)]
        if len(below):
            log.warning("mu* on %s of %s is within the seed-to-seed noise: more seeds or a "
                        "larger scale", cfg.sobol.select_by, ", ".join(below.parameter))
        selected = [p for p in parameters if p.short in chosen]
        selected.sort(key=lambda p: chosen.index(p.short))
        result["selected"] = selected
        morris["selected"] = morris.parameter.isin(chosen)
        if selected:
            t1 = time.perf_counter()
            Xs = sobol_sample.sample(_problem(selected), cfg.sobol.n, calc_second_order=False,
                                     seed=cfg.sampler_seed)
            log.info("Sobol: %d parameters (%s), n=%d, %d samples x %d seed(s)", len(selected),
                     ", ".join(chosen), cfg.sobol.n, len(Xs), len(seeds))
            Ys = ev.evaluate([unit_to_values(selected, row) for row in Xs], "sobol")
            result["timings"]["sobol"] = time.perf_counter() - t1
            sel_defaults = [defaults[parameters.index(p)] for p in selected]
            result["sobol"] = sobol_table(selected, sel_defaults, Ys, outputs, cfg.sampler_seed)
            result["sobol_samples"] = runs_table(selected, Xs, Ys, outputs)
            if noise_sd is not None:
                with np.errstate(all="ignore"):
                    result["noise_share"] = noise_sd ** 2 / Ys.var(axis=0, ddof=1)
        result["runs"] = ev.runs
    result["sobol_runs"] = result["runs"] - result["morris_runs"] - result["noise_runs"]
    result["elapsed"] = time.perf_counter() - t0
    return result


# ----------------------------------------------------------------------------- outputs
_LABELS = {LOSS: "loss (sum of half-deviances)", MEAN: "homicides per day, whole run"}


def output_label(output: str) -> str:
    return _LABELS.get(output, output.removeprefix("homicides_").replace("_", " ")
                       + " homicides per day" if output.startswith("homicides_") else output)


def plot_morris(morris, outputs: Sequence[str], path: Path, label_top: int = 10) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.figures import _save

    shown = [o for o in (LOSS, MEAN) if o in outputs]
    fig = Figure(figsize=(6.0 * len(shown), 5.5), dpi=110, layout="constrained")
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
    _save(fig, path)


def plot_sobol(sobol, outputs: Sequence[str], path: Path) -> None:
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.figures import _save

    ncols = min(3, len(outputs))
    nrows = math.ceil(len(outputs) / ncols)
    params = list(dict.fromkeys(sobol.parameter))
    height = max(3.2, 0.45 * len(params) + 1.4)
    right = float(np.nanmax([1.05, *(sobol.S1 + sobol.S1_conf), *(sobol.ST + sobol.ST_conf)]))
    fig = Figure(figsize=(5.0 * ncols, height * nrows), dpi=110, layout="constrained")
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
    _save(fig, path)


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 10 ** digits:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def _noisy(row) -> str:
    floor = row["noise_floor"]
    return "~" if math.isfinite(floor) and 0 < row["mu_star"] <= floor else ""


def _short(output: str) -> str:
    return "all" if output == MEAN else output.removeprefix("homicides_")


def _range_text(p: Parameter) -> str:
    kind = "log" if p.log else "lin"
    return f"{_fmt(p.low)}-{_fmt(p.high)} ({kind}{', int' if p.integer else ''})"


def markdown(cfg: Any, res: dict, top_rows: int = 20) -> str:
    morris, outputs, parameters = res["morris"], res["outputs"], res["parameters"]
    by_key = {p.short: p for p in parameters}
    m = {o: morris[morris.output == o].set_index("parameter") for o in outputs}
    lines = [
        f"# Global sensitivity analysis: {cfg.name}",
        "",
        f"Scenario `{cfg.scenario.name}`, {cfg.start} to {cfg.end}, model scale {cfg.scale}, "
        f"{cfg.seeds} seed(s) per sample (seed {cfg.seed} on), sampler seed "
        f"{cfg.sampler_seed}. {res['runs']} runs: {res['noise_runs']} for the noise level, "
        f"{res['morris_runs']} for Morris, {res['sobol_runs']} for Sobol.",
        "",
        f"Outputs: `loss` (the calibration loss over the {res['n_loss_figures']} weighted "
        "reported figures inside the run) and homicides per day in national units over the "
        "whole run (`homicides_mean`) and in each policy period "
        + (", ".join(f"`homicides_{n}` ({p.start}..{p.end})" for n, p in cfg.periods.items()
                     if n not in res["skipped_periods"]) or "(none inside the run)") + ".",
        "",
        f"Ranges: for a configured value d > 0, [d/2, 2d] clipped to the accepted values, "
        "log-uniform; for d = 0, linear [0, upper bound or 1]. mu* and sigma are per unit of "
        "that (log-)range, so they compare across parameters; mu*/max is mu* over the largest "
        "mu* of the output.",
        "",
        f"## Morris screening: {len(parameters)} parameters, {cfg.morris.trajectories} "
        f"trajectories, {cfg.morris.levels} levels",
        "",
    ]
    if res["noise_sd"] is not None:
        sd = dict(zip(outputs, res["noise_sd"]))
        lines += [
            f"Seed-to-seed noise at the configured values ({cfg.noise} replicates of "
            f"{cfg.seeds} seed(s)), standard deviation: "
            + ", ".join(f"{_short(o)} {_fmt(sd[o])}" for o in outputs) + ". A parameter "
            "without effect still shows mu* of about 2/sqrt(pi) x sd / delta (delta = "
            "levels / (2 (levels - 1)), the Morris step): "
            + ", ".join(f"{_short(o)} {_fmt(m[o].noise_floor.iloc[0])}" for o in outputs)
            + ". mu* values marked ~ are below that noise floor.",
            ""]
    lines += [
        f"Top {min(top_rows, len(parameters))} by mu* on the loss (all in `morris.csv`); "
        f"**bold**: selected for Sobol (top {cfg.sobol.top} by mu* on "
        f"`{cfg.sobol.select_by}`).",
        "",
    ]
    extra = [o for o in outputs if o not in (LOSS,)]
    head = ["rank", "parameter", "range", "mu* loss (95% CI)", "mu*/max", "sigma"] + \
        [f"mu* {_short(o)}" for o in extra]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    loss = m[LOSS].sort_values("rank")
    for name, row in loss.head(top_rows).iterrows():
        shown = f"**{name}**" if row.selected else name
        cells = [str(row["rank"]), shown, _range_text(by_key[name]),
                 f"{_noisy(row)}{_fmt(row.mu_star)} ± {_fmt(row.mu_star_conf, 2)}",
                 f"{row.mu_star_norm:.2f}", _fmt(row.sigma)]
        cells += [f"{_noisy(m[o].loc[name])}{_fmt(m[o].loc[name, 'mu_star'])} "
                  f"(#{m[o].loc[name, 'rank']})" for o in extra]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("mu* of the homicide outputs (`all`: the whole run; a period name: that "
                 "period) in homicides per day; (#k): the parameter's rank for that output.")
    for o in extra:
        best = m[o].sort_values("rank").head(5)
        lines.append(f"- most influential on `{o}`: "
                     + ", ".join(f"{n} ({_fmt(r.mu_star)})" for n, r in best.iterrows()))
    zero = [n for n in loss.index if all(m[o].loc[n, "mu_star"] == 0 for o in outputs)]
    if zero:
        lines.append(f"- no effect on any output (mu* = 0 exactly; common random numbers): "
                     + ", ".join(zero))
    lines.append("")
    if "sobol" in res:
        sobol = res["sobol"]
        sel = [p.short for p in res["selected"]]
        lines += [f"## Sobol indices: {len(sel)} parameters, n = {cfg.sobol.n} base samples",
                  "",
                  "First-order (S1) and total (ST) indices, 95% confidence half-widths; the "
                  "other parameters at their configured values. All outputs in `sobol.csv`.",
                  ""]
        head = ["parameter"] + [f"{k} {_short(o)}" for o in outputs for k in ("S1", "ST")]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        s = {o: sobol[sobol.output == o].set_index("parameter") for o in outputs}
        for name in sel:
            cells = [name]
            for o in outputs:
                r = s[o].loc[name]
                cells += [f"{_fmt(r.S1, 2)} ± {_fmt(r.S1_conf, 2)}",
                          f"{_fmt(r.ST, 2)} ± {_fmt(r.ST_conf, 2)}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        share = dict(zip(outputs, res.get("noise_share", [math.nan] * len(outputs))))
        for o in outputs:
            total = s[o].S1.sum()
            if math.isfinite(total):
                text = (f"- `{o}`: the S1 sum to {total:.2f} (1 - sum: interactions, the "
                        "parameters held fixed, and estimation error)")
                if math.isfinite(share[o]):
                    text += (f"; seed noise is {min(share[o], 9.99):.2f} of the variance (every "
                             "ST carries about that much noise)")
                lines.append(text)
        lines.append("")
    lines += ["Figures: `morris.png` (mu* against sigma), `sobol.png` (S1 and ST).", ""]
    return "\n".join(lines)


def summary(cfg: Any, res: dict) -> dict:
    return {
        "name": cfg.name,
        "scenario": cfg.scenario.name,
        "start": cfg.start,
        "end": cfg.end,
        "scale": cfg.scale,
        "seeds": [cfg.seed + i for i in range(cfg.seeds)],
        "sampler_seed": cfg.sampler_seed,
        "workers": cfg.workers,
        "morris": {"trajectories": cfg.morris.trajectories, "levels": cfg.morris.levels,
                   "runs": res["morris_runs"]},
        "sobol": {"n": cfg.sobol.n, "top": cfg.sobol.top, "select_by": cfg.sobol.select_by,
                  "runs": res["sobol_runs"],
                  "parameters": [p.short for p in res["selected"]]},
        "noise": {"replicates": cfg.noise, "runs": res["noise_runs"],
                  "sd": (None if res["noise_sd"] is None else
                         {o: float(v) for o, v in zip(res["outputs"], res["noise_sd"])}),
                  "share_of_sobol_variance": (
                      {o: float(v) for o, v in zip(res["outputs"], res["noise_share"])}
                      if "noise_share" in res else None)},
        "runs": res["runs"],
        "elapsed_seconds": round(res["elapsed"], 1),
        "stage_seconds": {k: round(v, 1) for k, v in res["timings"].items()},
        "outputs": res["outputs"],
        "loss_figures": res["n_loss_figures"],
        "periods_not_in_run": res["skipped_periods"],
        "parameters": [{"parameter": p.short, "value": d, "low": p.low, "high": p.high,
                        "log": p.log, "integer": p.integer}
                       for p, d in zip(res["parameters"], res["defaults"])],
    }


def write_outputs(cfg: Any, composed: DictConfig, res: dict, out_dir: Path) -> None:
    """Write every file into a staging folder next to out_dir, then swap it into place."""
    def write_csv(df, path: Path) -> None:  # the staging folder makes every file atomic
        df.to_csv(path, index=False, lineterminator="\n")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = out_dir.parent / f".{out_dir.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
    stage.mkdir()
    try:
        write_csv(res["morris"], stage / "morris.csv")
        write_csv(res["morris_samples"], stage / "runs_morris.csv")
        if "sobol" in res:
            write_csv(res["sobol"], stage / "sobol.csv")
            write_csv(res["sobol_samples"], stage / "runs_sobol.csv")
            plot_sobol(res["sobol"], res["outputs"], stage / "sobol.png")
        plot_morris(res["morris"], res["outputs"], stage / "morris.png")
        (stage / "sensitivity.md").write_text(markdown(cfg, res), encoding="utf-8")
        (stage / "config.yaml").write_text(OmegaConf.to_yaml(composed, resolve=True),
                                           encoding="utf-8")
        (stage / "summary.json").write_text(json.dumps(summary(cfg, res), indent=2) + "\n",
                                            encoding="utf-8")
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.old"
            os.replace(out_dir, old)
        os.replace(stage, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


# ----------------------------------------------------------------------------- CLI
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="sensitivity")
def app(cfg: DictConfig) -> float:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step under Hydra
    typed, parameters = load(cfg)
    out_dir = Path(typed.out_dir)
    log.info("%s: %d parameters, outputs into %s", PROG, len(parameters), out_dir)
    res = analyse(typed, parameters)
    write_outputs(typed, cfg, res, out_dir)
    loss = res["morris"][res["morris"].output == LOSS].sort_values("rank")
    log.info("top by Morris mu* on the loss: %s",
             ", ".join(f"{r.parameter} ({r.mu_star:.3g})" for r in loss.head(5).itertuples()))
    if "sobol" in res:
        s = res["sobol"][res["sobol"].output == LOSS]
        log.info("Sobol ST on the loss: %s",
                 ", ".join(f"{r.parameter} {r.ST:.2f}" for r in s.itertuples()))
    log.info("%d runs in %.0f s; outputs in %s", res["runs"], res["elapsed"], out_dir)
    return float(res["elapsed"])


def check(overrides: list[str]) -> None:
    """Compose and validate before anything is run or written."""
    from sim.compose import compose

    register()
    load(compose(overrides, config_name="sensitivity"))


def error_line(exc: BaseException) -> str:
    """sim-run's one-line config error, or where a parameter range can be set."""
    import re

    from sim.run import _one_line

    # OmegaConf cannot add a typed ParamRange from the command line: say where it can go.
    found = re.search(r"override \+*(params\.\w+\.\w+)", str(exc))
    if found is None:
        found = re.search(r"'(params\.\w+\.\w+)[.\w]*'", str(exc))
    if found:
        return (f"{found.group(1)}: a parameter range cannot be added on the command line; "
                "accepted: params: {<section>: {<name>: {low: .., high: .., log: ..}}} in a "
                "preset of conf/sensitivity/ (sensitivity=<preset>)")
    return _one_line(exc)


def main() -> None:
    from sim.run import precheck

    register()
    args = sys.argv[1:]
    if not any(a.startswith("-") for a in args):  # --help, --cfg, -m: left to Hydra
        precheck(PROG, check, args, error_line)
    app()


if __name__ == "__main__":
    main()
