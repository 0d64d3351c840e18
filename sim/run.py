"""`sim-run`: run a scenario and write timeseries.csv, fit.json and figures (a Hydra app).

    sim-run                                   # historical: 2011-2024, national scale, seed 0
    sim-run scenario=historical_2017          # 2011-2017, the years of the reported figures
    sim-run scenario=truce_sustained seed=3
    sim-run model.scale=0.05 end=2013-12-31 model.border.kill_rate=2e-4
    sim-run -m scenario=historical_2017,no_isolation seed='range(5)'
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Callable

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.compose import CONF_DIR
from sim.config import ConfigError, register_configs

log = logging.getLogger("sim.run")


class FigureWorker:
    """A process forked when sim-run starts, to use the second core while this one imports the
    model (about 1.5 s) and runs it: it checks the overrides first (composes and validates
    them: check()), then imports matplotlib and draws the figures it is sent, on two cores
    (sim.figures.draw_all). Without fork or a second core there is no worker, and the check
    and the figures are done here."""

    def __init__(self, args: list[str]) -> None:
        import multiprocessing
        import os

        self._conn = self._pid = None
        self._args = args
        if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return
        # A bare fork, not multiprocessing.Process: the worker forks drawers of its own, and it
        # must not be joined at exit by a process that failed before sending it anything.
        self._conn, child = multiprocessing.Pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self._pid = os.fork()
        if self._pid == 0:
            self._conn.close()
            code = 1
            try:
                _serve(child, args)
                code = 0
            finally:
                os._exit(code)
        child.close()

    def check(self) -> tuple[bool, object]:
        """The check of the overrides: a config error is one line and exit code 2 (precheck).
        Returns (known, mode): the composed hydra.mode (None, RUN or MULTIRUN) when the worker
        read it, else (False, None)."""
        if self._conn is None:
            precheck("sim-run", check, self._args)
            return False, None
        try:
            error, mode = self._conn.recv()
        except EOFError:  # the worker died: check here
            self._conn = None
            precheck("sim-run", check, self._args)
            return False, None
        if error:
            print(f"sim-run: config error: {error}", file=sys.stderr)
            sys.exit(2)
        return True, mode

    def draw(self, jobs: list[tuple[str, tuple, dict]]) -> None:
        """Draw `(function name in sim.figures, args, kwargs)` jobs; raise if one fails."""
        if self._conn is None:
            _draw(jobs)
            return
        self._conn.send(jobs)
        failure = self._conn.recv()
        if failure:
            raise RuntimeError(f"drawing the figures failed:\n{failure}")

    def close(self) -> None:
        """Let the worker end (it ends on its own too when this process does)."""
        if self._conn is not None:
            import os

            self._conn.close()
            os.waitpid(self._pid, 0)
            self._conn = None


def _serve(conn, args: list[str]) -> None:
    """The worker: the check's verdict ('' or the one-line error) with the composed hydra.mode,
    then the figures."""
    import traceback

    try:
        mode = check(args)
        conn.send(("", mode))
    except Exception as exc:  # noqa: BLE001 - every config failure becomes one line
        conn.send((_one_line(exc), None))
        return
    import sim.figures  # noqa: F401 - the import is the point: done while the model runs

    try:
        jobs = conn.recv()
    except EOFError:  # no figures wanted (output.figures=false)
        return
    try:
        _draw(jobs)
        conn.send("")
    except Exception:  # noqa: BLE001 - reported to sim-run, which raises it
        conn.send(traceback.format_exc())


def _draw(jobs: list[tuple[str, tuple, dict]]) -> None:
    from sim import figures

    figures.draw_all([(getattr(figures, name), args, kwargs) for name, args, kwargs in jobs])


def run_and_write(cfg: DictConfig, out: Path, progress: bool = True, label: str = "",
                  figure_worker: FigureWorker | None = None) -> dict:
    """Run the configured scenario and write its outputs into `out`. Returns the fit dict."""
    from tqdm import tqdm

    from sim.io import write_csv
    from sim.model import GangViolenceModel
    from sim.observation import compare, write_fit_json

    t0 = time.perf_counter()
    tqdm.monitor_interval = 0  # no monitor thread: the figures may be drawn in forked processes
    model = GangViolenceModel(cfg)
    desc = f"{label + ': ' if label else ''}{model.cfg.scenario.name} seed {model.cfg.seed}"
    bar = tqdm(total=model.n_days, unit="day", desc=desc, disable=not progress, mininterval=0.5,
               file=sys.stderr)
    done = [0]

    def advance(steps: int) -> None:
        if steps - done[0] >= 30 or steps == model.n_days:
            bar.update(steps - done[0])
            done[0] = steps

    df = model.run(progress=advance)
    bar.close()
    elapsed = time.perf_counter() - t0
    fit = compare(df, scale=model.scale)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(df, out / "timeseries.csv")
    write_fit_json(fit, out / "fit.json")
    if model.cfg.output.figures:
        model.update_layers()
        police, army = model.unit_positions()
        # longest first (about 0.6, 0.5, 0.25 and 0.2 s), so that the two drawers finish
        # together: the two short ones follow the two long ones
        jobs = [
            ("plot_territory_change", (model.territory_snapshots, model.grid.density.data,
                                       model.grid.changes.data, df,
                                       out / "territory_change.png"), {"scale": model.scale}),
            ("plot_trajectory", (df, fit, out / "trajectory.png"), {"scale": model.scale}),
            ("plot_territory", (model.grid.gang.data, model.grid.violence.data,
                                model.grid.population.data, police, out / "territory.png"),
             {"army_xy": army, "date": df.date.iloc[-1]}),
            ("plot_kinds", (df, out / "homicides_by_kind.png"), {"scale": model.scale})]
        if figure_worker is None:
            _draw(jobs)
        else:
            figure_worker.draw(jobs)
    print(fit.table())
    print(f"{model.cfg.scenario.name}, seed {model.cfg.seed}, scale {model.scale}: "
          f"{len(df)} days simulated in {elapsed:.1f} s; score {fit.score:.3f}")
    print(f"outputs in {out}")
    return fit.to_dict()


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def app(cfg: DictConfig) -> float:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step under Hydra
    hc = HydraConfig.get()
    _RUN_MODE[:] = [hc.mode]
    out = Path(hc.runtime.output_dir)
    job = _job_label(hc)
    if job:
        log.info(job)
    log.info("overrides: %s", " ".join(hc.overrides.task) or "(none)")
    log.info("seed: %s", cfg.seed)
    # A preset may turn a command without -m into a sweep: the worker serves one run only.
    worker = None if job else _FIGURE_WORKER
    fit = run_and_write(cfg, out, progress=cfg.output.progress, label=job, figure_worker=worker)
    score = fit["score"]
    return float("nan") if score is None else float(score)  # no figure in the window: nan


def _sweep_size(hc) -> int | None:
    """How many jobs this sweep has, from the multirun.yaml the sweeper writes before any job
    starts (its sweeper params plus the command-line overrides); None outside a sweep."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    if hc.mode != RunMode.MULTIRUN:
        return None
    try:
        master = OmegaConf.load(Path(hc.sweep.dir) / "multirun.yaml")
        params = master.hydra.sweeper.get("params") or {}
        args = [f"{k}={v}" for k, v in params.items()] + list(master.hydra.overrides.task)
        overrides = OverridesParser.create().parse_overrides(args)
        return sum(len(batch) for batch in BasicSweeper.split_arguments(overrides, None))
    except Exception:  # noqa: BLE001 - another sweeper, or no multirun.yaml: no total
        return None


