"""A model whose parameters sit at the medians of their source priors: no fit in it.

    python -m sim.calibration.prior_medians [conf/priors/sources.yaml] [conf/model/prior_medians.yaml] [base]
    python -m sim.calibration.prior_medians conf/priors/before_2016.yaml conf/model/prior_medians_before_2016.yaml prior_medians

For each parameter of a priors file (`params: section -> name -> {low, high, log}`), the
median of its prior: the geometric mean of the bounds for a log-uniform prior, the midpoint
for a uniform one (rounded for an integer parameter). Written as a model preset
(`sim-run model=prior_medians`); the calibration of record starts from it, so that the
parameters it leaves fixed sit at values the sources give, not at the hand fit's
(conf/model/hand_fit.yaml, kept for comparison), which saw every reported figure. A priors
file that overrides another (before_2016.yaml overrides sources.yaml) gives a preset on top of
the other's (`base`): the blind hold-out's fixed parameters then rest on nothing reported
after 2015 either.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import yaml

from sim.calibration.space import free_parameters
from sim.compose import CONF_DIR
from sim.io import write_text

PRIORS = CONF_DIR / "priors" / "sources.yaml"
OUT = CONF_DIR / "model" / "prior_medians.yaml"


def medians(priors: dict) -> dict[str, dict[str, float]]:
    """section -> name -> the prior's median (checked against the model by free_parameters)."""
    out: dict[str, dict[str, float]] = {}
    for p in free_parameters(priors):
        value = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2
        _, section, name = p.key.split(".")
        out.setdefault(section, {})[name] = int(round(value)) if p.integer else float(f"{value:.4g}")
    return out


def text(priors_path: Path, values: dict[str, dict[str, float]], base: str = "default") -> str:
    head = (f"# Every parameter of {priors_path.relative_to(CONF_DIR.parent)} at the median of its prior,\n"
            f"# on top of model {base}; written by `python -m sim.calibration.prior_medians` (do not\n"
            "# edit by hand). A calibration starts from this model (conf/calibration/).\n")
    body = yaml.safe_dump({"defaults": [base, "_self_"], **values}, sort_keys=False)
    return head + body


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    priors_path = Path(args[0]) if args else PRIORS
    out = Path(args[1]) if len(args) > 1 else OUT
    base = args[2] if len(args) > 2 else "default"
    priors = (yaml.safe_load(priors_path.read_text(encoding="utf-8")) or {}).get("params") or {}
    write_text(out, text(priors_path.resolve(), medians(priors), base))
    print(f"{sum(len(v) for v in medians(priors).values())} parameters at their prior medians in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
