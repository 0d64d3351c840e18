"""sim-compare: ensembles of multirun jobs, by hand-made folders and one real tiny sweep."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.compare import ENSEMBLE_COLUMNS, FIT_SUMMARY_COLUMNS, main, nan_quantiles

SIM_RUN = shutil.which("sim-run") or str(Path(sys.executable).parent / "sim-run")
MARCH = pd.date_range("2015-03-01", "2015-03-31", freq="D")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_job(
    folder: Path,
    homicides: float | np.ndarray,
    scenario: str = "historical",
    scale: float = 1.0,
    extra: str = "",
    dates: pd.DatetimeIndex = MARCH,
    fit: bool = True,
) -> Path:
    """A job folder as sim-run leaves it: .hydra/config.yaml, timeseries.csv, fit.json."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text(
        f"seed: 0\nstart: ${{scenario.start}}\nend: '{dates[-1]:%Y-%m-%d}'\n"
        f"model:\n  scale: {scale}\n{extra}"
        f"scenario:\n  name: {scenario}\n  start: '{dates[0]:%Y-%m-%d}'\n  end: '2017-12-31'\n"
    )
    (folder / ".hydra" / "overrides.yaml").write_text(f"- scenario={scenario}\n")
    h = np.broadcast_to(np.asarray(homicides, dtype=float), (len(dates),))
    df = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "homicides": h,
            "homicides_true": h + 1,
            "gang_vs_gang": h / 2,
            "gang_vs_civilian": h / 2 + 1,
            "gang_vs_security": 0.0,
            "security_vs_gang": 0.0,
            "police_killed": 1.0,
            "gang_members_street": 70_000.0 * scale,
            "policies": "mano_dura",
        }
    )
    df.to_csv(folder / "timeseries.csv", index=False)
    if fit:
        (folder / "fit.json").write_text("{}\n")
    return folder


def sweep(root: Path, per_day: list[float], scenario: str = "historical", first: int = 0, **kw) -> Path:
    for k, value in enumerate(per_day):
        make_job(root / str(first + k), value, scenario=scenario, **kw)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    return root


