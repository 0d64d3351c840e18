"""ABC-SMC with MCMC moves (sim/calibration/smc.py): on problems whose posterior is known, the
particles contract where the distance is informative, stay spread where it is not, keep the
truth, stay equally weighted and diverse; a run is reproducible and resumes exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.objective import Objective
from sim.calibration.smc import run_smc
from sim.calibration.space import Parameter

ROOT = Path(__file__).resolve().parent.parent
TRUTH = np.array([0.3, 0.6, 0.5, 0.7])
# the last parameter does not enter the distance: its posterior must stay its prior
WIDTH = np.array([0.02, 0.05, 0.1, np.inf])


def toy(log_first: bool = False):
    params = [Parameter("model.toy.a", 0.01, 1.0, log=log_first), Parameter("model.toy.b", 0.0, 1.0),
              Parameter("model.toy.c", 0.0, 1.0), Parameter("model.toy.free", 0.0, 1.0)]
    objective = Objective(None, params, (), [0], 1.0)

    def scorer(points, rng):
        x = np.array([[p[q.key] for q in params] for p in points])
        return np.sum(((x - TRUTH) / WIDTH) ** 2, axis=1) + rng.normal(0, 0.5, len(points))

    return objective, scorer


def run(tmp_path, generations=8, name="toy", **kw):
    objective, scorer = toy()
    options = dict(population_size=200, final_population_size=300, moves=2)
    options.update(kw)
    return run_smc(objective, tmp_path, name, 10**9, 7, max_populations=generations,
                   scorer=scorer, **options)


def test_the_posterior_contracts_where_the_data_inform_and_keeps_the_truth(tmp_path):
    result = run(tmp_path)
    post = result.posterior
    assert len(post) == 300 and np.allclose(post["weight"], 1 / 300)  # equal weights
    last = result.history[result.history.generation == result.history.generation.max()]
    eps = float(result.generations["epsilon"].iloc[-1])
    assert (last["loss"] <= eps).all()  # every particle within the last threshold
    for k, key in enumerate(["model.toy.a", "model.toy.b", "model.toy.c"]):
        lo, hi = np.quantile(post[key], [0.05, 0.95])
        assert lo <= TRUTH[k] <= hi, key
        assert hi - lo < 0.5 * 0.9, key  # contracted to less than half the prior's 90 %
    lo, hi = np.quantile(post["model.toy.free"], [0.05, 0.95])
    assert hi - lo > 0.7  # the uninformative parameter keeps (most of) its prior's width
    gens = result.generations
    assert gens["distinct"].iloc[-1] >= 0.3 * 300  # moves keep the particles diverse
    assert (np.diff(gens["epsilon"].to_numpy()[1:]) <= 0).all()  # thresholds fall
    assert result.evaluations == gens["evaluations"].iloc[-1] > 200


def test_same_seed_same_run_and_an_interrupted_run_resumes_as_if_it_had_not_been(tmp_path):
    straight = run(tmp_path / "a", generations=5)
    objective, scorer = toy()
    calls = {"n": 0}

    def dies_in_generation_3(points, rng):
        calls["n"] += 1
        if calls["n"] > 1 + 2 * 2:  # the prior sample, then two moves in each of generations 1-2
            raise KeyboardInterrupt
        return scorer(points, rng)

    with pytest.raises(KeyboardInterrupt):
        run_smc(objective, tmp_path / "b", "toy", 10**9, 7, population_size=200, max_populations=5,
                final_population_size=300, moves=2, scorer=dies_in_generation_3)
    resumed = run(tmp_path / "b", generations=5)
    assert resumed.resumed and not straight.resumed
    pd.testing.assert_frame_equal(straight.posterior, resumed.posterior)
    pd.testing.assert_frame_equal(straight.generations, resumed.generations)
    again = run(tmp_path / "b", generations=5)  # finished: nothing more is simulated
    assert again.evaluations == straight.evaluations
    pd.testing.assert_frame_equal(again.posterior, straight.posterior)


def test_a_stored_run_scored_otherwise_is_refused(tmp_path):
    run(tmp_path, generations=2)
    with pytest.raises(ValueError, match="differs in alpha"):
        run(tmp_path, generations=3, alpha=0.3)


def test_log_parameters_move_on_the_log_scale_inside_their_prior(tmp_path):
    objective, scorer = toy(log_first=True)
    result = run_smc(objective, tmp_path, "toy", 10**9, 3, population_size=100, max_populations=4,
                     scorer=scorer)
    a = result.history["model.toy.a"]
    assert (a >= 0.01).all() and (a <= 1.0).all()


def test_sim_calibrate_smc_end_to_end_on_a_small_model(tmp_path):
    out = tmp_path / "cal"
    proc = subprocess.run([sys.executable, "-m", "sim.calibrate", "calibration=small", "method=smc",
                           "name=smc_test", f"out_dir={out}", "write_model_config=false", "budget=12",
                           "abc.population_size=6", "abc.max_populations=3", "abc.final_population_size=9",
                           "abc.fresh_seeds=true", "abc.point=median", f"hydra.run.dir={tmp_path / 'h'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    posterior = pd.read_csv(out / "posterior.csv")
    assert len(posterior) == 9 and posterior.columns[0] == "weight"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "smc" and summary["posterior_particles"] == 9
    assert 1 <= summary["posterior_distinct"] <= 9
    gens = pd.read_csv(out / "generations.csv")
    assert list(gens.generation) == list(range(len(gens))) and gens.particles.iloc[-1] == 9
    for f in ("identification.md", "calibrated.yaml", "fit_bands.png"):
        assert (out / f).stat().st_size > 0
    # a bad option is one line, before anything is written
    bad = subprocess.run([sys.executable, "-m", "sim.calibrate", "calibration=small", "method=smc",
                          "abc.alpha=1.5", f"out_dir={tmp_path / 'bad'}", f"hydra.run.dir={tmp_path / 'h2'}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "abc.alpha" in bad.stderr and not (tmp_path / "bad").exists()
