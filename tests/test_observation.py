"""Tests of sim.reported and sim.observation: reported figures against hand-made daily series."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.observation import Fit, compare, write_fit_json
from sim.reported import ReportedFigure, load_reported
from sim.trajectory import Trajectory

COLUMNS = (
    "homicides homicides_true gang_vs_gang gang_vs_civilian gang_vs_security security_vs_gang "
    "police_killed soldiers_killed relatives_killed gang_members_street gang_members_prison arrests "
    "recruits civilians_fled extortion population leaders_isolated hidden"
).split()

HEADER = "id,series,start,end,kind,value,ref_start,ref_end,tolerance,source,note\n"


def run(value: float = 14.0, start: str = "2011-01-01", end: str = "2017-12-31", as_strings: bool = True) -> pd.DataFrame:
    """A simulated run with every column constant at ``value``."""
    days = pd.date_range(start, end, freq="D")
    df = pd.DataFrame({"date": days.strftime("%Y-%m-%d") if as_strings else days})
    for column in COLUMNS:
        df[column] = value
    df["policies"] = "mano_dura"
    return df


def figure(
    kind: str,
    value: float,
    start: date,
    end: date,
    ref: tuple[date, date] | None = None,
    series: str = "homicides",
) -> ReportedFigure:
    return ReportedFigure(
        id=f"test_{kind}",
        series=series,
        start=start,
        end=end,
        kind=kind,
        value=value,
        ref_start=ref[0] if ref else None,
        ref_end=ref[1] if ref else None,
        tolerance=0.25,
        source="000",
        note="",
    )


# ---------------------------------------------------------------- the packaged csv


def test_packaged_figures_cover_reported_md() -> None:
    ids = [f.id for f in load_reported() if not f.source.startswith("official:")]
    expected = {
        "pre_truce_rate", "truce_rate", "truce_end_rise", "mar_2015", "apr_2015_start", "may_jun_2015",
        "jul_2015_start", "q1_2016", "janfeb_2016", "ceasefire_start", "janmay_2016", "janmay_2017",
        "janmay_ratio", "jun_2017_start", "police_2014", "police_2015_q1", "police_2016_q1", "police_2016",
        "soldiers_2016", "police_2017_may", "relatives_jun_2017", "gang_members", "gang_prison",
        "population", "leaders_moved_2016",
    }  # fmt: skip
    assert set(ids) == expected
    assert len(ids) == len(expected)


def test_official_series_cover_official_md() -> None:
    figures = {f.id: f for f in load_reported() if f.source.startswith("official:")}
    years = {y: figures[f"hom_{y}"].value for y in range(2011, 2018)}
    assert years == {2011: 4371, 2012: 2594, 2013: 2499, 2014: 3912, 2015: 6656, 2016: 5280, 2017: 3954}
    for year in (2015, 2016):  # the months add up to the year, which is therefore derived
        months = [figures[f"hom_{year}_{m:02d}"] for m in range(1, 13)]
        assert sum(m.value for m in months) == years[year]
        assert all(m.weight == 1 for m in months) and figures[f"hom_{year}"].weight == 0
        assert [m.start.month for m in months] == list(range(1, 13)) and months[-1].end == date(year, 12, 31)
        assert all((m.end + timedelta(days=1)).day == 1 and m.start.day == 1 for m in months)  # whole months
        assert all(0.0 < m.error_sd <= 0.06 for m in months)  # the sources' spread, at most 6 %
    assert [figures[f"pol_{y}"].value for y in range(2011, 2018)] == [19, 16, 13, 39, 67, 47, 46]
    assert [figures[f"sec_kills_{y}"].value for y in range(2013, 2017)] == [27, 90, 285, 596]
    assert all(0 <= f.error_sd < 0.35 for f in figures.values())


def test_nested_and_derived_seed_figures_do_not_count_twice() -> None:
    figures = {f.id: f for f in load_reported()}
    # a seed figure inside an official month or year is scored as its share of it ...
    assert figures["apr_2015_start"].nested_in == ("hom_2015_04",)
    assert figures["truce_rate"].nested_in == ("hom_2012", "hom_2013")
    # ... and one that is the sum of official months, or a ratio of scored figures, not at all
    for fig_id in ("mar_2015", "may_jun_2015", "q1_2016", "janfeb_2016", "janmay_2016", "janmay_ratio"):
        assert figures[fig_id].weight == 0, fig_id
    for f in figures.values():
        for outer in f.nested_in:
            assert figures[outer].weight > 0 and not figures[outer].nested_in


def test_packaged_figures_read_as_reported() -> None:
    figures = {f.id: f for f in load_reported()}
    assert figures["police_2016_q1"].kind == "lower_bound_total"
    assert figures["police_2016_q1"].value == 12
    assert figures["q1_2016"].kind == "lower_bound_total"
    assert figures["janfeb_2016"].kind == "lower_bound_mean"
    assert figures["truce_end_rise"].kind == "trend"
    ratio = figures["janmay_ratio"]
    assert (ratio.kind, ratio.value, ratio.ref_start, ratio.ref_end) == ("ratio", 0.516, date(2016, 1, 1), date(2016, 5, 31))
    assert figures["mar_2015"].source == "000;003"
    assert figures["leaders_moved_2016"].series == "leaders_isolated"
    assert figures["relatives_jun_2017"].tolerance == 0.5
    assert figures["gang_prison"].tolerance == 0.25


# ---------------------------------------------------------------- errors per kind


def test_constant_series_mean_errors() -> None:
    fit = compare(run(14.0))
    assert fit["pre_truce_rate"].simulated == pytest.approx(14.0)
    assert fit["pre_truce_rate"].error == pytest.approx(0.0)
    assert fit["pre_truce_rate"].within is True
    assert fit["truce_rate"].error == pytest.approx(14.0 / 5.0 - 1.0)
    assert fit["truce_rate"].within is False


def test_totals_use_inclusive_windows() -> None:
    fit = compare(run(14.0))
    assert fit["mar_2015"].simulated == pytest.approx(31 * 14.0)
    assert fit["apr_2015_start"].simulated == pytest.approx(5 * 14.0)
    assert fit["jun_2017_start"].simulated == pytest.approx(12 * 14.0)
    assert fit["mar_2015"].error == pytest.approx(31 * 14.0 / 481 - 1.0)


def test_lower_bounds_met_and_unmet() -> None:
    fit_low = compare(run(14.0))
    # 14/day over Q1 2016 (91 days) = 1274 < 2000: unmet, error is the shortfall.
    assert fit_low["q1_2016"].simulated == pytest.approx(91 * 14.0)
    assert fit_low["q1_2016"].error == pytest.approx(91 * 14.0 / 2000 - 1.0)
    assert fit_low["q1_2016"].within is False
    assert fit_low["janfeb_2016"].error == pytest.approx(14.0 / 20.0 - 1.0)

    fit_high = compare(run(30.0))
    for fig_id in ("q1_2016", "janfeb_2016", "police_2016_q1"):
        assert fit_high[fig_id].error == 0.0
        assert fit_high[fig_id].within is True


def test_trend_sign_rising_and_falling() -> None:
    rising = run(0.0)
    rising["homicides"] = np.linspace(1.0, 30.0, len(rising))
    falling = rising.assign(homicides=rising["homicides"].to_numpy()[::-1])

    up = compare(rising)["truce_end_rise"]
    down = compare(falling)["truce_end_rise"]
    per_year = 29.0 / (len(rising) - 1) * 365.25
    assert up.simulated == pytest.approx(per_year)
    assert (up.error, up.within) == (0.0, True)
    assert down.simulated == pytest.approx(-per_year)
    assert (down.error, down.within) == (-1.0, False)
    # A flat series is not rising.
    assert compare(run(14.0))["truce_end_rise"].error == -1.0


def test_ratio() -> None:
    df = run(10.0)
    in_2017 = pd.to_datetime(df["date"]).dt.year == 2017
    df.loc[in_2017, "homicides"] = 5.0
    fit = compare(df)
    expected = (151 * 5.0) / (152 * 10.0)  # Jan-May 2016 has 29 February
    assert fit["janmay_ratio"].simulated == pytest.approx(expected)
    assert fit["janmay_ratio"].error == pytest.approx(expected / 0.516 - 1.0)
    assert fit["janmay_ratio"].within is True


def test_ratio_with_empty_reference_is_penalised_not_rewarded() -> None:
    fit = compare(run(0.0))
    assert math.isnan(fit["janmay_ratio"].simulated)
    assert fit["janmay_ratio"].error == 1.0
    assert fit["janmay_ratio"].within is False
    assert math.isfinite(fit.score)


def test_levels_of_stocks() -> None:
    df = run(0.0)
    df["gang_members_prison"] = 10_000.0
    df["leaders_isolated"] = 300.0
    fit = compare(df)
    assert fit["gang_prison"].error == pytest.approx(0.0)
    assert fit["leaders_moved_2016"].error == pytest.approx(0.0)


def test_scale_divides_simulated_values() -> None:
    fit = compare(run(1.4), scale=0.1)
    assert fit["pre_truce_rate"].simulated == pytest.approx(14.0)
    assert fit["pre_truce_rate"].error == pytest.approx(0.0, abs=1e-12)
    assert fit["mar_2015"].simulated == pytest.approx(31 * 14.0)
    assert fit.scale == 0.1
    with pytest.raises(ValueError, match="scale"):
        compare(run(1.4), scale=0.0)


def test_window_outside_run_is_not_compared() -> None:
    df = run(14.0, start="2011-01-01", end="2015-03-15")  # ends inside mar_2015
    fit = compare(df)
    for fig_id in ("mar_2015", "janmay_ratio", "police_2016", "leaders_moved_2016"):
        row = fit[fig_id]
        assert (row.simulated, row.error, row.within) == (None, None, None)
    compared = [r.error for r in fit.rows if r.error is not None]
    assert fit.n_compared == len(compared) < len(fit.rows)
    assert fit.score == pytest.approx(math.sqrt(np.mean(np.square(compared))))


def test_score_is_rms_of_errors() -> None:
    figures = [
        figure("mean", 10.0, date(2012, 1, 1), date(2012, 1, 31)),  # error 0.4
        figure("total", 28.0, date(2012, 2, 1), date(2012, 2, 1)),  # error -0.5
    ]
    fit = compare(run(14.0), figures=figures)
    assert fit.score == pytest.approx(math.sqrt((0.4**2 + 0.5**2) / 2))
    assert fit.n_within == 0


def test_no_figure_compared_gives_nan_score() -> None:
    fit = compare(run(14.0, start="2011-01-01", end="2011-01-31"))
    assert fit.n_compared == 0
    assert math.isnan(fit.score)
    assert fit.to_dict()["score"] is None


def test_unsorted_and_datetime_dates() -> None:
    df = run(14.0, as_strings=False)
    df.loc[df["date"] == "2015-03-15", "homicides"] = 100.0
    shuffled = df.sample(frac=1.0, random_state=0)
    assert compare(shuffled)["mar_2015"].simulated == pytest.approx(30 * 14.0 + 100.0)


def test_prepared_trajectory_matches_dataframe() -> None:
    df = run(1.4)
    assert compare(Trajectory(df, 0.1), scale=0.1).score == pytest.approx(compare(df, scale=0.1).score)
    one = load_reported()[0]
    assert one.simulated(df, 0.1) == pytest.approx(14.0)


def test_missing_series_is_an_error() -> None:
    df = run(14.0).drop(columns=["relatives_killed"])
    with pytest.raises(ValueError, match="relatives_killed"):
        compare(df)


# ---------------------------------------------------------------- csv validation


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("bad_kind,homicides,2015-01-01,2015-01-31,median,10,,,0.25,000,x", "kind"),
        ("bad_series,murders,2015-01-01,2015-01-31,mean,10,,,0.25,000,x", "series"),
        ("bad_end,homicides,2015-02-01,2015-01-31,mean,10,,,0.25,000,x", "end"),
        ("bad_date,homicides,2015-13-01,2015-12-31,mean,10,,,0.25,000,x", "start"),
        ("bad_value,homicides,2015-01-01,2015-01-31,mean,ten,,,0.25,000,x", "value"),
        ("bad_ratio,homicides,2015-01-01,2015-01-31,ratio,0.5,,,0.25,000,x", "ref_start"),
        ("bad_tolerance,homicides,2015-01-01,2015-01-31,mean,10,,,-1,000,x", "tolerance"),
    ],
)
def test_load_reported_rejects_malformed_row(tmp_path: Path, row: str, column: str) -> None:
    good = "fine,homicides,2015-01-01,2015-01-31,mean,10,,,0.25,000,ok\n"
    path = tmp_path / "reported.csv"
    path.write_text(HEADER + good + row + "\n", encoding="utf-8")
    fig_id = row.split(",")[0]
    with pytest.raises(ValueError) as caught:
        load_reported(path)
    message = str(caught.value)
    assert fig_id in message
    assert repr(column) in message
    assert "\n" not in message


def test_load_reported_rejects_duplicate_id_and_bad_header(tmp_path: Path) -> None:
    row = "twice,homicides,2015-01-01,2015-01-31,mean,10,,,0.25,000,ok\n"
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + row + row, encoding="utf-8")
    with pytest.raises(ValueError, match="twice"):
        load_reported(path)
    path.write_text(HEADER.replace("tolerance", "tol") + row, encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        load_reported(path)


def test_load_reported_reads_a_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    row = 'r,homicides,2017-01-01,2017-05-31,ratio,0.5,2016-01-01,2016-05-31,0.25,002,"a, quoted note"\n'
    path.write_text(HEADER + row, encoding="utf-8")
    (only,) = load_reported(path)
    assert only.note == "a, quoted note"
    assert only.days == 151


# ---------------------------------------------------------------- outputs


def test_fit_json_round_trips(tmp_path: Path) -> None:
    fit = compare(run(14.0, end="2016-06-30"), scale=1.0)
    path = tmp_path / "fit.json"
    write_fit_json(fit, path)
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded == fit.to_dict()
    assert loaded["n_compared"] == fit.n_compared
    entry = loaded["figures"]["mar_2015"]
    assert entry["window"] == ["2015-03-01", "2015-03-31"]
    assert entry["reported"] == 481
    assert entry["simulated"] == pytest.approx(434.0)
    assert entry["source"] == "000;003"
    assert loaded["figures"]["janmay_2017"]["simulated"] is None  # beyond the run
    assert [p.name for p in tmp_path.iterdir()] == ["fit.json"]  # no temp file left


def test_table_lists_every_figure() -> None:
    fit = compare(run(14.0))
    lines = fit.table().splitlines()
    assert lines[0].split()[0] == "figure"
    body = {line.split()[0] for line in lines[2:-1]}
    assert body == {f.id for f in load_reported()}
    assert isinstance(fit, Fit)
    assert "score" in lines[-1]
