"""`sim-ensemble`: n replicates of the configured scenario in one Hydra job.

    sim-ensemble n=1000 workers=2                       # seeds 0..999 of historical (2011-2024)
    sim-ensemble scenario=truce_sustained n=200 seed=1000
    sim-ensemble model.scale=0.05 end=2013-12-31 n=50
    sim-ensemble -m scenario=historical_2017,truce_sustained n=100   # one ensemble per job

Replicate r runs seed `seed + r` at the parameters of its row of params.parquet: the configured
ones, or with `posterior=NAME` (`record`: the calibration of record) a draw from that
calibration's posterior (sim/posterior.py), the same draw for row r of any scenario with the
same `seed`, so paired ensembles share seeds and parameters (common random numbers).

    sim-ensemble posterior=record n=400 scenario=historical_2017
    sim-ensemble -m posterior=record n=400 scenario=historical_2017,truce_sustained

The job's output folder (results/ensembles/<date>/<time>_<scenario>_n<n>
_seed<seed>; in a sweep results/ensembles/<date_time>/<job number>) gets, besides Hydra's
.hydra/ and ensemble.log:

* runs.parquet and params.parquet (sim/ensemble_tables.py): one row per replicate and day,
  and one row per replicate;
* ensemble.csv, fit_summary.csv and the figures (bands_, kinds_, compare_*.png) exactly as
  `sim-compare <folder>` writes them: they are made by sim/compare.py from runs.parquet.

Everything is written into a hidden staging folder and moved into place at the end, runs.parquet
last: a folder without runs.parquet is an unfinished or failed ensemble (sim-compare skips it).
Replicates run on `workers` processes ("spawn") and are written in replicate order, in row
groups of `batch` replicates, so the same command gives the same bytes for any `workers`.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import shutil
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.compose import CONF_DIR
from sim.config import Config, ConfigError, register_configs

log = logging.getLogger("sim.ensemble")

PROG = "sim-ensemble"
INT32_MAX = 2**31 - 1
SUMMARY_FILES = ("ensemble.csv", "fit_summary.csv")
FIGURE_PATTERNS = ("bands_*.png", "kinds_*.png", "compare_*.png")


# ----------------------------------------------------------------------------- config
@dataclass
class EnsembleConfig(Config):
    """sim-ensemble's whole config: the simulation (inherited) and the ensemble."""
    n: int = 100  # replicates: seeds seed .. seed+n-1
    workers: int = 2  # processes running replicates at once; 1: in this process
    batch: int = 50  # replicates per row group of runs.parquet (memory holds about one batch)
    posterior: Optional[str] = None  # draw each replicate's parameters from this calibration's posterior


def register() -> None:
    register_configs()
    ConfigStore.instance().store(group="schema", name="ensemble", node=EnsembleConfig,
                                 package="_global_")


def validate_ensemble(cfg: EnsembleConfig, changed: frozenset[str] = frozenset()) -> None:
    """Check the ensemble's own keys (the simulation is checked by sim.config.validate); keys in
    `changed` were set on the command line and may differ from the posterior's base model."""
    for key in ("n", "workers", "batch"):
        value = getattr(cfg, key)
        if value < 1:
            raise ConfigError(f"{key}: {value} is too small; accepted: an integer >= 1")
    last = cfg.seed + cfg.n - 1
    if last > INT32_MAX or cfg.seed < -INT32_MAX - 1:
        raise ConfigError(f"n: the seeds {cfg.seed}..{last} leave the int32 range of runs.parquet; "
                          f"accepted: seed + n - 1 <= {INT32_MAX}")
    if cfg.posterior is not None:  # every particle must configure: checked before any run
        from sim.config import validate
        from sim.posterior import check_base_model

        posterior = _posterior(cfg)
        check_base_model(posterior, cfg.model, changed)
        base = simulation_config(cfg)
        for particle in range(len(posterior)):
            validate(configure(base, Replicate(0, cfg.seed, posterior.overrides(particle), particle)))


def set_keys(overrides: Sequence[str]) -> frozenset[str]:
    """The keys a list of command-line overrides sets (``+a.b=1`` -> ``a.b``)."""
    return frozenset(o.split("=", 1)[0].lstrip("+~") for o in overrides if "=" in o)


