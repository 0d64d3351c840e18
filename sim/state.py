"""The model's state arrays: one entry per agent of a kind, so that a day's rates are computed
for every agent at once."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def relax(halflife_days: float) -> float:
    """Share of the gap to a target closed in one day, for a given half-life."""
    return 1.0 - 0.5 ** (1.0 / halflife_days)


@dataclass
class CliqueState:
    street: np.ndarray        # members on the street (int)
    prison: np.ndarray        # members in prison (int)
    gang: np.ndarray          # 0 MS-13, 1 B18-S, 2 B18-R
    leader: np.ndarray        # index of the steering leader
    obedience: np.ndarray     # share of orders followed, fixed trait
    retaliation: np.ndarray   # urge to retaliate against rival cliques (M2)
    revenge: np.ndarray       # hostility to security forces (M6)
    arms: np.ndarray          # lethality relative to 2011 (M4)
    norm: np.ndarray          # adherence to the gangs' cease-fire (M8)
    presence: np.ndarray      # local security presence relative to the national mean
    violence: np.ndarray      # recent killings in the territory (smoothed, per day)
    opportunism: np.ndarray = field(default=None)  # members acting on their own (M7)
    habit: np.ndarray = field(default=None)       # restraint become a habit of the street (M3)
    restraint: np.ndarray = field(default=None)   # restraint followed today
    pressure: np.ndarray = field(default=None)    # pressure-on-the-state order received today
    attack: np.ndarray = field(default=None)      # attack order (rivals, residents) today
    aggression: np.ndarray = field(default=None)  # today's aggression multiplier

    def __post_init__(self) -> None:
        n = len(self.street)
        for name in ("restraint", "pressure", "attack", "aggression", "opportunism", "habit"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(n))


@dataclass
class LeaderState:
    gang: np.ndarray
    prison: np.ndarray        # index into config.PRISONS
    comm: np.ndarray          # share of messages that get out
    incentive: np.ndarray     # benefits-driven will to restrain (M4)
    expectation: np.ndarray   # remembered benefits (M5)
    grievance: np.ndarray     # unmet expectation built up over time: will to attack (M5)
    unmet: np.ndarray = field(default=None)  # expectation minus benefits today (M5)

    def __post_init__(self) -> None:
        if self.unmet is None:
            self.unmet = np.zeros(len(self.gang))


@dataclass
class CivilianState:
    size: np.ndarray          # residents per Civilian block (int); last block: ungoverned
    abroad: int = 0           # emigrants (M10)
    deportees: int = 0        # recently deported back, at heightened risk (M10)


@dataclass
class GangState:
    """Per gang: grievance towards the state and the phase of a retaliation campaign (M7)."""
    grievance: np.ndarray = field(default_factory=lambda: np.zeros(3))
    security_days: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))
    relatives_days: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))
    campaigns: int = 0


@dataclass
class SecurityState:
    morale: float = 1.0
    response: float = 0.0     # security forces' retaliation after their own losses (M6)
    authorized: int = 0       # police strength the state hires back to
    army_barracks: int = 0    # soldiers not deployed on public security
    pending_hires: float = 0.0
