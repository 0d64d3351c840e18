"""Lever sizes (`model.magnitudes`) that reach the policies after the config is composed.

The policy files read a lever's size from the model, `lethal_force:
${model.magnitudes.mano_dura_lethal_force}`, and Hydra resolves that once, when it composes the
config. A calibration, a sensitivity analysis or a posterior ensemble sets parameters on the
composed, typed config afterwards: :func:`set_magnitude` then carries a new magnitude into
every policy lever the files take from it, unless that lever was set to a value of its own
(it no longer equals the magnitude it came from: a command-line lever still wins).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from sim.compose import CONF_DIR

_REFERENCE = re.compile(r"^\$\{model\.magnitudes\.(\w+)\}$")

#: Magnitudes whose default is another's (sim/config.py: the licence of April 2020 is by
#: default mano dura's lethal force, so no change): they follow it while they still equal it.
FOLLOWS: dict[str, tuple[str, ...]] = {"mano_dura_lethal_force": ("lethal_force_2020",)}


@lru_cache(maxsize=1)
def lever_sources() -> dict[str, tuple[tuple[str, str], ...]]:
    """magnitude -> ((policy, lever), ...): the levers conf/policy/*.yaml take from it (a
    policy is loaded under its file's name, conf/config.yaml: policy@policies.<name>)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((CONF_DIR / "policy").glob("*.yaml")):
        levers = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("levers") or {}
        for lever, value in levers.items():
            match = _REFERENCE.match(str(value))
            if match:
                found.setdefault(match.group(1), []).append((path.stem, lever))
    return {k: tuple(v) for k, v in found.items()}


def typed_like(current: Any, value: float) -> int | float:
    """`value` as the type of the field it replaces: rounded for an int field, else a float."""
    return int(round(value)) if isinstance(current, int) and not isinstance(current, bool) else float(value)


def set_magnitude(cfg: Any, name: str, value: float) -> None:
    """Set model.magnitudes.<name> on a typed Config in place, and the levers that follow it."""
    magnitudes = cfg.model.magnitudes
    old = getattr(magnitudes, name)
    followers = [f for f in FOLLOWS.get(name, ()) if getattr(magnitudes, f) == old]
    setattr(magnitudes, name, typed_like(old, value))
    for policy, lever in lever_sources().get(name, ()):
        levers = cfg.policies[policy].levers if policy in cfg.policies else None
        if levers is not None and getattr(levers, lever) == old:
            setattr(levers, lever, typed_like(getattr(levers, lever), typed_like(old, value)))
    for follower in followers:
        set_magnitude(cfg, follower, value)
