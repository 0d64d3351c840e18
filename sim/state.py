"""The model's state: numpy arrays with one entry per agent of a kind, grouped by kind.

The compiled processes (sim/mechanisms.py) read and write these arrays for every agent at once;
the Mesa agents (sim/agents.py) read their attributes from them. Each group is a NamedTuple of
arrays so that numba compiles it as one argument; a quantity that is a single number (police
morale, say) is a one-element array so that the processes can change it in place. Arrays are
created once per run and may be replaced between compiled stretches (cliques that form or
disappear, units that join), never during one.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class CliqueState(NamedTuple):
    """Per street clique (GangClique)."""
    street: np.ndarray        # members on the street (int64)
    prison: np.ndarray        # members in prison (int64)
    gang: np.ndarray          # 0 MS-13, 1 B18-S, 2 B18-R
    leader: np.ndarray        # index of the steering ImprisonedLeader
    obedience: np.ndarray     # share of orders followed, fixed trait
    retaliation: np.ndarray   # urge to retaliate against rival cliques (M2)
    revenge: np.ndarray       # hostility to security forces (M6)
    arms: np.ndarray          # lethality relative to 2011 (M4)
    norm: np.ndarray          # adherence to the gangs' cease-fire (M8)
    presence: np.ndarray      # local security presence relative to the national mean
    violence: np.ndarray      # recent killings in the territory (smoothed, per day)
    opportunism: np.ndarray   # members acting on their own (M7)
    habit: np.ndarray         # restraint become a habit of the street (M3)
    order: np.ndarray         # restraint order received today (M3)
    restraint: np.ndarray     # restraint followed today (the order or the habit)
    pressure: np.ndarray      # pressure-on-the-state order received today
    attack: np.ndarray        # attack order (rivals, residents) received today
    aggression: np.ndarray    # today's aggression multiplier
    home: np.ndarray          # flat index of the home cell (where hot-spot units go)
    generation: np.ndarray    # 0 for the cliques of the start date; a split's new clique gets a new one

    @classmethod
    def create(cls, street, prison, gang, leader, obedience, home, slots: int) -> "CliqueState":
        """The cliques of the start date in the first len(street) of `slots` entries; the
        rest are free slots for cliques that form later (no members, no ground)."""
        n = len(street)

        def pad(values, dtype):
            out = np.zeros(slots, dtype)
            out[:n] = values
            return out

        dynamic = {name: np.zeros(slots) for name in cls._fields[5:-2]}
        dynamic["arms"] = np.ones(slots)      # arms start at their 2011 level
        dynamic["presence"] = np.ones(slots)  # the national mean until units are posted
        return cls(street=pad(street, np.int64), prison=pad(prison, np.int64),
                   gang=pad(gang, np.int64), leader=pad(leader, np.int64),
                   obedience=pad(obedience, float), home=pad(home, np.int64),
                   generation=np.zeros(slots, np.int64), **dynamic)


class LeaderState(NamedTuple):
    """Per imprisoned leader (ImprisonedLeader)."""
    gang: np.ndarray
    prison: np.ndarray        # index into config.PRISONS
    comm: np.ndarray          # share of messages that get out
    incentive: np.ndarray     # benefits-driven will to restrain (M4)
    expectation: np.ndarray   # remembered benefits (M5)
    grievance: np.ndarray     # unmet expectation built up over time: will to attack (M5)
    unmet: np.ndarray         # expectation minus benefits today (M5)

    @classmethod
    def create(cls, gang, prison) -> "LeaderState":
        n = len(gang)
        return cls(np.asarray(gang, np.int64), np.asarray(prison, np.int64),
                   *[np.zeros(n) for _ in range(5)])


class GangState(NamedTuple):
    """Per gang: grievance towards the state and the phase of a retaliation campaign (M7)."""
    grievance: np.ndarray       # (3,)
    isolated: np.ndarray        # (3,) share of the gang's leaders held in isolation
    security_days: np.ndarray   # (3,) days left of a campaign against security forces
    relatives_days: np.ndarray  # (3,) days left of the campaign against their relatives
    ceasefire_order: np.ndarray  # (1,) strength of the gangs' cease-fire order (M8), 1 = fresh

    @classmethod
    def create(cls) -> "GangState":
        return cls(np.zeros(3), np.zeros(3), np.zeros(3, np.int64), np.zeros(3, np.int64),
                   np.ones(1))


class CivilianState(NamedTuple):
    """Per Civilian block (one per clique territory, the last one ungoverned), and the people
    abroad."""
    size: np.ndarray          # residents per block (int64)
    abroad: np.ndarray        # (1,) emigrants (M10)
    deportees: np.ndarray     # (1,) recently deported back, at heightened risk (M10)
    dead: np.ndarray          # (1,) everyone killed so far, for the people ledger
    detained: np.ndarray      # (1,) people with no gang ties held in prison (emergency powers)

    @classmethod
    def create(cls, size) -> "CivilianState":
        return cls(np.asarray(size, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64),
                   np.zeros(1, np.int64), np.zeros(1, np.int64))


class SecurityState(NamedTuple):
    """Per SecurityUnit (police units first, then army units), and the forces' totals. Array
    length is the capacity: every police unit plus as many army units as the barracks fill."""
    personnel: np.ndarray     # officers or soldiers in the unit (int64)
    army: np.ndarray          # 1 for an army unit, 0 for police (int64)
    deployed: np.ndarray      # 1 if on the territory (int64); police units always are
    cell: np.ndarray          # flat index of the posted cell, -1 when not deployed
    officers: np.ndarray      # (1,) police officers in the units (kept with the units)
    soldiers: np.ndarray      # (1,) soldiers deployed (kept with the units)
    barracks: np.ndarray      # (1,) soldiers not deployed on public security
    authorized: np.ndarray    # (1,) police strength the state hires back to
    morale: np.ndarray        # (1,) police morale, 1 = full
    response: np.ndarray      # (1,) security forces' retaliation after their losses (M6)
    pending_hires: np.ndarray  # (1,) hires decided, not yet made
    coverage: np.ndarray      # (1,) personnel per resident relative to 2011
    reference: np.ndarray     # (1,) personnel per resident in 2011 (0 until it is known)
    next_redeploy: np.ndarray  # (1,) days until units move again

    @classmethod
    def create(cls, police_personnel: np.ndarray, army_capacity: int, barracks: int,
               redeploy_days: int) -> "SecurityState":
        n_police = len(police_personnel)
        n = n_police + army_capacity
        personnel = np.zeros(n, np.int64)
        personnel[:n_police] = police_personnel
        army = np.zeros(n, np.int64)
        army[n_police:] = 1
        deployed = 1 - army
        one = lambda v, t=np.int64: np.array([v], t)  # noqa: E731
        return cls(personnel, army, deployed, np.full(n, -1, np.int64),
                   one(int(personnel.sum())), one(0), one(barracks), one(int(personnel.sum())),
                   one(1.0, float), one(0.0, float), one(0.0, float), one(1.0, float),
                   one(0.0, float), one(redeploy_days))


EMPTY, STATE = -1, -2  # owners of a cell that no clique holds: nobody, or the state


class Territory(NamedTuple):
    """The grid as the processes read it: who holds each cell, who borders whom. `owner`,
    `density` and `changes` are the buffers of the grid's property layers of those names (flat,
    row-major: cell (x, y) is x * H + y). Block b < C is clique b's ground; block C is the rest (empty
    ground and the state's). Rebuilt by sim/territory.py's `rebuild` whenever cells change."""
    owner: np.ndarray         # (W*H,) clique holding each cell, EMPTY or STATE
    density: np.ndarray       # (W*H,) people per cell on the start date (the landscape)
    changes: np.ndarray       # (W*H,) times each cell changed hands
    shape: np.ndarray         # (2,) W, H
    patrol_cdf: np.ndarray    # (W*H,) cumulative population: patrol areas drawn by population
    held: np.ndarray          # (C+1,) landscape people in each block's cells
    cells: np.ndarray         # (C+1,) cells of each block
    cell_ptr: np.ndarray      # (C+2,) cells of block b: cell_list[ptr[b]:ptr[b+1]]
    cell_list: np.ndarray     # (W*H,)
    border_ptr: np.ndarray    # (C+1,) rival borders of clique i: border_dst[ptr[i]:ptr[i+1]]
    border_dst: np.ndarray    # the rival clique across each border
    border_cum: np.ndarray    # cumulative share of i's rival border facing each rival
    has_border: np.ndarray    # (C,) 1.0 if the clique has any rival border
    front_ptr: np.ndarray     # (edges+1,) the rival's cells along each border:
    front_cell: np.ndarray    # front_cell[front_ptr[e]:front_ptr[e+1]]
    clashes: np.ndarray       # killings across each border since the last rebuild
    state_days: np.ndarray    # (W*H,) days a state-held cell stays held without a unit
    state_held: np.ndarray    # (1,) landscape people in the state's cells
    scratch: np.ndarray       # (3, 4*W*H) int64 work space for the rebuild

    @classmethod
    def create(cls, owner: np.ndarray, density: np.ndarray, changes: np.ndarray,
               slots: int) -> "Territory":
        """Around the layers' buffers (shape W x H, flattened without a copy); call
        territory.rebuild before the first day."""
        w, h = owner.shape
        cells = w * h
        flat = [a.reshape(-1) for a in (owner, density, changes)]
        assert all(np.shares_memory(f, a) for f, a in zip(flat, (owner, density, changes)))
        edges = 4 * cells  # every directed rival border is along at least one cell pair
        return cls(owner=flat[0], density=flat[1], changes=flat[2],
                   shape=np.array([w, h], np.int64),
                   patrol_cdf=np.cumsum(density.reshape(-1)), held=np.zeros(slots + 1),
                   cells=np.zeros(slots + 1, np.int64), cell_ptr=np.zeros(slots + 2, np.int64),
                   cell_list=np.zeros(cells, np.int64),
                   border_ptr=np.zeros(slots + 1, np.int64),
                   border_dst=np.zeros(edges, np.int64), border_cum=np.zeros(edges),
                   has_border=np.zeros(slots), front_ptr=np.zeros(edges + 1, np.int64),
                   front_cell=np.zeros(edges, np.int64), clashes=np.zeros(edges, np.int64),
                   state_days=np.zeros(cells), state_held=np.zeros(1),
                   scratch=np.zeros((3, edges), np.int64))
