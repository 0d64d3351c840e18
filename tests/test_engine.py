"""The compiled engine: its split draws have the distributions of one draw per agent, and a run
stepped day by day is the same run as `run()` (same processes, same draws, same order)."""

import numpy as np
import pandas as pd
import pytest
from numba import njit

from sim.compose import compose
from sim.draws import binomial_split, poisson_split
from sim.model import GangViolenceModel


@njit
def _replicate_binomial(n, p, rng, reps):
    out = np.zeros(len(n), np.int64)
    draws = np.zeros((reps, len(n)), np.int64)
    for r in range(reps):
        binomial_split(n, p, rng, out)
        draws[r] = out
    return draws


@njit
def _replicate_poisson(rates, rng, reps):
    out = np.zeros(len(rates), np.int64)
    draws = np.zeros((reps, len(rates)), np.int64)
    for r in range(reps):
        poisson_split(rates, rng, out)
        draws[r] = out
    return draws


def test_binomial_split_has_each_agents_binomial_distribution():
    # small groups and large probabilities, where a member is often hit twice: the counts must
    # still be Binomial(n_i, p_i), independent across agents (variance n p (1 - p), bounded by n)
    n = np.array([0, 1, 3, 10, 40, 7], np.int64)
    p = np.array([0.5, 0.9, 0.6, 0.3, 0.05, 1.0])
    draws = _replicate_binomial(n, p, np.random.default_rng(1), 40_000)
    assert (draws <= n).all() and (draws[:, 0] == 0).all() and (draws[:, 5] == 7).all()
    for i in range(1, 5):
        mean, var = n[i] * p[i], n[i] * p[i] * (1 - p[i])
        assert draws[:, i].mean() == pytest.approx(mean, abs=4 * np.sqrt(var / 40_000))
        assert draws[:, i].var() == pytest.approx(var, rel=0.05)
    assert abs(np.corrcoef(draws[:, 2], draws[:, 3])[0, 1]) < 0.03
    # many blows a day (the guided placement): still each agent's binomial
    many = _replicate_binomial(np.full(60, 1000, np.int64), np.linspace(0.001, 0.01, 60),
                               np.random.default_rng(4), 4_000)
    expected = 1000 * np.linspace(0.001, 0.01, 60)
    se = np.sqrt(expected * (1 - expected / 1000) / 4_000)
    assert np.all(np.abs(many.mean(0) - expected) < 4.5 * se)
    assert many.sum(1).var() == pytest.approx((expected * (1 - expected / 1000)).sum(), rel=0.08)
    # a shared probability broadcasts
    shared = _replicate_binomial(np.array([5, 50], np.int64), np.array([0.2]),
                                 np.random.default_rng(2), 40_000)
    assert shared.mean(0) == pytest.approx([1.0, 10.0], rel=0.02)
    assert shared.var(0) == pytest.approx([0.8, 8.0], rel=0.05)


def test_poisson_split_has_each_agents_poisson_distribution():
    rates = np.array([0.0, 0.05, 1.0, 4.0])
    draws = _replicate_poisson(rates, np.random.default_rng(3), 40_000)
    assert (draws[:, 0] == 0).all()
    reps, lam = len(draws), rates[1:]
    # within 4 standard errors of the Poisson mean and variance
    assert np.all(np.abs(draws.mean(0)[1:] - lam) < 4 * np.sqrt(lam / reps))
    assert np.all(np.abs(draws.var(0)[1:] - lam) < 4 * np.sqrt((lam + 2 * lam ** 2) / reps))
    assert abs(np.corrcoef(draws[:, 2], draws[:, 3])[0, 1]) < 0.03


def test_stepping_day_by_day_is_the_same_run_as_run():
    # across policy change days (the truce starts 2012-03-09) and redeployments
    cfg = compose(["model.scale=0.03", "seed=4", "start=2012-02-01", "end=2012-06-30"])
    whole = GangViolenceModel(cfg).run()
    stepped = GangViolenceModel(cfg)
    while stepped.running:
        stepped.step()
    pd.testing.assert_frame_equal(whole, stepped.series())
    assert stepped.steps == len(whole) and stepped.time == len(whole)


def test_mesa_clock_follows_the_compiled_stretches():
    model = GangViolenceModel(compose(["model.scale=0.03", "end=2011-03-31"]))
    for _ in range(10):
        model.step()
    df = model.run()
    assert model.steps == len(df) == 90 and model.time == 90
    assert not model.running


PRELOAD_CHECK = """
import json, logging
logging.getLogger("MESA").setLevel(logging.WARNING)
from sim import engine
from sim.compose import compose
from sim.model import GangViolenceModel, preload_kernels
loaded = preload_kernels()
before = len(engine.advance.overloads)
GangViolenceModel(compose(["model.scale=0.03", "end=2011-01-31"])).run()
print(json.dumps({"loaded": loaded, "before": before, "after": len(engine.advance.overloads)}))
"""


def test_preloaded_kernels_are_the_ones_a_run_calls():
    # sim-run loads the kernels from numba's cache while its worker checks the overrides: they
    # must be the versions a model then calls, or the run would load (or compile) them again
    import json
    import subprocess
    import sys

    GangViolenceModel(compose(["model.scale=0.03", "end=2011-01-31"])).run()  # fills the cache
    done = subprocess.run([sys.executable, "-c", PRELOAD_CHECK], capture_output=True, text=True,
                          check=True)
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["loaded"] >= 5  # the five kernels a model calls from Python
    assert counts["before"] >= 1 and counts["after"] == counts["before"]
