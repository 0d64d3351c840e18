"""Run the policy studies: ensembles -> sim-compare -> the study's answer, into results/<study>/.

    python experiments/studies.py                      # every study (`make studies`)
    python experiments/studies.py truce_counterfactual no_truce
    python experiments/studies.py no_truce --seeds 2 --scale 0.02 --results /tmp/r   # a smoke run

Each study is a Hydra preset `conf/experiment/<study>.yaml` for sim-ensemble: a sweep over
scenarios (and a parameter) of the calibrated model, one ensemble of `n` seeds per job. The runner
launches it with `sim-ensemble` (ensemble jobs under results/sweeps/studies/<study>/, not tracked;
each job runs its seeds on --workers processes), summarises the ensembles with `sim-compare` into
results/<study>/ (ensemble.csv, fit_summary.csv, figures) and writes the answer to the study's
question as answer.md and answer.json: totals over the question's window per scenario, and
differences paired by seed (same seed, same landscape and draws until the policies differ),
each as a median with a 90 % interval over seeds. The answer is also copied into
experiments/<study>/README.md between its ANSWER markers.

With `--posterior NAME` (`record`: the calibration of record) each replicate runs at its own
draw from that calibration's posterior (`sim-ensemble posterior=NAME`), the same draw and seed
for every scenario of the study: the intervals then carry parameter and seed uncertainty
together, and the answer lists the parameters its differences rest on (Spearman correlation
of the paired difference with each drawn parameter, |rho| at least 0.3 and above what chance
reaches among the drawn parameters: rests_on_threshold) and whether the calibration
identified them (sim.posterior.identification).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from sim.dates import Period, parse_date, policy_periods
from sim.io import write_block, write_csv, write_text
from sim.trajectory import Trajectory

ROOT = Path(__file__).resolve().parent.parent
SIM_ENSEMBLE = [sys.executable, "-m", "sim.ensemble"]  # the sim-ensemble of this interpreter
BEGIN, END = "<!-- BEGIN ANSWER (experiments/studies.py) -->", "<!-- END ANSWER -->"
#: The table of the project README that lists every study's answer, regenerated from answer.json.
TABLE_BEGIN = "<!-- BEGIN STUDIES (experiments/studies.py; do not edit) -->"
TABLE_END = "<!-- END STUDIES -->"


#: The scenario whose policy periods (sim.dates.policy_periods) a study's window may name, and
#: the history the counterfactuals are compared with: 2011-2017, the years of the reported figures.
HISTORY = "historical_2017"


@dataclass(frozen=True)
class Window:
    """A window of a study's question: calendar dates, or the period of `policy` in the
    timeline of HISTORY (it then moves with the timeline, and its title shows its months)."""
    label: str
    start: str | None = None
    end: str | None = None
    policy: str | None = None

    def period(self, periods: Mapping[str, Period]) -> Period:
        if self.policy is not None:
            return periods[self.policy]
        return Period(parse_date(self.start, f"{self.label}: start"),
                      parse_date(self.end, f"{self.label}: end"))

    def title(self, periods: Mapping[str, Period]) -> str:
        if self.policy is None:
            return self.label
        period = self.period(periods)
        return f"{self.label} ({period.start:%b %Y}-{period.end:%b %Y})"


def policy(label: str, name: str) -> Window:
    return Window(label, policy=name)


@dataclass(frozen=True)
class Study:
    name: str
    question: str
    windows: tuple[Window, ...]
    reference: str | None = None  # scenario the others are compared with, seed by seed
    series: tuple[str, ...] = ("homicides", "police_killed")
    by: str | None = None  # a swept config key that splits the groups besides the scenario


STUDIES = {
    s.name: s for s in (
        Study("historical_replay", "How well does the calibrated model reproduce every reported figure, 2011-2017?",
              (Window("2011-2017", "2011-01-01", "2017-12-31"),)),
        Study("truce_counterfactual", "Had the truce been sustained after 2013, how many homicides would "
              "2014-2017 have had?", (Window("2014-2017", "2014-01-01", "2017-12-31"),), reference=HISTORY),
        Study("isolation_counterfactual", "What would 2016-2017 have looked like without the extraordinary "
              "measures (prison isolation of the leaders from April 2016)?",
              (policy("prison isolation", "prison_isolation"), Window("2017", "2017-01-01", "2017-12-31")),
              reference=HISTORY),
        Study("appeal_counterfactual", "What if the government had taken up the imprisoned leaders' letter of "
              "June 2015 and made a new truce instead of dismissing it?",
              (Window("16 Jul 2015-2017", "2015-07-16", "2017-12-31"), Window("2016", "2016-01-01", "2016-12-31")),
              reference=HISTORY),
        Study("no_truce", "What if the government had kept the iron fist in 2012 instead of brokering the truce?",
              (policy("truce months", "truce"), Window("2012-2013", "2012-01-01", "2013-12-31")),
              reference=HISTORY),
        Study("leader_control", "Does violence rise or fall with the share of cliques that obey their "
              "imprisoned leaders, when the leaders order restraint (the truce) and when they order "
              "attacks (mano dura after the truce broke down)?",
              (policy("restraint: truce", "truce"), Window("attack orders: 2015", "2015-01-01", "2015-12-31")),
              series=("homicides",), by="model.orders.obedience_mean"),
        Study("policy_comparison", "Which policy, held steady for 2011-2017, gives the fewest homicides and "
              "police killed?", (Window("2011-2017", "2011-01-01", "2017-12-31"),)),
    )
}


def history_periods() -> dict[str, Period]:
    """The policy periods of HISTORY's timeline."""
    from sim.compose import compose

    return policy_periods(compose([f"scenario={HISTORY}"]).scenario)


