"""One calibration from config to report: search, ensembles, hold-out scores, files.

Output folder (``out_dir``):

- ``study.db`` / ``abc.db``: the search state (an interrupted calibration resumes from it);
- ``trials.csv``: every evaluation; ``posterior.csv`` (ABC): the last generation's particles;
- ``calibrated.yaml``: the model config found (also written to conf/model/calibrated_<name>.yaml
  so that ``sim-run model=calibrated_<name>`` runs it);
- ``summary.json`` / ``summary.md``: loss before and after, per-target errors, settings;
- ``holdout.csv`` / ``holdout.md`` with ``holdout.after``: the held-out scores and verdict;
- ABC: ``identification.csv`` / ``.md`` / ``.png`` and ``correlations.csv`` (sim.calibration.identify);
- ``loss_by_trial.png``, ``parameters.png``, ``fit_bands.png``, ``fit_bands_before.png``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.config import METHODS, CalibrateConfig
from sim.calibration.holdout import QUANTILES, Split, mean_crps, score, split, verdict
from sim.calibration.objective import Objective, ensemble, fit_of, objective_loss
from sim.calibration.result import SearchResult
from sim.calibration.space import Parameter, free_parameters, get_value
from sim.compare import ROLLING_DAYS, covered, nan_quantiles
from sim.compose import CONF_DIR
from sim.config import ConfigError, parse_date, validate
from sim.dates import Period
from sim.io import write_csv, write_text
from sim.observation import Fit
from sim.reported import ReportedFigure, check_reported, load_reported

#: Report ensembles use seeds from here on, apart from the search's seeds 0, 1, ...
REPORT_SEED = 1000
#: ABC: runs at the calibrated point that measure the distance's Monte Carlo noise, and their seeds.
NOISE_RUNS, NOISE_SEED = 32, 2000


@dataclass(frozen=True)
class Plan:
    """A checked calibration: what is free, what is fitted, what is held out."""
    cfg: CalibrateConfig
    parameters: tuple[Parameter, ...]
    figures: tuple[ReportedFigure, ...]  # every scored figure (weight > 0)
    split: Split
    after: date | None

    @property
    def out(self) -> Path:
        return Path(self.cfg.out_dir)


def make_plan(cfg: CalibrateConfig) -> Plan:
    """Check everything that can be checked before any output exists (ConfigError if not)."""
    validate(cfg)
    if cfg.method not in METHODS:
        raise ConfigError(f"method: '{cfg.method}' is unknown; accepted: {', '.join(METHODS)}")
    for key, low in (("seeds", 1), ("budget", 1), ("workers", 1), ("ensemble", 2)):
        if getattr(cfg, key) < low:
            raise ConfigError(f"{key}: {getattr(cfg, key)} is too small; accepted: >= {low}")
    for key in ("scale", "report_scale"):
        if not 0 < getattr(cfg, key) <= 1:
            raise ConfigError(f"{key}: {getattr(cfg, key)} is out of range; accepted: (0, 1]")
    if not cfg.tolerance_weight >= 0:
        raise ConfigError(f"tolerance_weight: {cfg.tolerance_weight} is negative; accepted: >= 0")
    if cfg.method in ("abc", "smc") and cfg.abc.population_size < 2:
        raise ConfigError("abc.population_size: too small; accepted: >= 2")
    if not 0 < cfg.abc.alpha < 1:
        raise ConfigError(f"abc.alpha: {cfg.abc.alpha} is out of range; accepted: (0, 1)")
    if cfg.abc.moves < 1:
        raise ConfigError(f"abc.moves: {cfg.abc.moves} is too small; accepted: >= 1")
    if cfg.abc.point not in ("best", "median"):
        raise ConfigError(f"abc.point: '{cfg.abc.point}' is unknown; accepted: best, median")
    if cfg.abc.final_population_size is not None and cfg.abc.final_population_size < 2:
        raise ConfigError("abc.final_population_size: too small; accepted: >= 2, or null")
    if not cfg.name or any(c in cfg.name for c in "/\\ "):
        raise ConfigError(f"name: '{cfg.name}' is not a plain name; accepted: letters, digits, _ and -")
    parameters = tuple(free_parameters(cfg.params))
    if cfg.free:
        known = {p.short for p in parameters}
        unknown = [name for name in cfg.free if name not in known]
        if unknown:
            raise ConfigError(f"free: '{unknown[0]}' has no prior in params; accepted: "
                              f"section.name of a parameter of params ({len(known)} of them)")
        parameters = tuple(p for p in parameters if p.short in set(cfg.free))
    after = parse_date(cfg.holdout.after, "holdout.after") if cfg.holdout.after else None
    run = Period(parse_date(cfg.start, "start"), parse_date(cfg.end, "end"))
    # Only figures the run covers (a ratio's reference window included) can be scored.
    if cfg.targets is None:
        reported = check_reported()  # the packaged figures; a failure names the file
    else:
        try:
            reported = load_reported(cfg.targets)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"targets: {exc}; accepted: a CSV like sim/data/reported.csv") from None
    figures = tuple(f for f in reported if f.weight > 0 and run.covers(f.first_day, f.last_day))
    if not figures:
        raise ConfigError(f"end: the run {run} covers no reported figure; "
                          "accepted: a run that covers at least one")
    parts = split(figures, after)
    if not parts.fitted:
        raise ConfigError(f"holdout.after: {after} leaves no figure to fit; accepted: a date after "
                          f"{min(f.end for f in figures)}")
    if after is not None and after > run.end:
        raise ConfigError(f"holdout.after: {after} is after the end of the run; accepted: a date "
                          f"before {run.end}, or null")
    return Plan(cfg, parameters, figures, parts, after)


def _crps_pair(table: pd.DataFrame, baseline: str) -> dict[str, float | int] | None:
    """Model and baseline mean relative CRPS over the figures both score."""
    model, naive, count = mean_crps(table, baseline)
    return {"model": model, "naive": naive, "figures": count} if count else None


def _fmt_pair(pair: dict | None) -> str:
    if pair is None:
        return "(no figure scored by both)"
    return f"{_fmt(pair['model'])} vs {_fmt(pair['naive'])} ({pair['figures']} figures)"


def _start_values(plan: Plan) -> dict[str, float]:
    """The configured values, clipped into the free ranges: trial 0 of the search."""
    return {param.key: min(max(get_value(plan.cfg, param.key), param.low), param.high)
            for param in plan.parameters}


def search(plan: Plan, progress: bool = True) -> SearchResult:
    from tqdm import tqdm

    cfg = plan.cfg
    bar = tqdm(total=cfg.budget, unit="trial" if cfg.method == "optuna" else "sim", disable=not progress,
               desc=f"calibrate {cfg.name} ({cfg.method})", mininterval=1.0)

    def advance(done: int, budget: int, best: float) -> None:
        bar.update(max(0, min(done, budget) - bar.n))
        bar.set_postfix_str(f"best loss {best:.2f}")

    with Objective(cfg, plan.parameters, plan.split.fitted, range(cfg.seeds), cfg.scale, cfg.workers,
                   cfg.tolerance_weight) as objective:
        if cfg.method == "optuna":
            from sim.calibration.optuna_search import run_optuna

            result = run_optuna(objective, plan.out, cfg.name, cfg.budget, cfg.sampler_seed, _start_values(plan),
                                cfg.optuna.n_startup_trials, cfg.optuna.multivariate,
                                cfg.optuna.reselect_top, cfg.optuna.reselect_seeds, progress=advance)
        elif cfg.method == "smc":
            from sim.calibration.abc_search import _scoring
            from sim.calibration.smc import run_smc

            result = run_smc(objective, plan.out, cfg.name, cfg.budget, cfg.sampler_seed,
                             cfg.abc.population_size, cfg.abc.max_populations, cfg.abc.min_epsilon,
                             progress=advance, fresh_seeds=cfg.abc.fresh_seeds,
                             final_population_size=cfg.abc.final_population_size, point=cfg.abc.point,
                             alpha=cfg.abc.alpha, moves=cfg.abc.moves,
                             fingerprint=json.dumps(_scoring(objective, cfg.abc.fresh_seeds), sort_keys=True))
        else:
            from sim.calibration.abc_search import run_abc

            result = run_abc(objective, plan.out, cfg.name, cfg.budget, cfg.sampler_seed,
                             cfg.abc.population_size, cfg.abc.max_populations, cfg.abc.min_epsilon,
                             progress=advance, fresh_seeds=cfg.abc.fresh_seeds,
                             final_population_size=cfg.abc.final_population_size, point=cfg.abc.point)
    bar.close()
    return result


def _members(plan: Plan, result: SearchResult) -> list[tuple[dict[str, float], int]]:
    """Report ensemble members: posterior draws (ABC) or the best values, one seed each."""
    n = plan.cfg.ensemble
    seeds = range(REPORT_SEED, REPORT_SEED + n)
    if result.posterior is not None and len(result.posterior):
        rng = np.random.default_rng(plan.cfg.sampler_seed)
        w = result.posterior["weight"].to_numpy(dtype=float)
        rows = rng.choice(len(w), size=n, p=w / w.sum())
        keys = [param.key for param in plan.parameters]
        return [({k: float(result.posterior.iloc[r][k]) for k in keys}, s) for r, s in zip(rows, seeds)]
    return [(dict(result.best), s) for s in seeds]


def _bands(homicides: np.ndarray) -> dict[str, np.ndarray]:
    rolled = pd.DataFrame(homicides.T).rolling(ROLLING_DAYS, center=True, min_periods=ROLLING_DAYS // 2).mean()
    _, qs = nan_quantiles(rolled.to_numpy(), QUANTILES)
    return dict(zip(("q05", "q25", "median", "q75", "q95"), qs.T))


def _target_rows(figures, per_before, per_after, fit_before: Fit, fit_after: Fit, fitted_ids) -> pd.DataFrame:
    _, qa = nan_quantiles(per_after.T, QUANTILES)
    rows = []
    for k, f in enumerate(figures):
        b, a = fit_before[f.id], fit_after[f.id]
        rows.append({
            "id": f.id, "series": f.series, "kind": f.kind, "reported": f.value,
            "role": "fitted" if fitted_ids is None or f.id in fitted_ids else "held out",
            "before": b.simulated, "before_error": b.error, "before_deviance": b.deviance,
            "after": a.simulated, "after_error": a.error, "after_deviance": a.deviance,
            "after_q05": qa[k, 0], "after_q95": qa[k, 4], "after_within": a.within,
            "after_in_90": covered(f, qa[k, 0], qa[k, 4]),
        })
    return pd.DataFrame(rows)


#: Half-deviance above the best loss that still counts as compatible with the figures: the
#: 95 % likelihood-ratio threshold for one parameter (chi-square(1) 0.95 quantile / 2).
PROFILE_THRESHOLD = 1.92


def loss_noise(plan: Plan, per_run: np.ndarray, draws: int = 200) -> float:
    """Monte Carlo standard deviation of a trial's loss: the loss of the mean of `seeds` runs
    drawn (with replacement) from an ensemble at one parameter set, `per_run` (runs x figures)."""
    fitted = [k for k, f in enumerate(plan.figures) if f in plan.split.fitted]
    if len(per_run) < 2:
        return 0.0
    rng = np.random.default_rng(plan.cfg.sampler_seed)
    figs = [plan.figures[k] for k in fitted]
    losses = [objective_loss(fit_of(figs, per_run[rng.integers(0, len(per_run), plan.cfg.seeds)][:, fitted]),
                             plan.cfg.tolerance_weight)
              for _ in range(draws)]
    return float(np.nanstd(losses))


def intervals(plan: Plan, result: SearchResult, noise: float = 0.0) -> dict[str, tuple[float, float]]:
    """Per parameter, a 90 % range: the posterior's weighted 5-95 % quantiles (ABC), or the
    range of the trials whose loss is within PROFILE_THRESHOLD + 2 * noise of the best
    (Optuna; `noise` is the Monte Carlo SD of a trial's loss, see loss_noise)."""
    out = {}
    for param in plan.parameters:
        if result.posterior is not None and len(result.posterior):
            from sim.posterior import weighted_quantiles

            lo, hi = weighted_quantiles(result.posterior[param.key].to_numpy(dtype=float),
                                        result.posterior["weight"].to_numpy(dtype=float), (0.05, 0.95))
        else:
            h = result.history
            near = h[h["loss"] <= h["loss"].min() + PROFILE_THRESHOLD + 2 * noise][param.key].to_numpy(dtype=float)
            lo, hi = (near.min(), near.max()) if len(near) else (math.nan, math.nan)
        out[param.key] = (float(lo), float(hi))
    return out


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "NO"
    if pct:
        return f"{100 * x:+.0f}%"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _markdown_table(df: pd.DataFrame, columns: dict[str, tuple[str, bool]]) -> str:
    head = "| " + " | ".join(label for label, _ in columns.values()) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r[c], pct) if not isinstance(r[c], str) else r[c]
                              for c, (_, pct) in columns.items()) + " |" for _, r in df.iterrows()]
    return "\n".join([head, rule, *body])


