"""The published inputs of 2018-2024 and how closely a run follows them.

sim/data/inputs_2018_2024.csv holds one row per published figure of the sizes of what the state
did after 2017 (arrests, prisoners, releases, deaths in custody, deployments, CECOT), each
traceable to a line of TIMELINE_2018_2024.md (its ``quote`` column) and dated by the rule of
docs/INPUTS_2018_2024.md (``date_note`` says how). :func:`load_inputs` reads and validates it;
:func:`track_inputs` puts a run's daily table beside it: the **input-tracking table** that
issue 13 asks for (arrests and prisoners within 15 % of the published series at each date).

    python -m sim.inputs results/runs/2026-01-01/12-00-00          # a sim-run folder
    python -m sim.inputs path/to/timeseries.csv --scale 0.05

prints the table and writes ``input_tracking.csv`` beside the timeseries, atomically.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sim.datafile import Row, packaged_text, read_file, read_rows
from sim.trajectory import Trajectory, as_trajectory

__all__ = ["BOUNDS", "INPUTS_CSV", "QUANTITIES", "TRACKED_SERIES", "TRACKING_COLUMNS",
           "TRACKING_TOLERANCE", "PublishedInput", "Quantity", "check_inputs", "load_inputs",
           "main", "packaged_inputs", "track_inputs", "tracking_table_text"]

INPUTS_CSV = "sim/data/inputs_2018_2024.csv"

#: Issue 13: the run's arrests and prison population follow the published series within 15 %.
TRACKING_TOLERANCE = 0.15

#: The series a run must have for its tracking table to mean anything (issue 13).
TRACKED_SERIES: tuple[str, ...] = ("arrests", "prison_population")

#: How a published value is bounded: ``exact`` and ``about`` (the timeline's word) compare
#: with the value itself; ``at_least`` ("more than") is met by anything above it; ``range`` by
#: anything in [low, high].
BOUNDS: frozenset[str] = frozenset({"exact", "about", "at_least", "range"})

_COLUMNS: tuple[str, ...] = ("id", "quantity", "date", "date_note", "bound", "value", "low", "high",
                             "count_start", "source", "quote", "note")


@dataclass(frozen=True)
class Quantity:
    """What a published figure measures and which daily series of a run it is read from.

    ``kind`` is ``stock`` (the series' value on the figure's date, e.g. prisoners) or
    ``cumulative`` (the daily series summed from the figure's ``count_start`` to its date,
    both included, e.g. arrests since 27 March 2022). ``series`` are summed when there are
    several; an empty ``series`` means the model has no counterpart: the figure is recorded
    and listed as not simulated.
    """

    kind: str
    series: tuple[str, ...]
    meaning: str


QUANTITIES: dict[str, Quantity] = {
    "arrests_cumulative": Quantity("cumulative", ("arrests",),
                                   "arrests of anyone (members, collaborators, no gang ties)"),
    "arrests_non_members_cumulative": Quantity("cumulative", ("arrests_non_members",),
                                               "arrests of people with no gang ties"),
    "detained_formally_cumulative": Quantity("cumulative", (), "arrests formally turned into detention"),
    "arrests_per_day": Quantity("stock", (), "arrests a day, no window stated"),
    "arrests_men_cumulative": Quantity("cumulative", (), "men arrested"),
    "arrests_women_cumulative": Quantity("cumulative", (), "women arrested"),
    "arrests_minors_cumulative": Quantity("cumulative", (), "people aged 12-17 arrested"),
    "prison_population": Quantity("stock", ("prison_population",), "all prisoners"),
    "prison_capacity": Quantity("stock", ("prison_capacity",), "places in all prisons"),
    "prison_overcrowding_pct": Quantity("stock", (), "overcrowding as published"),
    "releases_cumulative": Quantity("cumulative", ("releases",), "people released from custody"),
    "deaths_in_custody_cumulative": Quantity("cumulative", ("deaths_in_custody",),
                                             "prisoners who died in custody"),
    "plan_police": Quantity("stock", ("plan_police",), "police deployed by the Territorial Control Plan"),
    "plan_soldiers": Quantity("stock", ("plan_soldiers",), "soldiers deployed by the Territorial Control Plan"),
    "plan_forces": Quantity("stock", ("plan_police", "plan_soldiers"),
                            "police and soldiers deployed by the Territorial Control Plan"),
    "encirclement_forces": Quantity("stock", ("encirclement_forces",),
                                    "soldiers and police encircling a town (phase 5)"),
    "gang_prisoners_sealed": Quantity("stock", ("gang_prisoners_sealed",),
                                      "gang prisoners held in sealed cells"),
    "cecot_capacity": Quantity("stock", ("cecot_capacity",), "places in CECOT"),
    "cecot_prisoners": Quantity("stock", ("cecot_prisoners",), "prisoners held in CECOT"),
    "gang_members_recorded": Quantity("stock", (), "gang members in police records"),
    "cliques_ms13": Quantity("stock", (), "MS-13 cliques in police figures"),
    "canchas_b18": Quantity("stock", (), "Barrio 18 canchas in police figures"),
    "programmes": Quantity("stock", (), "programmes grouping the cliques and canchas"),
}


@dataclass(frozen=True)
class PublishedInput:
    """One published figure of 2018-2024, as a row of inputs_2018_2024.csv."""

    id: str
    quantity: str
    date: date
    date_note: str
    bound: str
    value: float | None  # None for a range
    low: float | None  # range only
    high: float | None  # range only
    count_start: date | None  # cumulative quantities only: the first day counted
    source: str
    quote: str
    note: str = ""

    @property
    def measures(self) -> Quantity:
        return QUANTITIES[self.quantity]

    @property
    def band(self) -> tuple[float, float]:
        """The published value as an interval [low, high] (high may be infinite)."""
        if self.bound == "range":
            return float(self.low), float(self.high)
        if self.bound == "at_least":
            return float(self.value), math.inf
        return float(self.value), float(self.value)

    def difference(self, simulated: float) -> float:
        """Signed relative difference of a simulated value from the published band; 0 inside it
        (a lower bound is met by anything above it, a range by anything within it)."""
        low, high = self.band
        if simulated < low:
            return simulated / low - 1.0
        if simulated > high:
            return simulated / high - 1.0
        return 0.0


def _parse_row(row: Row) -> PublishedInput:
    quantity = row.choice("quantity", QUANTITIES)
    day = row.day("date")
    bound = row.choice("bound", BOUNDS)
    value = low = high = None
    if bound == "range":
        if row.fields["value"].strip():
            raise row.error("value", "a range has no single value; accepted: empty, with low and high")
        low, high = row.number("low"), row.number("high")
        if not low < high:
            raise row.error("high", f"{high:g} is not above low {low:g}; accepted: low < high")
    else:
        value = row.number("value")
        for column in ("low", "high"):
            if row.fields[column].strip():
                raise row.error(column, f"only a range has low and high, not bound {bound!r}; "
                                        "accepted: empty")
    count_start = row.day("count_start", required=False)
    if QUANTITIES[quantity].kind == "cumulative":
        if count_start is None:
            raise row.error("count_start", f"a cumulative quantity ({quantity}) needs the first "
                                           "day it counts; accepted: a date YYYY-MM-DD")
        if count_start > day:
            raise row.error("count_start", f"{count_start} is after the date {day}; "
                                           "accepted: a date on or before it")
    elif count_start is not None:
        raise row.error("count_start", f"a stock ({quantity}) is not counted from a day; accepted: empty")
    return PublishedInput(
        id=row.text("id"), quantity=quantity, date=day, date_note=row.text("date_note"),
        bound=bound, value=value, low=low, high=high, count_start=count_start,
        source=row.text("source"), quote=row.text("quote"), note=row.text("note", required=False),
    )


def _parse(text: str, label: str) -> tuple[PublishedInput, ...]:
    return tuple(_parse_row(row) for row in read_rows(text, label, _COLUMNS, id_column="id"))


@lru_cache(maxsize=1)
def packaged_inputs() -> tuple[PublishedInput, ...]:
    """The rows of sim/data/inputs_2018_2024.csv, parsed once per process."""
    return _parse(packaged_text("inputs_2018_2024.csv"), INPUTS_CSV)


def load_inputs(path: str | Path | None = None) -> list[PublishedInput]:
    """The published inputs; by default the copy packaged with ``sim``.

    Raises ValueError in one line naming the file, the row's line and id, and the column.
    """
    if path is None:
        return list(packaged_inputs())
    return list(_parse(*read_file(path)))


def check_inputs() -> list[PublishedInput]:
    """The packaged inputs, or a ConfigError in one line naming the file (as
    sim.reported.check_reported does for reported.csv): apps call it before running."""
    import csv

    from sim.config import ConfigError

    try:
        return load_inputs()
    except FileNotFoundError:
        raise ConfigError(f"{INPUTS_CSV}: the file is missing; accepted: the published inputs, "
                          "one row per figure of TIMELINE_2018_2024.md") from None
    except (OSError, ValueError, csv.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(first if first.startswith(INPUTS_CSV) else f"{INPUTS_CSV}: {first}") from None


# ---------------------------------------------------------------- the tracking table

TRACKING_COLUMNS: tuple[str, ...] = (
    "id", "quantity", "series", "date", "count_start", "bound", "published", "published_low",
    "published_high", "simulated", "rel_diff", "within", "status", "why", "source",
)


def _has_series(run: Trajectory, series: str) -> bool:
    try:
        run.values(series)
    except ValueError:  # Trajectory's way of saying the table has no such column
        return False
    return True


def _simulated(figure: PublishedInput, run: Trajectory) -> tuple[float | None, str, str]:
    """(value in national units, status, why) of one figure in a run."""
    series = figure.measures.series
    if not series:
        return None, "not simulated", "the model has no such series"
    missing = [s for s in series if not _has_series(run, s)]
    if missing:
        return None, "not simulated", f"the run has no series {', '.join(missing)}"
    first = figure.count_start or figure.date
    if not run.covers(first, figure.date):
        return None, "outside the run", f"the run covers {run.period or 'no dates'}"
    if figure.measures.kind == "cumulative":
        return sum(run.window_sum(s, first, figure.date) for s in series), "", ""
    i, j = run.rows(figure.date, figure.date)
    if j != i + 1:
        return None, "outside the run", f"the run has no row for {figure.date}"
    return float(sum(run.values(s)[i] for s in series)), "", ""


def track_inputs(df: pd.DataFrame | Trajectory, scale: float = 1.0,
                 inputs: list[PublishedInput] | tuple[PublishedInput, ...] | None = None,
                 tolerance: float = TRACKING_TOLERANCE) -> pd.DataFrame:
    """The input-tracking table of a run: one row per published figure, in file order.

    `df` is a run's daily table (``date`` and series in model units, divided by `scale` to
    national units). For a figure whose series the run has and whose dates it covers:
    ``simulated`` (a stock's value on the date, or the daily series summed from
    ``count_start`` to the date, both included), ``rel_diff`` (signed, from the published
    band: 0 inside it, see :meth:`PublishedInput.difference`) and ``within`` (|rel_diff| <=
    `tolerance`); its status is ``within`` or ``miss``. Otherwise ``simulated`` is empty and
    the status says ``not simulated`` or ``outside the run``, ``why`` says why.
    """
    run = as_trajectory(df, scale)
    rows = []
    for figure in packaged_inputs() if inputs is None else inputs:
        simulated, status, why = _simulated(figure, run)
        diff = None if simulated is None else figure.difference(simulated)
        within = None if diff is None else abs(diff) <= tolerance
        if within is not None:
            status = "within" if within else "miss"
        low, high = figure.band
        rows.append({
            "id": figure.id, "quantity": figure.quantity, "series": "+".join(figure.measures.series),
            "date": figure.date.isoformat(),
            "count_start": figure.count_start.isoformat() if figure.count_start else "",
            "bound": figure.bound, "published": figure.value, "published_low": low,
            "published_high": None if math.isinf(high) else high,
            "simulated": None if simulated is None else round(simulated, 3),
            "rel_diff": None if diff is None else round(diff, 4),
            "within": within, "status": status, "why": why, "source": figure.source,
        })
    table = pd.DataFrame(rows, columns=list(TRACKING_COLUMNS))
    return table.astype({"published": float, "published_low": float, "published_high": float,
                         "simulated": float, "rel_diff": float})


def _published_text(row: pd.Series) -> str:
    if row["bound"] == "range":
        return f"{row['published_low']:,.0f}-{row['published_high']:,.0f}"
    prefix = {"at_least": ">", "about": "~"}.get(row["bound"], "")
    return f"{prefix}{row['published']:,.0f}"


def tracking_table_text(table: pd.DataFrame, tolerance: float = TRACKING_TOLERANCE) -> str:
    """The tracking table aligned for a terminal, with a closing count."""
    header = ("figure", "date", "published", "simulated", "diff %", "status")
    lines = [header]
    for _, r in table.iterrows():
        lines.append((
            r["id"], r["date"], _published_text(r),
            "-" if pd.isna(r["simulated"]) else f"{r['simulated']:,.0f}",
            "-" if pd.isna(r["rel_diff"]) else f"{100.0 * r['rel_diff']:+.1f}",
            r["status"] + (f" ({r['why']})" if r["why"] else ""),
        ))
    widths = [max(len(line[k]) for line in lines) for k in range(len(header) - 1)]
    text = ["  ".join([*(c.ljust(w) if k < 2 else c.rjust(w) for k, (c, w) in
                         enumerate(zip(line[:-1], widths))), line[-1]]) for line in lines]
    text.insert(1, "-" * len(text[0]))
    compared = table["within"].notna()
    text.append(f"{int(table.loc[compared, 'within'].astype(bool).sum())}/{int(compared.sum())} "
                f"compared figures within {100 * tolerance:g}%; "
                f"{int((table.status == 'not simulated').sum())} not simulated, "
                f"{int((table.status == 'outside the run').sum())} outside the run")
    return "\n".join(text)


# ---------------------------------------------------------------- command line


class _Refused(Exception):
    """A bad argument or input: one line, exit code 2, nothing written."""


def _timeseries_path(arg: str) -> Path:
    path = Path(arg)
    if path.is_dir():
        path = path / "timeseries.csv"
    if not path.is_file():
        raise _Refused(f"{arg}: no such file; accepted: a sim-run folder holding timeseries.csv, "
                       "or a daily table as CSV")
    return path


def _run_scale(csv_path: Path, given: float | None) -> float:
    """The run's model.scale: --scale, else fit.json or .hydra/config.yaml beside the table."""
    if given is not None:
        scale = given
    else:
        scale = None
        fit = csv_path.parent / "fit.json"
        config = csv_path.parent / ".hydra" / "config.yaml"
        try:
            if fit.is_file():
                scale = json.loads(fit.read_text(encoding="utf-8")).get("scale")
            elif config.is_file():
                import yaml

                scale = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("model", {}).get("scale")
        except (OSError, ValueError, AttributeError) as exc:
            raise _Refused(f"{csv_path.parent}: unreadable fit.json or .hydra/config.yaml "
                           f"({type(exc).__name__}); accepted: --scale S") from None
        if scale is None:
            raise _Refused(f"{csv_path}: no fit.json or .hydra/config.yaml beside it to give the "
                           "run's scale; accepted: --scale S (model.scale of the run)")
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise _Refused(f"--scale: {scale!r} is not a number; accepted: a positive number") from None
    if not (math.isfinite(scale) and scale > 0):
        raise _Refused(f"--scale: {scale!r} is not accepted; accepted: a positive number")
    return scale


