"""The published inputs of 2018-2024 (sim.inputs): the data file, its errors, the tracking table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.inputs import (QUANTITIES, TRACKED_SERIES, check_inputs, load_inputs, main,
                        track_inputs)

ROOT = Path(__file__).resolve().parents[1]
TIMELINE = ROOT.parent / "shared" / "TIMELINE_2018_2024.md"  # the project's ../shared
HEADER = "id,quantity,date,date_note,bound,value,low,high,count_start,source,quote,note\n"
GOOD = "a,arrests_cumulative,2022-05-08,the day given,exact,26755,,,2022-03-27,government,q,\n"


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_packaged_inputs_load_and_validate():
    inputs = check_inputs()
    assert len(inputs) == len({f.id for f in inputs}) >= 40
    quantities = {f.quantity for f in inputs}
    assert {"arrests_cumulative", "prison_population", "releases_cumulative",
            "deaths_in_custody_cumulative", "plan_police", "cecot_prisoners"} <= quantities
    arrests = [f for f in inputs if f.quantity == "arrests_cumulative"]
    assert all(f.count_start.isoformat() == "2022-03-27" for f in arrests)
    assert [f.date for f in arrests] == sorted(f.date for f in arrests)


@pytest.mark.skipif(not TIMELINE.is_file(), reason="../shared/TIMELINE_2018_2024.md not present")
def test_every_row_quotes_the_timeline_with_its_figure():
    timeline = _words(TIMELINE.read_text(encoding="utf-8"))
    for f in load_inputs():
        assert _words(f.quote) in timeline, f.id
        # The figure as the timeline writes it is in the quote, unless the row says it derived it.
        numbers = [f.low, f.high] if f.bound == "range" else [f.value]
        if not f.note.startswith("derived:"):
            for n in numbers:
                assert f"{n:,.0f}" in f.quote, (f.id, n)


@pytest.mark.parametrize("row, column", [
    (GOOD.replace("arrests_cumulative", "arrests_total"), "quantity"),
    (GOOD.replace("2022-05-08", "2022-05-32"), "date"),
    (GOOD.replace(",exact,", ",roughly,"), "bound"),
    (GOOD.replace("26755", "-3"), "value"),
    (GOOD.replace("2022-03-27", ""), "count_start"),
    (GOOD.replace("2022-03-27", "2022-06-01"), "count_start"),
    (GOOD.replace(",exact,26755,,", ",range,,9,3"), "high"),
    (GOOD.replace(",government,", ",,"), "source"),
    (GOOD.rstrip("\n") + ",extra\n", "note"),
])
def test_a_malformed_row_is_one_line_naming_file_line_and_column(tmp_path, row, column):
    path = tmp_path / "inputs.csv"
    path.write_text(HEADER + GOOD.replace("a,", "first,", 1) + row, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_inputs(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: line 3 (id 'a'): column '{column}'") or \
        message.startswith(f"{path}: line 3: column '{column}'"), message


def test_a_duplicate_id_and_a_wrong_header_are_refused(tmp_path):
    path = tmp_path / "inputs.csv"
    path.write_text(HEADER + GOOD + GOOD, encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: column 'id': duplicate id 'a'"):
        load_inputs(path)
    path.write_text(HEADER.replace("quote,", "") + GOOD, encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: header is"):
        load_inputs(path)


def _daily(start="2022-03-20", end="2022-05-10", **series) -> pd.DataFrame:
    dates = pd.date_range(start, end, freq="D")
    df = pd.DataFrame({"date": dates.strftime("%Y-%m-%d")})
    for name, value in series.items():
        df[name] = value(dates) if callable(value) else value
    return df


def _figure(quantity, date, bound="exact", value=None, low=None, high=None, count_start=None):
    from sim.inputs import PublishedInput
    return PublishedInput(id=f"{quantity}_{date}", quantity=quantity, date=pd.Timestamp(date).date(),
                          date_note="-", bound=bound, value=value, low=low, high=high,
                          count_start=None if count_start is None else pd.Timestamp(count_start).date(),
                          source="test", quote="-")


def test_arrests_are_summed_from_the_count_start_both_days_included():
    # 500 a day before the state of exception (not counted), 1,000 a day from 27 March 2022.
    df = _daily(arrests=lambda d: np.where(d >= "2022-03-27", 1000, 500), prison_population=0)
    figures = [_figure("arrests_cumulative", "2022-04-04", value=9000, count_start="2022-03-27"),
               _figure("arrests_cumulative", "2022-04-04", value=10000, count_start="2022-03-27"),
               _figure("arrests_cumulative", "2022-04-04", value=8000, count_start="2022-03-27")]
    table = track_inputs(df, inputs=figures)
    # 27 March to 4 April is 9 days: 9,000.
    assert table.simulated.tolist() == [9000.0, 9000.0, 9000.0]
    assert table.rel_diff.tolist() == [0.0, -0.1, 0.125]
    assert table.within.tolist() == [True, True, True]
    assert table.status.tolist() == ["within"] * 3


def test_model_units_are_scaled_to_national_and_misses_flagged():
    # At scale 0.1, 100 model arrests a day are 1,000 national, 4,000 model prisoners 40,000.
    df = _daily(arrests=100, prison_population=lambda d: np.where(d >= "2022-04-01", 5000, 4000))
    figures = [_figure("arrests_cumulative", "2022-04-04", value=9000, count_start="2022-03-27"),
               _figure("prison_population", "2022-03-31", value=40000),
               _figure("prison_population", "2022-04-01", value=40000),
               _figure("prison_population", "2022-03-26", bound="range", low=38000, high=40000),
               _figure("prison_population", "2022-04-02", bound="at_least", value=40000)]
    table = track_inputs(df, scale=0.1, inputs=figures)
    assert table.simulated.tolist() == [9000.0, 40000.0, 50000.0, 40000.0, 50000.0]
    assert table.rel_diff.tolist() == [0.0, 0.0, 0.25, 0.0, 0.0]
    assert table.status.tolist() == ["within", "within", "miss", "within", "within"]


def test_absent_series_and_dates_outside_the_run_are_listed_not_dropped():
    df = _daily(arrests=1000)
    figures = [_figure("prison_population", "2022-04-01", value=1),
               _figure("arrests_men_cumulative", "2022-04-01", value=1, count_start="2022-03-27"),
               _figure("arrests_cumulative", "2022-06-01", value=1, count_start="2022-03-27"),
               _figure("arrests_cumulative", "2022-04-01", value=1, count_start="2022-03-01")]
    table = track_inputs(df, inputs=figures)
    assert len(table) == 4
    assert table.status.tolist() == ["not simulated", "not simulated", "outside the run", "outside the run"]
    assert table.why[0] == "the run has no series prison_population"
    assert table.why[1] == "the model has no such series"
    assert table.simulated.isna().all() and table.within.isna().all()


def test_every_tracked_quantity_names_the_tracked_series():
    assert QUANTITIES["arrests_cumulative"].series == ("arrests",)
    assert QUANTITIES["prison_population"].series == ("prison_population",)
    assert set(TRACKED_SERIES) == {"arrests", "prison_population"}


def test_cli_writes_the_table_beside_the_run(tmp_path, capsys):
    df = _daily("2018-01-01", "2024-12-31", arrests=lambda d: np.where(d >= "2022-03-27", 20, 1),
                prison_population=800, releases=0, deaths_in_custody=0)
    (tmp_path / "timeseries.csv").write_text(df.to_csv(index=False), encoding="utf-8")
    (tmp_path / "fit.json").write_text('{"scale": 0.02}', encoding="utf-8")
    assert main([str(tmp_path)]) == 0
    out = pd.read_csv(tmp_path / "input_tracking.csv")
    assert len(out) == len(load_inputs())
    row = out.set_index("id").loc["arrests_2022_05_08"]
    # 27 March to 8 May 2022: 43 days of 20 model arrests at scale 0.02 = 43,000 national.
    assert row.simulated == 43000.0 and row.status == "miss"
    assert out.set_index("id").loc["prison_2022_03_26", "status"] == "within"  # 800 / 0.02 = 40,000
    assert "written to" in capsys.readouterr().out
    first = (tmp_path / "input_tracking.csv").read_bytes()
    assert main([str(tmp_path / "timeseries.csv"), "--scale", "0.02"]) == 0
    assert (tmp_path / "input_tracking.csv").read_bytes() == first


def test_cli_refuses_a_run_without_the_tracked_series(tmp_path, capsys):
    df = _daily(arrests=10)  # the 2011-2017 model: no prison_population
    (tmp_path / "timeseries.csv").write_text(df.to_csv(index=False), encoding="utf-8")
    assert main([str(tmp_path), "--scale", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no series prison_population" in err
    assert not (tmp_path / "input_tracking.csv").exists()


@pytest.mark.parametrize("args, says", [
    (["missing_folder"], "no such file"),
    (["{run}"], "accepted: --scale S"),
    (["{run}", "--scale", "-1"], "--scale"),
])
def test_cli_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, says):
    df = _daily(arrests=10, prison_population=1)
    (tmp_path / "timeseries.csv").write_text(df.to_csv(index=False), encoding="utf-8")
    args = [a.format(run=tmp_path) if "{" in a else (str(tmp_path / a) if a == "missing_folder" else a)
            for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and says in err and "Traceback" not in err
    assert not (tmp_path / "input_tracking.csv").exists()
