"""The free parameters of a calibration: checked against the model, mapped to and from [0, 1]."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

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

    def to_unit(self, value: float) -> float:
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    @property
    def short(self) -> str:
        """'border.kill_rate': the key without the leading 'model.'."""
        return self.key.removeprefix("model.")


def check_name(section: str, name: str) -> dataclasses.Field:
    """The model field behind params.<section>.<name>; ConfigError naming the accepted ones."""
    sections = {f.name: f for f in dataclasses.fields(ModelConfig)}
    if section not in sections or not dataclasses.is_dataclass(sections[section].default_factory):
        raise ConfigError(f"params.{section}: unknown model section; accepted: "
                          + ", ".join(n for n, f in sections.items()
                                      if dataclasses.is_dataclass(f.default_factory) and n != "levers"))
    fields = {f.name: f for f in dataclasses.fields(sections[section].default_factory)}
    f = fields.get(name)
    numeric = [n for n, g in fields.items() if g.type in ("float", "int", float, int)]
    if f is None or name not in numeric:
        raise ConfigError(f"params.{section}.{name}: unknown parameter; accepted: {', '.join(numeric)}")
    return f


def free_parameters(params: Any) -> list[Parameter]:
    """The free parameters of a `params` config (section -> name -> ParamRange), validated.

    Raises ConfigError, one line naming the key, for an unknown section or parameter, an empty
    or reversed range, a log range that is not positive, or a range outside the parameter's
    accepted values.
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
            low, high, log = (rng["low"], rng["high"], rng["log"]) if isinstance(rng, Mapping) else \
                (rng.low, rng.high, rng.log)
            key = f"params.{section}.{name}"
            if not low < high:
                raise ConfigError(f"{key}: empty range [{low}, {high}]; accepted: low < high")
            if log and low <= 0:
                raise ConfigError(f"{key}: log range needs low > 0, got {low}; accepted: low > 0 or log=false")
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            if lo is not None and low < lo or hi is not None and high > hi:
                raise ConfigError(f"{key}: range [{low}, {high}] leaves the accepted values; "
                                  f"accepted: within [{lo}, {hi if hi is not None else 'inf'}]")
            out.append(Parameter(f"model.{section}.{name}", float(low), float(high), bool(log),
                                 integer=f.type in ("int", int)))
    if not out:
        raise ConfigError("params: no free parameter; accepted: params.<section>.<name>={low,high,log}")
    return out


def set_value(cfg: Any, key: str, value: float) -> None:
    """Set a dotted key ('model.border.kill_rate') on a Config dataclass in place."""
    *path, last = key.split(".")
    node = cfg
    for part in path:
        node = getattr(node, part)
    current = getattr(node, last)
    setattr(node, last, int(round(value)) if isinstance(current, int) and not isinstance(current, bool)
            else float(value))


def get_value(cfg: Any, key: str) -> float:
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return float(node)
