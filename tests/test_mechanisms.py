"""Each mechanism pushes in the direction the articles describe (small scale, few seeds)."""

import datetime as dt

import pytest
from conftest import mean_over_seeds, run, window

from sim.compose import compose
from sim.model import GangViolenceModel

TWO_YEARS = ("end=2012-12-31",)


def test_truce_has_fewer_killings_than_baseline():
    truce = mean_over_seeds("homicides_true", "scenario=steady_truce", *TWO_YEARS)
    base = mean_over_seeds("homicides_true", "scenario=steady_baseline", *TWO_YEARS)
    assert truce < 0.7 * base


def test_cutting_leaders_who_order_restraint_raises_gang_killings():
    # steady truce: leaders order restraint; cutting their communication removes it
    kept = mean_over_seeds("gang_vs_gang", "scenario=steady_truce", *TWO_YEARS)
    cut = mean_over_seeds("gang_vs_gang", "scenario=steady_truce",
                          "model.orders.comm_low_security=0.0", *TWO_YEARS)
    assert cut > 1.3 * kept


def test_cutting_leaders_who_order_attacks_lowers_gang_killings():
    # after the truce is withdrawn and the leaders' letter rejected, aggrieved leaders order
    # attacks; cutting them off (no communication out of maximum security) removes those
    # orders. The window ends before the March 2016 cease-fire and the April isolation.
    # Grievance builds up slowly, so the effect is about 12%: more people and seeds than usual
    args = ("scenario=historical_2017", "end=2016-02-29")
    more = dict(start="2015-07-20", scale=0.2, seeds=range(6))
    kept = mean_over_seeds("gang_vs_gang", *args, **more)
    cut = mean_over_seeds("gang_vs_gang", *args, "model.orders.comm_max_security=0.0", **more)
    assert cut < 0.95 * kept


def test_lethal_force_raises_security_killings_and_revenge_on_police():
    args = ("scenario=steady_mano_dura", "end=2013-12-31")
    hard = ("policies.mano_dura.levers.lethal_force=8.0",)
    soft = ("policies.mano_dura.levers.lethal_force=1.0",)
    assert (mean_over_seeds("security_vs_gang", *args, *hard, scale=0.2)
            > 2 * mean_over_seeds("security_vs_gang", *args, *soft, scale=0.2))
    # revenge: police, soldiers and their relatives killed by gangs. A small effect (revenge
    # fades in 90 days, and more lethal force also means fewer members), so national scale
    # (measured: +11% over 20 national seeds with the compiled engine, +18% with the previous
    # one on the same seeds; the bar is the direction with room for the seeds' noise)
    national = dict(scale=1.0, seeds=range(20))
    assert (mean_over_seeds("gang_vs_security", *args, *hard, **national)
            > 1.05 * mean_over_seeds("gang_vs_security", *args, *soft, **national))


def test_ceasefire_halves_killings_within_days():
    args = ("scenario=steady_ceasefire", "end=2011-03-31")
    on = mean_over_seeds("gang_vs_gang", *args, start="2011-01-08")
    off = mean_over_seeds("gang_vs_gang", "scenario=steady_baseline", "end=2011-03-31",
                          start="2011-01-08")
    assert on < 0.6 * off


def test_arrests_fill_prisons():
    hard = mean_over_seeds("gang_members_prison", "scenario=steady_mano_dura", *TWO_YEARS,
                           start="2012-12-01")
    base = mean_over_seeds("gang_members_prison", "scenario=steady_baseline", *TWO_YEARS,
                           start="2012-12-01")
    assert hard > 1.1 * base


def test_truce_raises_extortion_and_hides_bodies():
    truce = ("scenario=steady_truce", *TWO_YEARS)
    base = ("scenario=steady_baseline", *TWO_YEARS)
    assert mean_over_seeds("extortion", *truce) > 1.1 * mean_over_seeds("extortion", *base)
    assert mean_over_seeds("hidden", *truce) > 0
    assert mean_over_seeds("hidden", *base) == 0