def _read_run(path: Path) -> pd.DataFrame:
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise _Refused(f"{path}: unreadable as CSV ({type(exc).__name__}); accepted: a daily "
                       "table with a date column") from None
    needed = ["date", *TRACKED_SERIES]
    missing = [c for c in needed if c not in header]
    if missing:
        raise _Refused(f"{path}: the run has no series {', '.join(missing)}; accepted: a daily "
                       f"table with {', '.join(needed)} (the 2011-2024 model writes them)")
    wanted = sorted({"date", *TRACKED_SERIES,
                     *(s for q in QUANTITIES.values() for s in q.series if s in header)})
    try:
        return pd.read_csv(path, usecols=wanted)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise _Refused(f"{path}: unreadable as CSV ({type(exc).__name__}); accepted: a daily "
                       "table with a date column") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.inputs",
        description="Compare a run's arrests, prisoners, releases, deaths in custody and "
                    "deployments with the published figures of 2018-2024; write "
                    "input_tracking.csv beside its timeseries.")
    parser.add_argument("run", help="a sim-run folder (holding timeseries.csv) or a daily table as CSV")
    parser.add_argument("--scale", type=float, default=None,
                        help="model.scale of the run (default: from fit.json or .hydra/config.yaml beside it)")
    args = parser.parse_args(argv)
    from sim.config import ConfigError
    from sim.io import write_csv

    try:
        inputs = check_inputs()
        path = _timeseries_path(args.run)
        scale = _run_scale(path, args.scale)
        df = _read_run(path)
        try:
            table = track_inputs(df, scale=scale, inputs=inputs)
        except ValueError as exc:  # unparseable dates and the like
            raise _Refused(f"{path}: {str(exc).splitlines()[0]}; accepted: a daily table "
                           "with ISO dates") from None
    except (_Refused, ConfigError) as exc:
        print(f"sim.inputs: {exc}", file=sys.stderr)
        return 2
    out = path.parent / "input_tracking.csv"
    write_csv(table, out)
    print(tracking_table_text(table))
    print(f"scale {scale:g}; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