def model_config_text(plan: Plan, result: SearchResult, note: str, base: str = "default") -> str:
    """A conf/model config: the model preset the calibration ran on (`base`) with the
    calibrated values on top."""
    lines = [f"# Calibrated by sim-calibrate (name {plan.cfg.name}, method {result.method}).",
             f"# {note}", "# Run it with: sim-run model=calibrated_" + plan.cfg.name,
             "defaults:", f"  - {base}", "  - _self_"]
    by_section: dict[str, list[Parameter]] = {}
    for param in plan.parameters:
        by_section.setdefault(param.key.split(".")[1], []).append(param)
    for section, params in by_section.items():
        lines.append(f"{section}:")
        for param in params:
            v = result.best[param.key]
            lines.append(f"  {param.key.split('.')[2]}: {int(round(v)) if param.integer else float(f'{v:.4g}')!r}")
    return "\n".join(lines) + "\n"


def report(plan: Plan, result: SearchResult, progress: bool = True, model_preset: str | None = None) -> dict[str, Any]:
    """Run the before/after ensembles and write every report file; returns the summary."""
    from tqdm import tqdm

    from sim.calibration.plots import plot_loss, plot_parameters
    from sim.figures import plot_ensemble_bands

    cfg, out = plan.cfg, plan.out
    out.mkdir(parents=True, exist_ok=True)
    start = _start_values(plan)
    after_members = _members(plan, result)
    before_members = [(start, s) for _, s in after_members]
    bar = tqdm(total=2 * len(after_members), unit="run", desc="report ensembles", disable=not progress)
    per_before, dates, hom_before = ensemble(cfg, before_members, cfg.report_scale, plan.figures, cfg.workers, bar.update)
    per_after, _, hom_after = ensemble(cfg, after_members, cfg.report_scale, plan.figures, cfg.workers, bar.update)
    bar.close()

    fit_before, fit_after = fit_of(plan.figures, per_before), fit_of(plan.figures, per_after)
    fitted_ids = {f.id for f in plan.split.fitted} if plan.after is not None else None
    targets = _target_rows(plan.figures, per_before, per_after, fit_before, fit_after, fitted_ids)

    def fitted_loss(fit: Fit) -> float:
        ids = {f.id for f in plan.split.fitted}
        return float(sum(r.figure.weight * r.deviance for r in fit.rows if r.figure.id in ids and r.deviance is not None))

    noise = loss_noise(plan, per_after) if result.posterior is None else 0.0
    ranges = intervals(plan, result, noise)
    abc_noise: dict[str, float] = {}
    if result.posterior is not None and len(result.posterior):
        # is the posterior shaped by the figures or by the seeds? The Monte Carlo SD of the
        # distance (a mean of `seeds` runs) at the calibrated point, from NOISE_RUNS fresh runs,
        # against the spread of the distance across the last generation's particles
        point = [(dict(result.best), s) for s in range(NOISE_SEED, NOISE_SEED + NOISE_RUNS)]
        per_point, _, _ = ensemble(cfg, point, cfg.scale, plan.figures, cfg.workers)
        last = result.history[result.history["generation"] == result.history["generation"].max()]
        w = result.posterior["weight"].to_numpy(dtype=float)
        losses = last["loss"].to_numpy(dtype=float)
        mean = float(np.sum(w * losses))
        abc_noise = {"distance_noise_sd_at_point": loss_noise(plan, per_point),
                     "distance_sd_across_posterior": float(np.sqrt(np.sum(w * (losses - mean) ** 2))),
                     "distance_median_across_posterior": float(np.median(losses)),
                     "noise_runs": NOISE_RUNS,
                     # how many particles the posterior really has: importance weights that
                     # degenerate leave a point, however many particles are kept
                     "posterior_particles": int(len(w)),
                     "posterior_effective_size": float(1.0 / np.sum((w / w.sum()) ** 2)),
                     "posterior_distinct": int(len(result.posterior.drop(columns="weight").drop_duplicates()))}
    summary: dict[str, Any] = {
        "name": cfg.name, "method": result.method, "budget": cfg.budget, "evaluations": result.n_evaluations,
        "seeds_per_trial": cfg.seeds, "search_scale": cfg.scale, "report_scale": cfg.report_scale,
        "ensemble": cfg.ensemble, "elapsed_s": round(result.elapsed_s, 1), "resumed": result.resumed,
        "search_loss_first": float(result.history["loss"].iloc[0]) if len(result.history) else None,
        "search_loss_best": float(result.history["loss"].min()) if len(result.history) else None,
        "search_loss_chosen": result.best_loss, "search_loss_noise_sd": noise, **abc_noise,
        "loss_before": fitted_loss(fit_before), "loss_after": fitted_loss(fit_after),
        "loss_before_all": fit_before.loss, "loss_after_all": fit_after.loss,
        "within_before": fit_before.n_within, "within_after": fit_after.n_within, "n_figures": len(plan.figures),
        "tolerance_weight": cfg.tolerance_weight,
        "excess_before": fit_before.excess, "excess_after": fit_after.excess,
        "holdout_after": plan.after.isoformat() if plan.after else None,
        # the model beneath the free parameters: posterior ensembles must run on it
        "model_preset": model_preset,
        "base_model_digest": _base_digest(plan),
        "parameters": {param.key: {"low": param.low, "high": param.high, "log": param.log, "start": start[param.key],
                               "best": result.best[param.key], "interval": list(ranges[param.key])}
                       for param in plan.parameters},
    }

    write_csv(result.history, out / "trials.csv")
    if result.reselected is not None:
        write_csv(result.reselected, out / "reselected.csv")
        summary["reselected_trial"] = int(result.reselected.loc[
            result.reselected["reselect_loss"].idxmin(), "number"])
    if result.posterior is not None:
        write_csv(result.posterior, out / "posterior.csv")
    if result.generations is not None:
        write_csv(result.generations, out / "generations.csv")
    write_csv(targets, out / "targets.csv")
    note = (f"Loss on the fitted figures {summary['loss_before']:.2f} before, {summary['loss_after']:.2f} after "
            f"({cfg.ensemble} runs at scale {cfg.report_scale:g}).")
    text = model_config_text(plan, result, note, model_preset or "default")
    write_text(out / "calibrated.yaml", text)
    if cfg.write_model_config:
        write_text(CONF_DIR / "model" / f"calibrated_{cfg.name}.yaml", text)

    md = [f"# Calibration `{cfg.name}` ({result.method})", "",
          f"{result.n_evaluations} evaluations of {cfg.seeds} seed(s) at scale {cfg.scale:g} in "
          f"{result.elapsed_s / 60:.1f} min{' (resumed)' if result.resumed else ''}; report ensembles of "
          f"{cfg.ensemble} runs at scale {cfg.report_scale:g} (seeds from {REPORT_SEED}).", "",
          f"- loss on the fitted figures: **{summary['loss_before']:.2f} before, {summary['loss_after']:.2f} after**",
          f"- figures within tolerance: {fit_before.n_within} before, {fit_after.n_within} after, of {len(plan.figures)}",
          *([f"- searched loss: likelihood + {cfg.tolerance_weight:g} x squared misses beyond the tolerance bands "
             f"({fit_before.excess:.2f} before, {fit_after.excess:.2f} after)"] if cfg.tolerance_weight > 0 else []),
          *([f"- the distance's Monte Carlo SD at the calibrated point ({cfg.seeds} run(s) a proposal, from "
             f"{NOISE_RUNS} fresh runs): {abc_noise['distance_noise_sd_at_point']:.2f}, against an SD of "
             f"{abc_noise['distance_sd_across_posterior']:.2f} across the posterior's particles (median "
             f"{abc_noise['distance_median_across_posterior']:.2f}): "
             + ("the seeds, not the figures, decide much of the posterior's spread"
                if abc_noise["distance_noise_sd_at_point"] >= 0.5 * abc_noise["distance_sd_across_posterior"]
                else "the figures decide more than the seeds")] if abc_noise else []),
          *([f"- the posterior: {abc_noise['posterior_particles']} particles, "
             f"{abc_noise['posterior_distinct']} distinct, effective sample size "
             f"{abc_noise['posterior_effective_size']:.1f} (1 / sum of squared weights)"] if abc_noise else []),
          "", "## Targets", "",
          _markdown_table(targets, {"id": ("figure", False), "role": ("role", False), "reported": ("reported", False),
                                    "before": ("before", False), "before_error": ("error", True),
                                    "after": ("after", False), "after_error": ("error", True),
                                    "after_q05": ("90% low", False), "after_q95": ("90% high", False),
                                    "after_within": ("within tol.", False), "after_in_90": ("in 90%", False)}),
          "", "## Parameters", "",
          "Interval: " + ("the posterior's 5-95% quantiles." if result.posterior is not None else
                          f"values of the trials within {PROFILE_THRESHOLD} + 2 x {noise:.2f} (the Monte Carlo SD "
                          "of a trial's loss) of the best loss."), "",
          "| parameter | prior | start | calibrated | interval |", "|---|---|---|---|---|"]
    for param in plan.parameters:
        lo, hi = ranges[param.key]
        md.append(f"| {param.short} | [{param.low:.3g}, {param.high:.3g}]{' log' if param.log else ''} | "
                  f"{start[param.key]:.3g} | {result.best[param.key]:.3g} | [{lo:.3g}, {hi:.3g}] |")

    if plan.after is not None:
        held_idx = [k for k, f in enumerate(plan.figures) if f in plan.split.held_out]
        table = score(plan.split.held_out, per_after[:, held_idx], plan.split.fitted)
        write_csv(table, out / "holdout.csv")
        cover50 = table["in_50"].dropna().astype(bool)
        cover90 = table["in_90"].dropna().astype(bool)
        summary["holdout"] = {
            "held_out": [f.id for f in plan.split.held_out], "straddling": [f.id for f in plan.split.straddling],
            "coverage_50": float(cover50.mean()) if len(cover50) else None,
            "coverage_90": float(cover90.mean()) if len(cover90) else None,
            "interval_score": float(np.nanmean(table["interval_score"])) if table["interval_score"].notna().any() else None,
            "model_error": float(table["model_error"].dropna().mean()) if table["model_error"].notna().any() else None,
            "naive_error": float(table["naive_error"].dropna().mean()) if table["naive_error"].notna().any() else None,
            "crps": float(table["crps"].dropna().mean()) if table["crps"].notna().any() else None,
            "crps_vs_naive": _crps_pair(table, "naive"),
            "crps_vs_naive_year": _crps_pair(table, "naive_year"),
            "verdict": verdict(table),
        }
        h = summary["holdout"]
        hold_md = [f"# Hold-out: fitted before {plan.after}, scored after", "",
                   f"**{h['verdict']}**", "",
                   f"- coverage of the 50% interval: {_fmt(h['coverage_50'])}; of the 90% interval: "
                   f"{_fmt(h['coverage_90'])} ({len(cover90)} figures)",
                   f"- mean relative interval score (90%): {_fmt(h['interval_score'])}",
                   f"- mean relative CRPS: {_fmt(h['crps'])}; against the last level "
                   f"{_fmt_pair(h['crps_vs_naive'])}; against the same window a year before "
                   f"{_fmt_pair(h['crps_vs_naive_year'])}",
                   f"- left out (straddle the date): {', '.join(h['straddling']) or 'none'}", "",
                   _markdown_table(table, {"id": ("figure", False), "reported": ("reported", False),
                                           "median": ("model median", False), "q05": ("90% low", False),
                                           "q95": ("90% high", False), "in_50": ("in 50%", False),
                                           "in_90": ("in 90%", False), "model_error": ("model error", False),
                                           "naive": ("naive", False), "naive_error": ("naive error", False),
                                           "crps": ("CRPS", False), "naive_year": ("a year before", False),
                                           "naive_year_error": ("its error", False)})]
        write_text(out / "holdout.md", "\n".join(hold_md) + "\n")
        md += ["", "## Hold-out", "", h["verdict"], "", "See holdout.md."]

    plot_loss(result.history, out / "loss_by_trial.png", result.method)
    plot_parameters(plan.parameters, result.history, result.best, out / "parameters.png", result.posterior)
    day_index = pd.DatetimeIndex(dates)
    in90 = {row["id"]: row["after_in_90"] for _, row in targets.iterrows()}
    plot_ensemble_bands(day_index, _bands(hom_after), out / "fit_bands.png", plan.figures, in90,
                        title=f"Calibrated ({result.method}, {cfg.ensemble} runs): homicides per day")
    _, qb = nan_quantiles(per_before.T, QUANTILES)
    in90_before = {f.id: covered(f, qb[k, 0], qb[k, 4]) for k, f in enumerate(plan.figures)}
    plot_ensemble_bands(day_index, _bands(hom_before), out / "fit_bands_before.png", plan.figures, in90_before,
                        title=f"Before calibration ({cfg.ensemble} runs): homicides per day")

    write_text(out / "summary.md", "\n".join(md) + "\n")
    write_text(out / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    if result.posterior is not None and len(result.posterior):
        # what the data identify (posterior against prior, correlations): it reads the priors
        # from the summary.json just written
        from dataclasses import replace

        from sim.calibration.identify import write as write_identification
        from sim.posterior import load_posterior

        posterior = replace(load_posterior(str(out / "posterior.csv")), name=cfg.name)
        write_identification(posterior, out)
    return summary


def _json_default(x: Any) -> Any:
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, np.bool_):
        return bool(x)
    raise TypeError(type(x))


def _base_digest(plan: Plan) -> str:
    from sim.posterior import model_digest

    return model_digest(plan.cfg.model, [p.key for p in plan.parameters])


def run(cfg: CalibrateConfig, progress: bool = True, model_preset: str | None = None) -> dict[str, Any]:
    """Search and report; `model_preset` names the conf/model preset the config was composed
    with (sim-calibrate passes Hydra's choice), for calibrated.yaml and posterior ensembles."""
    plan = make_plan(cfg)
    result = search(plan, progress)
    return report(plan, result, progress, model_preset)


__all__ = ["Plan", "make_plan", "search", "report", "run", "model_config_text"]
