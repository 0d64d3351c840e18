"""sim-ensemble end to end (python -m sim.ensemble, tiny models): its files, the same bytes for any
number of workers, no finished-looking output when it is interrupted or fails, one-line config
errors, and sim-compare reading what it wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fastparquet
import numpy as np
import pandas as pd
import pytest

from sim.compare import main as compare
from sim.ensemble import Replicate, configure, simulate, simulation_config
from sim.ensemble_tables import iter_replicates, numeric_leaves, read_params
from sim.model import SERIES, GangViolenceModel, load_config

TINY = ["model.scale=0.02", "end=2011-03-31", "output.progress=false"]
DAYS = 90  # 2011-01-01 .. 2011-03-31
LONG = ["model.scale=0.02", "end=2013-12-31", "n=40", "output.progress=false"]  # to interrupt
FINISHED = ("runs.parquet", "params.parquet", "ensemble.csv", "fit_summary.csv")


def ensemble(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sim.ensemble", *args]
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def outputs(folder: Path) -> dict[str, bytes]:
    """Every output file (not Hydra's .hydra/ and log, which name the command line)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix != ".log"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same 3-replicate ensemble on 1 worker, on 2 workers, and on 2 workers again."""
    root = tmp_path_factory.mktemp("ensembles")
    folders = {}
    for name, workers in (("one", 1), ("two", 2), ("again", 2)):
        folders[name] = root / name
        proc = ensemble([*TINY, "n=3", f"workers={workers}", "batch=2", f"hydra.run.dir={folders[name]}"], root)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return folders


def test_files_columns_and_rows(runs):
    out = runs["one"]
    for name in (*FINISHED, "bands_historical.png", "kinds_historical.png", "compare_homicides.png",
                 ".hydra/config.yaml"):
        assert (out / name).stat().st_size > 0, name
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".hydra"]  # no staging left

    file = fastparquet.ParquetFile(str(out / "runs.parquet"))
    assert len(file.row_groups) == 2  # batch=2: replicates 0-1, then 2
    assert file.columns[:3] == ["replicate", "seed", "date"]
    assert set(SERIES) | {"policies"} <= set(file.columns)
    dtypes = file.dtypes
    assert dtypes["replicate"] == np.int32 and dtypes["seed"] == np.int32
    assert dtypes["date"] == np.dtype("datetime64[ms]")
    assert {dtypes[s] for s in SERIES} <= {np.dtype(np.int32), np.dtype(np.float32)}
    chunks = [c.meta_data for group in file.row_groups for c in group.columns]
    assert {c.codec for c in chunks} == {fastparquet.parquet_thrift.CompressionCodec.ZSTD}
    text = [c for c in chunks if c.path_in_schema == ["policies"]]
    assert len(text) == 2 and all(c.dictionary_page_offset is not None for c in text)  # dictionary-encoded
    # policies is dictionary-encoded with the same dictionary in every row group: a reader that
    # keeps one set of categories for the whole file (fastparquet's) gets the right labels
    per_group = [list(g.policies.cat.categories) for g in file.iter_row_groups(columns=["policies"])]
    assert per_group[0] == per_group[1]

    table = file.to_pandas()
    assert len(table) == 3 * DAYS
    assert table.groupby("replicate").size().to_dict() == {0: DAYS, 1: DAYS, 2: DAYS}
    assert (table.seed == table.replicate).all()  # seed 0 + replicate
    first = table[table.replicate == 1]
    assert first.date.iloc[0] == pd.Timestamp("2011-01-01") and first.date.iloc[-1] == pd.Timestamp("2011-03-31")
    by_replicate = {r: list(v.astype(str)) for r, v in table.groupby("replicate").policies}
    assert by_replicate == {r: list(values["policies"]) for r, _, _, values
                            in iter_replicates(out / "runs.parquet", ["policies"])}

    params = read_params(out / "params.parquet")
    assert list(params.replicate) == [0, 1, 2] and list(params.seed) == [0, 1, 2]
    cfg = load_config(**{"model.scale": 0.02, "end": "2011-03-31"})
    leaves = numeric_leaves(cfg.model)
    assert list(params.columns[2:]) == list(leaves)
    assert (params["model.scale"] == 0.02).all()
    assert (params["model.border.kill_rate"] == cfg.model.border.kill_rate).all()

    ens = pd.read_csv(out / "ensemble.csv")
    assert (ens.n == 3).all() and set(ens.group) == {"historical"}