def load(cfg: DictConfig, changed: frozenset[str] = frozenset()) -> EnsembleConfig:
    """The typed, validated EnsembleConfig (`changed`: the keys set on the command line)."""
    from sim.model import load_config

    typed = load_config(cfg)
    validate_ensemble(typed, changed)
    return typed


def simulation_config(cfg: Config) -> Config:
    """The plain simulation Config inside an EnsembleConfig (what the workers receive)."""
    return Config(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config)})


# ----------------------------------------------------------------------------- replicates
@dataclass(frozen=True)
class Replicate:
    """One run of the ensemble: its row number, its seed, and the parameter values where it
    differs from cfg.model (dotted keys such as model.border.kill_rate)."""
    index: int
    seed: int
    overrides: Mapping[str, float] = field(default_factory=dict)
    particle: int | None = None  # the posterior particle drawn, if any


def _posterior(cfg: EnsembleConfig):
    from sim.posterior import load_posterior

    return load_posterior(cfg.posterior)


def replicates(cfg: EnsembleConfig, fixed: frozenset[str] = frozenset()) -> list[Replicate]:
    """Seeds seed .. seed+n-1, at the configured parameters or at draws from the posterior;
    a key in `fixed` (set on the command line, e.g. the value a sweep varies) keeps its
    configured value instead of the draw's."""
    if cfg.posterior is None:
        return [Replicate(r, cfg.seed + r) for r in range(cfg.n)]
    from sim.posterior import draw_indices

    posterior = _posterior(cfg)
    draws = draw_indices(posterior, cfg.seed, range(cfg.n))
    return [Replicate(r, cfg.seed + r, {k: v for k, v in posterior.overrides(int(i)).items() if k not in fixed},
                      int(i)) for r, i in enumerate(draws)]


def _replace(node: Any, path: list[str], value: Any, key: str) -> Any:
    names = {f.name for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else set()
    if path[0] not in names:
        raise ConfigError(f"{key}: unknown parameter; accepted: a numeric leaf of model")
    if len(path) == 1:
        return dataclasses.replace(node, **{path[0]: value})
    return dataclasses.replace(node, **{path[0]: _replace(getattr(node, path[0]), path[1:], value, key)})


def configure(base: Config, replicate: Replicate) -> Config:
    """The replicate's config: the base with its seed and parameter overrides (a lever size,
    model.magnitudes.*, reaches the policy levers that take it: sim.magnitudes)."""
    import copy

    model = base.model
    magnitudes = {}
    for key, value in replicate.overrides.items():
        parts = key.split(".")
        if parts[0] != "model" or len(parts) < 2 or key == "model.scale":
            # readers turn counts into national units with the job's model.scale
            raise ConfigError(f"{key}: not a replicate parameter; accepted: a key under model. "
                              "other than model.scale")
        if parts[1] == "magnitudes" and len(parts) == 3:
            _replace(model, parts[1:], value, key)  # checks the name
            magnitudes[parts[2]] = value
            continue
        model = _replace(model, parts[1:], value, key)
    cfg = dataclasses.replace(base, seed=replicate.seed, model=model)
    if magnitudes:  # the policies change too: a copy, so that the base stays as it was
        from sim.magnitudes import set_magnitude

        cfg = dataclasses.replace(cfg, model=copy.deepcopy(cfg.model), policies=copy.deepcopy(cfg.policies))
        for name, value in magnitudes.items():
            set_magnitude(cfg, name, value)
    return cfg


def simulate(base: Config, replicate: Replicate) -> tuple[dict, dict]:
    """Run one replicate: its daily table as compact columns and the numeric leaves of the
    model config it ran with (the row of params.parquet)."""
    from sim.ensemble_tables import compact_columns, numeric_leaves
    from sim.model import GangViolenceModel

    model = GangViolenceModel(configure(base, replicate))
    frame = model.run()
    return compact_columns(frame), numeric_leaves(model.cfg.model)


_BASE: Config | None = None  # a worker's simulation config, sent once by the initializer


def _init_worker(base: Config) -> None:
    import gc

    import sim.ensemble_tables  # noqa: F401  (imported now, before the freeze below)
    import sim.model  # noqa: F401

    global _BASE
    _BASE = base
    logging.getLogger("MESA").setLevel(logging.WARNING)
    # the modules' objects live as long as the worker: out of the collector's sight, so that
    # collecting each replicate's garbage (its agents and cells) does not walk them again
    gc.freeze()


def _simulate_in_worker(replicate: Replicate) -> tuple[dict, dict]:
    return simulate(_BASE, replicate)


def results(base: Config, reps: list[Replicate], workers: int) -> Iterator[tuple[Replicate, tuple[dict, dict]]]:
    """Each replicate with its result, in replicate order, at most 2 x workers ahead."""
    def failed(rep: Replicate, exc: BaseException) -> RuntimeError:
        return RuntimeError(f"replicate {rep.index} (seed {rep.seed}) failed: {type(exc).__name__}: {exc}")

    if workers == 1:
        for rep in reps:
            try:
                yield rep, simulate(base, rep)
            except Exception as exc:
                raise failed(rep, exc) from exc
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: no fork of a process that already runs threads (tqdm's monitor, the pool's own)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(base,))
    queue = iter(reps)
    pending = deque((rep, pool.submit(_simulate_in_worker, rep))
                    for rep in itertools.islice(queue, 2 * workers))
    try:
        while pending:
            rep, future = pending.popleft()
            try:
                result = future.result()
            except Exception as exc:
                raise failed(rep, exc) from exc
            pending.extend((nxt, pool.submit(_simulate_in_worker, nxt)) for nxt in itertools.islice(queue, 1))
            yield rep, result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- the ensemble