def _job_table(sweep: Path, series: tuple[str, ...], windows: tuple[Window, ...], by: str | None = None,
               drawn: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per run (replicate of an ensemble job): scenario (with the `by` value), seed,
    the values of the `drawn` parameters it ran with (from params.parquet), and each series'
    total over each window (national units; NaN for a window the run does not cover)."""
    from sim.compare import find_jobs, read_config
    from sim.ensemble_tables import PARAMS, RUNS, iter_replicates, read_params

    periods = history_periods()
    rows = []
    for job in find_jobs(sweep):
        keys = ["scenario.name", "model.scale", *([by] if by else [])]
        cfg = read_config(job / ".hydra" / "config.yaml", keys)
        label = cfg["scenario.name"] + (f" {by.rsplit('.', 1)[-1]}={cfg[by]}" if by else "")
        params = read_params(job / PARAMS).set_index("seed") if drawn else None
        for _, seed, days, values in iter_replicates(job / RUNS, series):
            run = Trajectory(pd.DataFrame({"date": days, **values}), float(cfg["model.scale"]))
            row = {"scenario": label, "seed": seed}
            if params is not None:
                row.update({k: float(params.loc[seed, k]) for k in drawn})
            for w in windows:
                period = w.period(periods)
                for s in series:
                    row[f"{s} {w.title(periods)}"] = (run.window_sum(s, period.start, period.end)
                                                      if run.covers(period.start, period.end)
                                                      else np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def _interval(values: pd.Series) -> tuple[float, float, float]:
    v = values.dropna().to_numpy(dtype=float)
    if not len(v):
        return (np.nan, np.nan, np.nan)
    return tuple(float(x) for x in np.quantile(v, [0.5, 0.05, 0.95]))


def _fmt(m: float, lo: float, hi: float) -> str:
    if np.isnan(m):
        return "-"
    f = (lambda x: f"{x:,.0f}") if max(abs(lo), abs(hi)) >= 100 else (lambda x: f"{x:.3g}")
    return f"{f(m)} ({f(lo)} to {f(hi)})"


#: |Spearman rho| of a paired difference with a drawn parameter at or above which the answer
#: rests on it, however many runs there are.
RESTS_ON = 0.3


def rests_on_threshold(n: int, k: int) -> float:
    """The |rho| a parameter must reach: RESTS_ON, or more where chance alone would reach it
    among k parameters with n pairs (rho's null sd is about 1/sqrt(n - 1); Bonferroni over k)."""
    from statistics import NormalDist

    if n < 4:
        return 1.0
    return max(RESTS_ON, NormalDist().inv_cdf(1 - 0.05 / (2 * max(k, 1))) / (n - 1) ** 0.5)


def _rests_on(diff: pd.Series, draws: pd.DataFrame, identified: Mapping[str, bool]) -> list[dict]:
    """The drawn parameters a paired difference moves with, strongest first."""
    out = []
    threshold = rests_on_threshold(int(diff.notna().sum()), draws.shape[1])
    for key in draws.columns:
        rho = diff.corr(draws[key], method="spearman")
        if np.isfinite(rho) and abs(rho) >= threshold:
            out.append({"parameter": key.removeprefix("model."), "rho": round(float(rho), 2),
                        "identified": bool(identified.get(key.removeprefix("model."), False))})
    return sorted(out, key=lambda r: -abs(r["rho"]))


def answer(study: Study, table: pd.DataFrame, out: Path, seconds: float,
           posterior: "object | None" = None) -> dict:
    """Per scenario the median and 90 % interval of each total; paired differences against the
    reference scenario (and, with a posterior, the parameters they rest on); written as
    answer.json and answer.md."""
    drawn = [] if posterior is None else [k for k in posterior.keys if k in table.columns]
    columns = [c for c in table.columns if c not in ("scenario", "seed", *drawn)]
    identified: dict[str, bool] = {}
    if posterior is not None:
        from sim.posterior import calibration_priors, identification

        ident = identification(posterior, calibration_priors(posterior))
        identified = dict(zip(ident.parameter, ident.identified))
    result: dict = {"study": study.name, "question": study.question, "jobs": len(table),
                    "seeds": int(table.seed.nunique()) if len(table) else 0, "seconds": round(seconds, 1),
                    "posterior": None if posterior is None else posterior.name,
                    "totals": {}, "differences": {}, "rests_on": {}}
    over = ("seeds, national units: seed noise only, at the calibrated parameters" if posterior is None else
            f"runs, each at its own draw from the posterior of calibration `{posterior.name}` and its own "
            "seed, the same pairs for every scenario: the uncertainty of the drawn parameters and seed noise "
            "together (the parameters the calibration left fixed carry none); national units")
    lines = [f"**Question.** {study.question}", "",
             f"{result['jobs']} runs ({result['seeds']} per scenario); median and 90% interval over {over}.",
             "", "| scenario | " + " | ".join(columns) + " |",
             "|---|" + "---|" * len(columns)]
    for scenario, group in table.groupby("scenario", sort=True):
        stats = {c: _interval(group[c]) for c in columns}
        result["totals"][scenario] = {c: dict(zip(("median", "q05", "q95"), stats[c])) for c in columns}
        lines.append(f"| {scenario} | " + " | ".join(_fmt(*stats[c]) for c in columns) + " |")
    if study.reference is not None and study.reference in set(table.scenario):
        ref = table[table.scenario == study.reference].set_index("seed")
        lines += ["", f"Difference from `{study.reference}`, seed by seed (the same seed shares the "
                  "landscape and the random draws until the policies differ):", "",
                  "| scenario | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for scenario, group in table[table.scenario != study.reference].groupby("scenario", sort=True):
            diff = group.set_index("seed")[columns] - ref[columns]
            stats = {c: _interval(diff[c]) for c in columns}
            result["differences"][scenario] = {c: dict(zip(("median", "q05", "q95"), stats[c])) for c in columns}
            lines.append(f"| {scenario} - {study.reference} | " + " | ".join(_fmt(*stats[c]) for c in columns) + " |")
            if drawn:
                draws = ref[drawn].reindex(diff.index)
                result["rests_on"][scenario] = {c: _rests_on(diff[c], draws, identified) for c in columns}
        if result["rests_on"]:
            lines.append("")
        for scenario, per_column in result["rests_on"].items():
            for c, found in per_column.items():
                named = ", ".join(f"{r['parameter']} (rho {r['rho']:+.2f}, "
                                  f"{'identified' if r['identified'] else 'NOT identified'})" for r in found)
                lines.append(f"- {scenario}, {c}: rests on {named or 'no drawn parameter (|rho| below the threshold)'}.")
    fit = out / "fit_summary.csv"
    if study.name == "historical_replay" and fit.exists():
        summary = pd.read_csv(fit)
        covered = summary["covered"].dropna()
        result["covered"] = int(covered.astype(str).str.lower().eq("true").sum())
        result["compared"] = int(len(covered))
        lines += ["", f"The 90% interval of the runs covers {result['covered']} of {result['compared']} "
                  "reported figures (fit_summary.csv)."]
    text = "\n".join(lines) + "\n"
    write_text(out / "answer.md", text)
    write_text(out / "answer.json", json.dumps(result, indent=2) + "\n")
    return result


def _readme(study: Study, text: str) -> None:
    path = ROOT / "experiments" / study.name / "README.md"
    if not path.exists():
        return
    write_block(path, BEGIN, END, text)


def _headline(result: Mapping) -> str:
    """A study's answer in one cell: the paired differences (every series) when it has a
    reference, else each scenario's total of its first series."""
    def cell(stats: Mapping) -> str:
        return _fmt(stats["median"], stats["q05"], stats["q95"])

    parts = []
    if result.get("differences"):
        for scenario, columns in result["differences"].items():
            parts.append(f"{scenario} minus the reference: " + "; ".join(
                f"{c} {cell(v)}" for c, v in columns.items()))
    else:
        for scenario, columns in result["totals"].items():
            c, v = next(iter(columns.items()))
            parts.append(f"{scenario}: {c} {cell(v)}")
    if "covered" in result:
        parts.append(f"the 90% band covers {result['covered']} of {result['compared']} figures")
    return "<br>".join(parts)


def _unidentified(result: Mapping) -> str:
    """The drawn parameters the answer rests on that the calibration did not identify."""
    names = sorted({r["parameter"] for per_column in result.get("rests_on", {}).values()
                    for found in per_column.values() for r in found if not r["identified"]})
    return ", ".join(f"`{n}`" for n in names) if result.get("posterior") else "(no posterior)"


def readme_table(results: Path) -> str:
    """The README's table of answers, from results/<study>/answer.json of every study run."""
    rows = ["| study | question | answer: median (90% interval) | uncertainty | rests on, unidentified |",
            "|---|---|---|---|---|"]
    for name in STUDIES:
        path = results / name / "answer.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        over = (f"posterior `{result['posterior']}` and seeds, {result['seeds']} runs a scenario"
                if result.get("posterior") else f"seeds only, {result['seeds']} a scenario")
        rows.append(f"| [{name}](experiments/{name}/README.md) | {result['question']} | "
                    f"{_headline(result)} | {over} | {_unidentified(result)} |")
    return "\n".join(rows) + "\n"


def write_readme_table(results: Path) -> None:
    """Replace the table between the STUDIES markers of README.md."""
    path = ROOT / "README.md"
    write_block(path, TABLE_BEGIN, TABLE_END, readme_table(results))


def run(name: str, results: Path, seeds: int | None, scale: float | None, workers: int, k: int, n: int,
        posterior: str | None = None) -> dict:
    study = STUDIES[name]
    sweep = results / "sweeps" / "studies" / name
    out = results / name
    shutil.rmtree(sweep, ignore_errors=True)
    overrides = [f"+experiment={name}", f"hydra.sweep.dir={sweep}", f"workers={workers}",
                 "output.figures=false", "output.progress=false"]
    if seeds is not None:
        overrides.append(f"n={seeds}")
    if scale is not None:
        overrides.append(f"model.scale={scale}")
    drawn: tuple[str, ...] = ()
    post = None
    if posterior is not None:
        from sim.posterior import load_posterior

        from sim.posterior import model_preset

        post = load_posterior(posterior)
        overrides.append(f"posterior={posterior}")
        preset = model_preset(post)
        if preset:  # the model the posterior was fitted on, beneath the draws
            overrides.append(f"model={preset}")
        drawn = post.keys
    print(f"[study {k}/{n}] {name}: ensembles", flush=True)
    t0 = time.perf_counter()
    subprocess.run([*SIM_ENSEMBLE, *overrides], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    print(f"[study {k}/{n}] {name}: compare", flush=True)
    from sim.compare import main as compare

    if compare([str(sweep), "--out", str(out), "--no-progress", *(["--by", study.by] if study.by else [])]) != 0:
        raise SystemExit(f"{name}: sim-compare failed")
    table = _job_table(sweep, study.series, study.windows, study.by, drawn)
    write_csv(table.sort_values(["scenario", "seed"]), out / "runs.csv")
    result = answer(study, table, out, time.perf_counter() - t0, post)
    if results.resolve() == (ROOT / "results").resolve() and scale is None:
        _readme(study, (out / "answer.md").read_text(encoding="utf-8"))
    print(f"[study {k}/{n}] {name}: done in {result['seconds']:.0f} s -> {out}", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="*", help=f"default: all ({', '.join(STUDIES)})")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per scenario (default: the preset's)")
    parser.add_argument("--scale", type=float, default=None, help="model scale (default: the preset's)")
    parser.add_argument("--workers", type=int, default=2, help="processes per ensemble (default 2)")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--posterior", default=None,
                        help="draw each replicate's parameters from this calibration's posterior "
                             "(record: the calibration of record); default: the calibrated values")
    args = parser.parse_args(argv)
    names = args.studies or list(STUDIES)
    unknown = [s for s in names if s not in STUDIES]
    if unknown:
        parser.error(f"unknown study {', '.join(unknown)}; accepted: {', '.join(STUDIES)}")
    if args.posterior is not None:  # before any ensemble: a missing posterior is one line
        from sim.config import ConfigError
        from sim.posterior import load_posterior

        try:
            load_posterior(args.posterior)
        except ConfigError as exc:
            print(f"studies.py: config error: {exc}", file=sys.stderr)
            sys.exit(2)
    for k, name in enumerate(names, 1):
        run(name, args.results, args.seeds, args.scale, args.workers, k, len(names), args.posterior)
    if args.results.resolve() == (ROOT / "results").resolve() and args.scale is None:
        write_readme_table(args.results)


if __name__ == "__main__":
    main()
