"""`sim-compare`: summarise the runs of sim-run multiruns and sim-ensemble jobs, group by group.

    sim-compare results/sweeps/2026-01-01_12-00-00
    sim-compare results/ensembles/2026-01-01/12-00-00_historical_n1000_seed0
    sim-compare results/sweeps/A results/sweeps/B --by model.ceasefire.strength --out cmp
    sim-compare results/sweeps/A --series homicides police_killed

Every folder holding ``.hydra/config.yaml`` below a FOLDER is a job: a sim-run job (one run,
``timeseries.csv``) or a sim-ensemble job (``runs.parquet``: each replicate counts as one
job). Jobs are grouped by ``scenario.name`` plus the value of each ``--by`` key of their
composed config, e.g. ``historical|model.ceasefire.strength=0.5``. A job without
``timeseries.csv`` or ``fit.json`` (unfinished or failed: sim-run writes fit.json last), an
ensemble without ``runs.parquet`` (sim-ensemble moves it into place last), or one with an
unreadable table is reported on stderr, one line each, and left out (an ensemble whole).

Written into ``--out`` (default: the first FOLDER), all atomically:

* ``ensemble.csv``: ``date,group,series,n,median,q05,q25,q75,q95``, the quantiles across
  the jobs of a group of each requested series on each day, in national units (each
  job's counts divided by its ``model.scale``); ``n`` is the number of jobs on that day.
  Rows run by group (in order of first appearance), series (as requested), date.
* ``fit_summary.csv``: ``group,id,series,kind,reported,tolerance,sim_median,sim_q05,
  sim_q95,covered,n`` for every reported figure: quantiles of the jobs' simulated values
  (:meth:`ReportedFigure.simulated`; ``n`` jobs cover the figure's window) and whether
  the 90 % interval covers the report (:func:`covered`); empty cells when no job does.
* ``bands_<group>.png``: homicides per day, median and 50 % / 90 % bands of each job's
  30-day centred mean, against the reported homicide figures;
  ``compare_<series>.png``: the groups on one set of axes, median and 90 % band of the
  30-day centred mean; ``kinds_<group>.png``: median monthly homicides by kind, stacked.
  In file names a group label has every run of characters other than letters, digits
  and ``.=+-`` replaced by ``_`` (``historical|model.x=0.5`` -> ``historical_model.x=0.5``).

Memory stays at one float32 value per job, day and series read: only the ``date`` column
and the needed series are read from each table (a runs.parquet one row group at a time),
and per-job values are kept as float32.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.dates import parse_date
from sim.ensemble_tables import RUNS, runs_columns
from sim.io import atomic_path
from sim.reported import COMPARED_SERIES, ReportedFigure, check_reported, load_reported
from sim.trajectory import DERIVED_SERIES, Trajectory, columns_of

__all__ = [
    "QUANTILES",
    "QUANTILE_NAMES",
    "DEFAULT_SERIES",
    "ENSEMBLE_COLUMNS",
    "FIT_SUMMARY_COLUMNS",
    "JobError",
    "find_jobs",
    "read_config",
    "read_job",
    "read_jobs",
    "replicate_jobs",
    "write_summary",
    "add_jobs",
    "nan_quantiles",
    "covered",
    "main",
]

QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES: tuple[str, ...] = ("q05", "q25", "median", "q75", "q95")
# The series of the reported figures, without the model inputs (population, leaders moved).
DEFAULT_SERIES: tuple[str, ...] = tuple(s for s in COMPARED_SERIES
                                        if s not in ("population", "leaders_isolated", *DERIVED_SERIES))
ENSEMBLE_COLUMNS: tuple[str, ...] = ("date", "group", "series", "n", "median", "q05", "q25", "q75", "q95")
FIT_SUMMARY_COLUMNS: tuple[str, ...] = (
    "group", "id", "series", "kind", "reported", "tolerance",
    "sim_median", "sim_q05", "sim_q95", "covered", "n",
)

#: Columns of the homicides-by-kind figure; the last two are drawn as lines.
KIND_COLUMNS: tuple[str, ...] = (
    "gang_vs_gang", "gang_vs_civilian", "gang_vs_security", "security_vs_gang", "homicides", "homicides_true",
)
ROLLING_DAYS = 30

_PROG = "sim-compare"
_MISSING = object()
_INTERPOLATION = re.compile(r"\$\{([^${}:]+)\}")


class JobError(Exception):
    """A job that cannot be used; the message says why, in a few words."""


# ---------------------------------------------------------------- finding and reading jobs


def _natural_key(name: str) -> list:
    """Sort job folders 0, 1, 2, ..., 10 rather than 0, 1, 10, 2."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def find_jobs(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Job folders (holding ``.hydra/config.yaml``) at or below ``folder``, in natural order.

    Hidden folders are not entered and symbolic links to folders are not followed below
    ``folder``; a job folder's own subfolders are not searched.
    """
    root = Path(folder)
    if (root / ".hydra" / "config.yaml").is_file():
        yield root
        return
    try:
        entries = [e for e in os.scandir(root) if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for entry in sorted(entries, key=lambda e: _natural_key(e.name)):
        yield from find_jobs(entry.path)


def _lookup(tree: Any, key: str) -> Any:
    node = tree
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _resolve(tree: Any, value: Any, depth: int = 0) -> Any:
    """Resolve plain ``${a.b}`` interpolations (Hydra saves the config unresolved)."""
    if not isinstance(value, str) or "${" not in value or depth > 10:
        return value
    whole = _INTERPOLATION.fullmatch(value)
    if whole:  # keep the referenced value's type
        target = _lookup(tree, whole.group(1))
        return value if target is _MISSING else _resolve(tree, target, depth + 1)

    def one(match: re.Match) -> str:
        target = _lookup(tree, match.group(1))
        return match.group(0) if target is _MISSING else str(_resolve(tree, target, depth + 1))

    return _INTERPOLATION.sub(one, value)


def read_config(path: str | os.PathLike[str], keys: Iterable[str]) -> dict[str, Any]:
    """The values of dotted ``keys`` in a job's composed config (missing keys are left out)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when available; both are safe
    try:
        with open(path, encoding="utf-8") as fh:
            tree = yaml.load(fh, Loader=loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise JobError(f"unreadable config: {type(exc).__name__}") from None
    if not isinstance(tree, Mapping):
        raise JobError("unreadable config: not a mapping")
    out: dict[str, Any] = {}
    for key in keys:
        value = _lookup(tree, key)
        if value is not _MISSING:
            out[key] = _resolve(tree, value)
    return out


def _format_value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def group_label(scenario: str, by: Mapping[str, Any]) -> str:
    """``scenario`` or ``scenario|key=value|key=value`` in the order of ``--by``."""
    return "|".join([str(scenario), *(f"{k}={_format_value(v)}" for k, v in by.items())])


def _as_day(value: Any) -> np.datetime64 | None:
    try:
        return np.datetime64(parse_date(value, "date"), "D")
    except ValueError:
        return None


@dataclass
class Job:
    """What one usable job contributes: per-day series, monthly kinds and figure values."""

    path: Path
    label: str
    scale: float
    first_day: int  # days since 1970-01-01
    series: dict[str, np.ndarray]  # national units, float32, one value a day
    kinds_first_month: int | None = None  # months since 1970-01
    kinds: np.ndarray | None = None  # months x KIND_COLUMNS, national units
    fit: dict[str, float | None] = field(default_factory=dict)


def _fit_series(figures: Sequence[ReportedFigure]) -> list[str]:
    """The written columns the figures read (a derived series' parts)."""
    return sorted({c for f in figures for c in columns_of(f.series)})


def _job_config(path: Path, by: Sequence[str]) -> tuple[str, float, np.datetime64 | None, np.datetime64 | None]:
    """A job's group label, model.scale and start and end days, from its composed config."""
    config = read_config(path / ".hydra" / "config.yaml", ("scenario.name", "model.scale", "start", "end", *by))
    if "scenario.name" not in config:
        raise JobError("config has no scenario.name")
    if "model.scale" not in config:
        raise JobError("config has no model.scale")
    try:
        scale = float(config["model.scale"])
    except (TypeError, ValueError):
        raise JobError(f"model.scale is not a number: {config.get('model.scale')!r}") from None
    if not (scale > 0 and math.isfinite(scale)):
        raise JobError(f"model.scale must be positive, got {scale!r}")
    missing_by = [k for k in by if k not in config]
    if missing_by:
        raise JobError(f"config has no {', '.join(missing_by)}")
    label = group_label(config["scenario.name"], {k: config[k] for k in by})
    return label, scale, _as_day(config.get("start")), _as_day(config.get("end"))


def _columns_wanted(series: Sequence[str], figures: Sequence[ReportedFigure]) -> tuple[list[str], list[str]]:
    """The series a job must have (``homicides`` and the requested) and those used if present."""
    required = list(dict.fromkeys(["homicides", *series]))
    optional = [c for c in dict.fromkeys([*_fit_series(figures), *KIND_COLUMNS]) if c not in required]
    return required, optional


def _check_days(days: np.ndarray, start: np.datetime64 | None, end: np.datetime64 | None, table: str) -> None:
    if np.isnat(days).any() or (len(days) > 1 and not np.all(np.diff(days).astype(np.int64) == 1)):
        raise JobError(f"{table}: dates are not one row a day (truncated file?)")
    if (start is not None and days[0] != start) or (end is not None and days[-1] != end):
        raise JobError(f"{table} covers {days[0]}..{days[-1]}, the config {start}..{end}")


def _make_job(
    path: Path,
    label: str,
    scale: float,
    days: np.ndarray,
    columns: Mapping[str, np.ndarray],
    series: Sequence[str],
    figures: Sequence[ReportedFigure],
) -> Job:
    """What one run contributes, from its days and float32 columns (model units); shared by the
    sim-run jobs and the replicates of an ensemble, so both are summarised alike."""
    required, _ = _columns_wanted(series, figures)
    job = Job(
        path=path,
        label=label,
        scale=scale,
        first_day=int(days[0].astype(np.int64)),
        series={c: (columns[c].astype(np.float64) / scale).astype(np.float32) for c in required},
    )

    if all(c in columns for c in KIND_COLUMNS):
        months = days.astype("datetime64[M]").astype(np.int64)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(months)) + 1))
        values = np.column_stack([columns[c] for c in KIND_COLUMNS]).astype(np.float64) / scale
        job.kinds_first_month = int(months[0])
        job.kinds = np.add.reduceat(values, starts, axis=0).astype(np.float32)

    if figures:
        fit_columns = [c for c in _fit_series(figures) if c in columns]
        run = Trajectory(pd.DataFrame({"date": days, **{c: columns[c] for c in fit_columns}}), scale)
        job.fit = {f.id: (f.simulated(run, scale) if all(c in columns for c in columns_of(f.series)) else None)
                   for f in figures}
    return job


