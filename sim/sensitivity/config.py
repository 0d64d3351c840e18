"""sim-sensitivity's config: the simulation config plus what to vary, what to measure, how.

`conf/sensitivity.yaml` is `conf/config.yaml` with the schema swapped for
:class:`SensitivityConfig` and a preset from `conf/sensitivity/` (keys are top level).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore

from sim.calibration.config import SECTIONS, FreeParams
from sim.config import Config, register_configs

SETUP_SECTIONS = ("population", "landscape")  # set-up, not mechanisms: left out by default
MECHANISM_SECTIONS = tuple(s for s in SECTIONS if s not in SETUP_SECTIONS)
LOSS = "loss"
MEAN = "homicides_mean"
#: The loss over one kind of target each: which parameters the homicide series, the security
#: forces' figures and the stocks inform (an identification question, not only a ranking).
LOSS_GROUPS: dict[str, tuple[str, ...]] = {
    "loss_homicides": ("homicides",),
    "loss_security": ("police_killed", "soldiers_killed", "relatives_killed", "security_vs_gang"),
    "loss_stocks": ("gang_members", "gang_members_street", "gang_members_prison", "hidden"),
}


@dataclass
class MorrisConfig:
    trajectories: int = 10  # one-at-a-time trajectories (runs: trajectories x (k+1) x seeds)
    levels: int = 4  # grid levels per parameter (even)


@dataclass
class SobolConfig:
    n: int = 64  # base samples, a power of 2 (runs: n x (top+2) x seeds)
    top: int = 5  # parameters with the largest Morris mu* on `select_by`; 0: Morris only
    select_by: str = "loss"  # an output (loss, homicides_mean, homicides_<policy>) or "any"


@dataclass
class AnswerConfig:
    """A study's answer as an output (`answer_<name>`): homicides from `start` to `end` in the
    counterfactual `scenario` minus those of the analysed scenario, with the same parameters and
    seed (paired), in national units; each sample then runs once more per answer."""
    scenario: str = "???"  # a scenario of conf/scenario/ spanning the analysed run's days
    start: str = "???"
    end: str = "???"


#: Policies whose periods in the scenario's timeline (sim.dates.policy_periods) are outputs.
PERIODS = ("baseline", "truce", "mano_dura", "prison_isolation")


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
    auto_ranges: bool = True  # false: only the parameters of `params` (e.g. conf/priors/sources.yaml)
    free: list[str] = field(default_factory=list)  # of `params`, only these ("section.name"); empty: all
    # the loss outputs as log10: over wide priors a few runs miss by orders of magnitude, and on
    # the raw loss their elementary effects would rank every parameter they happen to move
    log_loss: bool = False
    periods: list[str] = field(default_factory=lambda: list(PERIODS))  # policy periods
    answers: dict[str, AnswerConfig] = field(default_factory=dict)  # counterfactual differences
    # true: an answer is the counterfactual's change relative to the analysed run ((cf - run) /
    # run over the window, at least -1), not homicides: over wide priors a few runaway draws
    # differ by millions and would leave every index of the difference unresolved
    relative_answers: bool = False
    morris: MorrisConfig = field(default_factory=MorrisConfig)
    sobol: SobolConfig = field(default_factory=SobolConfig)
    out_dir: str = "results/sensitivity/${name}"


def register() -> None:
    register_configs()
    ConfigStore.instance().store(group="schema", name="sensitivity", node=SensitivityConfig,
                                 package="_global_")
