"""Each parameter's accepted range is defined once, in sim/config.py's field metadata: the
calibration priors, the sensitivity ranges and the scales of the apps derive from it or are
checked against it."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.calibration.space import accepted_range, check_scale, free_parameters, parameter_fields
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_a_bound_left_out_of_a_prior_is_the_accepted_bound():
    (share,) = free_parameters({"truce": {"comfort_weight": {"low": 0.7}}})
    assert (share.low, share.high) == (0.7, 1.0)
    (off,) = free_parameters({"repression": {"revenge_spillover": {"high": 0.75}}})
    assert (off.low, off.high) == (0.0, 0.75)
    with pytest.raises(ConfigError, match=r"^params.border.kill_rate.high: the parameter has no bound"):
        free_parameters({"border": {"kill_rate": {"low": 1e-5}}})
    with pytest.raises(ConfigError, match=r"^params.truce.comfort_weight: range \[0.5, 1.5\] leaves"):
        free_parameters({"truce": {"comfort_weight": {"low": 0.5, "high": 1.5}}})


PRIOR_FILES = sorted(str(p.relative_to(ROOT / "conf")) for group in ("calibration", "priors", "sensitivity")
                     for p in (ROOT / "conf" / group).glob("*.yaml")
                     if "params" in (OmegaConf.to_container(OmegaConf.load(p)) or {}))


def test_the_source_priors_are_among_the_files_checked():
    assert {"priors/sources.yaml", "priors/before_2016.yaml", "calibration/default.yaml"} <= set(PRIOR_FILES)


@pytest.mark.parametrize("preset", PRIOR_FILES)
def test_no_prior_restates_an_accepted_bound(preset):
    params = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / preset))["params"]
    fields = parameter_fields()
    for section, names in params.items():
        for name, prior in names.items():
            lo, hi = accepted_range(fields[section][name])
            assert prior.get("low", "left out") != lo and prior.get("high", "left out") != hi, \
                f"{preset}: params.{section}.{name} {prior} restates [{lo}, {hi}]: leave it out"
    assert free_parameters(params)  # and every prior is accepted


def test_app_scales_are_what_model_scale_accepts():
    check_scale("scale", 1.0)
    with pytest.raises(ConfigError, match=r"^report_scale: 0.0 is out of range; accepted: \["):
        check_scale("report_scale", 0.0)
    with pytest.raises(ConfigError, match=r"^scale: 1.5 is out of range"):
        check_scale("scale", 1.5)
