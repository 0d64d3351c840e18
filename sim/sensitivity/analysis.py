"""Morris screening and Sobol indices (SALib) over the outputs of the sampled runs."""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Sequence

from sim.calibration.space import Parameter, get_value
from sim.sensitivity.design import Answer, output_windows, run_period, unit_to_values
from sim.sensitivity.runner import Evaluator, simulation_config

log = logging.getLogger("sim.sensitivity")


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
            s1, s1c, st, stc = (float(res[key][k]) for key in ("S1", "S1_conf", "ST", "ST_conf"))
            rows.append({"output": output, **_describe(p, defaults[k]),
                         "S1": s1, "S1_conf": s1c, "ST": st, "ST_conf": stc,
                         # resolved: a positive index whose 95 % interval (twice the
                         # half-width SALib gives) is narrower than the index itself
                         "S1_resolved": bool(s1 > 0 and 2 * s1c < s1),
                         "ST_resolved": bool(st > 0 and 2 * stc < st)})
    return pd.DataFrame(rows)


def runs_table(parameters, X, Y, outputs) -> "pd.DataFrame":
    import pandas as pd

    df = pd.DataFrame([unit_to_values(parameters, row) for row in X])
    df.columns = [p.short for p in parameters]
    for j, output in enumerate(outputs):
        df[output] = Y[:, j]
    df.insert(0, "sample", range(len(df)))
    return df


def analyse(cfg: Any, parameters: list[Parameter], answers: list[Answer]) -> dict:
    """Run the noise replicates, the Morris screening and the Sobol stage; everything the
    writers need (tables, samples, run counts, timings)."""
    t0 = time.perf_counter()
    windows, skipped = output_windows(cfg)
    for name in skipped:
        log.info("period %s is not inside %s..%s: not an output", name, cfg.start, cfg.end)
    base = simulation_config(cfg)
    defaults = [get_value(base, p.key) for p in parameters]
    seeds = [cfg.seed + i for i in range(cfg.seeds)]
    run = run_period(cfg)
    result: dict[str, Any] = {"parameters": parameters, "defaults": defaults,
                              "windows": windows, "skipped_periods": skipped, "timings": {}}
    result["answers"] = answers
    with Evaluator(base, windows, seeds, cfg.scale, cfg.workers, cfg.log_loss,
                   result["answers"], cfg.relative_answers) as evaluator:
        result["outputs"] = evaluator.outputs
        result["n_loss_figures"] = sum(run.covers(f.first_day, f.last_day)
                                       for f in evaluator.loss_figures)
        stage_start = time.perf_counter()
        result["noise_sd"] = _noise_stage(cfg, evaluator, len(seeds), result)
        result["timings"]["noise"] = time.perf_counter() - stage_start
        result["noise_runs"] = evaluator.runs
        stage_start = time.perf_counter()
        _morris_stage(cfg, evaluator, parameters, defaults, result)
        result["timings"]["morris"] = time.perf_counter() - stage_start
        result["morris_runs"] = evaluator.runs - result["noise_runs"]
        if result["selected"]:
            stage_start = time.perf_counter()
            _sobol_stage(cfg, evaluator, parameters, defaults, result)
            result["timings"]["sobol"] = time.perf_counter() - stage_start
        result["runs"] = evaluator.runs
    result["sobol_runs"] = result["runs"] - result["morris_runs"] - result["noise_runs"]
    result["elapsed"] = time.perf_counter() - t0
    return result


def _noise_stage(cfg: Any, evaluator: Evaluator, n_seeds: int, result: dict):
    """The outputs' seed-to-seed standard deviation at the configured values (None: off)."""
    if not cfg.noise:
        return None
    log.info("noise: the configured values, %d replicates x %d seed(s)", cfg.noise, n_seeds)
    outputs = evaluator.evaluate([{}] * cfg.noise, "noise",
                                 offsets=[k * n_seeds for k in range(cfg.noise)])
    result["noise_samples"] = outputs
    return outputs.std(axis=0, ddof=1)


def _morris_stage(cfg: Any, evaluator: Evaluator, parameters: list[Parameter],
                  defaults: list[float], result: dict) -> None:
    """Morris over every parameter; the `sobol.top` selected for the Sobol stage."""
    from SALib.sample import morris as morris_sample

    units = morris_sample.sample(_problem(parameters), N=cfg.morris.trajectories,
                                 num_levels=cfg.morris.levels, seed=cfg.sampler_seed)
    log.info("Morris: %d parameters, %d trajectories, %d samples x %d seed(s)",
             len(parameters), cfg.morris.trajectories, len(units), len(evaluator.seeds))
    outputs = evaluator.evaluate([unit_to_values(parameters, row) for row in units], "morris")
    morris = morris_table(parameters, defaults, units, outputs, result["outputs"],
                          cfg.morris.levels, cfg.sampler_seed, result["noise_sd"])
    chosen = select(morris, cfg.sobol.select_by, cfg.sobol.top)
    below = morris[(morris.output == cfg.sobol.select_by) & morris.parameter.isin(chosen)
                   & (morris.mu_star <= morris.noise_floor)]
    if len(below):
        log.warning("mu* on %s of %s is within the seed-to-seed noise: more seeds or a "
                    "larger scale", cfg.sobol.select_by, ", ".join(below.parameter))
    morris["selected"] = morris.parameter.isin(chosen)
    result["morris"] = morris
    result["morris_samples"] = runs_table(parameters, units, outputs, result["outputs"])
    result["selected"] = sorted((p for p in parameters if p.short in chosen),
                                key=lambda p: chosen.index(p.short))


def _sobol_stage(cfg: Any, evaluator: Evaluator, parameters: list[Parameter],
                 defaults: list[float], result: dict) -> None:
    """Sobol indices of the selected parameters, the others at their configured values."""
    import numpy as np
    from SALib.sample import sobol as sobol_sample

    selected = result["selected"]
    units = sobol_sample.sample(_problem(selected), cfg.sobol.n, calc_second_order=False,
                                seed=cfg.sampler_seed)
    log.info("Sobol: %d parameters (%s), n=%d, %d samples x %d seed(s)", len(selected),
             ", ".join(p.short for p in selected), cfg.sobol.n, len(units),
             len(evaluator.seeds))
    outputs = evaluator.evaluate([unit_to_values(selected, row) for row in units], "sobol")
    selected_defaults = [defaults[parameters.index(p)] for p in selected]
    result["sobol"] = sobol_table(selected, selected_defaults, outputs, result["outputs"],
                                  cfg.sampler_seed)
    result["sobol_samples"] = runs_table(selected, units, outputs, result["outputs"])
    if result["noise_sd"] is not None:
        with np.errstate(all="ignore"):
            result["noise_share"] = result["noise_sd"] ** 2 / outputs.var(axis=0, ddof=1)
