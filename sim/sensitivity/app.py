"""The `sim-sensitivity` command: a Hydra app that checks its config before anything runs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.compose import CONF_DIR
from sim.sensitivity.analysis import analyse
from sim.sensitivity.config import LOSS, register
from sim.sensitivity.design import load
from sim.sensitivity.report import write_outputs

log = logging.getLogger("sim.sensitivity")

PROG = "sim-sensitivity"


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="sensitivity")
def app(cfg: DictConfig) -> float:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step under Hydra
    typed, parameters, answers = load(cfg)
    out_dir = Path(typed.out_dir)
    log.info("%s: %d parameters, outputs into %s", PROG, len(parameters), out_dir)
    res = analyse(typed, parameters, answers)
    write_outputs(typed, cfg, res, out_dir)
    loss = res["morris"][res["morris"].output == LOSS].sort_values("rank")
    log.info("top by Morris mu* on the loss: %s",
             ", ".join(f"{r.parameter} ({r.mu_star:.3g})" for r in loss.head(5).itertuples()))
    if "sobol" in res:
        sobol_loss = res["sobol"][res["sobol"].output == LOSS]
        log.info("Sobol ST on the loss: %s",
                 ", ".join(f"{r.parameter} {r.ST:.2f}" for r in sobol_loss.itertuples()))
    log.info("%d runs in %.0f s; outputs in %s", res["runs"], res["elapsed"], out_dir)
    return float(res["elapsed"])


def check(overrides: list[str]) -> None:
    """Compose and validate before anything is run or written."""
    from sim.compose import compose

    register()
    load(compose(overrides, config_name="sensitivity"))


def error_line(exc: BaseException) -> str:
    """sim-run's one-line config error, or where a parameter range can be set."""
    import re

    from sim.run import _one_line

    # OmegaConf cannot add a typed ParamRange from the command line: say where it can go.
    found = re.search(r"override \+*(params\.\w+\.\w+)", str(exc))
    if found is None:
        found = re.search(r"'(params\.\w+\.\w+)[.\w]*'", str(exc))
    answer = re.search(r"override \+*(answers\.\w+)", str(exc))
    if answer:
        return (f"{answer.group(1)}: an answer cannot be added on the command line; accepted: "
                "answers: {<name>: {scenario: .., start: .., end: ..}} in a preset of "
                "conf/sensitivity/ (sensitivity=<preset>)")
    if found:
        return (f"{found.group(1)}: a parameter range cannot be added on the command line; "
                "accepted: params: {<section>: {<name>: {low: .., high: .., log: ..}}} in a "
                "preset of conf/sensitivity/ (sensitivity=<preset>)")
    return _one_line(exc)


def main() -> None:
    from sim.run import precheck

    register()
    args = sys.argv[1:]
    if not any(a.startswith("-") for a in args):  # --help, --cfg, -m: left to Hydra
        precheck(PROG, check, args, error_line)
    app()

