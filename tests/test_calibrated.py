"""Calibration results are data: sim/data/calibrated.yaml holds the calibrated defaults and
how each was set, and `python -m sim.calibration.apply` writes it (never sim/config.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim import config
from sim.calibration.apply import calibrated_fields, main, merged, render
from sim.calibration.space import accepted_range, parameter_fields
from sim.config import (BASES, CALIBRATED, CALIBRATED_BASIS, CALIBRATED_FROM, CALIBRATED_PATH,
                        ConfigError, ModelConfig)

ROOT = Path(__file__).resolve().parent.parent


def test_the_data_file_and_the_schema_agree():
    model = ModelConfig()
    fields = parameter_fields()
    marked = {f.metadata["calibrated"]: f"{section}.{name}" for section, names in fields.items()
              for name, f in names.items() if "calibrated" in f.metadata}
    # every calibrated field reads its own key, and every value of the file is read by one
    assert all(key == where for key, where in marked.items()), marked
    assert set(marked) == set(CALIBRATED) and len(CALIBRATED) >= 80
    for key, value in CALIBRATED.items():
        section, name = key.split(".")
        f = fields[section][name]
        default = getattr(getattr(model, section), name)
        assert default == value and type(default) is type(value) is {'float': float, 'int': int}[str(f.type)], key
        lo, hi = accepted_range(f)
        assert (lo is None or value >= lo) and (hi is None or value <= hi), key
        basis = CALIBRATED_BASIS.get(key)
        # the ODD tables say how it was set
        assert basis is None or BASES[basis] in f.metadata["source"], key


def test_the_packaged_file_is_what_apply_writes():
    assert render(CALIBRATED, CALIBRATED_FROM, CALIBRATED_BASIS) == \
        CALIBRATED_PATH.read_text(encoding="utf-8")


def test_apply_sets_the_named_values_rounded_and_keeps_the_others(tmp_path):
    new = merged({"border.kill_rate": 2.345678e-4, "ceasefire.reach": 0.5}, CALIBRATED)
    path = tmp_path / "calibrated.yaml"
    path.write_text(render(new, [*CALIBRATED_FROM, "run/calibrated.yaml"], CALIBRATED_BASIS),
                    encoding="utf-8")
    values, applied, basis = config._read_calibrated(path)
    assert values["border.kill_rate"] == 0.0002346 and values["ceasefire.reach"] == 0.5
    assert {k: v for k, v in values.items() if k not in ("border.kill_rate", "ceasefire.reach")} == \
        {k: v for k, v in CALIBRATED.items() if k not in ("border.kill_rate", "ceasefire.reach")}
    assert applied[-1] == "run/calibrated.yaml"
    assert list(values) == list(calibrated_fields())  # in the order of sim/config.py
    assert basis == CALIBRATED_BASIS
    with pytest.raises(ConfigError, match=r"^border.retaliation_cap: not a calibrated parameter"):
        merged({"border.retaliation_cap": 0.5}, CALIBRATED)
    with pytest.raises(ConfigError, match=r"^ceasefire.reach: 1.5 is out of range"):
        merged({"ceasefire.reach": 1.5}, CALIBRATED)


@pytest.mark.parametrize("values,key", [({"border": {"retaliation_cap": 0.5}}, "border.retaliation_cap"),
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



def test_apply_marks_a_calibrations_own_values_fitted_and_its_prior_medians_preset_so(tmp_path,
                                                                                   monkeypatch):
    """The calibration of record's calibrated.yaml builds on conf/model/prior_medians.yaml:
    after apply every prior parameter is either fitted or at its prior median, and the sources
    that the ODD tables print say which."""
    medians = yaml.safe_load((ROOT / "conf" / "model" / "prior_medians.yaml").read_text())
    source = tmp_path / "calibrated.yaml"
    source.write_text(yaml.safe_dump({"defaults": ["prior_medians", "_self_"],
                                      "border": {"kill_rate": 3.21e-4}}))
    target = tmp_path / "data.yaml"
    target.write_bytes(CALIBRATED_PATH.read_bytes())
    monkeypatch.setattr(config, "CALIBRATED_PATH", target)
    main([str(source)])
    values, applied, basis = config._read_calibrated(target)
    assert applied[-1] == source.as_posix() and values["border.kill_rate"] == 3.21e-4
    assert basis["border.kill_rate"] == "fitted"
    n = 0
    for section, names in medians.items():
        if section == "defaults":
            continue
        for name, value in names.items():
            key = f"{section}.{name}"
            if key != "border.kill_rate":
                assert basis[key] == "prior median" and values[key] == pytest.approx(value, rel=1e-3), key
                n += 1
    assert n >= 70
    # a calibration on another preset (the hand fit) has values with no basis to state
    source.write_text(yaml.safe_dump({"defaults": ["hand_fit", "_self_"], "border": {"kill_rate": 3e-4}}))
    with pytest.raises(SystemExit) as stop:
        main([str(source)])
    assert stop.value.code == 2
    assert config._read_calibrated(target)[0]["border.kill_rate"] == 3.21e-4  # unchanged