def read_job(
    path: str | os.PathLike[str],
    series: Sequence[str],
    by: Sequence[str] = (),
    figures: Sequence[ReportedFigure] = (),
) -> Job:
    """Read one sim-run job folder; raise :class:`JobError` when it is unfinished, failed or unreadable."""
    path = Path(path)
    table = path / "timeseries.csv"
    if not table.is_file():
        raise JobError(f"unfinished or failed: no timeseries.csv (a sim-run job) or {RUNS} (a sim-ensemble job)")
    if not (path / "fit.json").is_file():
        raise JobError("unfinished or failed: no fit.json")
    label, scale, start, end = _job_config(path, by)

    required, optional = _columns_wanted(series, figures)
    wanted = {"date", *required, *optional}
    try:
        df = pd.read_csv(
            table,
            usecols=lambda c: c in wanted,
            dtype={"date": str, **{c: np.float32 for c in wanted if c != "date"}},
            engine="c",
        )
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        first_line = (str(exc).splitlines() or [""])[0]
        raise JobError(f"unreadable timeseries.csv: {type(exc).__name__}: {first_line}") from None
    absent = [c for c in ("date", *required) if c not in df.columns]
    if absent:
        raise JobError(f"timeseries.csv has no column {', '.join(absent)}")
    if df.empty:
        raise JobError("timeseries.csv has no rows")
    try:
        days = np.asarray(df["date"].to_numpy(dtype=object), dtype="datetime64[D]")
    except (ValueError, TypeError):
        raise JobError("timeseries.csv: a date is unreadable (truncated file?)") from None
    numeric = [c for c in df.columns if c != "date"]
    if df[numeric].isna().to_numpy().any():
        raise JobError("timeseries.csv: missing values (truncated file?)")
    _check_days(days, start, end, "timeseries.csv")
    columns = {c: df[c].to_numpy(dtype=np.float32) for c in numeric}
    return _make_job(path, label, scale, days, columns, series, figures)


