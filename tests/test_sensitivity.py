"""sim-sensitivity: parameter ranges, the CLI end to end, behaviour, reproducibility, errors.

The end-to-end runs use the `small` preset (a 2% model up to March 2012) restricted to three
mechanism sections, so that each analysis is ~70 short runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sim.calibration.space import parameter_fields
from sim.compose import compose
from sim.dates import policy_periods
from sim.sensitivity import (MECHANISM_SECTIONS, PERIODS, check, error_line, load,
                             output_windows, register)

# border: the gang-vs-gang killing; ceasefire: a mechanism that is off until March 2016;
# civilians: the other killing channel.
SMALL = ["sensitivity=small", "model=hand_fit", "include=[border,ceasefire,civilians]"]
N_PARAMS = 4 + 7 + 6


def cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "-m", "sim.sensitivity", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def composed(*overrides: str):
    register()
    # a fixed parameter set (the hand fit), not the calibration's: ranges and noise floors
    # derive from the configured values
    typed, parameters, _ = load(compose(["model=hand_fit", *overrides], config_name="sensitivity"))
    return typed, parameters


# ----------------------------------------------------------------------------- ranges
def test_every_mechanism_parameter_with_the_range_rule():
    cfg, params = composed()
    by_key = {p.short: p for p in params}
    expected = {f"{s}.{n}" for s, fields in parameter_fields().items()
                if s in MECHANISM_SECTIONS for n in fields}
    assert set(by_key) == expected and len(params) > 60
    assert not any(k.startswith(("population.", "landscape.")) for k in by_key)
    kill = by_key["border.kill_rate"]  # positive: [d/2, 2d], log-uniform, d at the centre
    d = cfg.model.border.kill_rate
    assert (kill.low, kill.high, kill.log) == (d / 2, 2 * d, True)
    assert math.isclose(kill.from_unit(0.5), d)
    reach = by_key["ceasefire.reach"]  # a probability near 1 is clipped to [d/2, 1]
    assert reach.high == 1.0 and reach.low == cfg.model.ceasefire.reach / 2
    _, switched_off = composed("model.repression.revenge_spillover=0")
    spill = {p.short: p for p in switched_off}["repression.revenge_spillover"]  # 0: linear [0, 1]
    assert (spill.low, spill.high, spill.log) == (0.0, 1.0, False)
    days = by_key["isolation.campaign_security_days"]  # integer 10: [5, 20], rounded
    assert days.integer and (days.low, days.high) == (5, 20) and days.from_unit(0.4) == 9
    for p in params:
        f = {f.name: f for f in dataclasses.fields(type(getattr(cfg.model, p.short.split(".")[0])))}[
            p.short.split(".")[1]]
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        assert p.low < p.high and (lo is None or p.low >= lo) and (hi is None or p.high <= hi)


def test_include_exclude_and_the_model_value_as_centre():
    _, params = composed("include=[border,truce.extortion_rate]", "exclude=[border.retaliation_cap]",
                         "model.border.kill_rate=1e-4", "sobol.top=2")
    assert [p.short for p in params] == ["border.kill_rate", "border.retaliation_per_killing",
                                         "border.retaliation_halflife_days", "truce.extortion_rate"]
    assert (params[0].low, params[0].high) == (5e-5, 2e-4)


def test_period_outputs_are_the_policy_periods_of_the_scenario():
    cfg, _ = composed()
    windows = {w.id: (w.start, w.end) for w in output_windows(cfg)[0]}
    periods = policy_periods(cfg.scenario)
    assert list(windows) == ["homicides_mean"] + [f"homicides_{p}" for p in PERIODS]
    for name in PERIODS:
        assert windows[f"homicides_{name}"] == (periods[name].start, periods[name].end)
    assert windows["homicides_mano_dura"][0] == date(2014, 6, 1)  # when mano dura started
    moved, _ = composed("scenario.timeline.3.start=2014-09-01", "scenario.timeline.2.end=2014-08-31")
    assert {w.id: w.start for w in output_windows(moved)[0]}["homicides_mano_dura"] == date(2014, 9, 1)


# ----------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sens")
    proc = cli([*SMALL, f"out_dir={tmp / 'a'}"], tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "a"


def test_cli_writes_tables_figures_and_summary(analysis):
    for name in ("morris.csv", "sobol.csv", "sensitivity.md", "morris.png", "sobol.png",
                 "runs_morris.csv", "runs_sobol.csv", "summary.json", "config.yaml"):
        assert (analysis / name).stat().st_size > 0, name
    assert not [p for p in analysis.parent.iterdir() if p.name.startswith(".")]  # no staging
    # 2011 to March 2012: homicides and police killed in 2011 are the loss's figures (the
    # first weeks of 2012 stand alone, 2012's total being outside the run); no stock yet
    outputs = ["loss", "loss_homicides", "loss_security", "homicides_mean", "homicides_baseline"]
    morris = pd.read_csv(analysis / "morris.csv")
    assert {"output", "parameter", "rank", "mu_star", "mu_star_conf", "mu_star_norm", "mu",
            "sigma", "low", "high", "value", "log", "selected", "noise_floor"} <= set(morris.columns)
    assert (morris.noise_floor > 0).all()
    assert list(dict.fromkeys(morris.output)) == outputs
    assert len(morris) == len(outputs) * N_PARAMS
    sobol = pd.read_csv(analysis / "sobol.csv")
    assert {"output", "parameter", "S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns)
    loss = morris[morris.output == "loss"].sort_values("rank")
    top2 = list(loss.parameter[:2])  # Sobol takes the top 2 by mu* on the loss
    assert sorted(set(sobol.parameter)) == sorted(top2) == sorted(loss.parameter[loss.selected])
    assert len(sobol) == 2 * len(outputs) and sobol[["S1", "ST"]].notna().all().all()
    summary = json.loads((analysis / "summary.json").read_text())
    assert summary["runs"] == 2 + 2 * (N_PARAMS + 1) + 8 * (2 + 2)  # noise, Morris, Sobol
    assert set(summary["noise"]["sd"]) == set(outputs)
    assert summary["outputs"] == outputs and summary["elapsed_seconds"] > 0
    assert len(pd.read_csv(analysis / "runs_morris.csv")) == 2 * (N_PARAMS + 1)
    md = (analysis / "sensitivity.md").read_text()
    assert "| rank | parameter |" in md and "## Sobol indices" in md and top2[0] in md


def test_inactive_mechanism_has_no_effect_and_killing_rates_lead(analysis):
    morris = pd.read_csv(analysis / "morris.csv")
    # The gangs' cease-fire is first ordered in March 2016: before that the norm is exactly 0,
    # so with common random numbers its seven parameters change nothing at all.
    cease = morris[morris.parameter.str.startswith("ceasefire.")]
    assert len(cease) == 7 * 5 and (cease.mu_star == 0).all() and (cease.sigma == 0).all()
    assert not cease.selected.any()
    # The gang killing rate is among the few parameters that move the homicide level most (top
    # three: this tiny, few-trajectory screening is noisy) and far above the typical one.
    for output in ("homicides_mean", "homicides_baseline"):
        rows = morris[morris.output == output].set_index("parameter")
        assert rows.loc["border.kill_rate", "rank"] <= 3, rows.sort_values("rank").head()
        assert rows.loc["border.kill_rate", "mu_star"] > 3 * rows.mu_star.median()
    assert morris.query("output == 'loss' and parameter == 'border.kill_rate'").mu_star.iloc[0] > 0


def test_same_seeds_give_identical_files(analysis, tmp_path):
    proc = cli([*SMALL, f"out_dir={tmp_path / 'b'}"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("morris.csv", "sobol.csv", "runs_morris.csv", "runs_sobol.csv",
                 "sensitivity.md", "morris.png", "sobol.png"):
        assert (tmp_path / "b" / name).read_bytes() == (analysis / name).read_bytes(), name


# ----------------------------------------------------------------------------- errors
BAD = [
    ("morris.trajectories=1", "morris.trajectories"),
    ("sobol.n=10", "sobol.n"),
    ("foo=1", "foo"),
]


@pytest.mark.parametrize("arg,key", BAD, ids=[b[1] for b in BAD])
def test_config_error_is_one_line_exit_2_and_no_output(tmp_path, arg, key):
    out = tmp_path / "out"
    proc = cli(["sensitivity=small", f"out_dir={out}", arg], tmp_path, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"sim-sensitivity: config error: {key}: ") and "accepted" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("arg,key", [
    ("morris.levels=3", "morris.levels"),
    ("sobol.top=99", "sobol.top"),
    ("include=[nowhere]", "include"),
    ("exclude=[border.nope]", "exclude"),
    ("end=2011-06-30", "end"),
    ("scale=0", "scale"),
    ("workers=0", "workers"),
    ("periods=[nowhere]", "periods"),
    ("morris.foo=3", "morris.foo"),
    ("noise=1", "noise"),
    ("sobol.select_by=homicides_truce", "sobol.select_by"),  # the run ends before the truce
    ("model.ceasefire.strength=1.5", "model.ceasefire.strength"),
])
def test_config_errors_name_the_key(arg, key):
    with pytest.raises(Exception) as info:
        check(["sensitivity=small", arg])
    line = error_line(info.value)
    assert line.startswith(f"{key}: ") and "accepted" in line and "\n" not in line, line


def test_select_by_an_output_or_any():
    from sim.sensitivity import select

    morris = pd.DataFrame({
        "output": ["loss"] * 3 + ["homicides_mean"] * 3,
        "parameter": ["a", "b", "c"] * 2,
        "mu_star": [5.0, 1.0, 0.0, 0.0, 2.0, 3.0],
        "mu_star_norm": [1.0, 0.2, 0.0, 0.0, 2 / 3, 1.0],
    })
    assert select(morris, "loss", 2) == ["a", "b"]
    assert select(morris, "homicides_mean", 1) == ["c"]
    assert select(morris, "any", 2) == ["a", "c"]  # ties keep the model order


def test_resolved_needs_the_whole_interval_above_the_noise_floor():
    from sim.sensitivity.resolved import resolved, widening

    assert widening(1) == pytest.approx(1.0) and 1.9 < widening(320) < 2.0  # Bonferroni
    morris = pd.DataFrame({
        "output": ["loss"] * 3 + ["loss_stocks"] * 3 + ["homicides_mean"] * 3,
        "parameter": ["a", "b", "c"] * 3,
        "mu_star": [1.0, 1.0, 0.05, 0.5, 0.1, 0.0, 9.0, 9.0, 9.0],
        "mu_star_conf": [0.3, 0.7, 0.01, 0.1, 0.05, 0.0, 0.1, 0.1, 0.1],
        "noise_floor": [0.1] * 3 + [0.2] * 3 + [0.1] * 3,
    })
    table = resolved(morris)
    # 6 tests widen the intervals 1.35-fold: a is above the floor on both losses (1 - 0.40,
    # 0.5 - 0.13); b's widened interval reaches below it (1 - 0.94); c is under it; the homicide
    # level is not a loss output
    assert table.to_dict("list") == {"parameter": ["a"], "resolved_on": ["loss;loss_stocks"], "outputs": [2]}


# ----------------------------------------------------------------------------- answers
def _with_answers(cfg, **found):
    from sim.sensitivity.config import AnswerConfig

    return dataclasses.replace(cfg, answers={k: AnswerConfig(*v) for k, v in found.items()})


def test_an_answer_is_the_paired_difference_of_a_counterfactual():
    """Same parameters and seed in both runs: the analysed scenario against itself differs by
    exactly nothing, and keeping the iron fist instead of the truce (no_truce) adds killings
    over the truce's months (the hand fit's parameters)."""
    from sim.sensitivity.design import answers
    from sim.sensitivity.runner import Evaluator, simulation_config

    cfg, _ = composed("sensitivity=small", "end=2012-12-31", "scale=0.05")
    cfg = _with_answers(cfg, same=("historical_2017", "2012-04-01", "2012-12-31"),
                        no_truce=("no_truce", "2012-04-01", "2012-12-31"))
    base = simulation_config(cfg)
    windows, _ = output_windows(cfg)
    with Evaluator(base, windows, [0, 1], cfg.scale, 1, answers=answers(cfg, base)) as ev:
        out = dict(zip(ev.outputs, ev.evaluate([{}], "test")[0]))
        assert ev.runs == 2 * 3  # two seeds, each: the analysed run and two counterfactuals
    assert out["answer_same"] == 0.0
    assert out["answer_no_truce"] > 0.25 * out["homicides_mean"] * 275
    # relative: the same pairs as a share of the analysed run's homicides over the window
    with Evaluator(base, windows, [0, 1], cfg.scale, 1, answers=answers(cfg, base),
                   relative_answers=True) as ev:
        share = dict(zip(ev.outputs, ev.evaluate([{}], "test")[0]))
    assert share["answer_same"] == 0.0 and share["homicides_mean"] == out["homicides_mean"]
    assert 0.25 < share["answer_no_truce"] < 10


@pytest.mark.parametrize("overrides, answer, key", [
    ((), ("nowhere", "2011-02-01", "2011-03-01"), r"answers\.x\.scenario: 'nowhere' is unknown"),
    ((), ("no_truce", "2011-02-01", "2013-03-01"), r"answers\.x: 2011-02-01\.\.2013-03-01 is not a window"),
    ((), ("no_truce", "2011-03-01", "2011-02-01"), r"answers\.x: 2011-03-01\.\.2011-02-01 is not a window"),
    # the analysed run reaches 2024; the counterfactual ends in 2017
    (("scenario=historical", "end=2024-12-31"), ("no_truce", "2012-04-01", "2012-12-31"),
     r"answers\.x\.scenario: no_truce runs 2011-01-01\.\.2017-12-31"),
])
def test_a_bad_answer_is_named(overrides, answer, key):
    from sim.config import ConfigError
    from sim.sensitivity.design import validate_analysis

    cfg, _ = composed("sensitivity=small", *overrides)
    with pytest.raises(ConfigError, match=rf"^{key}.*accepted"):
        validate_analysis(_with_answers(cfg, x=answer))


def test_an_answer_on_the_command_line_says_where_it_goes():
    try:
        composed("sensitivity=small", "+answers.x={scenario: no_truce}")
    except Exception as exc:  # noqa: BLE001 - the message is what is tested
        assert error_line(exc).startswith("answers.x: an answer cannot be added on the command line")
    else:
        pytest.fail("an answer was added on the command line")


def test_the_readme_block_tells_effects_above_the_noise_from_those_at_it(tmp_path):
    from sim.sensitivity import readme

    folder = tmp_path / "a"
    folder.mkdir()
    pd.DataFrame({"output": ["loss"] * 3, "parameter": ["p", "q", "r"],
                  "S1": [0.5, 0.1, 0.0], "ST": [0.6, 0.15, 0.3], "S1_resolved": [True, False, False],
                  "ST_resolved": [True, True, False]}).to_csv(folder / "sobol.csv", index=False)
    (folder / "summary.json").write_text(json.dumps({
        "name": "a", "runs": 100, "elapsed_seconds": 60, "sobol": {"n": 8}, "parameters": ["p", "q", "r"],
        "noise": {"share_of_sobol_variance": {"loss": 0.2}}}))
    page = tmp_path / "README.md"
    page.write_text(f"x\n{readme.BEGIN}\nold\n{readme.END}\ny\n")
    assert readme.main([str(folder), "--readme", str(page)]) == 0
    row = [line for line in page.read_text().splitlines() if line.startswith("| a |")][0]
    # p above the noise (0.6 > 0.2), q resolved but at it (0.15), r unresolved
    assert row == "| a | `loss` | 0.20 | `p` 0.6 | `p` 0.5 | 1 | 1 |"
    assert "old" not in page.read_text()
    assert readme.main([str(tmp_path / "none"), "--readme", str(page)]) == 2
