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
run, and homicides per day (national units) over the whole run (``homicides_mean``) and over
the period of each policy of ``periods`` (default: baseline, truce, mano_dura,
prison_isolation) that the run covers (``homicides_<policy>``). The periods come from the
scenario's timeline (:func:`sim.dates.policy_periods`: from a spell's start until a later
lasting policy starts), so they move with the scenario's dates.

Runs go to a process pool (spawn: scripts that call :func:`analyse` need the usual
``if __name__ == "__main__":`` guard). Writes into ``out_dir`` (results/sensitivity/<name>),
all at once (a staging folder renamed into place; a re-run replaces the folder; Hydra itself
writes nothing): ``morris.csv``, ``sobol.csv``, ``sensitivity.md``,
``morris.png``, ``sobol.png``, ``runs_morris.csv``, ``runs_sobol.csv`` (every sample's
parameter values and outputs), ``config.yaml`` and ``summary.json``. The same config and seeds
give identical files, except the timings in summary.json.

The package, in the order of an analysis: ``config`` (the schema), ``design`` (parameters,
ranges and outputs, checked), ``runner`` (the runs), ``analysis`` (Morris and Sobol),
``plots`` and ``report`` (the files), ``app`` (the command).
"""

from sim.sensitivity.analysis import analyse, morris_table, noise_floor, select, sobol_table
from sim.sensitivity.app import check, error_line, main
from sim.sensitivity.config import (LOSS, MEAN, MECHANISM_SECTIONS, PERIODS, SETUP_SECTIONS,
                                    SensitivityConfig, register)
from sim.sensitivity.design import auto_range, load, mechanism_parameters, output_windows

__all__ = ["LOSS", "MEAN", "MECHANISM_SECTIONS", "PERIODS", "SETUP_SECTIONS",
           "SensitivityConfig", "analyse", "auto_range", "check", "error_line", "load", "main",
           "mechanism_parameters", "morris_table", "noise_floor", "output_windows", "register",
           "select", "sobol_table"]
