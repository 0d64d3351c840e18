"""Nobody is lost or negative, and the outputs keep their contract."""

import numpy as np

from sim.agents import Civilian, GangClique
from sim.compose import compose
from sim.model import SERIES, GangViolenceModel

CONTRACT = ["date", "homicides", "homicides_true", "gang_vs_gang", "gang_vs_civilian",
            "gang_vs_security", "security_vs_gang", "police_killed", "soldiers_killed",
            "gang_members_street", "gang_members_prison", "arrests", "recruits",
            "civilians_fled", "extortion", "policies"]


def test_people_are_conserved_and_never_negative():
    model = GangViolenceModel(compose(["model.scale=0.05", "end=2016-12-31"]))
    total = model.people_total()
    for _ in range(model.n_days):
        model.step()
        assert model.people_total() == total
        C, civ = model.cliques, model.civilians
        assert C.street.min() >= 0 and C.prison.min() >= 0 and civ.size.min() >= 0
        assert civ.abroad[0] >= 0 and civ.deportees[0] >= 0 and model.security.barracks[0] >= 0
        assert model.security.personnel.min() >= 0
    # the Mesa agents see the same people as the state arrays
    S = model.security
    assert sum(u.personnel for u in model.police_units) == S.officers[0]
    assert sum(u.personnel for u in model.army_units if u.deployed) == S.soldiers[0]
    assert sum(a.members for a in model.agents_by_type[GangClique]) == model.cliques.street.sum()
    assert sum(a.size for a in model.agents_by_type[Civilian]) == model.civilians.size.sum()


def test_series_contract(historical_small):
    df = historical_small
    assert list(df.columns[: 1]) == ["date"]
    assert set(CONTRACT) <= set(df.columns)
    assert len(df) == 2557 and df.date.iloc[0] == "2011-01-01" and df.date.iloc[-1] == "2017-12-31"
    numeric = df[list(SERIES)]
    assert (numeric.to_numpy() >= 0).all()
    assert (df.homicides <= df.homicides_true).all()
    kinds = df.gang_vs_gang + df.gang_vs_civilian + df.gang_vs_security + df.security_vs_gang
    assert (kinds == df.homicides_true).all()
    assert (df.gang_vs_security == df.police_killed + df.soldiers_killed
            + df.relatives_killed).all()


def test_policies_follow_the_historical_timeline(historical_small):
    by_date = dict(zip(historical_small.date, historical_small.policies))
    assert by_date["2011-06-01"] == "baseline"
    assert by_date["2012-03-09"] == "truce"
    assert by_date["2013-06-01"] == "truce_erosion"
    assert by_date["2016-04-02"] == "mano_dura+ceasefire+prison_isolation"


def test_leaders_transferred_by_policies(historical_small):
    df = historical_small.set_index("date")
    assert df.loc["2016-03-31", "leaders_isolated"] == 0
    assert df.loc["2016-04-01", "leaders_isolated"] == round(300 * 0.05)


def test_scale_keeps_rates_per_person():
    # the set-up (no spin-up: its year of deaths and arrests is noise on top of the scaling)
    small = GangViolenceModel(compose(["model.scale=0.05", "model.spinup_days=0"]))
    big = GangViolenceModel(compose(["model.scale=0.2", "model.spinup_days=0"]))
    for attr in ("street", "prison"):
        ratio = getattr(big.cliques, attr).sum() / getattr(small.cliques, attr).sum()
        assert abs(ratio - 4) < 0.05
    assert abs(big.civilians.size.sum() / small.civilians.size.sum() - 4) < 0.05
    assert np.isclose(big.n_cliques / small.n_cliques, 4, rtol=0.05)
