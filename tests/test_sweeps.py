"""Sweeps through the real sim-run: job folders, launchers that agree (basic, joblib, Ray),
presets, and the sweep examples of docs/SWEEPS.md. Tiny models (3% scale, a few weeks)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SIM_RUN = shutil.which("sim-run", path=str(BIN)) or shutil.which("sim-run") or "sim-run"
TINY = ["model.scale=0.03", "end=2011-02-28", "output.figures=false"]
GRID = ["scenario=steady_baseline,steady_mano_dura", "seed=0,1"]  # 4 jobs, 4 different runs
# Ray stays on the loopback interface (it would otherwise advertise the machine's address) and
# without token authentication (Ray 2.60 turns it on).
ENV = {"PYTHONHASHSEED": "0", "RAY_AUTH_MODE": "disabled",
       "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
SWEEP_DIR_NAME = re.compile(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d{6}")


def env(**extra: str) -> dict:
    out = {k: v for k, v in os.environ.items() if k not in ("SIM_JOBS", "RAY_ADDRESS")}
    return {**out, **ENV, **extra}


def sim_run(args: list[str], cwd: Path, timeout: float = 300, **extra: str):
    proc = subprocess.run([SIM_RUN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env(**extra))
    assert proc.returncode == 0, f"sim-run {' '.join(args)}\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


def job_dirs(sweep: Path) -> list[Path]:
    return sorted((p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit()),
                  key=lambda p: int(p.name))


def job_key(job: Path) -> tuple[str, ...]:
    """A job's identity: its overrides (as in .hydra/overrides.yaml), in sorted order."""
    return tuple(sorted(str(o) for o in OmegaConf.load(job / ".hydra" / "overrides.yaml")))


def outputs(sweep: Path) -> dict[tuple[str, ...], bytes]:
    return {job_key(j): (j / "timeseries.csv").read_bytes() for j in job_dirs(sweep)}


def only_sweep(cwd: Path) -> Path:
    sweeps = list((cwd / "results" / "sweeps").iterdir())
    assert len(sweeps) == 1, sweeps
    return sweeps[0]


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory) -> Path:
    """2 scenarios x 2 seeds with Hydra's basic launcher (one job after another)."""
    cwd = tmp_path_factory.mktemp("basic")
    sim_run(["-m", *GRID, *TINY, f"hydra.sweep.dir={cwd / 'sweep'}"], cwd)
    return cwd / "sweep"


# --- (a) layout -----------------------------------------------------------------------------

def test_sweep_layout_one_folder_per_job(basic_sweep):
    assert (basic_sweep / "multirun.yaml").stat().st_size > 0
    jobs = job_dirs(basic_sweep)
    assert [j.name for j in jobs] == ["0", "1", "2", "3"]
    seen = set()
    for job in jobs:
        for name in ("timeseries.csv", "fit.json", "run.log", ".hydra/config.yaml",
                     ".hydra/hydra.yaml", ".hydra/overrides.yaml"):
            assert (job / name).stat().st_size > 0, f"{job.name}/{name}"
        cfg = OmegaConf.load(job / ".hydra" / "config.yaml")
        key = job_key(job)
        assert f"seed={cfg.seed}" in key and f"scenario={cfg.scenario.name}" in key
        log = (job / "run.log").read_text()  # the job's own log: its overrides and its seed
        assert re.search(rf"overrides: .*scenario={cfg.scenario.name}\b.*seed={cfg.seed}\b", log)
        assert f"seed: {cfg.seed}" in log
        seen.add(key)
    assert len(seen) == 4
    runs = outputs(basic_sweep)
    assert len(set(runs.values())) == 4  # all four runs differ: the comparisons below mean something


def test_two_sweeps_started_together_get_their_own_folders(tmp_path):
    args = [SIM_RUN, "-m", "seed=0", "model.scale=0.03", "end=2011-01-05", "output.figures=false"]
    procs = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=env()) for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    sweeps = sorted((tmp_path / "results" / "sweeps").iterdir())
    assert len(sweeps) == 2
    for sweep in sweeps:
        assert SWEEP_DIR_NAME.fullmatch(sweep.name), sweep.name
        assert [j.name for j in job_dirs(sweep)] == ["0"]
        assert (sweep / "0" / "timeseries.csv").exists() and (sweep / "multirun.yaml").exists()