def replicate_jobs(
    runs: str | os.PathLike[str],
    label: str,
    scale: float,
    start: np.datetime64 | None,
    end: np.datetime64 | None,
    series: Sequence[str],
    figures: Sequence[ReportedFigure] = (),
    path: Path | None = None,
) -> list[Job]:
    """One job per replicate of a runs.parquet file (sim-ensemble's own summary reads it so);
    raise :class:`JobError` if any replicate is unusable, so an ensemble is used whole or not."""
    from sim.ensemble_tables import iter_replicates

    runs = Path(runs)
    required, optional = _columns_wanted(series, figures)
    jobs: list[Job] = []
    try:
        available = runs_columns(runs)
        absent = [c for c in required if c not in available]
        if absent:
            raise JobError(f"{RUNS} has no column {', '.join(absent)}")
        wanted = [*required, *(c for c in optional if c in available)]
        for replicate, _, days, values in iter_replicates(runs, wanted):
            table = f"{RUNS}, replicate {replicate}"
            columns = {c: values[c].astype(np.float32) for c in wanted}
            if any(np.isnan(v).any() for v in columns.values()):
                raise JobError(f"{table}: missing values")
            _check_days(days, start, end, table)
            jobs.append(_make_job(path or runs.parent, label, scale, days, columns, series, figures))
    except (OSError, ValueError) as exc:  # ensemble_tables.UnreadableTable is a ValueError
        first_line = (str(exc).splitlines() or [""])[0]
        raise JobError(f"unreadable {RUNS}: {type(exc).__name__}: {first_line}") from None
    if not jobs:
        raise JobError(f"{RUNS} has no rows")
    return jobs


