"""The four kinds of agents.

Daily rates are computed for all agents of a kind at once (numpy arrays held by the model, one
entry per agent, indexed by the agent's `idx`: sim/state.py); the agents below read their state
from those arrays and act individually only where something happens: a leader is transferred,
a unit is posted or withdrawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent
from mesa.discrete_space import CellAgent

from sim.config import GANGS, PRISONS

if TYPE_CHECKING:
    from sim.model import GangViolenceModel


class GangClique(CellAgent):
    """A street clique of one gang, at its home cell, holding the ground around it. It is
    created when it forms (on the start date, or by a split) and removed when it has no members
    left on the street; its home moves when it loses the home cell."""

    def __init__(self, model: "GangViolenceModel", idx: int, gang: int, cell,
                 generation: int = 0):
        super().__init__(model)
        self.idx = idx
        self.gang = gang
        self.generation = generation  # which clique of the slot idx this is
        self.cell = cell

    @property
    def cells(self) -> int:
        """Cells of the grid it holds today."""
        return int(self.model.territory.cells[self.idx])

    @property
    def residents(self) -> int:
        """People living on its ground today."""
        return int(self.model.civilians.size[self.idx])

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


class Civilian(CellAgent):
    """The residents of one clique's ground (or of the rest: empty ground and the state's): a
    block of people; it lives and goes with its clique."""

    def __init__(self, model: "GangViolenceModel", idx: int, cell):
        super().__init__(model)
        self.idx = idx
        self.cell = cell

    @property
    def size(self) -> int:
        return int(self.model.civilians.size[self.idx])
