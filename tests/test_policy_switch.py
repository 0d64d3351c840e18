"""Switching the policy of a running model (GangViolenceModel.switch_policy, Timeline.switched)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.compose import compose
from sim.config import LeversConfig, baseline_levers
from sim.model import GangViolenceModel
from sim.policy import Policy, Spell, Timeline

SCALE = 0.05
D = dt.date


def _policy(name: str, **levers) -> Policy:
    return Policy(name, LeversConfig(**levers))


def test_switched_ends_current_spells_and_drops_later_ones() -> None:
    a, b, c, new = (_policy("a", negotiation=0.5), _policy("b", lethal_force=2.0),
                    _policy("c", arrest_intensity=3.0), _policy("new", negotiation=1.0))
    timeline = Timeline([Spell(a, D(2011, 1, 1), D(2011, 12, 31)),
                         Spell(b, D(2012, 1, 1), None),
                         Spell(c, D(2013, 1, 1), None)], baseline_levers())
    switched = timeline.switched(new, D(2012, 6, 1))
    assert [(s.policy.name, s.start, s.end) for s in switched.spells] == [
        ("a", D(2011, 1, 1), D(2011, 12, 31)),  # over before the switch: unchanged
        ("b", D(2012, 1, 1), D(2012, 5, 31)),   # under way: ends the day before
        ("new", D(2012, 6, 1), None)]            # c, not started yet, is dropped
    assert switched.names(D(2012, 5, 31)) == "b"
    assert switched.names(D(2012, 6, 1)) == switched.names(D(2017, 1, 1)) == "new"
    levers = switched.levers(D(2014, 1, 1))
    assert levers.negotiation == 1.0 and levers.lethal_force == 1.0  # baseline plus `new`
    assert D(2012, 6, 1) in switched.change_days()
    # the original timeline is left as it was
    assert timeline.names(D(2014, 1, 1)) == "b+c"


def test_switched_on_a_spell_start_day_drops_that_spell() -> None:
    a, new = _policy("a", negotiation=0.5), _policy("new")
    switched = Timeline([Spell(a, D(2011, 1, 1), None)], baseline_levers()).switched(
        new, D(2011, 1, 1))
    assert [s.policy.name for s in switched.spells] == ["new"]
    assert [s.policy.name for s in switched.starting(D(2011, 1, 1))] == ["new"]


def test_switch_at_the_start_reproduces_the_steady_scenario() -> None:
    """historical switched to truce before the first step = steady_truce, day for day."""
    common = [f"model.scale={SCALE}", "end=2011-06-30"]
    switched = GangViolenceModel(compose(common))
    switched.switch_policy("truce")
    steady = GangViolenceModel(compose(common + ["scenario=steady_truce"]))
    assert switched.run().equals(steady.run())


def test_switch_mid_run_keeps_the_past_and_labels_the_future() -> None:
    cfg = compose([f"model.scale={SCALE}", "end=2011-06-30"])
    plain, switched = GangViolenceModel(cfg), GangViolenceModel(cfg)
    for _ in range(60):
        plain.step()
        switched.step()
    switched.switch_policy("mano_dura")
    assert (switched.policy_names == "mano_dura"
            and switched.levers.lethal_force == cfg.model.magnitudes.mano_dura_lethal_force)
    a, b = plain.run(), switched.run()
    assert a.iloc[:60].equals(b.iloc[:60])
    assert set(b.policies.iloc[60:]) == {"mano_dura"}
    assert set(a.policies) == {"baseline"}


def test_switch_to_truce_lowers_killings() -> None:
    """Half a year of 2011 baseline, then the truce: fewer killings than without it."""
    # a fixed parameter set (conftest.PARAMETERS), not the calibration's
    cfg_overrides = ["model=hand_fit", f"model.scale={SCALE}", "end=2011-12-31"]
    days_before = 120
    plain_k, truce_k = [], []
    for seed in (0, 1, 2):
        cfg = compose(cfg_overrides + [f"seed={seed}"])
        plain, switched = GangViolenceModel(cfg), GangViolenceModel(cfg)
        for _ in range(days_before):
            plain.step()
            switched.step()
        switched.switch_policy("truce")
        plain_k.append(plain.run().homicides_true.iloc[days_before:].sum())
        truce_k.append(switched.run().homicides_true.iloc[days_before:].sum())
    assert all(t < p for t, p in zip(truce_k, plain_k)), (truce_k, plain_k)
    assert np.mean(truce_k) < 0.75 * np.mean(plain_k), (truce_k, plain_k)


def test_unknown_policy_is_refused() -> None:
    model = GangViolenceModel(compose([f"model.scale={SCALE}", "end=2011-01-31"]))
    with pytest.raises(ValueError, match="unknown policy 'peace'.*truce"):
        model.switch_policy("peace")