def test_leaders_offering_talks_restrain_only_as_far_as_their_orders_get_out():
    # the June 2015 letter: leaders in maximum security order restraint themselves; the effect
    # is bounded by what gets out of their prison, and the offer ends with its rejection
    # three weeks of killings: half the national population and six seeds to see them
    args = ("scenario=historical_2017", "start=2015-04-01", "end=2015-08-31")
    window = dict(start="2015-06-22", end="2015-07-15", scale=0.5, seeds=range(6))
    offer = mean_over_seeds("gang_vs_gang", *args, **window)
    none = mean_over_seeds("gang_vs_gang", *args, "policies.truce_appeal.levers.gang_offer=false", **window)
    walled = mean_over_seeds("gang_vs_gang", *args, "model.orders.comm_max_security=0.0", **window)
    walled_none = mean_over_seeds("gang_vs_gang", *args, "model.orders.comm_max_security=0.0",
                                  "policies.truce_appeal.levers.gang_offer=false", **window)
    assert offer < 0.95 * none
    assert walled == pytest.approx(walled_none, rel=0.02)


def historical(column: str, end: str, *overrides: str, start: str = "0000", **more) -> float:
    """Mean daily `column` of the small 2011-2017 history run to `end`, counted from `start`."""
    return mean_over_seeds(column, "scenario=historical_2017", f"end={end}", *overrides, start=start,
                           **more)


TRUCE_END = "2013-05-31"  # until then nothing is unmet and the truce's order holds


def test_street_opportunism_builds_after_the_deal_fails_and_survives_cutting_leaders_off():
    # before the deal fails there is nothing unmet: the street's opportunism changes nothing
    # (same draws, same killings); after the leaders go back to maximum security it builds up,
    # and cutting the leaders' communication does not remove it (it is not an order)
    off = "model.orders.opportunism_strength=0.0"
    strong = "model.orders.opportunism_strength=3.0"
    assert (historical("homicides_true", TRUCE_END, strong)
            == historical("homicides_true", TRUCE_END, off))
    # (measured with the spin-up year and campaigns by hazard: +19% without the cut, 3 seeds)
    walled = "model.orders.comm_max_security=0.0"
    for cut in ((), (walled,)):
        assert (historical("gang_vs_gang", "2015-12-31", strong, *cut, start="2015-01-01")
                > 1.1 * historical("gang_vs_gang", "2015-12-31", off, *cut, start="2015-01-01"))


def test_restraint_outlives_the_order_as_a_habit_that_fades():
    # while the truce's order holds, the street follows the order and a habit changes nothing
    # (same draws, same killings); once the leaders are back in maximum security (June 2014)
    # the habit keeps killings down for months after the order can no longer get out
    none = "model.orders.habit_halflife_days=0.5"
    slow = "model.orders.habit_halflife_days=600"
    assert (historical("homicides_true", TRUCE_END, slow)
            == historical("homicides_true", TRUCE_END, none))
    more = dict(start="2014-06-01", scale=0.25, seeds=range(6))  # a year of killings, enough
    assert (historical("gang_vs_gang", "2015-03-31", slow, **more)
            < 0.85 * historical("gang_vs_gang", "2015-03-31", none, **more))


def _first_campaign_day(df) -> str | None:
    started = df[(df.date >= "2016-04-01") & (df.campaign_active > 0)]
    return started.date.iloc[0] if len(started) else None


def test_campaigns_start_by_a_hazard_so_their_timing_is_random():
    # isolated gangs build up grievance from April 2016; when they strike is drawn, not set
    args = ("scenario=historical_2017", "start=2015-10-01", "model.spinup_days=0",
            "model.isolation.campaign_hazard=2e-4")
    firsts = {_first_campaign_day(run(*args, seed=s)) for s in range(4)}
    assert None not in firsts and len(firsts) >= 3
    never = run(*args, "model.isolation.campaign_hazard=0.0")
    assert never.campaign_active.max() == 0