def _job_label(hc) -> str:
    """'job 3/60' (0-based number, as the job folder) in a sweep, '' in a single run."""
    from hydra.types import RunMode

    if hc.mode != RunMode.MULTIRUN:
        return ""
    total = _sweep_size(hc)
    return f"job {hc.job.num}/{total}" if total else f"job {hc.job.num}"


def _sweeps(args: list[str]) -> bool:
    """True if an override sweeps (a,b  range(5)  glob(*)): only multirun mode accepts it, so it
    cannot be pre-validated as a single run (presets with hydra.mode=MULTIRUN take these)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return any(o.is_sweep_override() for o in OverridesParser.create().parse_overrides(args))
    except Exception:  # noqa: BLE001 - a syntax error is reported by check()
        return False


_TYPES = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}


def _accepted_by_omegaconf(msg: str, key: str) -> str:
    """What is accepted, for the messages OmegaConf gives about a value it will not take."""
    import dataclasses
    import re

    from sim import config
    from sim.compose import options

    found = re.search(r"converted to (\w+)", msg)
    if found:
        return _TYPES.get(found.group(1), found.group(1))
    if "is not a valid bool" in msg:
        return _TYPES["Boolean"]
    if "is not Optional" in msg:
        return "a value (null is not accepted here)"
    if "does not support deletion" in msg:
        return "a new value (key=value); a key of the schema cannot be deleted"
    found = re.search(r"is not a subclass of (\w+)", msg)
    schema = getattr(config, found.group(1), None) if found else None
    if dataclasses.is_dataclass(schema):  # a section or a list item set to a plain value
        keys = ", ".join(f.name for f in dataclasses.fields(schema))
        return (f"an item that exists, with keys {keys}" if key.endswith("]") else
                f"{key}.<key>=value with a key of {keys}")
    if "is not in struct" in msg and key.startswith("policies."):
        return f"a policy of conf/policy/: {', '.join(options('policy'))}"
    return "a key that exists and a value of its type (sim-run --cfg job shows them)"


def _one_line(exc: BaseException) -> str:
    """A config error as one line that names the key and what is accepted."""
    import dataclasses
    import re

    import yaml
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    from sim import config
    from sim.compose import options

    seen = exc
    while seen is not None:
        if isinstance(seen, ConfigError):
            return str(seen)
        if isinstance(seen, yaml.MarkedYAMLError) and seen.problem_mark is not None:
            mark = seen.problem_mark  # 0-based line and column
            return (f"{_shown(mark.name)}: line {mark.line + 1}, column {mark.column + 1}: "
                    f"{seen.problem or seen.context}; accepted: a valid YAML file")
        if isinstance(seen, OverrideParseException):
            key = seen.override.split("=")[0] or seen.override
            return (f"{key}: '{seen.override}' is not an override ({str(seen).splitlines()[0]}); "
                    "accepted: key=value, quoting a value with special characters")
        if isinstance(seen, MissingConfigException):
            found = re.search(r"Could not find '([^/']+)/([^']+)'", str(seen))
            if found:
                group, name = found.groups()
                return f"{group}: '{name}' is unknown; accepted: {', '.join(options(group))}"
        if isinstance(seen, OmegaConfBaseException) and getattr(seen, "full_key", None):
            msg = str(seen).splitlines()[0]
            found = re.search(r"Key '\w+' not in '(\w+)'", msg)
            if found:
                # The dataclass the key is missing from: any app's schema, not only sim.config's.
                schema = getattr(seen, "object_type", None)
                if not dataclasses.is_dataclass(schema):
                    schema = getattr(config, found.group(1), None)
                keys = [f.name for f in dataclasses.fields(schema)] if schema else []
                return f"{seen.full_key}: unknown key; accepted: {', '.join(keys) or msg}"
            return (f"{seen.full_key}: {msg}; accepted: "
                    f"{_accepted_by_omegaconf(msg, seen.full_key)}")
        seen = seen.__cause__ or seen.__context__
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{first}; accepted: key=value overrides of the keys `sim-run --cfg job` shows"


def _shown(path: str) -> str:
    """A file of the project as a path from its root (conf/..., sim/...), others as given."""
    try:
        return str(Path(path).resolve().relative_to(CONF_DIR.parent))
    except ValueError:
        return path


def check(overrides: list[str]):
    """Compose and validate before Hydra creates any output folder: what load_config does with
    a composed config, without importing sim.model (Mesa, numba, pandas), which the run
    imports meanwhile (FigureWorker). Returns the composed hydra.mode (None unless a preset or
    an override sets it), which decides between a run and a sweep."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import open_dict

    from sim.config import validate
    from sim.reported import check_reported

    register_configs()
    GlobalHydra.instance().clear()
    # the config sim.compose.compose gives, composed with Hydra's own node (then dropped, as
    # compose drops it) so that the mode is read from the same composition
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    GlobalHydra.instance().clear()
    mode = cfg.hydra.mode
    with open_dict(cfg):
        del cfg["hydra"]
    validate(OmegaConf.to_object(cfg))
    check_reported()  # the run is compared with them once it is finished
    return mode


