"""Each study of experiments/ composes its preset and runs end to end at a tiny scale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))
from studies import STUDIES, history_periods  # noqa: E402


@pytest.mark.parametrize("name", list(STUDIES))
def test_study_preset_runs_at_tiny_scale(name, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "studies.py"), name, "--seeds", "1",
                           "--scale", "0.02", "--results", str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / name
    answer = json.loads((out / "answer.json").read_text())
    runs = pd.read_csv(out / "runs.csv")
    study = STUDIES[name]
    assert answer["jobs"] == len(runs) == runs.scenario.nunique() >= 1
    if study.reference is not None:
        (scenario,) = answer["differences"]  # the counterfactual against history
        assert scenario != study.reference
    for f in ("ensemble.csv", "fit_summary.csv", "compare_homicides.png", "answer.md"):
        assert (out / f).stat().st_size > 0, f
    # A smoke run never touches the committed results or the study's README.
    assert "(run the command above)" not in (ROOT / "experiments" / name / "README.md").read_text()


def test_unknown_study_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "studies.py"), "nonsense",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "accepted" in proc.stderr
    assert not any(tmp_path.iterdir())


def test_policy_windows_are_the_periods_of_the_historical_timeline():
    periods = history_periods()
    windows = {(name, w.label): w for name, study in STUDIES.items() for w in study.windows}
    truce = windows[("no_truce", "truce months")]
    assert truce.period(periods) == periods["truce"]
    assert truce.title(periods) == "truce months (Mar 2012-May 2013)"  # the truce spell's months
    assert windows[("isolation_counterfactual", "prison isolation")].period(periods).start.isoformat() == "2016-04-01"
    calendar = windows[("truce_counterfactual", "2014-2017")]
    assert calendar.title(periods) == "2014-2017" and calendar.period(periods).days == 1461


def test_a_posterior_study_pairs_draws_and_names_what_its_answer_rests_on(tmp_path):
    """Two particles six-fold apart in the gangs' kill rate, half the draws each: a sustained
    truce saves more lives where the gangs kill more, so the paired difference falls with the
    kill rate; the posterior is as wide as its prior, so the answer says it rests on a
    parameter the calibration did not identify."""
    calibration = tmp_path / "cal"
    calibration.mkdir()
    key = "model.border.kill_rate"
    pd.DataFrame({"weight": [1, 1], key: [5e-5, 3e-4]}).to_csv(calibration / "posterior.csv", index=False)
    # fitted (it says) on the hand fit: the study runs that fixed, named model beneath the
    # draws, so that a refit of the defaults cannot move the answer
    (calibration / "summary.json").write_text(json.dumps(
        {"parameters": {key: {"low": 5e-5, "high": 3e-4, "log": True}}, "model_preset": "hand_fit"}))
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "studies.py"), "truce_counterfactual",
                           "--seeds", "10", "--scale", "0.02", "--results", str(tmp_path / "r"),
                           "--posterior", str(calibration / "posterior.csv")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "r" / "truce_counterfactual"
    answer = json.loads((out / "answer.json").read_text())
    runs = pd.read_csv(out / "runs.csv")
    # the same (seed, draw) pairs in both scenarios
    pairs = runs.pivot(index="seed", columns="scenario", values=key)
    assert (pairs["historical_2017"] == pairs["truce_sustained"]).all() and pairs.nunique().min() == 2
    (found,) = [r for r in answer["rests_on"]["truce_sustained"]["homicides 2014-2017"]
                if r["parameter"] == "border.kill_rate"]
    assert found["rho"] <= -0.5 and found["identified"] is False
    assert "seed noise together" in (out / "answer.md").read_text()
    from studies import rests_on_threshold

    assert rests_on_threshold(10, 1) > 0.6 and rests_on_threshold(400, 17) == pytest.approx(0.3)
    # the project README's table of answers is built from answer.json, and names the
    # unidentified parameter the answer rests on
    from studies import readme_table

    (row,) = [r for r in readme_table(tmp_path / "r").splitlines() if "truce_counterfactual" in r]
    assert "`border.kill_rate`" in row and "posterior `" in row
    low, high = answer["differences"]["truce_sustained"]["homicides 2014-2017"]["q05"], \
        answer["differences"]["truce_sustained"]["homicides 2014-2017"]["q95"]
    assert f"{low:,.0f}" in row and f"{high:,.0f}" in row


def test_forecasts_block_lists_each_forecast_and_needs_its_markers(tmp_path):
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location(
        "forecast_readme", ROOT / "experiments" / "forecast_2018_2024" / "readme.py")
    readme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme)
    folder = tmp_path / "forecast"
    folder.mkdir()
    (folder / "forecast.json").write_text(json.dumps(
        {"made": "2026-12-02", "posterior": "record", "commit": "a" * 40, "n": 7}))
    (folder / "annual.csv").write_text(
        "series,year,q05,q25,q50,q75,q95\nhomicides,2018,100,150,200,250,3000\n"
        "police_killed,2018,1,2,3,4,5\n")
    page = tmp_path / "README.md"
    page.write_text(f"before\n{readme.BEGIN}\nstale\n{readme.END}\nafter\n")
    assert readme.main([str(folder), "--readme", str(page)]) == 0
    text = page.read_text()
    assert "| 2018 |" in text and "200 (100-3,000)" in text and "stale" not in text
    assert "posterior `record`, commit aaaaaaa, 7 runs" in text and text.endswith("after\n")
    page.write_text("no markers\n")
    assert readme.main([str(folder), "--readme", str(page)]) == 2
    assert readme.main([str(tmp_path / "none"), "--readme", str(page)]) == 2