def _outputs(out: Path) -> list[Path]:
    """A previous ensemble's outputs in this folder, runs.parquet (the marker) first."""
    from sim.ensemble_tables import PARAMS, RUNS

    found = [out / RUNS, out / PARAMS, *(out / name for name in SUMMARY_FILES)]
    found += [p for pattern in FIGURE_PATTERNS for p in sorted(out.glob(pattern))]
    return [p for p in found if p.is_file()]


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through the clean-up below, unlike the default


def run_ensemble(cfg: EnsembleConfig, out: Path, progress: bool = True, label: str = "",
                 fixed: frozenset[str] = frozenset()) -> dict:
    """Run the ensemble and write its outputs into `out` (see the module docstring)."""
    import numpy as np
    from tqdm import tqdm

    from sim.compare import DEFAULT_SERIES, add_jobs, coverage_line, group_label, replicate_jobs, write_summary
    from sim.ensemble_tables import PARAMS, RUNS, RunsWriter, write_params
    from sim.model import SERIES
    from sim.reported import load_reported

    t0 = time.perf_counter()
    figures = load_reported()  # before the runs: a broken reported.csv should not cost them
    reps = replicates(cfg, fixed)
    workers = min(cfg.workers, len(reps))
    base = simulation_config(cfg)
    out.mkdir(parents=True, exist_ok=True)
    for old in _outputs(out):  # Hydra has just rewritten .hydra/: older outputs would not match it
        old.unlink()
    stage = out / f".ensemble.{os.getpid()}.partial"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (a notebook's worker thread): keep the default
        previous = None
    desc = f"{label + ': ' if label else ''}{cfg.scenario.name} n={cfg.n}"
    bar = tqdm(total=len(reps), unit="run", desc=desc, disable=not progress, mininterval=0.5,
               file=sys.stderr, dynamic_ncols=True)
    try:
        params = []
        stream = results(base, reps, workers)
        try:
            with RunsWriter(stage / RUNS, cfg.batch) as writer:
                for rep, (columns, leaves) in stream:
                    if rep.index == 0:
                        missing = [s for s in (*SERIES, "policies") if s not in columns]
                        if missing:
                            raise RuntimeError(f"the model's daily table has no {', '.join(missing)}")
                    writer.add(rep.index, rep.seed, columns)
                    if rep.particle is not None:
                        leaves = {"posterior_particle": (int, rep.particle), **leaves}
                    params.append((rep.index, rep.seed, leaves))
                    bar.update()
        finally:
            stream.close()  # stops the pool at once if the loop failed
        bar.close()
        write_params(stage / PARAMS, params)
        simulated = time.perf_counter() - t0

        jobs = replicate_jobs(stage / RUNS, group_label(cfg.scenario.name, {}), cfg.model.scale,
                              np.datetime64(cfg.start, "D"), np.datetime64(cfg.end, "D"),
                              DEFAULT_SERIES, figures, path=out)
        groups: dict = {}
        add_jobs(groups, jobs)
        del jobs
        summaries = write_summary(groups, DEFAULT_SERIES, figures, stage, draw=cfg.output.figures)
        size = (stage / RUNS).stat().st_size
        for path in sorted(stage.iterdir()):  # runs.parquet last: it marks a finished ensemble
            if path.name != RUNS:
                os.replace(path, out / path.name)
        os.replace(stage / RUNS, out / RUNS)
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(stage, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    for s in summaries:
        print(coverage_line(s))
    print(f"{cfg.scenario.name}, seeds {reps[0].seed}..{reps[-1].seed}, scale {cfg.model.scale}: "
          f"{len(reps)} replicates on {workers} worker{'s' if workers > 1 else ''} in {elapsed:.1f} s "
          f"({simulated:.1f} s simulating); {RUNS} {size / 1e6:.2f} MB")
    print(f"outputs in {out}")
    return {"replicates": len(reps), "workers": workers, "seconds": elapsed,
            "simulation_seconds": simulated, "runs_bytes": size}


# ----------------------------------------------------------------------------- CLI
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="ensemble")
def app(cfg: DictConfig) -> float:
    from sim.run import _job_label

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step under Hydra
    hc = HydraConfig.get()
    # a key set on the command line (or by the sweep of this job) wins over a posterior's draw
    fixed = set_keys(hc.overrides.task)
    typed = load(cfg, fixed)
    job = _job_label(hc)
    if job:
        log.info(job)
    log.info("overrides: %s", " ".join(hc.overrides.task) or "(none)")
    log.info("%d replicates, seeds %d..%d, %d workers", typed.n, typed.seed, typed.seed + typed.n - 1,
             typed.workers)
    if typed.posterior is not None:
        held = sorted(fixed & set(_posterior(typed).keys))
        if held:
            log.info("posterior keys held at their configured values: %s", ", ".join(held))
    result = run_ensemble(typed, Path(hc.runtime.output_dir), progress=typed.output.progress, label=job,
                          fixed=fixed)
    return float(result["seconds"])


def check(overrides: list[str]) -> None:
    """Compose and validate before Hydra creates any output folder."""
    from sim.compose import compose

    from sim.reported import check_reported

    register()
    load(compose(overrides, config_name="ensemble"), set_keys(overrides))
    check_reported()  # the summary compares with them: a broken file must not cost the runs


def _jobs(overrides: list[str]) -> list[list[str]]:
    """The overrides of each job of a command-line sweep (a,b  range(3)), to check them all
    before the first runs; [] if the sweep cannot be expanded here (glob: left to Hydra)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        if any(o.is_sweep_override() and o.value_type is not None and "GLOB" in str(o.value_type)
               for o in parsed):
            return []
        return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
    except Exception:  # noqa: BLE001 - a syntax error: check the line as it is, to report it
        return [overrides]


def main() -> None:
    from sim.run import _sweeps, precheck

    register()
    args = sys.argv[1:]
    flags = [a for a in args if a.startswith("-")]
    overrides = [a for a in args if not a.startswith("-")]
    if not flags and not _sweeps(overrides):
        precheck(PROG, check, overrides)
    elif set(flags) <= {"-m", "--multirun"}:  # every job of the sweep, before the first starts
        for job in _jobs(overrides):
            precheck(PROG, check, job)
    try:
        app()
    except KeyboardInterrupt:  # the staging folder is gone already (run_ensemble's finally)
        print(f"{PROG}: interrupted; no finished output written", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    # Through the importable module, so that the workers unpickle sim.ensemble's functions
    # rather than those of a __main__ they do not have.
    from sim.ensemble import main as _main

    _main()
