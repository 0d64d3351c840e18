"""Make a calibration the default model: write its values into sim/data/calibrated.yaml.

    python -m sim.calibration.apply results/calibration/record/calibrated.yaml

Calibration results are data: the defaults of the calibrated parameters of sim/config.py (the
fields whose default is ``calibrated("<section>.<name>")``) are read from the packaged file
sim/data/calibrated.yaml, and this command rewrites that file (atomically) from a calibrated
model config (conf/model format: section -> name -> value, on top of its `defaults`). The
config's own values are the fitted ones (basis "fitted"); a preset it builds on that sets the
other parameters at their prior medians (conf/model/prior_medians*.yaml, written by
`python -m sim.calibration.prior_medians`) gives their values with basis "prior median"; the
values of the calibrated parameters neither names are kept with their basis. Values are
written with 4 significant digits, as in the calibrated YAML. Which parameters a calibration
may set is a choice made in sim/config.py, so a value for any other parameter is refused.
Afterwards run `make docs` (the ODD tables).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Mapping

import yaml

from sim import config
from sim.calibration.space import accepted_range, parameter_fields
from sim.compose import CONF_DIR
from sim.config import BASES, ConfigError
from sim.io import write_text

HEADER = """\
# The calibrated values: the defaults of the fields of sim/config.py whose default is
# calibrated("<section>.<name>"), model section -> parameter -> value, and how each was set
# (basis: fitted by the calibration, its prior's median, or the retired hand fit).
# Written by `python -m sim.calibration.apply <calibrated.yaml>` (4 significant digits); do not
# edit by hand. `applied` lists the calibrated configs it was written from, oldest first.
"""

#: The model presets a calibrated config may build on, and the basis of the values they set.
PRIOR_MEDIANS = "prior_medians"


def calibrated_fields() -> dict[str, object]:
    """'<section>.<name>' -> field, for every field of sim/config.py whose default is calibrated."""
    return {f"{section}.{name}": f for section, fields in parameter_fields().items()
            for name, f in fields.items() if "calibrated" in f.metadata}


def merged(values: Mapping[str, float], current: Mapping[str, float]) -> dict[str, float]:
    """The data file's values ('<section>.<name>' -> value) with `values` set, checked and
    rounded like the calibrated YAML (ConfigError naming the key otherwise)."""
    fields = calibrated_fields()
    out = dict(current)
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            raise ConfigError(f"{key}: not a calibrated parameter of sim/config.py; accepted: "
                              f"{', '.join(fields)}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: {value} is not a number; accepted: a finite number")
        lo, hi = accepted_range(f)
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ConfigError(f"{key}: {value} is out of range; accepted: [{lo}, {hi}]")
        out[key] = int(round(value)) if f.type in ("int", int) else float(f"{value:.4g}")
    return out


def render(values: Mapping[str, float], applied: list[str], basis: Mapping[str, str]) -> str:
    """The text of sim/data/calibrated.yaml, parameters in the order of sim/config.py."""
    order = list(calibrated_fields())
    tree: dict[str, dict[str, float]] = {}
    for key in order:
        if key in values:
            section, name = key.split(".")
            tree.setdefault(section, {})[name] = values[key]
    bases = {name: [k for k in order if basis.get(k) == name] for name in BASES}
    body = yaml.safe_dump({"applied": applied, "basis": {k: v for k, v in bases.items() if v},
                           "values": tree}, sort_keys=False)
    return HEADER + body


def read_model_yaml(path: str | Path) -> dict[str, float]:
    """The values of a conf/model YAML as '<section>.<name>' -> value (`defaults` ignored)."""
    tree = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {f"{section}.{name}": float(value)
            for section, names in tree.items() if section != "defaults" and isinstance(names, dict)
            for name, value in names.items()}


def model_values(path: str | Path) -> tuple[dict[str, float], dict[str, str]]:
    """The values a calibrated model config sets, its own and its presets', and each one's
    basis: "fitted" for its own, "prior median" for a prior_medians preset's. ConfigError when
    it builds on another preset (its values would have no basis to state)."""
    path = Path(path)
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    values: dict[str, float] = {}
    basis: dict[str, str] = {}
    for entry in tree.get("defaults") or []:
        if entry in ("_self_", "default"):
            continue
        if not (isinstance(entry, str) and entry.startswith(PRIOR_MEDIANS)):
            raise ConfigError(f"defaults: {entry}: a calibrated model applied as the default may "
                              f"build only on the default model or a {PRIOR_MEDIANS} preset; "
                              f"accepted: default, {PRIOR_MEDIANS}*")
        preset = read_model_yaml(CONF_DIR / "model" / f"{entry}.yaml")
        values.update(preset)
        basis.update(dict.fromkeys(preset, "prior median"))
    own = read_model_yaml(path)
    values.update(own)
    basis.update(dict.fromkeys(own, "fitted"))
    return values, basis


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.calibration.apply <calibrated.yaml>", file=sys.stderr)
        sys.exit(2)
    source = Path(args[0])
    try:
        values, basis = model_values(source)
        new = merged(values, config.CALIBRATED)
    except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        print(f"sim.calibration.apply: {source}: {str(exc).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    applied = [a for a in config.CALIBRATED_FROM if a != source.as_posix()] + [source.as_posix()]
    write_text(config.CALIBRATED_PATH, render(new, applied, {**config.CALIBRATED_BASIS, **basis}))
    counts = {name: sum(1 for k in basis if basis[k] == name) for name in ("fitted", "prior median")}
    print(f"{len(values)} calibrated defaults set in {config.CALIBRATED_PATH} from {source} "
          f"({counts['fitted']} fitted, {counts['prior median']} at prior medians); now run "
          "`make docs`")


if __name__ == "__main__":
    main()