# --- (b) joblib -----------------------------------------------------------------------------

def test_joblib_gives_the_same_outputs_as_the_basic_launcher(basic_sweep, tmp_path):
    proc = sim_run(["-m", "hydra/launcher=joblib_local", "hydra.launcher.n_jobs=2", *GRID, *TINY,
                    f"hydra.sweep.dir={tmp_path / 'sweep'}"], tmp_path)
    assert "Joblib.Parallel(n_jobs=2" in proc.stdout
    assert outputs(tmp_path / "sweep") == outputs(basic_sweep)


# --- (c) Ray --------------------------------------------------------------------------------

def _ray_or_skip() -> None:
    pytest.importorskip("ray", reason="ray is not installed: pip install -e '.[sweep]'")
    pytest.importorskip("hydra_plugins.hydra_ray_launcher.ray_launcher",
                        reason="hydra-ray-launcher is not installed: pip install -e '.[sweep]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head():
    """A real one-node Ray cluster on the loopback interface, as `ray start --head` makes it.

    It runs in the foreground (--block) in its own process group, in a temp dir of its own, and
    is stopped by signalling that group: `ray stop --force` would kill every Ray on the machine.
    """
    _ray_or_skip()
    ray_bin = shutil.which("ray", path=str(BIN)) or shutil.which("ray")
    if ray_bin is None:
        pytest.skip("the ray command is not installed")
    temp = Path(tempfile.mkdtemp(prefix="ray"))  # short: Ray's socket paths must stay < 108 chars
    (temp / "cwd").mkdir()
    port = _free_port()
    log = open(temp / "head.log", "w")
    head = subprocess.Popen(
        [ray_bin, "start", "--head", f"--port={port}", "--num-cpus=2", "--disable-usage-stats",
         "--include-dashboard=false", "--node-ip-address=127.0.0.1", f"--temp-dir={temp}",
         f"--ray-client-server-port={_free_port()}",
         f"--dashboard-agent-listen-port={_free_port()}",
         "--block"],
        cwd=temp / "cwd", stdout=log, stderr=subprocess.STDOUT, env=env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in (temp / "head.log").read_text():
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ray start --head failed:\n" + (temp / "head.log").read_text()[-3000:])
            time.sleep(0.5)
        yield {"address": f"127.0.0.1:{port}", "cwd": temp / "cwd"}
    finally:  # SIGTERM lets Ray drain (it may take 30 s); SIGKILL ends what is left of the group
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                break
            try:
                head.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_cluster_gives_the_same_outputs_as_the_basic_launcher(basic_sweep, ray_head, tmp_path):
    # default sweep folder: the jobs run in the Ray workers' directory (ray_head["cwd"]), yet
    # write under the directory sim-run was started in
    proc = sim_run(["-m", "hydra/launcher=ray_cluster", *GRID, *TINY], tmp_path,
                   RAY_ADDRESS=ray_head["address"])
    assert f"'address': '{ray_head['address']}'" in proc.stdout
    assert "'object_store_memory': None" in proc.stdout
    sweep = only_sweep(tmp_path)
    assert [j.name for j in job_dirs(sweep)] == ["0", "1", "2", "3"]
    assert outputs(sweep) == outputs(basic_sweep)
    assert not (ray_head["cwd"] / "results").exists()


# --- (d) presets ----------------------------------------------------------------------------

PRESETS = {
    "compare_policies": ({"steady_baseline", "steady_truce", "steady_truce_erosion",
                          "steady_mano_dura", "steady_prison_isolation", "steady_ceasefire"}, 5),
    "seeds": ({"historical_2017"}, 20),
    "counterfactuals": ({"historical_2017", "truce_sustained", "no_isolation", "no_truce"}, 10),
}


def _compose(overrides: list[str]):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.compose import CONF_DIR
    from sim.config import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=overrides, return_hydra_config=True)


def _jobs_of(params) -> list[list[str]]:
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_composes_as_a_sweep(name):
    scenarios, n_seeds = PRESETS[name]
    cfg = _compose([f"+experiment={name}"])
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    jobs = _jobs_of(cfg.hydra.sweeper.params)
    assert len(jobs) == len(scenarios) * n_seeds
    assert {o.split("=")[1] for job in jobs for o in job if o.startswith("scenario=")} == scenarios
    assert {o for job in jobs for o in job if o.startswith("seed=")} == {
        f"seed={s}" for s in range(n_seeds)}
    for scenario in scenarios:  # every scenario named exists
        assert _compose([f"scenario={scenario}"]).scenario.name == scenario


LAUNCHERS = {
    "joblib_local": {"n_jobs": 2},
    "joblib": {"n_jobs": -1},
    "ray_local": {"ray": {"init": {"address": "local", "num_cpus": 2}, "remote": {"num_cpus": 1}}},
    "ray_cluster": {"ray": {"init": {"address": "auto", "object_store_memory": None}}},
}


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_launcher_configs_compose(name):
    if name.startswith("ray"):
        _ray_or_skip()
    launcher = OmegaConf.to_container(_compose([f"hydra/launcher={name}"]).hydra.launcher,
                                      resolve=True)
    want = LAUNCHERS[name]

    def sub(have, want):
        return all(sub(have[k], v) if isinstance(v, dict) else have[k] == v
                   for k, v in want.items())

    assert sub(launcher, want), launcher
    assert launcher["_target_"].startswith("hydra_plugins.")


def test_seeds_preset_runs_without_dash_m(tmp_path):
    sim_run(["+experiment=seeds", 'hydra.sweeper.params.seed="range(2)"', *TINY,
             f"hydra.sweep.dir={tmp_path / 'sweep'}"], tmp_path)
    jobs = job_dirs(tmp_path / "sweep")
    assert [j.name for j in jobs] == ["0", "1"]
    for seed, job in enumerate(jobs):
        assert {"+experiment=seeds", "scenario=historical_2017", f"seed={seed}"} <= set(job_key(job))


# --- (e) the examples of docs/SWEEPS.md ------------------------------------------------------

def doc_examples() -> list[tuple[dict, list[str]]]:
    """Every sim-run line of the doc's bash blocks, with the variables exported before it."""
    text = (ROOT / "docs" / "SWEEPS.md").read_text()
    examples = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        exported: dict[str, str] = {}
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["export"]:
                exported.update(w.split("=", 1) for w in words[1:])
                continue
            local = dict(exported)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                local.update([words.pop(0).split("=", 1)])
            if words[:1] == ["sim-run"]:
                examples.append((local, words[1:]))
    return examples


EXAMPLES = doc_examples()
# Appended to each example: a tiny model, a short window, and one seed (a later override wins),
# so that an example runs at most 6 jobs.
EXAMPLE_TAIL = ["model.scale=0.03", "end=2011-01-10", "output.figures=false", "seed=0"]


def test_the_doc_has_examples_of_every_kind():
    lines = [" ".join(args) for _, args in EXAMPLES]
    for needle in ("-m ", "+experiment=seeds", "+experiment=compare_policies",
                   "+experiment=counterfactuals", "hydra/launcher=joblib_local",
                   "hydra/launcher=ray_local", "hydra/launcher=ray_cluster"):
        assert any(needle in line for line in lines), needle


@pytest.mark.parametrize("variables,args", EXAMPLES,
                         ids=[" ".join(a)[:70] for _, a in EXAMPLES])
def test_doc_example_runs(variables, args, tmp_path, request):
    variables = dict(variables)
    if any("ray_" in a for a in args):
        _ray_or_skip()
    if "<head-ip>" in variables.get("RAY_ADDRESS", ""):
        head = request.getfixturevalue("ray_head")
        variables["RAY_ADDRESS"] = variables["RAY_ADDRESS"].replace(
            "<head-ip>:6379", head["address"])
    variables = {**variables, **ENV}  # this machine: Ray on loopback, no token
    ray_tmp = tempfile.mkdtemp(prefix="ray")  # a local Ray's session files, not /tmp/ray
    try:
        sim_run([*args, *EXAMPLE_TAIL], tmp_path, RAY_TMPDIR=ray_tmp, **variables)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    sweep = only_sweep(tmp_path)
    jobs = job_dirs(sweep)
    assert jobs and (sweep / "multirun.yaml").exists()
    for job in jobs:
        assert (job / "timeseries.csv").exists() and (job / "run.log").exists()
