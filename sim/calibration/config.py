"""Structured config of `sim-calibrate`: the simulation Config plus what to fit and how.

`conf/calibrate.yaml` is `conf/config.yaml` with the schema swapped for
:class:`CalibrateConfig` and a preset from `conf/calibration/` (package `_global_`), so every
key is top level on the command line: ``sim-calibrate method=abc budget=400
holdout.after=2016-01-01 params.truce.grievance_rate.low=2e-4``.

Free parameters are grouped by model section (``params.<section>.<name>``) so that their names
read like the model keys they set; a section's type is ``dict[str, ParamRange]`` and the names
are checked against the model in :mod:`sim.calibration.space`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from hydra.core.config_store import ConfigStore

from sim.config import Config, ModelConfig

METHODS = ("optuna", "abc", "smc")


@dataclass
class ParamRange:
    """Prior range of one free parameter (uniform, or log-uniform when `log`). A bound left
    out is the parameter's accepted bound in sim.config (e.g. 1 for a probability)."""
    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False


# One field per mechanism section of ModelConfig: params.border.kill_rate, params.truce.x, ...
SECTIONS = tuple(
    f.name for f in dataclasses.fields(ModelConfig)
    if f.name not in ("scale", "levers") and dataclasses.is_dataclass(f.default_factory)
)
FreeParams = dataclasses.make_dataclass(
    "FreeParams",
    [(name, dict[str, ParamRange], field(default_factory=dict)) for name in SECTIONS],
)
FreeParams.__doc__ = "Free parameters by model section: section -> parameter name -> range."


@dataclass
class HoldoutConfig:
    """Fit only the figures whose window ends before `after`; score the ones that start on or
    after it. None: fit every figure."""
    after: Optional[str] = None


@dataclass
class OptunaConfig:
    n_startup_trials: int = 40  # random trials before TPE takes over
    multivariate: bool = True
    reselect_top: int = 10  # the best trials run again on fresh seeds; the best there wins
    reselect_seeds: int = 6


@dataclass
class AbcConfig:
    population_size: int = 100
    max_populations: int = 8
    min_epsilon: float = 0.0  # stop when the loss threshold falls below this
    # true: each proposal runs `seeds` fresh seeds of its own stream, so the posterior carries
    # the model's seed noise (noisy ABC); false: the same seeds 0..seeds-1 for every proposal
    fresh_seeds: bool = False
    # particles of the last generation (max_populations - 1), if more are wanted to draw from
    final_population_size: Optional[int] = None
    point: str = "best"  # the calibrated values: "best" particle or the posterior's "median"
    # method smc (sim/calibration/smc.py): the quantile of the distances kept each generation,
    # and the Metropolis-Hastings sweeps that move the resampled particles
    alpha: float = 0.5
    moves: int = 1


@dataclass
class CalibrateConfig(Config):
    """sim-calibrate's whole config: the simulation (inherited) and the calibration."""
    name: str = "default"  # results in results/calibration/<name>, config model/calibrated_<name>
    method: str = "optuna"
    params: FreeParams = field(default_factory=FreeParams)  # type: ignore[valid-type]
    # the parameters of `params` to free ("section.name"); empty: all of them. A preset can then
    # take its priors from conf/priors/sources.yaml, where each range is defined once
    free: list[str] = field(default_factory=list)
    seeds: int = 2  # seeds per trial; the loss is scored on their mean (common random numbers)
    scale: float = 0.5  # model scale during the search (rates per person are kept)
    budget: int = 200  # trials (optuna) or simulations (abc), seeds not counted
    workers: int = 2  # processes evaluating trials at once
    sampler_seed: int = 0
    # > 0 adds this weight times each figure's squared miss beyond its tolerance band (in
    # tolerances) to the likelihood loss, for a fit that keeps every figure inside its band
    tolerance_weight: float = 0.0
    ensemble: int = 10  # seeds for the bands and the before/after report
    report_scale: float = 1.0  # model scale of the report ensembles
    write_model_config: bool = True  # also write conf/model/calibrated_<name>.yaml
    out_dir: str = "results/calibration/${name}"
    targets: Optional[str] = None  # CSV of reported figures (sim/data/reported.csv's columns); None: packaged
    holdout: HoldoutConfig = field(default_factory=HoldoutConfig)
    optuna: OptunaConfig = field(default_factory=OptunaConfig)
    abc: AbcConfig = field(default_factory=AbcConfig)


def register() -> None:
    ConfigStore.instance().store(group="schema", name="calibrate", node=CalibrateConfig,
                                 package="_global_")
