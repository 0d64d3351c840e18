"""The four kinds of agents.

Daily rates are computed for all agents of a kind at once (numpy arrays held by the model, one
entry per agent, indexed by the agent's `idx`: sim/state.py); the agents below read their state
from those arrays and act individually only where something happens: a leader is transferred,
a unit is posted or withdrawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent
from mesa.discrete_space import CellAgent, FixedAgent

from sim.config import GANGS, PRISONS

if TYPE_CHECKING:
    from sim.model import GangViolenceModel


class GangClique(FixedAgent):
    """A street clique of one gang, holding the territory around its home cell."""

    def __init__(self, model: "GangViolenceModel", idx: int, gang: int, cell):
        super().__init__(model)
        self.idx = idx
        self.gang = gang
        self.cell = cell

    @property
    def gang_name(self) -> str:
        return GANGS[self.gang]

    @property
    def members(self) -> int:
        """Members on the street today."""
        return int(self.model.cliques.street[self.idx])


class ImprisonedLeader(Agent):
    """A gang leader in prison; his orders reach his cliques as far as his prison allows."""

    def __init__(self, model: "GangViolenceModel", idx: int, gang: int):
        super().__init__(model)
        self.idx = idx
        self.gang = gang

    @property
    def prison(self) -> str:
        return PRISONS[self.model.leaders.prison[self.idx]]

    def transfer(self, prison: str) -> None:
        """Move to another prison; communication follows the new prison from today's orders on."""
        self.model.leaders.prison[self.idx] = PRISONS.index(prison)


class SecurityUnit(CellAgent):
    """A police or army unit posted to a cell; it patrols, arrests and may use lethal force."""

    def __init__(self, model: "GangViolenceModel", idx: int, force: str):
        super().__init__(model)
        self.idx = idx
        self.force = force  # "police" or "army"

    @property
    def personnel(self) -> int:
        """Officers or soldiers in the unit today."""
        return int(self.model.security.personnel[self.idx])

    @property
    def deployed(self) -> bool:
        return bool(self.model.security.deployed[self.idx])

    def post(self, cell) -> None:
        """Move to a cell (a hot spot or a patrol area)."""
        self.move_to(cell)

    def withdraw(self) -> None:
        """Back to the barracks: the unit leaves the territory."""
        self.cell = None


class Civilian(FixedAgent):
    """The residents of one clique's territory (or of the ungoverned rest): a block of people."""

    def __init__(self, model: "GangViolenceModel", idx: int, cell):
        super().__init__(model)
        self.idx = idx
        self.cell = cell

    @property
    def size(self) -> int:
        return int(self.model.civilians.size[self.idx])