def precheck(prog: str, check_args: Callable[[list[str]], None], args: list[str],
             describe: Callable[[BaseException], str] = None) -> None:
    """Run an app's config check before Hydra creates any output folder: a failure becomes one
    line naming the key and what is accepted (`describe`, default _one_line), and exit code 2.
    Shared by sim-run, sim-calibrate and sim-sensitivity."""
    try:
        check_args(args)
    except Exception as exc:  # noqa: BLE001 - every config failure becomes one line
        print(f"{prog}: config error: {(describe or _one_line)(exc)}", file=sys.stderr)
        sys.exit(2)


_FIGURE_WORKER: FigureWorker | None = None  # a single run's, started by main()
_RUN_MODE: list = []  # the mode Hydra ran the app in (RUN or MULTIRUN), set by app()


def main() -> None:
    global _FIGURE_WORKER
    register_configs()
    args = sys.argv[1:]
    flags = [a for a in args if a.startswith("-")]
    single = not flags and not _sweeps(args)
    program = _is_the_program()
    if single and program:
        # A process that ends with the run: the worker takes the check and the figures, the
        # collector stays off (import-time collections cost about 0.3 s; the run makes little
        # cyclic garbage) and the process ends without tearing its modules down.
        import gc

        gc.disable()
        _FIGURE_WORKER = FigureWorker(args)
        import sim.model  # imported while the worker checks the overrides

        sim.model.preload_kernels()  # and the kernels loaded, instead of waiting for the check
        known, mode = _FIGURE_WORKER.check()
        if known:
            _skip_mode_composition(mode)
    elif single:  # single runs are checked up front; sweeps job by job
        precheck("sim-run", check, args)
    app()
    if single and program:
        _FIGURE_WORKER.close()
        from hydra.types import RunMode

        if _RUN_MODE == [RunMode.RUN]:  # a sweep's launcher may still have work at exit
            _exit_now()


def _skip_mode_composition(mode) -> None:
    """Hydra composes the whole config twice, the first time (Hydra.get_mode, about 0.3 s) only
    to read hydra.mode; the worker's check has read it from the same overrides. Only for a
    process that ends with its run (main's single-run path)."""
    from hydra._internal.hydra import Hydra

    Hydra.get_mode = lambda self, config_name, overrides: mode


def _is_the_program() -> bool:
    """True when this process is `sim-run` or `python -m sim.run`, which end when main() returns;
    False when main() is called from other code (tests), which then runs as any function."""
    entry = sys.modules.get("__main__")
    spec = getattr(entry, "__spec__", None)
    return (spec is not None and spec.name == "sim.run") or \
        Path(getattr(entry, "__file__", None) or "").name == "sim-run"


def _exit_now() -> None:
    """End a finished single run without tearing down its modules one by one (numba, Mesa,
    pandas: about 0.5 s). Everything it wrote is closed and renamed into place already."""
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
