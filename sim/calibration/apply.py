"""Make a calibration the default model: write its values into the defaults of sim/config.py.

    python -m sim.calibration.apply results/calibration/default/calibrated.yaml

The dataclass defaults are the single source of the model's values (docs/ODD.md's parameter
tables are generated from them), so the calibrated values go there rather than into a YAML
layer. Only the `P(...)`/`prob(...)` defaults of the named parameters change; values are
written with 4 significant digits, as in the calibrated YAML. Afterwards run `make docs`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Mapping

import yaml

from sim import config

CONFIG = Path(config.__file__)


def section_class(section: str) -> str:
    field = config.ModelConfig.__dataclass_fields__[section]
    return field.default_factory.__name__


def apply(values: Mapping[str, float], text: str) -> str:
    """`text` (sim/config.py) with the defaults of the dotted keys ('model.border.kill_rate') set."""
    for key, value in values.items():
        _, section, name = key.split(".")
        cls = section_class(section)
        start = text.index(f"class {cls}:")
        end = text.find("\n@dataclass", start)
        block = text[start:end]
        pattern = re.compile(rf"(    {name}: (\w+) = (?:P|prob)\()([^,]+)(,)")
        match = pattern.search(block)
        if match is None:
            raise SystemExit(f"{key}: no default found in {cls}")
        typ = match.group(2)
        new = str(int(round(value))) if typ == "int" else f"{float(f'{value:.4g}')!r}"
        block = pattern.sub(lambda m: f"{m.group(1)}{new}{m.group(4)}", block, count=1)
        text = text[:start] + block + text[end:]
    return text


def read_model_yaml(path: str | Path) -> dict[str, float]:
    """The dotted values of a conf/model YAML (section -> name -> value; `defaults` ignored)."""
    tree = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {f"model.{section}.{name}": float(value)
            for section, names in tree.items() if section != "defaults" and isinstance(names, dict)
            for name, value in names.items()}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m sim.calibration.apply <calibrated.yaml>")
    values = read_model_yaml(args[0])
    CONFIG.write_text(apply(values, CONFIG.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{len(values)} defaults of {CONFIG} set from {args[0]}; now run `make docs`")


if __name__ == "__main__":
    main()