def run_compare(*args: str | Path, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args] + ["--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_quantiles_of_hand_made_jobs_and_coverage(tmp_path, capsys):
    root = sweep(tmp_path / "sweep", [10, 11, 12, 13, 14])
    code, out, err = run_compare(root, "--series", "homicides", "police_killed", capsys=capsys)
    assert code == 0, err
    assert "5 jobs used in 1 group, 0 skipped" in err

    ens = pd.read_csv(root / "ensemble.csv")
    assert tuple(ens.columns) == ENSEMBLE_COLUMNS
    assert len(ens) == 31 * 2  # one row per date x group x series
    assert set(ens.group) == {"historical"} and set(ens.series) == {"homicides", "police_killed"}
    h = ens[ens.series == "homicides"]
    assert list(h.date) == list(MARCH.strftime("%Y-%m-%d"))
    assert (h.n == 5).all()
    assert np.allclose(h["median"], 12) and np.allclose(h.q25, 11) and np.allclose(h.q75, 13)
    assert np.allclose(h.q05, 10.2) and np.allclose(h.q95, 13.8)  # linear interpolation
    assert np.allclose(ens[ens.series == "police_killed"][["q05", "median", "q95"]], 1)
    q = ens[["q05", "q25", "median", "q75", "q95"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()

    fit = pd.read_csv(root / "fit_summary.csv", keep_default_na=False)
    assert tuple(fit.columns) == FIT_SUMMARY_COLUMNS
    mar = fit.set_index("id").loc["mar_2015"]
    assert mar.reported == 481 and mar.n == 5
    assert float(mar.sim_median) == pytest.approx(12 * 31)
    assert float(mar.sim_q05) == pytest.approx(310 + 0.2 * 31)
    assert float(mar.sim_q95) == pytest.approx(434 - 0.2 * 31)
    assert mar.covered == "False"  # totals 310..434 never reach 481
    pre = fit.set_index("id").loc["pre_truce_rate"]  # 2012: outside the jobs' window
    assert (pre.sim_median, pre.sim_q05, pre.sim_q95, pre.covered, pre.n) == ("", "", "", "", 0)

    for name in ("bands_historical.png", "kinds_historical.png", "compare_homicides.png", "compare_police_killed.png"):
        assert (root / name).read_bytes().startswith(PNG_SIGNATURE), name
    assert not list(root.glob(".*"))  # no temp files left
    assert "historical: 5 jobs" in out


def test_interval_covering_the_report(tmp_path, capsys):
    root = sweep(tmp_path / "sweep", [14, 15, 15.5, 16, 17])  # totals 434..527 around 481
    code, _, err = run_compare(root, "--series", "homicides", capsys=capsys)
    assert code == 0, err
    fit = pd.read_csv(root / "fit_summary.csv", keep_default_na=False).set_index("id")
    assert fit.loc["mar_2015", "covered"] == "True"
    assert float(fit.loc["mar_2015", "sim_median"]) == pytest.approx(15.5 * 31)


def test_scale_gives_national_units(tmp_path, capsys):
    root = sweep(tmp_path / "sweep", [0.3, 0.33, 0.36], scale=0.03)
    code, _, err = run_compare(root, "--series", "homicides", "gang_members_street", capsys=capsys)
    assert code == 0, err
    ens = pd.read_csv(root / "ensemble.csv")
    assert np.allclose(ens[ens.series == "homicides"]["median"], 11, rtol=1e-6)
    assert np.allclose(ens[ens.series == "gang_members_street"]["median"], 70_000, rtol=1e-6)


def test_failed_and_corrupt_jobs_are_reported_and_skipped(tmp_path, capsys):
    root = sweep(tmp_path / "sweep", [10, 11, 12, 13, 14])
    failed = tmp_path / "sweep" / "5"
    (failed / ".hydra").mkdir(parents=True)
    shutil.copy(root / "0" / ".hydra" / "config.yaml", failed / ".hydra" / "config.yaml")
    unfinished = make_job(root / "6", 99, fit=False)
    truncated = make_job(root / "7", 99)
    text = (truncated / "timeseries.csv").read_text()
    (truncated / "timeseries.csv").write_text(text[: len(text) // 2 + 7])  # cut mid-line
    garbage = make_job(root / "8", 99)
    (garbage / "timeseries.csv").write_bytes(b"\x00\xff\xfe not a table")
    short = make_job(root / "9", 99)
    lines = (short / "timeseries.csv").read_text().splitlines(keepends=True)
    (short / "timeseries.csv").write_text("".join(lines[:-3]))  # cut on a line boundary

    code, _, err = run_compare(root, "--series", "homicides", capsys=capsys)
    assert code == 0, err
    skipped = [line for line in err.splitlines() if "skipped" in line and "jobs used" not in line]
    assert len(skipped) == 5, err
    for job in (failed, unfinished, truncated, garbage, short):
        assert sum(str(job) in line for line in skipped) == 1, (job, err)
    assert "no timeseries.csv" in err and "no fit.json" in err
    assert "5 jobs used in 1 group, 5 skipped" in err
    ens = pd.read_csv(root / "ensemble.csv")
    assert (ens.n == 5).all() and np.allclose(ens["median"], 12)  # the 99s were all left out


def test_no_usable_job_exits_non_zero(tmp_path, capsys):
    root = tmp_path / "sweep"
    make_job(root / "0", 10, fit=False)
    code, _, err = run_compare(root, "--series", "homicides", capsys=capsys)
    assert code == 1
    assert "0 jobs used" in err and str(root / "0") in err
    assert not (root / "ensemble.csv").exists()
    assert main([str(tmp_path / "nowhere"), "--no-progress"]) == 2


def test_unknown_series_or_key_is_one_line(tmp_path, capsys):
    root = sweep(tmp_path / "sweep", [10, 11])
    code, _, err = run_compare(root, "--series", "homicdes", capsys=capsys)
    assert code == 2 and "homicdes" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_compare(root, "--by", "model.nope", capsys=capsys)
    assert code == 2 and "model.nope" in err


def test_grouping_by_config_keys_and_out_folder(tmp_path, capsys):
    a = tmp_path / "a"
    for k, (scenario, strength, value) in enumerate(
        [("historical", 0.5, 10), ("historical", 0.5, 12), ("historical", 0.9, 20),
         ("historical", 0.9, 22), ("no_truce", 0.5, 30)]
    ):
        make_job(a / str(k), value, scenario=scenario, extra=f"  ceasefire:\n    strength: {strength}\n")
    b = sweep(tmp_path / "b", [14], scenario="no_truce", extra="  ceasefire:\n    strength: 0.5\n")
    out = tmp_path / "cmp"
    code, _, err = run_compare(a, b, "--by", "model.ceasefire.strength", "--series", "homicides",
                               "--out", out, capsys=capsys)
    assert code == 0, err
    assert "6 jobs used in 3 groups" in err
    ens = pd.read_csv(out / "ensemble.csv")
    medians = ens.groupby("group")["median"].first().to_dict()
    assert medians == {
        "historical|model.ceasefire.strength=0.5": 11,
        "historical|model.ceasefire.strength=0.9": 21,
        "no_truce|model.ceasefire.strength=0.5": 22,
    }
    assert list(dict.fromkeys(ens.group)) == sorted(medians)  # order of first appearance
    fit = pd.read_csv(out / "fit_summary.csv")
    assert set(fit.group) == set(medians) and len(fit) == 3 * fit.id.nunique()
    for name in ("bands_historical_model.ceasefire.strength=0.5.png",
                 "bands_no_truce_model.ceasefire.strength=0.5.png",
                 "kinds_historical_model.ceasefire.strength=0.9.png", "compare_homicides.png"):
        assert (out / name).is_file(), name
    assert not (a / "ensemble.csv").exists()

    # Without --by the two historical strengths form one group.
    code, _, err = run_compare(a, "--series", "homicides", capsys=capsys)
    assert code == 0 and "5 jobs used in 2 groups" in err


def test_jobs_of_different_lengths_share_a_group(tmp_path, capsys):
    root = tmp_path / "sweep"
    make_job(root / "0", 10, dates=MARCH)
    make_job(root / "1", 20, dates=MARCH[:10])
    code, _, err = run_compare(root, "--series", "homicides", capsys=capsys)
    assert code == 0, err
    ens = pd.read_csv(root / "ensemble.csv")
    assert list(ens.n[:10]) == [2] * 10 and list(ens.n[10:]) == [1] * 21
    assert np.allclose(ens["median"][:10], 15) and np.allclose(ens["median"][10:], 10)


def test_nan_quantiles_match_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 7)).astype(np.float32)
    a[3, 2:] = np.nan
    a[4, :] = np.nan
    n, q = nan_quantiles(a)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(a.astype(float), [0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
    assert list(n[:5]) == [7, 7, 7, 2, 0]
    assert np.allclose(q, expected, equal_nan=True)
    assert (np.diff(q[n > 0], axis=1) >= 0).all()


def test_real_tiny_multirun_end_to_end(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        [SIM_RUN, "-m", "scenario=historical,no_truce", "seed=0,1", "model.scale=0.03",
         "end=2011-03-31", "output.figures=false", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "sweep"
    assert (root / "multirun.yaml").is_file() and (root / "3" / "fit.json").is_file()
    proc = subprocess.run([sys.executable, "-m", "sim.compare", str(root)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "4 jobs used in 2 groups, 0 skipped" in proc.stderr
    assert f"outputs in {root}" in proc.stdout

    ens = pd.read_csv(root / "ensemble.csv")
    assert tuple(ens.columns) == ENSEMBLE_COLUMNS
    assert list(dict.fromkeys(ens.group)) == ["historical", "no_truce"]
    assert len(ens) == 2 * 8 * 90 and (ens.n == 2).all()  # groups x default series x days
    q = ens[["q05", "q25", "median", "q75", "q95"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()

    # The median of two jobs is their mean: check one day against the tables themselves.
    day = "2011-02-15"
    tables = [pd.read_csv(root / str(k) / "timeseries.csv") for k in (0, 1)]
    expected = np.mean([t.set_index("date").loc[day, "homicides"] for t in tables]) / 0.03
    got = ens[(ens.group == "historical") & (ens.series == "homicides") & (ens.date == day)]["median"]
    assert float(got.iloc[0]) == pytest.approx(expected, rel=1e-6)

    fit = pd.read_csv(root / "fit_summary.csv")
    assert tuple(fit.columns) == FIT_SUMMARY_COLUMNS
    assert fit.sim_median.isna().all()  # no reported figure lies in Jan-Mar 2011
    for name in ("bands_historical.png", "bands_no_truce.png", "kinds_no_truce.png",
                 "compare_homicides.png", "compare_gang_members_prison.png"):
        assert (root / name).read_bytes().startswith(PNG_SIGNATURE), name

    # Same inputs, same bytes.
    first = {p.name: p.read_bytes() for p in root.glob("*.png")} | {"e": (root / "ensemble.csv").read_bytes()}
    out = tmp_path / "again"
    assert main([str(root), "--out", str(out), "--no-progress"]) == 0
    again = {p.name: p.read_bytes() for p in out.glob("*.png")} | {"e": (out / "ensemble.csv").read_bytes()}
    assert again == first
