"""The files of an analysis: tables, sensitivity.md, summary.json, written all at once."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.calibration.space import Parameter
from sim.io import atomic_dir, write_csv, write_text
from sim.sensitivity.config import LOSS, MEAN
from sim.sensitivity.plots import plot_morris, plot_sobol


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
    by_output = {o: morris[morris.output == o].set_index("parameter") for o in outputs}
    lines = [
        f"# Global sensitivity analysis: {cfg.name}",
        "",
        f"Scenario `{cfg.scenario.name}`, {cfg.start} to {cfg.end}, model scale {cfg.scale}, "
        f"{cfg.seeds} seed(s) per sample (seed {cfg.seed} on), sampler seed "
        f"{cfg.sampler_seed}. {res['runs']} runs: {res['noise_runs']} for the noise level, "
        f"{res['morris_runs']} for Morris, {res['sobol_runs']} for Sobol.",
        "",
        f"Outputs: `loss` (the calibration loss over the {res['n_loss_figures']} weighted "
        "figures inside the run), the losses over one kind of figure each ("
        + ", ".join(f"`{o}`" for o in res["outputs"] if o.startswith("loss_")) + "; "
        + ("all losses as log10, " if cfg.log_loss else "")
        + "sim.sensitivity.config.LOSS_GROUPS) and homicides per day in national units over the "
        "whole run (`homicides_mean`) and in each policy period "
        + (", ".join(f"`{w.id}` ({w.start}..{w.end})" for w in res["windows"][1:])
           or "(none inside the run)") + "."
        + ("".join(f" `{a.name}`: homicides from {a.window.start} to {a.window.end} in scenario "
                   f"`{a.config.scenario.name}` minus the analysed run's, same parameters and seed ("
                   + ("relative to the analysed run's: a share, -1 to none" if cfg.relative_answers
                      else "a total in national units, not per day") + ")."
                   for a in res.get("answers", ())) or ""),
        "",
        ("Ranges: the priors of `params` (conf/priors/sources.yaml in `sensitivity=sources`), "
         "uniform or log-uniform. " if not cfg.auto_ranges else
         "Ranges: for a configured value d > 0, [d/2, 2d] clipped to the accepted values, "
         "log-uniform; for d = 0, linear [0, upper bound or 1]. ")
        + "mu* and sigma are per unit of that (log-)range, so they compare across parameters; "
        "mu*/max is mu* over the largest mu* of the output.",
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
            + ", ".join(f"{_short(o)} {_fmt(by_output[o].noise_floor.iloc[0])}" for o in outputs)
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
    loss = by_output[LOSS].sort_values("rank")
    for name, row in loss.head(top_rows).iterrows():
        shown = f"**{name}**" if row.selected else name
        cells = [str(row["rank"]), shown, _range_text(by_key[name]),
                 f"{_noisy(row)}{_fmt(row.mu_star)} ± {_fmt(row.mu_star_conf, 2)}",
                 f"{row.mu_star_norm:.2f}", _fmt(row.sigma)]
        cells += [f"{_noisy(by_output[o].loc[name])}{_fmt(by_output[o].loc[name, 'mu_star'])}"
                  f" (#{by_output[o].loc[name, 'rank']})" for o in extra]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("mu* of the homicide outputs (`all`: the whole run; a period name: that "
                 "period) in homicides per day, of an answer in homicides over its window (a "
                 "share of the analysed run's with relative_answers); "
                 "(#k): the parameter's rank for that output.")
    for o in extra:
        best = by_output[o].sort_values("rank").head(5)
        lines.append(f"- most influential on `{o}`: "
                     + ", ".join(f"{n} ({_fmt(row.mu_star)})" for n, row in best.iterrows()))
    zero = [n for n in loss.index if all(by_output[o].loc[n, "mu_star"] == 0 for o in outputs)]
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
                  "other parameters at their configured values. An index whose 95% interval "
                  "(twice the half-width) is not narrower than the index itself is *unresolved* (shown in italics; "
                  "`S1_resolved`, `ST_resolved` in `sobol.csv`). All outputs in `sobol.csv`.",
                  ""]
        head = ["parameter"] + [f"{k} {_short(o)}" for o in outputs for k in ("S1", "ST")]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        sobol_by_output = {o: sobol[sobol.output == o].set_index("parameter") for o in outputs}
        for name in sel:
            cells = [name]
            for o in outputs:
                row = sobol_by_output[o].loc[name]
                for k in ("S1", "ST"):
                    cell = f"{_fmt(row[k], 2)} ± {_fmt(row[k + '_conf'], 2)}"
                    cells.append(cell if row[k + "_resolved"] else f"*{cell}*")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        share = dict(zip(outputs, res.get("noise_share", [math.nan] * len(outputs))))
        for o in outputs:
            total = sobol_by_output[o].S1.sum()
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
        "answers": {a.name: {"scenario": a.config.scenario.name, "start": a.window.start.isoformat(),
                             "end": a.window.end.isoformat(), "days": a.days,
                             "relative": bool(cfg.relative_answers)}
                    for a in res.get("answers", ())},
        "parameters": [{"parameter": p.short, "value": d, "low": p.low, "high": p.high,
                        "log": p.log, "integer": p.integer}
                       for p, d in zip(res["parameters"], res["defaults"])],
    }


def write_outputs(cfg: Any, composed: DictConfig, res: dict, out_dir: Path) -> None:
    """Write every file into a staging folder next to out_dir, then swap it into place."""
    with atomic_dir(out_dir) as stage:
        write_csv(res["morris"], stage / "morris.csv")
        write_csv(res["morris_samples"], stage / "runs_morris.csv")
        if "sobol" in res:
            write_csv(res["sobol"], stage / "sobol.csv")
            write_csv(res["sobol_samples"], stage / "runs_sobol.csv")
            plot_sobol(res["sobol"], res["outputs"], stage / "sobol.png")
        plot_morris(res["morris"], res["outputs"], stage / "morris.png")
        write_text(stage / "sensitivity.md", markdown(cfg, res))
        write_text(stage / "config.yaml", OmegaConf.to_yaml(composed, resolve=True))
        write_text(stage / "summary.json", json.dumps(summary(cfg, res), indent=2) + "\n")
