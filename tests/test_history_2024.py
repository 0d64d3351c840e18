"""2018-2024 (TIMELINE_2018_2024.md): the state of exception's mass arrests, long sentences,
deaths in custody, the official count's rules, and the counterfactuals (small scale)."""

import pytest
from conftest import run, window

EXCEPTION = ("scenario=historical", "start=2021-10-01", "end=2022-10-31")


def test_mass_arrests_fill_prisons_with_members_and_people_with_no_gang_ties():
    df = run(*EXCEPTION)
    before = window(df, "2022-03-01", "2022-03-26")
    during = window(df, "2022-03-27", "2022-10-31")
    assert during.prison_population.iloc[-1] > 2 * before.prison_population.iloc[-1]
    share = during.arrests_non_members.sum() / during.arrests.sum()
    assert 0.2 < share < 0.36  # rights organisations: 20,000-26,000 of 83,000
    assert before.arrests_non_members.sum() == 0
    # street members are taken: fewer on the street than without the state of exception,
    # although repression feeds recruitment (repression.recruits_per_arrest)
    without = run("scenario=no_state_of_exception", *EXCEPTION[1:])
    assert during.gang_members_street.iloc[-1] < 0.9 * without.gang_members_street.iloc[-1]
    # with no one arrested beyond members, no one without gang ties is held
    members_only = run(*EXCEPTION, "model.exception.non_member_share=0.0")
    assert members_only.arrests_non_members.sum() == 0


def test_long_sentences_and_no_early_release_keep_prisoners_in():
    ordinary = run(*EXCEPTION, "policies.state_of_exception.levers.sentence_factor=1.0",
                   "policies.state_of_exception.levers.early_release=true")
    long = run(*EXCEPTION)
    late = dict(start="2022-06-01", end="2022-10-31")
    assert window(long, **late).releases.mean() < 0.5 * window(ordinary, **late).releases.mean()
    assert long.prison_population.iloc[-1] > ordinary.prison_population.iloc[-1]


def test_deaths_in_custody_are_counted_apart_from_homicides():
    df = run(*EXCEPTION, "model.prisons.custody_death_rate=0.0005")
    assert df.deaths_in_custody.sum() > 0
    kinds = df.gang_vs_gang + df.gang_vs_civilian + df.gang_vs_security + df.security_vs_gang
    assert (df.homicides_true == kinds).all()
    none = run(*EXCEPTION, "model.prisons.custody_death_rate=0.0")
    assert none.deaths_in_custody.sum() == 0


def test_the_official_count_follows_the_rule_in_force_each_day():
    df = run("scenario=historical", "start=2019-03-01", "end=2022-06-30",
             "policies.mano_dura.levers.lethal_force=12.0")  # enough killings by security forces
    before = window(df, "2019-03-01", "2019-06-30")
    plan = window(df, "2019-07-01", "2022-03-31")
    exception = window(df, "2022-04-01", "2022-06-30")
    assert (before.homicides == before.homicides_true - before.hidden).all()
    assert before.excluded_security.sum() == 0 and plan.excluded_security.sum() > 0
    assert (plan.homicides == plan.homicides_true - plan.hidden - plan.excluded_security).all()
    assert plan.excluded_gang_members.sum() == 0 and exception.excluded_gang_members.sum() > 0
    assert (exception.homicides == exception.homicides_true - exception.hidden
            - exception.excluded_security - exception.excluded_gang_members).all()


@pytest.mark.parametrize("scenario", ["no_state_of_exception", "no_covert_deal",
                                      "exception_without_mass_arrests"])
def test_the_counterfactuals_change_one_thing(scenario):
    args = (f"scenario={scenario}", "start=2021-10-01", "end=2022-08-31")
    cf = run(*args)
    history = run(*EXCEPTION[:1], *args[1:])
    spring = dict(start="2019-01-01", end="2022-03-24")  # before the breakdown: the same
    if scenario != "no_covert_deal":
        assert window(cf, **spring).homicides_true.tolist() == window(history, **spring).homicides_true.tolist()
    after = dict(start="2022-04-01", end="2022-08-31")
    if scenario == "no_covert_deal":
        assert cf.policies.str.contains("covert_deal").sum() == 0
        deal = dict(start="2021-10-01", end="2022-03-24")  # the deal under way in the history
        assert window(cf, **deal).homicides_true.tolist() != window(history, **deal).homicides_true.tolist()
    else:
        assert window(cf, **after).arrests.sum() < 0.5 * window(history, **after).arrests.sum()


def test_people_are_neither_lost_nor_created_through_2024():
    from sim.compose import compose
    from sim.model import GangViolenceModel

    model = GangViolenceModel(compose(["model.scale=0.02", "scenario=historical",
                                       "start=2021-01-01"]))
    total = model.people_total()
    df = model.run()
    assert model.people_total() == total
    assert (df.drop(columns=["date", "policies"]) >= 0).all().all()
