"""Parameters and levers as the compiled processes read them: flat tuples of numbers.

`Params` has one field per mechanism parameter of sim/config.py, named `<section>_<name>`
(`border_kill_rate` is `model.border.kill_rate`), plus `scale`; it is built from the config once
per run. `Levers` holds the levers the daily processes read; the others (where leaders are held,
how many soldiers are deployed) act through the Mesa agents when a policy starts.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from typing import NamedTuple

from sim.config import LeversConfig, ModelConfig

# the sections of ModelConfig that parametrise daily processes (population and landscape only
# size the set-up; levers come from the timeline)
SECTIONS = ("territory", "border", "orders", "truce", "repression", "isolation", "ceasefire",
            "prisons", "exception", "civilians", "police", "reporting")

_FIELDS = ["scale"] + [f"{s}_{f.name}" for s in SECTIONS
                       for f in dataclasses.fields(ModelConfig.__dataclass_fields__[s]
                                                   .default_factory)]
Params = namedtuple("Params", _FIELDS)
Params.__doc__ = "Every daily process's parameters, `<section>_<name>`, as floats."


def params_from(model: ModelConfig) -> Params:
    values = {"scale": float(model.scale)}
    for s in SECTIONS:
        node = getattr(model, s)
        for f in dataclasses.fields(node):
            values[f"{s}_{f.name}"] = float(getattr(node, f.name))
    return Params(**values)


class Levers(NamedTuple):
    """Today's levers for the daily processes (booleans as 0.0 or 1.0)."""
    visits: float
    negotiation: float
    gang_ceasefire: float
    gang_offer: float
    lethal_force: float
    arrest_intensity: float
    mass_arrests: float
    sentence_factor: float
    early_release: float
    state_control: float

    @classmethod
    def from_config(cls, lv: LeversConfig) -> "Levers":
        return cls(float(bool(lv.visits)), float(lv.negotiation), float(bool(lv.gang_ceasefire)),
                   float(bool(lv.gang_offer)), float(lv.lethal_force),
                   float(lv.arrest_intensity), float(lv.mass_arrests), float(lv.sentence_factor),
                   float(bool(lv.early_release)), float(bool(lv.state_control)))
