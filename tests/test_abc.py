"""ABC-SMC calibration (sim.calibration.abc_search) on a tiny model: six months at 2 % scale."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pytest

from sim.calibration.abc_search import run_abc
from sim.calibration.objective import Objective, simulate_figures
from sim.calibration.space import Parameter
from sim.model import load_config
from sim.reported import load_reported

SCALE = 0.02
TRUTH = 1e-4
KILL_RATE = Parameter("model.border.kill_rate", 5e-5, 8e-4, log=True)
KEY = KILL_RATE.key
POP = 10
SEED = 3


@pytest.fixture(scope="module")
def base():
    # a fixed parameter set (the hand fit), not the calibration's
    return load_config(model="hand_fit", start="2011-10-01", end="2012-03-31")


@pytest.fixture(scope="module")
def figures(base):
    """Reported figures inside the run, plus one more window, with values simulated at TRUTH."""
    reported = [dataclasses.replace(f, nested_in=()) for f in load_reported()
                if f.end <= date(2012, 3, 31) and not f.source.startswith("official:")]
    assert [f.id for f in reported] == ["pre_truce_rate"]
    shapes = [*reported, dataclasses.replace(reported[0], id="late_2011", start=date(2011, 11, 1),
                                             end=date(2011, 12, 31))]
    simulated = simulate_figures(base, {KEY: TRUTH}, 0, SCALE, shapes)
    return [dataclasses.replace(f, value=float(v), tolerance=0.1) for f, v in zip(shapes, simulated)]


def objective(base, figures, workers=1, parameters=(KILL_RATE,)):
    return Objective(base, list(parameters), figures, seeds=[0], scale=SCALE, workers=workers)


@pytest.fixture(scope="module")
def resumed_runs(base, figures, tmp_path_factory):
    """One run in three calls: budget 20, then 200 (continues), then 200 again (nothing to do).
    Losses at 2 % scale are coarse, so a generation may take many proposals: the second budget
    leaves room for more generations whatever the acceptance rate."""
    out = tmp_path_factory.mktemp("abc")
    calls = []
    first = run_abc(objective(base, figures), out, "t", budget=20, sampler_seed=SEED,
                    population_size=POP, max_populations=6,
                    progress=lambda done, budget, best: calls.append((done, budget, best)))
    second = run_abc(objective(base, figures), out, "t", budget=200, sampler_seed=SEED,
                     population_size=POP, max_populations=6)
    third = run_abc(objective(base, figures), out, "t", budget=200, sampler_seed=SEED,
                    population_size=POP, max_populations=6)
    return out, first, second, third, calls


def test_result_shape(resumed_runs):
    out, first, _, _, calls = resumed_runs
    assert (out / "abc.db").exists()
    assert first.method == "abc" and not first.resumed
    assert list(first.history.columns) == ["number", "generation", "loss", KEY]
    assert first.history["number"].tolist() == list(range(len(first.history)))
    # every generation holds POP accepted particles; the budget is checked between generations
    assert first.history.groupby("generation").size().tolist() == [POP] * 2
    assert [c[0] for c in calls][0] == POP and calls[-1][0] >= 20 and all(c[1] == 20 for c in calls)
    post = first.posterior
    assert list(post.columns) == ["weight", KEY] and len(post) == POP
    assert math.isclose(post["weight"].sum(), 1.0)
    assert (post["weight"] > 0).all()
    for frame in (post, first.history):
        assert frame[KEY].between(KILL_RATE.low, KILL_RATE.high).all()
    last = first.history[first.history.generation == 1]
    assert first.best_loss == last["loss"].min()
    assert first.best[KEY] == pytest.approx(last.loc[last["loss"].idxmin(), KEY])
    # the threshold shrinks: every loss of generation 1 is at most the median of generation 0
    gen0 = first.history[first.history.generation == 0]["loss"]
    assert last["loss"].max() <= gen0.max()
    assert last["loss"].median() <= gen0.median()


def test_resume_continues_then_stops(resumed_runs):
    _, first, second, third, _ = resumed_runs
    assert second.resumed and third.resumed
    assert second.history["generation"].max() > first.history["generation"].max()
    # the stored generations are kept as they were
    assert second.history.iloc[:len(first.history)].equals(first.history)
    # same budget again: nothing more is simulated
    assert third.history.equals(second.history)
    assert third.posterior.equals(second.posterior)


def test_other_parameters_are_refused(resumed_runs, base, figures):
    out = resumed_runs[0]
    other = Parameter("model.civilian.kill_rate", 1e-5, 2e-4, log=True)
    with pytest.raises(ValueError, match="frees other parameters"):
        run_abc(objective(base, figures, parameters=(KILL_RATE, other)), out, "t", budget=40,
                sampler_seed=SEED, population_size=POP)
    wider = dataclasses.replace(KILL_RATE, high=1e-3)
    with pytest.raises(ValueError, match="frees other parameters"):
        run_abc(objective(base, figures, parameters=(wider,)), out, "t", budget=40,
                sampler_seed=SEED, population_size=POP)
    two_seeds = Objective(base, [KILL_RATE], figures, seeds=[0, 1], scale=SCALE)
    with pytest.raises(ValueError, match="scored other seeds"):
        run_abc(two_seeds, out, "t", budget=40, sampler_seed=SEED, population_size=POP)


def test_posterior_concentrates_on_the_truth(resumed_runs):
    """The posterior contracts: its 90 % interval (log scale) is at most half the prior's and
    holds the truth, and its median is nearer the truth than the prior's. A posterior that
    stayed the prior, or drifted away, fails."""
    post = resumed_runs[2].posterior
    order = np.argsort(post[KEY].to_numpy())
    values, cdf = post[KEY].to_numpy()[order], np.cumsum(post["weight"].to_numpy()[order])
    median = values[np.searchsorted(cdf, 0.5)]
    lo, hi = values[np.searchsorted(cdf, 0.05)], values[min(np.searchsorted(cdf, 0.95), len(values) - 1)]
    prior_median = math.sqrt(KILL_RATE.low * KILL_RATE.high)
    prior_width = 0.9 * math.log(KILL_RATE.high / KILL_RATE.low)
    assert math.log(hi / lo) <= 0.5 * prior_width, (lo, hi)
    assert lo <= TRUTH <= hi, (lo, TRUTH, hi)
    assert abs(math.log(median / TRUTH)) < abs(math.log(prior_median / TRUTH))


def test_same_seed_same_run_whatever_the_workers_or_interruptions(resumed_runs, base, figures,
                                                                  tmp_path):
    """In one go on two workers, the run is the one done in three calls on one worker."""
    with objective(base, figures, workers=2) as two_workers:  # the pool of the objective is used
        once = run_abc(two_workers, tmp_path, "t", budget=200, sampler_seed=SEED,
                       population_size=POP, max_populations=6)
    assert not once.resumed
    assert once.history.equals(resumed_runs[2].history)
    assert once.posterior.equals(resumed_runs[2].posterior)


def test_fresh_seeds_are_reproducible_and_the_final_generation_can_be_larger(base, figures, tmp_path):
    """Noisy ABC: each proposal runs seeds of its own stream, the same on one or two workers;
    the last generation holds final_population_size particles."""
    def fresh(out, workers):
        with objective(base, figures, workers=workers) as obj:
            return run_abc(obj, out, "f", budget=400, sampler_seed=SEED, population_size=POP,
                           max_populations=2, fresh_seeds=True, final_population_size=2 * POP)
    one, two = fresh(tmp_path / "one", 1), fresh(tmp_path / "two", 2)
    assert one.history.equals(two.history) and one.posterior.equals(two.posterior)
    assert one.history.groupby("generation").size().tolist() == [POP, 2 * POP]
    common = run_abc(objective(base, figures), tmp_path / "common", "f", budget=400, sampler_seed=SEED,
                     population_size=POP, max_populations=2)
    # the same proposals, scored on other seeds: the losses of generation 0 differ
    gen0 = lambda r: r.history[r.history.generation == 0]  # noqa: E731
    assert np.allclose(gen0(one)[KEY], gen0(common)[KEY]) and not np.allclose(gen0(one)["loss"], gen0(common)["loss"])
