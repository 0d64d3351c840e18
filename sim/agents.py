"""The four kinds of agents.

Daily rates are computed for all agents of a kind at once (numpy arrays held by the model, one
entry per agent, indexed by the agent's `idx`); the agents below read their state from those
arrays and act individually only where something happens: a leader is transferred, a unit is
redeployed or loses an officer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from mesa.discrete_space import CellAgent, FixedAgent

from sim.config import GANGS, PRISONS

if TYPE_CHECKING:
    from sim.model import GangViolenceModel


class GangClique(FixedAgent):
    """A street clique of one gang, holding the territory around its home cell."""

    def __init__(self, model: "GangViolenceModel", idx: int, gang: int, leader: int, cell):
        super().__init__(model)
        self.idx = idx
        self.gang = gang
        self.leader = leader  # index of the ImprisonedLeader who steers it
        self.cell = cell

    @property
    def gang_name(self) -> str:
        return GANGS[self.gang]

    @property
    def members(self) -> int:
        return int(self.model.cliques.street[self.idx])

    @property
    def prisoners(self) -> int:
        return int(self.model.cliques.prison[self.idx])

    @property
    def obedience(self) -> float:
        return float(self.model.cliques.obedience[self.idx])

    @property
    def aggression(self) -> float:
        return float(self.model.cliques.aggression[self.idx])

    @property
    def retaliation(self) -> float:
        return float(self.model.cliques.retaliation[self.idx])

    @property
    def ceasefire_norm(self) -> float:
        return float(self.model.cliques.norm[self.idx])


class ImprisonedLeader(Agent):
    """A gang leader in prison; his orders reach his cliques as far as his prison allows."""

    def __init__(self, model: "GangViolenceModel", idx: int, gang: int):
        super().__init__(model)
        self.idx = idx
        self.gang = gang

    @property
    def prison(self) -> str:
        return PRISONS[self.model.leaders.prison[self.idx]]

    @property
    def communication(self) -> float:
        return float(self.model.leaders.comm[self.idx])

    @property
    def incentive(self) -> float:
        return float(self.model.leaders.incentive[self.idx])

    @property
    def grievance(self) -> float:
        return float(self.model.leaders.grievance[self.idx])

    def transfer(self, prison: str) -> None:
        """Move to another prison; communication follows the new prison from today's orders on."""
        self.model.leaders.prison[self.idx] = PRISONS.index(prison)


class PoliceUnit(CellAgent):
    """A police or army unit posted to a cell; it patrols, arrests and may use lethal force."""

    def __init__(self, model: "GangViolenceModel", idx: int, force: str, personnel: int):
        super().__init__(model)
        self.idx = idx
        self.force = force  # "police" or "army"
        self.personnel = personnel
        self.deployed = force == "police"

    def post(self, cell) -> None:
        """Move to a cell (a hot spot or a patrol area)."""
        self.move_to(cell)

    def withdraw(self) -> None:
        """Back to the barracks: the unit leaves the territory."""
        self.deployed = False
        self.cell = None

    def lose(self, n: int) -> int:
        """Officers killed or resigned; returns how many actually left the unit."""
        n = min(n, self.personnel)
        self.personnel -= n
        return n


class Civilian(FixedAgent):
    """The residents of one clique's territory (or of the ungoverned rest): a block of people."""

    def __init__(self, model: "GangViolenceModel", idx: int, cell):
        super().__init__(model)
        self.idx = idx
        self.cell = cell

    @property
    def size(self) -> int:
        return int(self.model.civilians.size[self.idx])

    @property
    def controlled_by(self) -> int | None:
        return self.idx if self.idx < len(self.model.cliques.street) else None


def sample_units(units: list[PoliceUnit], k: int, rng: np.random.Generator
                 ) -> list[PoliceUnit]:
    """k units at random (with replacement) among those with anyone left in them."""
    picked: list[PoliceUnit] = []
    if k <= 0 or not units:
        return picked
    tries = 0
    while len(picked) < k and tries < 20 * k:  # units are rarely empty: retry, don't filter
        unit = units[int(rng.integers(len(units)))]
        tries += 1
        if unit.personnel > 0:
            picked.append(unit)
    return picked
