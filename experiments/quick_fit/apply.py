"""Write a quick_fit result (JSON of dotted overrides) into the defaults of sim/config.py.

    python experiments/quick_fit/apply.py experiments/quick_fit/best.json

Values are rounded to 3 significant digits; only existing `P(...)`/`prob(...)` defaults of the
named section's dataclass are touched.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from sim import config

CONFIG = Path(config.__file__)


def section_class(section: str) -> str:
    field = config.ModelConfig.__dataclass_fields__[section]
    return field.default_factory.__name__


def apply(overrides: dict[str, float], text: str) -> str:
    for key, value in overrides.items():
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
        new = str(int(round(value))) if typ == "int" else f"{float(f'{value:.3g}')!r}"
        block = pattern.sub(lambda m: f"{m.group(1)}{new}{m.group(4)}", block, count=1)
        text = text[:start] + block + text[end:]
    return text


if __name__ == "__main__":
    result = json.loads(Path(sys.argv[1]).read_text())
    CONFIG.write_text(apply(result, CONFIG.read_text()))