def test_the_gangs_ceasefire_order_fades_and_the_norm_follows_it_down():
    args = ("scenario=steady_ceasefire", "end=2012-12-31", "model.spinup_days=0")
    lasting = run(*args, "model.ceasefire.order_halflife_days=100000")
    fading = run(*args, "model.ceasefire.order_halflife_days=120")
    late = dict(start="2012-07-01", end="2012-12-31")
    assert window(fading, **late).ceasefire_norm.mean() < 0.3 * window(lasting, **late).ceasefire_norm.mean()
    assert window(fading, **late).gang_vs_gang.mean() > 1.3 * window(lasting, **late).gang_vs_gang.mean()
    # how fast the norm follows a weakening order down is the norm's own half-life
    slow = run(*args, "model.ceasefire.order_halflife_days=120",
               "model.ceasefire.norm_halflife_days=2000")
    assert window(slow, **late).ceasefire_norm.mean() > 1.5 * window(fading, **late).ceasefire_norm.mean()


def test_a_letter_with_no_restraint_changes_nothing():
    # the letter of June 2015 stays on the timeline; with offer_restraint 0 its effect is none
    args = ("scenario=historical_2017", "start=2015-04-01", "end=2015-08-31")
    zero = run(*args, "model.orders.offer_restraint=0.0")
    without = run(*args, "policies.truce_appeal.levers.gang_offer=false")
    assert zero.homicides_true.tolist() == without.homicides_true.tolist()


def test_bodies_are_hidden_under_an_order_not_under_a_habit():
    # with a long-lived habit of restraint, the street still restrains in 2015, but nobody
    # orders it: the share of killings hidden falls far below the truce's
    df = run("scenario=historical_2017", "end=2015-12-31", "model.orders.habit_halflife_days=600",
             scale=0.25)
    truce = window(df, "2012-04-01", "2013-05-31")
    later = window(df, "2015-01-01", "2015-12-31")
    share = lambda w: w.hidden.sum() / w.homicides_true.sum()  # noqa: E731
    assert share(truce) > 0.02
    assert share(later) < 0.2 * share(truce)


def test_a_spin_up_year_leaves_the_memories_of_the_model_on_the_start_date():
    base = ["model.scale=0.05", "scenario=steady_baseline", "end=2011-01-31"]
    cold = GangViolenceModel(compose([*base, "model.spinup_days=0"]))
    warm = GangViolenceModel(compose([*base, "model.spinup_days=365"]))
    assert cold.cliques.retaliation.max() == 0 and cold.cliques.revenge.max() == 0
    assert warm.cliques.retaliation.mean() > 0 and warm.cliques.revenge.max() > 0
    total = warm.people_total()
    warm.run()
    assert warm.people_total() == total and warm.steps == 31 and warm.date.isoformat() == "2011-02-01"


def test_lever_sizes_are_model_parameters_that_the_policies_read():
    cfg = compose(["model.scale=0.02", "model.magnitudes.mano_dura_lethal_force=7.5",
                   "model.magnitudes.lethal_force_2020=12",
                   "model.magnitudes.mano_dura_soldiers=9000", "output.figures=false"])
    m = GangViolenceModel(cfg)
    assert m.timeline.levers(dt.date(2015, 1, 1)).lethal_force == 7.5
    assert m.timeline.levers(dt.date(2015, 1, 1)).soldiers_deployed == 9000
    assert m.timeline.levers(dt.date(2021, 1, 1)).lethal_force == 12
    # and a larger licence kills more: more members killed by security forces under mano dura
    args = ("scenario=steady_mano_dura", "end=2012-12-31")
    soft = mean_over_seeds("security_vs_gang", *args, "model.magnitudes.mano_dura_lethal_force=1")
    hard = mean_over_seeds("security_vs_gang", *args, "model.magnitudes.mano_dura_lethal_force=8")
    assert hard > 3 * soft
