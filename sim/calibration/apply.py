"""Make a calibration the default model: write its values into sim/data/calibrated.yaml.

    python -m sim.calibration.apply results/calibration/default/calibrated.yaml

Calibration results are data: the defaults of the fitted parameters of sim/config.py (the
fields whose default is ``fitted("<section>.<name>")``) are read from the packaged file
sim/data/calibrated.yaml, and this command rewrites that file (atomically) with the values of
a calibrated model config (conf/model format: section -> name -> value), keeping the values
of the fitted parameters it does not name. Values are written with 4 significant digits, as
in the calibrated YAML. Which parameters are fitted is a choice made in sim/config.py, so a
value for any other parameter is refused. Afterwards run `make docs` (the ODD tables).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Mapping

import yaml

from sim import config
from sim.calibration.space import accepted_range, parameter_fields
from sim.config import ConfigError
from sim.io import write_text

HEADER = """\
# The calibrated values of the fitted parameters: the defaults of the fields of sim/config.py
# whose default is fitted("<section>.<name>"), model section -> parameter -> value.
# Written by `python -m sim.calibration.apply <calibrated.yaml>` (4 significant digits); do not
# edit by hand. `applied` lists the calibrated configs it was written from, oldest first.
"""


def fitted_fields() -> dict[str, object]:
    """'<section>.<name>' -> field, for every field of sim/config.py whose default is fitted."""
    return {f"{section}.{name}": f for section, fields in parameter_fields().items()
            for name, f in fields.items() if "fitted" in f.metadata}


def merged(values: Mapping[str, float], current: Mapping[str, float]) -> dict[str, float]:
    """The data file's values ('<section>.<name>' -> value) with `values` set, checked and
    rounded like the calibrated YAML (ConfigError naming the key otherwise)."""
    fields = fitted_fields()
    out = dict(current)
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            raise ConfigError(f"{key}: not a fitted parameter of sim/config.py; accepted: "
                              f"{', '.join(fields)}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: {value} is not a number; accepted: a finite number")
        lo, hi = accepted_range(f)
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ConfigError(f"{key}: {value} is out of range; accepted: [{lo}, {hi}]")
        out[key] = int(round(value)) if f.type in ("int", int) else float(f"{value:.4g}")
    return out


def render(values: Mapping[str, float], applied: list[str]) -> str:
    """The text of sim/data/calibrated.yaml, parameters in the order of sim/config.py."""
    tree: dict[str, dict[str, float]] = {}
    for key in fitted_fields():
        if key in values:
            section, name = key.split(".")
            tree.setdefault(section, {})[name] = values[key]
    body = yaml.safe_dump({"applied": applied, "values": tree}, sort_keys=False)
    return HEADER + body


def read_model_yaml(path: str | Path) -> dict[str, float]:
    """The values of a conf/model YAML as '<section>.<name>' -> value (`defaults` ignored)."""
    tree = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {f"{section}.{name}": float(value)
            for section, names in tree.items() if section != "defaults" and isinstance(names, dict)
            for name, value in names.items()}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.calibration.apply <calibrated.yaml>", file=sys.stderr)
        sys.exit(2)
    source = Path(args[0])
    try:
        values = read_model_yaml(source)
        new = merged(values, config.CALIBRATED)
    except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        print(f"sim.calibration.apply: {source}: {str(exc).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    applied = [a for a in config.CALIBRATED_FROM if a != source.as_posix()] + [source.as_posix()]
    write_text(config.CALIBRATED_PATH, render(new, applied))
    print(f"{len(values)} fitted defaults set in {config.CALIBRATED_PATH} from {source}; "
          "now run `make docs`")


if __name__ == "__main__":
    main()
