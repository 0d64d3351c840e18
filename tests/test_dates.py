"""The calendar helpers: one date parser, one coverage rule, policy periods from the timeline."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.compose import compose
from sim.config import ConfigError, parse_date as config_parse_date
from sim.dates import Period, parse_date, policy_periods


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_one_parser_with_the_callers_error():
    assert parse_date(" 2012-03-09", "start") == d("2012-03-09")
    assert parse_date(d("2012-03-09"), "start") == d("2012-03-09")
    with pytest.raises(ValueError, match=r"^start: '2012-13-01' is not a date; accepted: YYYY-MM-DD$"):
        parse_date("2012-13-01", "start")
    with pytest.raises(ConfigError, match=r"^end: '9 March' is not a date; accepted"):
        config_parse_date("9 March", "end")


def test_a_period_covers_a_window_inside_it_both_ends_included():
    run = Period(d("2011-01-01"), d("2017-12-31"))
    assert run.covers(d("2011-01-01"), d("2017-12-31")) and run.days == 2557
    assert not run.covers(d("2010-12-31"), d("2012-01-01"))
    assert not run.covers(d("2017-06-01"), d("2018-01-01"))


def test_policy_periods_follow_the_historical_timeline():
    scenario = compose(["scenario=historical_2017"]).scenario
    periods = policy_periods(scenario)
    spells = {s.policy: s for s in scenario.timeline}
    for name, period in periods.items():  # each period starts when its spell does
        assert period.start == d(spells[name].start), name
    # mano dura lasts until the next lasting policy (the cease-fire), not the short appeal
    # inside it; it starts when its spell starts (June 2014), not at the start of 2014
    assert periods["mano_dura"] == Period(d("2014-06-01"), d("2016-03-25"))
    assert periods["truce_appeal"] == Period(d("2015-06-15"), d("2015-07-15"))
    assert periods["truce"] == Period(d("2012-03-09"), d("2013-05-31"))
    assert periods["prison_isolation"].end == d(scenario.end)


def test_policy_periods_move_with_the_timeline_and_number_repeated_policies():
    shifted = compose(["scenario=historical_2017", "scenario.timeline.3.start=2014-09-01",
                       "scenario.timeline.2.end=2014-08-31"]).scenario
    assert policy_periods(shifted)["mano_dura"].start == d("2014-09-01")
    appeal = policy_periods(compose(["scenario=appeal_accepted"]).scenario)
    assert appeal["truce"].end == d("2013-05-31")
    assert appeal["truce_2"] == Period(d("2015-07-16"), d("2017-12-31"))
    short = compose(["scenario=historical_2017", "scenario.end=2013-12-31"]).scenario
    assert set(policy_periods(short)) == {"baseline", "truce", "truce_erosion"}
    assert policy_periods(short)["truce_erosion"].end == d("2013-12-31")
