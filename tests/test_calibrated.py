"""Calibration results are data: sim/data/calibrated.yaml holds the fitted defaults, and
`python -m sim.calibration.apply` writes it (never sim/config.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim import config
from sim.calibration.apply import fitted_fields, merged, render
from sim.calibration.space import accepted_range, parameter_fields
from sim.config import CALIBRATED, CALIBRATED_FROM, CALIBRATED_PATH, ConfigError, ModelConfig

ROOT = Path(__file__).resolve().parent.parent


def test_the_data_file_and_the_schema_agree():
    model = ModelConfig()
    fields = parameter_fields()
    marked = {f.metadata["fitted"]: f"{section}.{name}" for section, names in fields.items()
              for name, f in names.items() if "fitted" in f.metadata}
    # every fitted field reads its own key, and every value of the file is read by one
    assert all(key == where for key, where in marked.items()), marked
    assert set(marked) == set(CALIBRATED) and len(CALIBRATED) >= 40
    for key, value in CALIBRATED.items():
        section, name = key.split(".")
        f = fields[section][name]
        default = getattr(getattr(model, section), name)
        assert default == value and type(default) is type(value) is float, key
        lo, hi = accepted_range(f)
        assert (lo is None or value >= lo) and (hi is None or value <= hi), key
        assert "fitted" in f.metadata["source"], key  # the ODD tables say where it comes from


def test_the_packaged_file_is_what_apply_writes():
    assert render(CALIBRATED, CALIBRATED_FROM) == CALIBRATED_PATH.read_text(encoding="utf-8")


def test_apply_sets_the_named_values_rounded_and_keeps_the_others(tmp_path):
    new = merged({"border.kill_rate": 2.345678e-4, "ceasefire.reach": 0.5}, CALIBRATED)
    path = tmp_path / "calibrated.yaml"
    path.write_text(render(new, [*CALIBRATED_FROM, "run/calibrated.yaml"]), encoding="utf-8")
    values, applied = config._read_calibrated(path)
    assert values["border.kill_rate"] == 0.0002346 and values["ceasefire.reach"] == 0.5
    assert {k: v for k, v in values.items() if k not in ("border.kill_rate", "ceasefire.reach")} == \
        {k: v for k, v in CALIBRATED.items() if k not in ("border.kill_rate", "ceasefire.reach")}
    assert applied[-1] == "run/calibrated.yaml"
    assert list(values) == list(fitted_fields())  # in the order of sim/config.py
    with pytest.raises(ConfigError, match=r"^police.hotspot_share: not a fitted parameter"):
        merged({"police.hotspot_share": 0.5}, CALIBRATED)
    with pytest.raises(ConfigError, match=r"^ceasefire.reach: 1.5 is out of range"):
        merged({"ceasefire.reach": 1.5}, CALIBRATED)


@pytest.mark.parametrize("values,key", [({"police": {"hotspot_share": 0.5}}, "police.hotspot_share"),
                                        ({"truce": {"comfort_weight": 2.0}}, "truce.comfort_weight")])
def test_a_bad_calibration_is_refused_in_one_line_and_nothing_is_written(tmp_path, values, key):
    before = CALIBRATED_PATH.read_bytes()
    source = tmp_path / "calibrated.yaml"
    source.write_text(yaml.safe_dump({"defaults": ["default", "_self_"], **values}))
    proc = subprocess.run([sys.executable, "-m", "sim.calibration.apply", str(source)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f": {key}: " in lines[0] and "accepted" in lines[0], proc.stderr
    assert CALIBRATED_PATH.read_bytes() == before

