"""The free parameters of a calibration: checked against the model, mapped to and from [0, 1]."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from sim.calibration.config import SECTIONS
from sim.config import ConfigError, ModelConfig


@dataclass(frozen=True)
class Parameter:
    """One free model parameter, e.g. key 'model.border.kill_rate', with its prior range."""
    key: str
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def from_unit(self, u: float) -> float:
        """The value at quantile u of the (log-)uniform prior."""
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return float(round(value)) if self.integer else value

    @property
    def short(self) -> str:
        """'border.kill_rate': the key without the leading 'model.'."""
        return self.key.removeprefix("model.")


def parameter_fields() -> dict[str, dict[str, dataclasses.Field]]:
    """Model section -> name -> field of every numeric parameter (what a calibration can free
    and a sensitivity analysis can vary); the policy levers are not parameters."""
    sections = {f.name: f.default_factory for f in dataclasses.fields(ModelConfig)}
    return {name: {g.name: g for g in dataclasses.fields(sections[name])
                   if g.type in ("float", "int", float, int)} for name in SECTIONS}


def check_name(section: str, name: str) -> dataclasses.Field:
    """The model field behind params.<section>.<name>; ConfigError naming the accepted ones."""
    fields = parameter_fields()
    if section not in fields:
        raise ConfigError(f"params.{section}: unknown model section; accepted: {', '.join(fields)}")
    f = fields[section].get(name)
    if f is None:
        raise ConfigError(f"params.{section}.{name}: unknown parameter; accepted: "
                          f"{', '.join(fields[section])}")
    return f


def accepted_range(f: dataclasses.Field) -> tuple[float | None, float | None]:
    """The values a parameter accepts, (lo, hi) from its field in sim.config (None: unbounded)."""
    return f.metadata.get("lo"), f.metadata.get("hi")


def check_scale(key: str, value: float) -> None:
    """A scale for an app's runs (`scale`, `report_scale`): what model.scale accepts."""
    from sim.config import PopulationConfig, scale_floor

    lo, hi = accepted_range(next(f for f in dataclasses.fields(ModelConfig) if f.name == "scale"))
    if lo is None:  # the schema's floor depends on the populations: the defaults' floor here
        lo = round(scale_floor(PopulationConfig()), 6)
    if not value >= lo or not (hi is None or value <= hi):
        raise ConfigError(f"{key}: {value} is out of range; accepted: [{lo}, {hi}] "
                          "(as model.scale)")


def free_parameters(params: Any) -> list[Parameter]:
    """The free parameters of a `params` config (section -> name -> ParamRange), validated.

    A range's `low` or `high` left out (null) is the parameter's accepted bound in sim.config,
    so a prior never restates the schema. Raises ConfigError, one line naming the key, for an
    unknown section or parameter, an empty or reversed range, a log range that is not
    positive, a bound left out where the parameter has none, or a range outside the
    parameter's accepted values.
    """
    if dataclasses.is_dataclass(params):
        # `+params.x...` on the command line adds attributes the dataclass does not declare.
        sections: Mapping[str, Mapping[str, Any]] = dict(vars(params))
    else:
        sections = dict(params)
    out: list[Parameter] = []
    for section, names in sections.items():
        for name, rng in (names or {}).items():
            f = check_name(section, name)
            low, high, log = (rng.get("low"), rng.get("high"), rng.get("log", False)) \
                if isinstance(rng, Mapping) else (rng.low, rng.high, rng.log)
            key = f"params.{section}.{name}"
            lo, hi = accepted_range(f)
            for bound, value, schema in (("low", low, lo), ("high", high, hi)):
                if value is None and schema is None:
                    raise ConfigError(f"{key}.{bound}: the parameter has no bound to default "
                                      f"to; accepted: a number")
            low = lo if low is None else low
            high = hi if high is None else high
            if not low < high:
                raise ConfigError(f"{key}: empty range [{low}, {high}]; accepted: low < high")
            if log and low <= 0:
                raise ConfigError(f"{key}: log range needs low > 0, got {low}; accepted: low > 0 or log=false")
            if lo is not None and low < lo or hi is not None and high > hi:
                raise ConfigError(f"{key}: range [{low}, {high}] leaves the accepted values; "
                                  f"accepted: within [{lo}, {hi if hi is not None else 'inf'}]")
            out.append(Parameter(f"model.{section}.{name}", float(low), float(high), bool(log),
                                 integer=f.type in ("int", int)))
    if not out:
        raise ConfigError("params: no free parameter; accepted: params.<section>.<name>={low,high,log}")
    return out


def set_value(cfg: Any, key: str, value: float) -> None:
    """Set a dotted key ('model.border.kill_rate') on a Config dataclass in place; a lever
    size (model.magnitudes.*) also reaches the policy levers that take it (sim.magnitudes)."""
    from sim.magnitudes import set_magnitude, typed_like

    *path, last = key.split(".")
    if path == ["model", "magnitudes"]:
        set_magnitude(cfg, last, value)
        return
    node = cfg
    for part in path:
        node = getattr(node, part)
    setattr(node, last, typed_like(getattr(node, last), value))


def get_value(cfg: Any, key: str) -> float:
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return float(node)