def test_a_replicate_is_the_run_of_its_seed(runs):
    table = fastparquet.ParquetFile(str(runs["one"] / "runs.parquet")).to_pandas()
    table = table[table.replicate == 2]
    cfg = load_config(**{"model.scale": 0.02, "end": "2011-03-31", "seed": 2})
    alone = GangViolenceModel(cfg).run()
    for name in ("homicides", "gang_members_street", "arrests", "police_morale"):
        assert np.allclose(table[name].to_numpy(np.float64), alone[name].to_numpy(np.float64), rtol=1e-6), name
    assert list(table.policies.astype(str)) == list(alone.policies)


def test_same_bytes_for_any_workers_and_on_a_second_run(runs):
    one, two, again = (outputs(runs[k]) for k in ("one", "two", "again"))
    assert set(FINISHED) <= set(one)
    assert one.keys() == two.keys() == again.keys()
    for name in one:
        assert one[name] == two[name], f"{name}: workers=1 and workers=2 differ"
        assert two[name] == again[name], f"{name}: two runs of the same command differ"


def test_sim_compare_reads_the_ensemble(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert compare([str(runs["one"]), "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "3 jobs used in 1 group (3 replicates of 1 ensemble), 0 skipped" in err
    for name in ("ensemble.csv", "fit_summary.csv"):  # the same files as the ensemble's own
        assert (out / name).read_bytes() == (runs["one"] / name).read_bytes(), name


def test_a_sweep_of_ensembles_and_sim_compare_over_it(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    proc = ensemble(["-m", "scenario=historical_2017,truce_sustained", *TINY, "n=2", f"hydra.sweep.dir={sweep}"],
                    tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [j.name for j in jobs] == ["0", "1"]
    assert all((j / "runs.parquet").is_file() for j in jobs)
    assert compare([str(sweep), "--series", "homicides", "--no-progress"]) == 0
    assert "4 jobs used in 2 groups (4 replicates of 2 ensembles)" in capsys.readouterr().err
    ens = pd.read_csv(sweep / "ensemble.csv")
    assert set(ens.group) == {"historical_2017", "truce_sustained"} and (ens.n == 2).all()


def test_replicates_may_run_with_their_own_parameters():
    base = simulation_config(load_config(**{"model.scale": 0.02, "end": "2011-01-31"}))
    columns, leaves = simulate(base, Replicate(0, 5, {"model.border.kill_rate": 2e-4}))
    assert leaves["model.border.kill_rate"] == (float, 2e-4)
    assert len(columns["date"]) == 31
    assert configure(base, Replicate(0, 5)).model == base.model  # no overrides: the base values
    with pytest.raises(ValueError, match="model.scale"):
        configure(base, Replicate(0, 5, {"model.scale": 0.5}))
    with pytest.raises(ValueError, match="model.border.nope"):
        configure(base, Replicate(0, 5, {"model.border.nope": 1.0}))


BAD = [
    (["n=0"], "n"),
    (["workers=0"], "workers"),
    (["batch=0"], "batch"),
    (["n=abc"], "n"),
    (["n=-4"], "n"),
    (["model.scale=2"], "model.scale"),
    (["-m", "scenario=historical,truce_sustained", "workers=0"], "workers"),
    (["-m", "scenario=historical,nowhere"], "scenario"),
]


@pytest.mark.parametrize("args,key", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_keys_are_one_line_exit_2_and_write_nothing(args, key, tmp_path):
    proc = ensemble([*TINY, *args], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"sim-ensemble: config error: {key}:") and "accepted" in lines[0], lines[0]
    assert not any(tmp_path.iterdir())


def _interruptible() -> None:
    # a shell running the suite in the background ignores SIGINT, and a child inherits that
    # (Python then installs no KeyboardInterrupt handler): give the ensemble the default back
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def started(args: list[str], cwd: Path, **popen) -> subprocess.Popen:
    """sim-ensemble in the background, to be interrupted."""
    return subprocess.Popen([sys.executable, "-m", "sim.ensemble", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONHASHSEED="0"),
                            preexec_fn=_interruptible, **popen)


def _wait_for(condition, what: str, deadline: float = 300) -> None:
    """Poll until `condition()` holds (no timing is asserted; the deadline only ends a hang)."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def _workers(pid: int) -> list[int]:
    """The pool's worker processes of `pid` (children running multiprocessing's spawn_main)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _staging(out: Path) -> list[Path]:
    return list(out.glob(".ensemble.*.partial")) if out.exists() else []


def _assert_nothing_finished(out: Path, capsys) -> None:
    assert (out / ".hydra" / "config.yaml").is_file()  # Hydra's part, written before the runs
    for name in FINISHED:
        assert not (out / name).exists(), name
    assert not list(out.glob("*.png"))
    assert compare([str(out), "--no-progress"]) == 1  # sim-compare: unfinished, nothing used
    assert "unfinished or failed" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["interrupt", "terminate"])
def test_an_interrupted_ensemble_leaves_nothing_finished(how, tmp_path, capsys):
    out = tmp_path / "ens"
    proc = started([*LONG, f"hydra.run.dir={out}"], tmp_path)
    try:
        _wait_for(lambda: _staging(out) and len(_workers(proc.pid)) == 2, "the pool to start")
        proc.send_signal(signal.SIGINT if how == "interrupt" else signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert not _staging(out), "the staging folder was left behind"
    _wait_for(lambda: not _workers(proc.pid), "the workers to exit", deadline=60)
    _assert_nothing_finished(out, capsys)
    if how == "interrupt":
        assert "interrupted; no finished output written" in err


def test_a_failed_worker_fails_the_ensemble_and_leaves_nothing_finished(tmp_path, capsys):
    out = tmp_path / "ens"
    proc = started([*LONG, f"hydra.run.dir={out}"], tmp_path)
    try:
        _wait_for(lambda: _staging(out) and _workers(proc.pid), "the pool to start")
        os.kill(_workers(proc.pid)[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 1, err[-2000:]
    assert "failed" in err
    assert not _staging(out)
    _assert_nothing_finished(out, capsys)


def test_a_killed_ensemble_is_skipped_by_sim_compare(tmp_path, capsys):
    """SIGKILL allows no clean-up: a hidden staging folder may stay, but nothing looks finished."""
    out = tmp_path / "ens"
    proc = started([*LONG, f"hydra.run.dir={out}"], tmp_path, start_new_session=True)
    try:
        _wait_for(lambda: _staging(out) and _workers(proc.pid), "the pool to start")
        os.killpg(proc.pid, signal.SIGKILL)  # the ensemble and its workers
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    _assert_nothing_finished(out, capsys)


# --- the examples of docs/SWEEPS.md ----------------------------------------------------------

def doc_examples() -> list[list[str]]:
    """Every sim-ensemble line of the doc's bash blocks."""
    import re
    import shlex

    text = (Path(__file__).resolve().parent.parent / "docs" / "SWEEPS.md").read_text()
    return [words[1:] for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
            for words in (shlex.split(line, comments=True) for line in block.splitlines())
            if words[:1] == ["sim-ensemble"]]


EXAMPLES = doc_examples()
EXAMPLE_TAIL = ["model.scale=0.02", "end=2011-01-31", "n=2", "output.figures=false", "output.progress=false"]


def test_the_doc_has_ensemble_examples():
    lines = [" ".join(a) for a in EXAMPLES]
    for needle in ("n=1000 workers=2", "-m scenario=historical_2017,truce_sustained", "+experiment="):
        assert any(needle in line for line in lines), needle


@pytest.mark.parametrize("args", EXAMPLES, ids=[" ".join(a)[:60] for a in EXAMPLES])
def test_doc_example_runs(args, tmp_path):
    proc = ensemble([*args, *EXAMPLE_TAIL], tmp_path)  # a later value wins: a tiny model, 2 seeds
    assert proc.returncode == 0, proc.stderr[-3000:]
    finished = list((tmp_path / "results" / "ensembles").rglob("runs.parquet"))
    assert finished
    for runs in finished:
        assert fastparquet.ParquetFile(str(runs)).count() == 2 * 31
        assert (runs.parent / "ensemble.csv").is_file() and (runs.parent / "params.parquet").is_file()
