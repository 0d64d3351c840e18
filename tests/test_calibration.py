"""sim-calibrate: likelihood, hold-out split, parameter recovery, resume, config errors, CLI."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.calibration.holdout import naive_forecast, naive_year, score, split, verdict
from sim.calibration.objective import objective_loss, simulate_figures
from sim.calibration.pipeline import NOISE_RUNS
from sim.likelihood import MODEL_DISCREPANCY, half_deviance, tolerance_excess
from sim.model import load_config
from sim.observation import fit_values
from sim.reported import ReportedFigure, load_reported

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["calibration=small", "output.progress=false"]


def calibrate(args: list[str], cwd: Path, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.calibrate", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, **popen)


def figure(kind: str = "total", value: float = 100.0, days: int = 10, tolerance: float = 0.25,
           series: str = "homicides") -> ReportedFigure:
    return ReportedFigure(id=f"{kind}_{days}", series=series, start=date(2012, 1, 1),
                          end=date(2012, 1, 1) + timedelta(days=days - 1), kind=kind, value=value, ref_start=None, ref_end=None,
                          tolerance=tolerance, source="test")


# ---------------------------------------------------------------- likelihood


def test_deviance_is_zero_at_the_report_and_grows_with_the_miss():
    f = figure()
    assert half_deviance(f, 100.0) == pytest.approx(0.0, abs=1e-12)
    misses = [half_deviance(f, v) for v in (100, 110, 130, 200)]
    assert misses == sorted(misses) and misses[-1] > misses[1] > 0
    assert half_deviance(f, 80.0) > 0 and half_deviance(f, 0.0) > half_deviance(f, 50.0)


def test_long_windows_do_not_outweigh_short_ones_beyond_the_tolerance():
    """With size 1/sd**2 (measurement error and model discrepancy in quadrature) the cost of a
    20 % miss on a mean stays near the log-normal value however many events the window holds."""
    short, long = figure("mean", 14.0, days=5), figure("mean", 14.0, days=480)
    lognormal = 0.5 * (math.log(1.2) / math.hypot(0.25, MODEL_DISCREPANCY)) ** 2
    d_short, d_long = half_deviance(short, 14 * 1.2), half_deviance(long, 14 * 1.2)
    assert d_short < d_long < 1.6 * lognormal
    # An official count with no measurement error: the discrepancy keeps it from dominating,
    # where a Poisson likelihood (no discrepancy) would outweigh everything else.
    exact = dataclasses.replace(long, measurement_error=0.0)
    assert half_deviance(exact, 14 * 1.2) < 1.6 * 0.5 * (math.log(1.2) / MODEL_DISCREPANCY) ** 2
    assert half_deviance(exact, 14 * 1.2, discrepancy=0.0) > 50 * d_long


def test_a_nested_figure_is_scored_as_its_share_of_the_enclosing_total():
    month = figure("total", 400.0, days=30)
    days = dataclasses.replace(figure("total", 100.0, days=5), id="first_days", nested_in=(month.id,))
    # the right share scores 0 whatever the level; the level is the month's business alone
    same_share = fit_values([month, days], [800.0, 200.0])
    assert same_share["first_days"].deviance == pytest.approx(0.0, abs=1e-12)
    assert same_share[month.id].deviance > 1.0
    wrong_share = fit_values([month, days], [400.0, 40.0])
    assert wrong_share[month.id].deviance == pytest.approx(0.0, abs=1e-12)
    # log-normal on the share 0.1 against 0.25, with the sd of the figure, the discrepancy
    # and the binomial noise of a share of 400 events
    sd2 = 0.25**2 + MODEL_DISCREPANCY**2 + (1 - 0.25) / (400 * 0.25)
    assert wrong_share["first_days"].deviance == pytest.approx(0.5 * math.log(0.1 / 0.25) ** 2 / sd2)
    # without its total among the figures compared, the figure stands alone
    assert fit_values([days], [200.0])["first_days"].deviance == pytest.approx(half_deviance(days, 200.0))
    # a total outside the run: the nested figure is scored on its own, and counted once
    alone = fit_values([month, days], [None, 200.0])
    assert alone["first_days"].deviance == pytest.approx(half_deviance(days, 200.0))
    assert alone["first_days"].deviance > 1.0


def test_bounds_are_one_sided_and_trends_count_their_sign():
    bound = figure("lower_bound_total", 2000.0, days=90)
    assert half_deviance(bound, 2500.0) == 0.0 and half_deviance(bound, 1500.0) > 0
    ceiling = figure("upper_bound_total", 800.0, days=366, series="hidden")
    assert half_deviance(ceiling, 253.0) == 0.0 and half_deviance(ceiling, 1200.0) > 0
    assert tolerance_excess(ceiling, 253.0) == 0.0 and tolerance_excess(ceiling, 1200.0) > 0
    trend = figure("trend", 1.0)
    assert half_deviance(trend, 0.5) == 0.0 and half_deviance(trend, -0.5) > 0
    level = figure("level", 70000.0, series="gang_members_street")
    assert half_deviance(level, 70000.0) == 0.0 and half_deviance(level, 35000.0) == pytest.approx(
        half_deviance(level, 140000.0))


def test_tolerance_excess_is_zero_inside_the_band_and_one_at_twice_the_tolerance():
    f = figure()  # 100 within 25 %
    assert tolerance_excess(f, 80.0) == 0.0 and tolerance_excess(f, 125.0) == 0.0
    assert tolerance_excess(f, 150.0) == pytest.approx(1.0) and tolerance_excess(f, 50.0) == pytest.approx(1.0)
    assert tolerance_excess(f, 137.5) == pytest.approx(0.25)
    bound = figure("lower_bound_total", 2000.0, days=90)
    assert tolerance_excess(bound, 9000.0) == 0.0 and tolerance_excess(bound, 1500.0) == pytest.approx(1.0)
    trend = figure("trend", 1.0)
    assert tolerance_excess(trend, 0.1) == 0.0 and tolerance_excess(trend, -0.1) == 1.0
    assert tolerance_excess(f, None) is None


def test_tolerance_weight_adds_the_band_misses_to_the_searched_loss():
    figs = [figure(), figure("mean", 14.0, days=5)]
    inside, outside = fit_values(figs, [110.0, 14.0]), fit_values(figs, [150.0, 14.0])
    assert inside.excess == 0.0 and outside.excess == pytest.approx(1.0)
    assert objective_loss(inside, 10.0) == inside.loss
    assert objective_loss(outside, 10.0) == pytest.approx(outside.loss + 10.0)
    assert objective_loss(outside, 0.0) == outside.loss


# ---------------------------------------------------------------- hold-out


def test_holdout_split_keeps_every_held_out_figure_away_from_the_fit():
    figures = [f for f in load_reported() if f.weight > 0]
    parts = split(figures, date(2016, 1, 1))
    assert parts.fitted and parts.held_out
    assert all(max(f.end, f.ref_end or f.end) < date(2016, 1, 1) for f in parts.fitted)
    assert all(min(f.start, f.ref_start or f.start) >= date(2016, 1, 1) for f in parts.held_out)
    ids = [f.id for f in parts.fitted + parts.held_out + parts.straddling]
    assert sorted(ids) == sorted(f.id for f in figures)  # each figure exactly once
    assert {"hom_2016_01", "ceasefire_start", "pol_2016", "police_2016_q1"} <= {f.id for f in parts.held_out}
    for part in (parts.fitted, parts.held_out):  # a share always goes with its total
        inside = {f.id for f in part}
        assert all(set(f.nested_in) <= inside for f in part)
    # a share whose total straddles the date straddles too, even if its own window does not
    late = split(figures, date(2012, 3, 9))
    assert {"pre_truce_rate", "hom_2012"} <= {f.id for f in late.straddling}
    assert split(figures, None).fitted == tuple(figures)


def test_naive_forecast_carries_the_last_fitted_level_forward():
    figures = [f for f in load_reported() if f.weight > 0]
    parts = split(figures, date(2016, 1, 1))
    by_id = {f.id: f for f in parts.held_out}
    # The last fitted homicide level is December 2015: 585 in 31 days.
    assert naive_forecast(by_id["hom_2016_02"], parts.fitted) == pytest.approx(585 / 31 * 29)
    assert naive_forecast(by_id["ceasefire_start"], parts.fitted) == pytest.approx(585 / 31)
    assert naive_forecast(by_id["pol_2016"], parts.fitted) == pytest.approx(67 / 365 * 366)
    # The same months a year before: March 2015 for March 2016, a 28-day February for 29 days.
    assert naive_year(by_id["hom_2016_03"], parts.fitted) == pytest.approx(484)
    assert naive_year(by_id["hom_2016_02"], parts.fitted) == pytest.approx(307 / 28 * 29)
    assert naive_year(by_id["ceasefire_start"], parts.fitted) is None


def test_crps_rewards_a_sharp_ensemble_at_the_report_and_scores_the_baselines():
    figures = [f for f in load_reported() if f.weight > 0]
    parts = split(figures, date(2016, 1, 1))
    held = [f for f in parts.held_out if f.id in ("hom_2016_03", "hom_2016_04")]
    rng = np.random.default_rng(0)
    sharp = np.column_stack([rng.normal(f.value, 0.05 * f.value, 400) for f in held])
    vague = np.column_stack([rng.normal(f.value, 0.5 * f.value, 400) for f in held])
    off = np.column_stack([rng.normal(2 * f.value, 0.05 * f.value, 400) for f in held])
    t_sharp, t_vague, t_off = (score(held, x, parts.fitted) for x in (sharp, vague, off))
    assert (t_sharp["crps"] < t_vague["crps"]).all() and (t_vague["crps"] < t_off["crps"]).all()
    # twice the value: E|X - y| = 1 less half the spread E|X - X'| = 2 sd / sqrt(pi) of a normal
    assert t_off["crps"].iloc[0] == pytest.approx(1.0 - 0.05 / math.sqrt(math.pi), abs=0.01)
    # April 2016 fell to 334 from 418 a year before and 585 in December: both baselines miss
    april = t_sharp.set_index("id").loc["hom_2016_04"]
    assert april["naive_year"] == pytest.approx(418 / 30 * 30) and april["skill_naive_year"] > 0.5
    assert t_off.set_index("id").loc["hom_2016_04", "skill_naive"] < 0
    assert "Mean relative CRPS" in verdict(t_sharp)


def test_holdout_run_never_scores_a_held_out_figure_in_the_search(tmp_path):
    out = tmp_path / "hold"
    # The seed articles' figures alone, in the file layout without measurement errors (the
    # official years would put the split inside 2012's total).
    seeds = tmp_path / "seed_figures.csv"
    with open(seeds, "w", newline="") as fh:
        names = ["id", "series", "start", "end", "kind", "value", "ref_start", "ref_end", "tolerance",
                 "weight", "source", "note"]
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for fig in load_reported():
            if not fig.source.startswith("official:"):
                writer.writerow(["" if getattr(fig, n) is None else getattr(fig, n) for n in names])
    proc = calibrate([*SMALL, "holdout.after=2012-03-09", f"targets={seeds}", f"out_dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    hold = summary["holdout"]
    assert hold["held_out"] == ["truce_rate", "truce_end_rise"] and hold["straddling"] == []
    with sqlite3.connect(out / "study.db") as db:
        scored = {k for (k,) in db.execute("select distinct key from trial_user_attributes")}
    assert scored == {"pre_truce_rate"}
    table = pd.read_csv(out / "holdout.csv")
    assert list(table["id"]) == ["truce_rate", "truce_end_rise"]
    # The naive forecast carries the pre-truce 14 a day into the truce: the model must do better.
    assert table.loc[0, "naive"] == pytest.approx(14.0)
    assert table.loc[0, "model_error"] < table.loc[0, "naive_error"]
    assert "beats the naive baseline" in (out / "holdout.md").read_text()
    assert 0 <= hold["coverage_90"] <= 1 and hold["interval_score"] > 0
    # the README's block is made from these files, and only between its markers
    from sim.calibration import holdout_readme

    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{holdout_readme.BEGIN}\nstale\n{holdout_readme.END}\nafter\n")
    assert holdout_readme.main([str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith(f"{holdout_readme.END}\nafter\n")
    assert "stale" not in text and hold["verdict"] in text and "truce_end_rise" in text
    readme.write_text("no markers\n")
    assert holdout_readme.main([str(out), "--readme", str(readme)]) == 2


# ---------------------------------------------------------------- recovery


def test_parameter_recovery_from_simulated_figures(tmp_path):
    """Simulate with a known kill rate, report its figures, calibrate: the truth comes back.
    The figures are made on seeds 100 and 101, the search runs seeds 0 and 1: it cannot
    recover the truth by reproducing the very draws that made the data."""
    truth, scale = 3.0e-4, 0.05
    # on a fixed, named parameter set (the hand fit), so that a refit of the defaults cannot
    # move what is recovered
    base = load_config(model="hand_fit", end="2012-12-31")
    shapes = []
    for month in range(1, 13):
        start = date(2011 + (month > 6), (month - 1) % 6 * 2 + 1, 1)
        end = (pd.Timestamp(start) + pd.offsets.MonthEnd(2)).date()
        shapes.append(ReportedFigure(id=f"h{month}", series="homicides", start=start, end=end, kind="mean",
                                     value=1.0, ref_start=None, ref_end=None, tolerance=0.1, source="sim"))
    values = np.mean([simulate_figures(base, {"model.border.kill_rate": truth}, s, scale, shapes)
                      for s in (100, 101)], axis=0)
    targets = tmp_path / "targets.csv"
    with open(targets, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "series", "start", "end", "kind", "value", "ref_start", "ref_end", "tolerance",
                    "weight", "source", "note"])
        for f, v in zip(shapes, values):
            w.writerow([f.id, f.series, f.start, f.end, f.kind, v, "", "", 0.1, 1, "sim", ""])
    out = tmp_path / "recover"
    proc = calibrate([*SMALL, f"targets={targets}", "end=2012-12-31", f"scale={scale}",
                      f"report_scale={scale}", "seeds=2", "budget=20", "~params.truce.comfort_weight",
                      "model=hand_fit", f"out_dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    p = summary["parameters"]["model.border.kill_rate"]
    lo, hi = p["interval"]
    assert lo <= truth <= hi, (lo, truth, hi)
    assert abs(math.log(p["best"] / truth)) < math.log(1.3), p["best"]
    assert hi / lo < 3.5  # the interval says something (the prior spans a factor of 16)
    assert summary["loss_after"] < summary["loss_before"]


# ---------------------------------------------------------------- resume


def _complete_trials(db: Path) -> list[tuple[int, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as con:
            return con.execute("select number, state from trials order by number").fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


def test_an_interrupted_calibration_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "resume"
    db = out / "study.db"
    args = [*SMALL, "budget=200", f"out_dir={out}"]
    proc = subprocess.Popen([sys.executable, "-m", "sim.calibrate", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while sum(s == "COMPLETE" for _, s in _complete_trials(db)) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "no progress before the kill"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = [n for n, s in _complete_trials(db) if s == "COMPLETE"]
    assert not (out / "summary.json").exists()  # killed mid-search: no report yet

    done = calibrate([*SMALL, "budget=8", f"out_dir={out}"], tmp_path)
    assert done.returncode == 0, done.stderr
    rows = _complete_trials(db)
    complete = [n for n, s in rows if s == "COMPLETE"]
    assert len(complete) == 8 and complete[:len(before)] == before  # nothing redone or lost
    assert all(s in ("COMPLETE", "FAIL") for _, s in rows)  # the interrupted trial is closed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed"] is True and summary["evaluations"] == 8

    again = calibrate([*SMALL, "budget=8", f"out_dir={out}"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert _complete_trials(db) == rows  # budget reached: no new trial


# ---------------------------------------------------------------- CLI and errors


def test_optuna_cli_writes_a_runnable_config_and_the_report(tmp_path):
    name = f"pytest_{os.getpid()}"
    model_yaml = ROOT / "conf" / "model" / f"calibrated_{name}.yaml"
    out = tmp_path / "cal"
    try:
        proc = calibrate([*SMALL, f"name={name}", "write_model_config=true", f"out_dir={out}"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        for f in ("trials.csv", "targets.csv", "summary.md", "summary.json", "calibrated.yaml",
                  "loss_by_trial.png", "parameters.png", "fit_bands.png", "fit_bands_before.png"):
            assert (out / f).stat().st_size > 0, f
        assert model_yaml.read_text() == (out / "calibrated.yaml").read_text()
        summary = json.loads((out / "summary.json").read_text())
        trials = pd.read_csv(out / "trials.csv")
        assert len(trials) == 6 and trials["loss"].min() == pytest.approx(summary["search_loss_best"])
        best = summary["parameters"]["model.border.kill_rate"]["best"]
        from sim.compose import compose

        cfg = compose([f"model=calibrated_{name}"])
        assert cfg.model.border.kill_rate == pytest.approx(best, rel=1e-3)
        assert cfg.model.scale == 1.0  # the rest is the default model
    finally:
        model_yaml.unlink(missing_ok=True)


def test_abc_cli_writes_a_posterior(tmp_path):
    out = tmp_path / "abc"
    proc = calibrate([*SMALL, "method=abc", "budget=8", f"out_dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    post = pd.read_csv(out / "posterior.csv")
    assert post["weight"].sum() == pytest.approx(1.0)
    assert post["model.border.kill_rate"].between(5e-5, 8e-4).all()
    assert (out / "abc.db").exists() and (out / "parameters.png").exists()
    # the report weighs the distance's seed noise against its spread across the posterior
    summary = json.loads((out / "summary.json").read_text())
    assert summary["distance_noise_sd_at_point"] > 0 and summary["distance_sd_across_posterior"] >= 0
    assert summary["noise_runs"] == NOISE_RUNS and "Monte Carlo SD at the calibrated point" in (out / "summary.md").read_text()


BAD = [
    (["params.border.kill_rat.low=1e-4"], "params.border.kill_rat"),
    (["+params.bordr.kill_rate.low=1e-4"], "params.bordr"),
    (["params.border.kill_rate.low=1e-3"], "params.border.kill_rate"),  # above high: empty
    (["params.truce.comfort_weight.high=0.0"], "params.truce.comfort_weight"),
    (["params.truce.comfort_weight.high=2.0"], "params.truce.comfort_weight"),  # a share above 1
    (["method=bayes"], "method"),
    (["holdout.after=2011-02-01"], "holdout.after"),
    (["holdout.after=2030-01-01"], "holdout.after"),
    (["budget=0"], "budget"),
    (["tolerance_weight=-1"], "tolerance_weight"),
    (["calibration=nonsense"], "calibration"),
    (["free=[border.kill_rat]"], "free"),
    (["abc.final_population_size=1"], "abc.final_population_size"),
]


@pytest.mark.parametrize("args,key", BAD, ids=[a[0] for a, _ in BAD])
def test_config_errors_are_one_line_and_write_nothing(tmp_path, args, key):
    out = tmp_path / "never"
    proc = calibrate([*SMALL, *args, f"out_dir={out}"], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sim-calibrate: config error: {key}"), proc.stderr
    assert "accepted" in lines[0]
    assert not out.exists() and not (tmp_path / "results").exists()


def test_free_picks_parameters_from_the_source_priors():
    from sim.calibrate import register
    from sim.calibration.pipeline import make_plan
    from sim.compose import compose

    register()
    cfg = compose(["+priors=sources", "free=[border.kill_rate,magnitudes.mano_dura_lethal_force]"],
                  config_name="calibrate")
    plan = make_plan(OmegaConf.to_object(cfg))
    assert [(p.key, p.low, p.high, p.log) for p in plan.parameters] == [
        ("model.border.kill_rate", 2.7e-05, 2.7e-03, True),
        ("model.magnitudes.mano_dura_lethal_force", 1.0, 20.0, True)]
    everything = make_plan(OmegaConf.to_object(compose(["+priors=sources"], config_name="calibrate")))
    assert len(everything.parameters) > 60  # the default preset's 42 and the sources' 80


def test_unknown_key_lists_the_keys_of_its_own_section(tmp_path):
    proc = calibrate([*SMALL, "optuna.foo=1", f"out_dir={tmp_path / 'never'}"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("sim-calibrate: config error: optuna.foo: unknown key; accepted: "
                                   "n_startup_trials, multivariate, reselect_top, reselect_seeds")


def test_the_record_calibration_frees_what_the_screening_resolved():
    """conf/calibration/record.yaml lists its free parameters; they must be those the committed
    screening chose (python -m sim.sensitivity.resolved --top 16: free.csv), every resolved one
    among them, each with a source prior, so the preset cannot drift from the analysis."""
    import yaml

    record = yaml.safe_load((ROOT / "conf" / "calibration" / "record.yaml").read_text())
    priors = yaml.safe_load((ROOT / "conf" / "priors" / "sources.yaml").read_text())["params"]
    screening = ROOT / "results" / "sensitivity" / "sources"
    assert record["free"] == list(pd.read_csv(screening / "free.csv").parameter)
    assert set(pd.read_csv(screening / "resolved.csv").parameter) <= set(record["free"])
    assert all(name.split(".")[1] in priors[name.split(".")[0]] for name in record["free"])
    holdout = yaml.safe_load((ROOT / "conf" / "calibration" / "holdout_2016.yaml").read_text())
    blind = ROOT / "results" / "sensitivity" / "sources_before_2016"
    assert holdout["free"] == list(pd.read_csv(blind / "free.csv").parameter)
    sobol = yaml.safe_load((ROOT / "conf" / "sensitivity" / "sobol_record.yaml").read_text())
    assert sobol["free"] == record["free"] and sobol["sobol"]["top"] == len(record["free"])
    answers = yaml.safe_load((ROOT / "conf" / "sensitivity" / "sobol_answers.yaml").read_text())
    assert "sobol_record" in answers["defaults"] and "free" not in answers  # the same 17


def test_prior_medians_model_is_the_medians_of_the_source_priors(tmp_path):
    from sim.calibration.prior_medians import OUT, PRIORS, main, medians

    got = medians({"border": {"kill_rate": {"low": 1e-5, "high": 1e-3, "log": True}},
                   "truce": {"comfort_weight": {"low": 0.0, "high": 1.0}},
                   "territory": {"split_members": {"low": 100, "high": 2000, "log": True}}})
    assert got == {"border": {"kill_rate": 1e-4}, "truce": {"comfort_weight": 0.5},
                   "territory": {"split_members": 447}}
    # the committed preset is what the command writes from the committed priors
    main([str(PRIORS), str(tmp_path / "m.yaml")])
    assert (tmp_path / "m.yaml").read_text() == OUT.read_text()
    before = PRIORS.parent / "before_2016.yaml"
    main([str(before), str(tmp_path / "b.yaml"), "prior_medians"])
    assert (tmp_path / "b.yaml").read_text() == (OUT.parent / "prior_medians_before_2016.yaml").read_text()
