"""`sim-calibrate`: fit the free mechanism parameters to the reported figures (a Hydra app).

    sim-calibrate                                  # conf/calibration/default.yaml: Optuna TPE
    sim-calibrate calibration=abc budget=2000      # an ABC-SMC posterior (pyabc)
    sim-calibrate holdout.after=2016-01-01 name=holdout_2016
    sim-calibrate params.truce.grievance_rate.low=2e-4 seeds=3

Results go to results/calibration/<name>/ (see sim/calibration/pipeline.py); running the same
command again resumes an interrupted search from its study database.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.compose import CONF_DIR
from sim.config import register_configs

log = logging.getLogger("sim.calibrate")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="calibrate")
def app(cfg: DictConfig) -> float:
    from sim.calibration.pipeline import run

    from hydra.core.hydra_config import HydraConfig

    logging.getLogger("MESA").setLevel(logging.WARNING)
    preset = HydraConfig.get().runtime.choices.get("model")  # the model beneath the free parameters
    summary = run(OmegaConf.to_object(cfg), progress=cfg.output.progress, model_preset=preset)
    print(f"calibration {summary['name']} ({summary['method']}): loss on the fitted figures "
          f"{summary['loss_before']:.2f} -> {summary['loss_after']:.2f}; "
          f"{summary['within_before']} -> {summary['within_after']} of {summary['n_figures']} figures "
          f"within tolerance; {summary['evaluations']} evaluations in {summary['elapsed_s'] / 60:.1f} min")
    if "holdout" in summary:
        print(summary["holdout"]["verdict"])
    print(f"report in {cfg.out_dir}")
    return float(summary["loss_after"])


def check(overrides: list[str]) -> None:
    """Compose and check the whole plan before anything is written."""
    from sim.calibration.pipeline import make_plan
    from sim.compose import compose

    make_plan(OmegaConf.to_object(compose(overrides, config_name="calibrate")))


def _params_error(exc: BaseException) -> str | None:
    """A typo in params.<section>.<name> as the accepted names, not Hydra's 'not in struct'."""
    import re

    from sim.calibration.space import check_name

    seen: BaseException | None = exc
    while seen is not None:
        found = re.search(r"params\.(\w+)(?:\.(\w+))?", str(seen))
        if found and ("not in struct" in str(seen) or "Could not override" in str(seen)):
            try:
                check_name(found.group(1), found.group(2) or "")
            except Exception as err:  # noqa: BLE001 - the ConfigError we want
                return str(err)
        seen = seen.__cause__ or seen.__context__
    return None


def register() -> None:
    from sim.calibration.config import register as register_calibration

    register_configs()
    register_calibration()


def _terminate(signum, frame) -> None:
    # SIGTERM unwinds like an interruption: the worker pools shut down (`with objective:`) and
    # the stored search stays resumable; the default action would orphan the workers.
    raise SystemExit(128 + signum)


def main() -> None:
    import signal

    from sim.run import _one_line, precheck

    signal.signal(signal.SIGTERM, _terminate)
    register()
    args = sys.argv[1:]
    if not any(a.startswith("-") for a in args):
        precheck("sim-calibrate", check, args, lambda exc: _params_error(exc) or _one_line(exc))
    app()


if __name__ == "__main__":
    main()