def read_jobs(
    path: str | os.PathLike[str],
    series: Sequence[str],
    by: Sequence[str] = (),
    figures: Sequence[ReportedFigure] = (),
) -> list[Job]:
    """The runs of one job folder: a sim-ensemble job (it holds runs.parquet, which the app
    writes last) gives one per replicate, a sim-run job one."""
    path = Path(path)
    if not (path / RUNS).is_file():
        return [read_job(path, series, by, figures)]
    label, scale, start, end = _job_config(path, by)
    return replicate_jobs(path / RUNS, label, scale, start, end, series, figures, path=path)


# ---------------------------------------------------------------- statistics


def nan_quantiles(a: np.ndarray, qs: Sequence[float] = QUANTILES) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of each row of ``a`` over its non-NaN values (numpy's linear method).

    Returns ``(n, q)``: the number of values in each row and a rows x len(qs) float64
    array, NaN where a row is empty. The columns never decrease along ``qs`` (the running
    maximum removes any rounding inversion), so q05 <= q25 <= median <= q75 <= q95.
    """
    a = np.atleast_2d(np.asarray(a))
    rows = a.shape[0]
    ordered = np.sort(a, axis=1)  # NaN sorts last
    n = np.count_nonzero(~np.isnan(a), axis=1)
    position = np.asarray(qs, dtype=np.float64)[None, :] * np.maximum(n - 1, 0)[:, None]
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, np.maximum(n - 1, 0)[:, None])
    fraction = position - low
    below = np.take_along_axis(ordered, low, axis=1).astype(np.float64)
    above = np.take_along_axis(ordered, high, axis=1).astype(np.float64)
    out = below + (above - below) * fraction
    out = np.maximum.accumulate(out, axis=1)
    out[n == 0] = np.nan
    return n, out.reshape(rows, len(qs))


def covered(figure: ReportedFigure, q05: float | None, q95: float | None) -> bool | None:
    """Whether the 90 % interval [q05, q95] of the simulated values agrees with the report.

    For a lower bound: q95 >= the bound; for an upper bound: q05 <= it. For a trend: the interval reaches the reported
    direction (q95 > 0 for rising, q05 < 0 for falling). Otherwise q05 <= value <= q95.
    """
    if q05 is None or q95 is None or math.isnan(q05) or math.isnan(q95):
        return None
    if figure.kind == "trend":
        return bool(q95 > 0) if figure.value > 0 else bool(q05 < 0)
    if figure.kind.startswith("lower_bound"):
        return bool(q95 >= figure.value)
    if figure.kind.startswith("upper_bound"):
        return bool(q05 <= figure.value)
    return bool(q05 <= figure.value <= q95)


def _matrix(entries: list[tuple[int, np.ndarray]]) -> tuple[int, np.ndarray]:
    """Stack per-job arrays that start on different days into a days x jobs float32 matrix."""
    first = min(s for s, _ in entries)
    last = max(s + len(v) for s, v in entries)
    out = np.full((last - first, len(entries)), np.nan, dtype=np.float32)
    for j, (start, values) in enumerate(entries):
        out[start - first:start - first + len(values), j] = values
    return first, out


def _rolling_mean(matrix: np.ndarray) -> np.ndarray:
    """The 30-day centred mean of each job (column), as in plot_trajectory."""
    frame = pd.DataFrame(matrix, copy=False)
    rolled = frame.rolling(ROLLING_DAYS, center=True, min_periods=ROLLING_DAYS // 2).mean()
    return rolled.to_numpy(dtype=np.float32)


# ---------------------------------------------------------------- groups


@dataclass
class _Group:
    label: str
    series: dict[str, list[tuple[int, np.ndarray]]] = field(default_factory=dict)
    kinds: list[tuple[int, np.ndarray]] = field(default_factory=list)
    fit: dict[str, list[float]] = field(default_factory=dict)
    n_jobs: int = 0

    def add(self, job: Job) -> None:
        self.n_jobs += 1
        for name, values in job.series.items():
            self.series.setdefault(name, []).append((job.first_day, values))
        if job.kinds is not None and job.kinds_first_month is not None:
            self.kinds.append((job.kinds_first_month, job.kinds))
        for fig_id, value in job.fit.items():
            if value is not None and math.isfinite(value):
                self.fit.setdefault(fig_id, []).append(value)


@dataclass
class _Summary:
    """What the figures need of a group once its jobs are reduced."""

    label: str
    n_jobs: int
    rolling: dict[str, tuple[pd.DatetimeIndex, dict[str, np.ndarray]]]
    kinds: tuple[pd.DatetimeIndex, dict[str, np.ndarray]] | None
    covered: dict[str, bool | None]


def add_jobs(groups: dict[str, _Group], jobs: Iterable[Job]) -> None:
    """Add jobs to the group of their label (groups keep the order of first appearance)."""
    for job in jobs:
        groups.setdefault(job.label, _Group(job.label)).add(job)


def _days_index(first_day: int, n: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.arange(first_day, first_day + n).astype("datetime64[D]").astype("datetime64[ns]"))


def _reduce_group(
    group: _Group, series: Sequence[str], figures: Sequence[ReportedFigure], ensemble_fh
) -> tuple[_Summary, list[dict]]:
    """Write the group's ensemble rows to ``ensemble_fh``; return its plot data and fit-summary rows.

    Each series is stacked (days x jobs), reduced and dropped before the next, and the
    group's per-job arrays are freed on the way.
    """
    rolling: dict[str, tuple[pd.DatetimeIndex, dict[str, np.ndarray]]] = {}
    for name in list(dict.fromkeys([*series, "homicides"])):
        first, matrix = _matrix(group.series.pop(name))
        dates = _days_index(first, matrix.shape[0])
        if name in series:
            n, q = nan_quantiles(matrix)
            keep = n > 0  # a day no job of the group covers has no row
            columns = {"date": dates[keep].strftime("%Y-%m-%d"), "group": group.label, "series": name, "n": n[keep]}
            columns.update({qn: q[keep, k] for k, qn in enumerate(QUANTILE_NAMES)})
            chunk = pd.DataFrame(columns)[list(ENSEMBLE_COLUMNS)]
            chunk.to_csv(ensemble_fh, header=False, index=False, float_format="%.7g", lineterminator="\n")
        smooth = _rolling_mean(matrix)
        del matrix
        n, q = nan_quantiles(smooth)
        rolling[name] = (dates, {qn: q[:, k] for k, qn in enumerate(QUANTILE_NAMES)})
        del smooth
    group.series.clear()

    kinds = None
    if group.kinds:
        first, stacked = _stack_months(group.kinds)
        months = pd.DatetimeIndex(np.arange(first, first + len(stacked)).astype("datetime64[M]").astype("datetime64[ns]"))
        medians = {c: nan_quantiles(stacked[:, k, :], (0.5,))[1][:, 0] for k, c in enumerate(KIND_COLUMNS)}
        kinds = (months, medians)
    group.kinds.clear()

    rows: list[dict] = []
    status: dict[str, bool | None] = {}
    for figure in figures:
        values = np.asarray(group.fit.get(figure.id, ()), dtype=np.float64)
        if values.size:
            _, q = nan_quantiles(values[None, :], (0.05, 0.5, 0.95))
            q05, median, q95 = (float(x) for x in q[0])
        else:
            q05 = median = q95 = None
        ok = covered(figure, q05, q95)
        status[figure.id] = ok
        rows.append(
            {
                "group": group.label,
                "id": figure.id,
                "series": figure.series,
                "kind": figure.kind,
                "reported": figure.value,
                "tolerance": figure.tolerance,
                "sim_median": median,
                "sim_q05": q05,
                "sim_q95": q95,
                "covered": ok,
                "n": int(values.size),
            }
        )
    group.fit.clear()
    return _Summary(group.label, group.n_jobs, rolling, kinds, status), rows


def _stack_months(entries: list[tuple[int, np.ndarray]]) -> tuple[int, np.ndarray]:
    """months x columns x jobs, NaN where a job does not cover a month."""
    first = min(s for s, _ in entries)
    last = max(s + len(v) for s, v in entries)
    out = np.full((last - first, len(KIND_COLUMNS), len(entries)), np.nan, dtype=np.float32)
    for j, (start, values) in enumerate(entries):
        out[start - first:start - first + len(values), :, j] = values
    return first, out


def file_label(label: str) -> str:
    """A group label made safe for a file name: ``a|b.c=0.5`` -> ``a_b.c=0.5``."""
    return re.sub(r"[^\w.=+-]+", "_", label).strip("_") or "group"


def _unique_names(labels: Sequence[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    used: set[str] = set()
    for label in labels:
        base = name = file_label(label)
        k = 2
        while name in used:
            name = f"{base}_{k}"
            k += 1
        used.add(name)
        names[label] = name
    return names


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Summarise the jobs of sim-run multiruns and the replicates of sim-ensemble jobs as "
        "ensembles (median and 50/90 % bands per group) and check them against the reported figures.",
        epilog="Put FOLDERs first: --by and --series take every following word. Exit status 1 when no "
        "job is usable, 2 on a usage error.",
    )
    parser.add_argument("folders", nargs="+", metavar="FOLDER", help="multirun folders, sim-ensemble folders or job folders")
    parser.add_argument(
        "--by", nargs="+", action="extend", default=[], metavar="KEY",
        help="dotted config keys that split groups besides scenario.name, e.g. model.ceasefire.strength",
    )
    parser.add_argument(
        "--series", nargs="+", default=None, metavar="SERIES",
        help=f"timeseries columns to summarise (default: {' '.join(DEFAULT_SERIES)})",
    )
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder (default: the first FOLDER)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (there is none unless stderr is a terminal)")
    return parser


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _say(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"{_PROG}: {message}", file=sys.stderr)


def _check_first(jobs: Sequence[Path], series: Sequence[str], by: Sequence[str]) -> str | None:
    """Catch a misspelt --series or --by on the first readable job instead of failing every job."""
    import yaml

    for job in jobs:
        try:
            config = read_config(job / ".hydra" / "config.yaml", by)
            header = _read_header(job)
        except (JobError, OSError, ValueError, pd.errors.ParserError, yaml.YAMLError):
            continue
        problems = []
        unknown_series = [s for s in series if s not in header]
        if unknown_series:
            available = " ".join(c for c in header if c not in ("date", "policies"))
            problems.append(f"unknown series {', '.join(unknown_series)} (columns of {job}: {available})")
        unknown_keys = [k for k in by if k not in config]
        if unknown_keys:
            problems.append(f"--by key {', '.join(unknown_keys)} is not in {job / '.hydra' / 'config.yaml'}")
        return "; ".join(problems) or None
    return None


def _read_header(job: Path) -> list[str]:
    if (job / RUNS).is_file():
        return [c for c in runs_columns(job / RUNS) if c not in ("replicate", "seed")]
    return list(pd.read_csv(job / "timeseries.csv", nrows=0).columns)


def write_summary(
    groups: dict[str, _Group],
    series: Sequence[str],
    figures: Sequence[ReportedFigure],
    out: Path,
    draw: bool = True,
) -> list[_Summary]:
    """Write ensemble.csv, fit_summary.csv and (if ``draw``) the figures of these groups into
    ``out``; the groups are emptied on the way. Shared by sim-compare and sim-ensemble."""
    out.mkdir(parents=True, exist_ok=True)
    summaries: list[_Summary] = []
    fit_rows: list[dict] = []
    with atomic_path(out / "ensemble.csv") as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(ENSEMBLE_COLUMNS) + "\n")
            for label in list(groups):
                summary, rows = _reduce_group(groups.pop(label), series, figures, fh)
                summaries.append(summary)
                fit_rows.extend(rows)
    with atomic_path(out / "fit_summary.csv") as tmp:
        pd.DataFrame(fit_rows, columns=list(FIT_SUMMARY_COLUMNS)).to_csv(tmp, index=False, lineterminator="\n")
    if draw:
        _write_figures(summaries, series, figures, out)
    return summaries


def coverage_line(summary: _Summary) -> str:
    """``historical: 20 jobs; 13/25 reported figures inside the 90% interval``."""
    compared = [v for v in summary.covered.values() if v is not None]
    return (f"{summary.label}: {_count(summary.n_jobs, 'job')}; {sum(compared)}/{len(compared)} reported "
            "figures inside the 90% interval")


def main(argv: Sequence[str] | None = None) -> int:
    from tqdm import tqdm

    args = _parser().parse_args(argv)
    series = list(dict.fromkeys(args.series or DEFAULT_SERIES))
    by = list(dict.fromkeys(args.by))
    for folder in args.folders:
        if not Path(folder).is_dir():
            print(f"{_PROG}: {folder}: no such folder", file=sys.stderr)
            return 2
    out = Path(args.out) if args.out is not None else Path(args.folders[0])
    try:  # before reading hundreds of jobs: nothing can be compared without the figures
        figures = check_reported()
    except ValueError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2

    jobs: list[Path] = []
    seen: set[Path] = set()
    for folder in args.folders:
        for job in find_jobs(folder):
            key = job.resolve()
            if key not in seen:
                seen.add(key)
                jobs.append(job)
    if not jobs:
        print(f"{_PROG}: no job folder (with .hydra/config.yaml) under {' '.join(args.folders)}", file=sys.stderr)
        return 1
    problem = _check_first(jobs, series, by)
    if problem:
        print(f"{_PROG}: {problem}", file=sys.stderr)
        return 2

    groups: dict[str, _Group] = {}
    skipped = ensembles = replicates = 0
    # disable=None: a bar on a terminal only, so logs get clean one-line messages.
    bar = tqdm(jobs, desc="jobs", unit="job", file=sys.stderr, disable=True if args.no_progress else None,
               mininterval=0.5)
    for path in bar:
        try:
            runs = read_jobs(path, series, by, figures)
        except JobError as exc:
            skipped += 1
            _say(f"skipped {path}: {exc}")
            continue
        if (path / RUNS).is_file():
            ensembles += 1
            replicates += len(runs)
        add_jobs(groups, runs)
    bar.close()
    used = sum(g.n_jobs for g in groups.values())
    from_ensembles = f" ({replicates} replicates of {_count(ensembles, 'ensemble')})" if ensembles else ""
    print(f"{_PROG}: {_count(used, 'job')} used in {_count(len(groups), 'group')}{from_ensembles}, {skipped} skipped",
          file=sys.stderr)
    if not used:
        print(f"{_PROG}: no usable job; nothing written", file=sys.stderr)
        return 1

    summaries = write_summary(groups, series, figures, out)
    for s in summaries:
        print(coverage_line(s))
    print(f"outputs in {out}")
    return 0


def _write_figures(summaries: Sequence[_Summary], series: Sequence[str], figures: Sequence[ReportedFigure], out: Path) -> None:
    from sim.figures import plot_ensemble_bands, plot_ensemble_comparison, plot_ensemble_kinds

    names = _unique_names([s.label for s in summaries])
    for s in summaries:
        dates, quantiles = s.rolling["homicides"]
        plot_ensemble_bands(
            dates, quantiles, out / f"bands_{names[s.label]}.png",
            figures=figures, covered=s.covered, title=f"Homicides per day: {s.label} ({_count(s.n_jobs, 'job')})",
        )
        if s.kinds is not None:
            months, medians = s.kinds
            plot_ensemble_kinds(
                months, medians, out / f"kinds_{names[s.label]}.png",
                title=f"Homicides by kind, median of {_count(s.n_jobs, 'job')}: {s.label}",
            )
    for name in series:
        plot_ensemble_comparison(
            [(s.label, *s.rolling[name]) for s in summaries],
            out / f"compare_{file_label(name)}.png",
            ylabel=f"{name.replace('_', ' ')}, national ({ROLLING_DAYS}-day centred mean)",
            title=f"{name.replace('_', ' ')}: median and 90% band by group",
        )


if __name__ == "__main__":
    sys.exit(main())
