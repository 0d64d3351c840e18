"""runs.parquet and params.parquet on their own (sim/ensemble_tables.py), with hand-made daily
tables: what a reader of the whole file gets, what the writer refuses, and damaged files."""

from __future__ import annotations

import hashlib

import fastparquet
import numpy as np
import pandas as pd
import pytest

from sim.compare import JobError, replicate_jobs
from sim.ensemble_tables import (RunsWriter, UnreadableTable, iter_replicates, read_params, runs_columns,
                                 write_params)

DAYS = 40


def daily(replicate: int, labels: tuple[str, ...] = ("baseline", "truce")) -> dict[str, np.ndarray]:
    """A daily table as compact_columns gives it: date, an int32 count, a float32 level, text."""
    rng = np.random.default_rng(replicate)
    return {
        "date": np.datetime64("2011-01-01") + np.arange(DAYS).astype("timedelta64[D]"),
        "homicides": rng.poisson(10, DAYS).astype(np.int32),
        "police_morale": rng.random(DAYS).astype(np.float32),
        "policies": np.array([labels[d * len(labels) // DAYS] for d in range(DAYS)], dtype=object),
    }


def write(path, tables, batch):
    with RunsWriter(path, batch) as writer:
        for r, table in enumerate(tables):
            writer.add(r, 100 + r, table)
    return writer


def test_every_reader_gets_each_replicates_labels(tmp_path):
    # replicate 0 has three labels, the second batch only two: the categories stay those of the
    # first batch in every row group, so the whole-file read (one set of categories) is right
    tables = [daily(0, ("baseline", "mano_dura", "truce")), daily(1), daily(2, ("truce",)), daily(3)]
    path = tmp_path / "runs.parquet"
    writer = write(path, tables, batch=2)
    assert (writer.rows, writer.replicates) == (4 * DAYS, 4)
    whole = fastparquet.ParquetFile(str(path)).to_pandas()
    assert len(fastparquet.ParquetFile(str(path)).row_groups) == 2
    for r, table in enumerate(tables):
        rows = whole[whole.replicate == r]
        assert list(rows.policies.astype(str)) == list(table["policies"])
        assert (rows.homicides.to_numpy() == table["homicides"]).all()
        assert (rows.seed == 100 + r).all()
    read = list(iter_replicates(path, ["policies", "homicides", "police_morale"]))
    assert [(r, s) for r, s, _, _ in read] == [(r, 100 + r) for r in range(4)]
    for (_, _, days, values), table in zip(read, tables):
        assert days.dtype == np.dtype("datetime64[D]") and (days == table["date"]).all()
        assert values["homicides"].dtype == np.int32 and (values["homicides"] == table["homicides"]).all()
        assert values["police_morale"].dtype == np.float32
        assert (values["police_morale"] == table["police_morale"]).all()
        assert list(values["policies"]) == list(table["policies"])
    assert runs_columns(path) == ["replicate", "seed", "date", "homicides", "police_morale", "policies"]


def test_same_replicates_same_bytes(tmp_path):
    tables = [daily(r) for r in range(5)]
    digests = set()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write(tmp_path / name / "runs.parquet", tables, batch=2)
        digests.add(hashlib.sha256((tmp_path / name / "runs.parquet").read_bytes()).hexdigest())
    assert len(digests) == 1  # nothing of the path or the time in the file


def test_a_later_replicate_that_does_not_fit_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="'mano_dura' is not among"):
        write(tmp_path / "a.parquet", [daily(0), daily(1, ("mano_dura",))], batch=1)
    other = daily(1)
    other["homicides"] = other["homicides"].astype(np.float32)
    with pytest.raises(ValueError, match="column homicides is float32"):
        write(tmp_path / "b.parquet", [daily(0), other], batch=1)
    with pytest.raises(ValueError, match="columns"):
        write(tmp_path / "c.parquet", [daily(0), {k: v for k, v in daily(1).items() if k != "homicides"}], batch=1)
    with pytest.raises(ValueError, match="empty"):
        write(tmp_path / "d.parquet", [], batch=1)


@pytest.mark.parametrize("damage", ["truncated", "not parquet", "empty"])
def test_a_damaged_file_is_unreadable_not_a_traceback(damage, tmp_path):
    path = tmp_path / "runs.parquet"
    write(path, [daily(r) for r in range(3)], batch=2)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "not parquet": b"day,homicides\n" * 50,
                      "empty": b""}[damage])
    with pytest.raises(UnreadableTable):
        runs_columns(path)
    with pytest.raises(UnreadableTable):
        list(iter_replicates(path, ["homicides"]))
    with pytest.raises(JobError, match="unreadable runs.parquet"):  # sim-compare skips the ensemble
        replicate_jobs(path, "historical", 1.0, None, None, ["homicides"])


def test_params_keep_types_and_an_unset_lever(tmp_path):
    leaves = {"model.scale": (float, 0.05), "model.border.kill_rate": (float, 2e-4),
              "model.levers.leaders_moved": (int, None), "model.grid.width": (int, 80)}
    rows = [(r, 7 + r, leaves) for r in range(3)]
    write_params(tmp_path / "params.parquet", rows)
    params = read_params(tmp_path / "params.parquet")
    assert list(params.columns) == ["replicate", "seed", *leaves]
    assert list(params.seed) == [7, 8, 9] and params.seed.dtype == np.int32
    assert params["model.levers.leaders_moved"].isna().all()
    assert (params["model.grid.width"] == 80).all() and params["model.grid.width"].dtype == pd.Int64Dtype()
    assert (params["model.border.kill_rate"] == 2e-4).all()


def test_pandas_reads_both_files(tmp_path):
    """The way docs/SWEEPS.md reads them: pd.read_parquet, with whichever engine is installed."""
    tables = [daily(0, ("baseline", "mano_dura", "truce")), daily(1), daily(2)]
    write(tmp_path / "runs.parquet", tables, batch=2)
    runs = pd.read_parquet(tmp_path / "runs.parquet", columns=["replicate", "date", "homicides", "policies"])
    assert list(runs.replicate) == [0] * DAYS + [1] * DAYS + [2] * DAYS
    assert runs.date.iloc[DAYS - 1] == pd.Timestamp("2011-02-09")
    assert (runs.homicides.to_numpy() == np.concatenate([t["homicides"] for t in tables])).all()
    assert list(runs.policies.astype(str)) == [p for t in tables for p in t["policies"]]
    write_params(tmp_path / "params.parquet", [(r, r, {"model.scale": (float, 0.05)}) for r in range(2)])
    assert pd.read_parquet(tmp_path / "params.parquet")["model.scale"].tolist() == [0.05, 0.05]
