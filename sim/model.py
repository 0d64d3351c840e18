"""GangViolenceModel: the Mesa model, one step a day with a calendar date."""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

import numpy as np
import pandas as pd
from mesa import Model
from mesa.discrete_space import OrthogonalMooreGrid
from omegaconf import DictConfig, OmegaConf

from sim import engine
from sim import mechanisms as mech
from sim import territory
from sim.agents import Civilian, GangClique, ImprisonedLeader, SecurityUnit
from sim.config import PRISONS, Config, LeversConfig, parse_date, validate
from sim.counting import apply_counting, packaged_counting_rules
from sim.engine import FRACTIONS, SERIES
from sim.landscape import generate
from sim.params import Levers, params_from
from sim.policy import Policy, Timeline
from sim.state import (EMPTY, STATE, CivilianState, CliqueState, GangState, LeaderState,
                       SecurityState, Territory)

__all__ = ["GangViolenceModel", "SERIES", "load_config"]

MAX_STRETCH = 90  # days run without coming back to Python (progress bars update this often)
# the first day on which the official homicide count left something out (sim/data/counting_rules.csv)
COUNTING_CHANGES = min(r.start for r in packaged_counting_rules() if r.category).isoformat()


def load_config(cfg: Config | DictConfig | None = None, **overrides: Any) -> Config:
    """A typed, validated Config from a DictConfig, a Config, or the packaged defaults.

    `overrides` use dotted keys, e.g. load_config(**{"model.scale": 0.05, "seed": 3}).
    """
    if cfg is None:
        from sim.compose import compose
        cfg = compose([f"{k}={v}" for k, v in overrides.items()])
        overrides = {}
    if isinstance(cfg, Config) and not overrides:  # already typed (ensembles build thousands)
        validate(cfg)
        return cfg
    if isinstance(cfg, Config):
        cfg = OmegaConf.structured(cfg)
    for key, value in overrides.items():
        OmegaConf.update(cfg, key, value, merge=False)
    typed = OmegaConf.to_object(cfg) if isinstance(cfg, DictConfig) else cfg
    validate(typed)
    return typed


def preload_kernels() -> int:
    """Load the compiled kernels a model calls from Python (sim.compiled.preload) ahead of
    its first set-up; the number of versions loaded."""
    from sim.compiled import preload
    from sim.landscape import _nearest

    return preload(_nearest, territory.rebuild, mech.redeploy, mech.update_presence,
                   engine.advance)


class TerritoryGrid(OrthogonalMooreGrid):
    """Mesa's Moore grid (not a torus), connected without clearing the neighbourhood caches of
    cells that are new (Mesa clears them on every connection: half the cost of a national
    model's set-up), the neighbours of inner cells found by their offset in the cell list."""

    def _connect_cells_2d(self) -> None:
        offsets = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
        width, height = self.dimensions
        cells = self._celllist  # row-major: cell (i, j) is cells[i * height + j]
        shifts = [di * height + dj for di, dj in offsets]
        for k, cell in enumerate(cells):
            i, j = divmod(k, height)
            if 0 < i < width - 1 and 0 < j < height - 1:
                cell.connections.update(zip(offsets, [cells[k + d] for d in shifts]))
            else:  # the edge: only the neighbours on the grid, in the same order
                cell.connections.update({(di, dj): cells[k + d] for (di, dj), d
                                         in zip(offsets, shifts)
                                         if 0 <= i + di < width and 0 <= j + dj < height})


class GangViolenceModel(Model):
    """Gang cliques, imprisoned leaders, security units and civilians on a territory grid.

    The state of every agent of a kind is held in arrays (sim/state.py) that the compiled
    daily processes update for all agents at once; the agents act through Python where
    something happens to them: a policy moves leaders or deploys army units.
    """

    def __init__(self, cfg: Config | DictConfig | None = None, rng: int | None = None):
        # The set-up makes some 20,000 objects that live as long as the model (cells, their
        # connections, agents) and no garbage: the collector, which would walk the whole heap
        # several times meanwhile (half the grid's cost), waits until it is done.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._set_up(cfg, rng)
        finally:
            if collecting:
                gc.enable()

    def _set_up(self, cfg: Config | DictConfig | None, rng: int | None) -> None:
        self.cfg = cfg = load_config(cfg)
        super().__init__(rng=cfg.seed if rng is None else rng)
        p = cfg.model
        self.scale = p.scale
        self.start_date = parse_date(cfg.start, "start")
        self.end_date = parse_date(cfg.end, "end")
        self.date = self.start_date
        self.params = params_from(p)
        self.timeline = Timeline.from_config(cfg.scenario, cfg.policies, p.levers)
        self._change_days = self.timeline.change_days()
        self._snapshot_days = self._territory_dates()
        self.territory_snapshots: dict[str, np.ndarray] = {}  # date -> control layer that day
        self.grid = TerritoryGrid((p.landscape.width, p.landscape.height), torus=False,
                                        random=self.random)
        self._create_landscape()
        self._create_cliques()
        self._create_leaders()
        self._create_civilians()
        self._create_security()
        self.today = mech.Today.create(self.n_slots)
        self._series = engine.empty_series(self.n_days)
        self._policies: list[str] = []
        # 2011 coverage (police plus the baseline levers' soldiers) is the reference effort
        self.security.reference[0] = (self.security.officers[0] + p.levers.soldiers_deployed
                                      * self.scale) / max(self.civilians.size.sum(), 1)
        self._spin_up(p.spinup_days)
        self.territory.changes[:] = 0  # changes of hands are counted from the start date
        self._sync_cliques()
        self._apply_policies(self.date, first=True)
        self._change_days.discard(self.start_date)  # already applied
        self.running = True

    # ------------------------------------------------------------------ set-up
    def _create_landscape(self) -> None:
        p = self.cfg.model
        pop = p.population
        self.n_cliques = max(6, round(pop.n_cliques * self.scale))  # on the start date
        self.n_slots = max(self.n_cliques, round(self.n_cliques * p.territory.slots))
        shares = (pop.share_ms13, pop.share_b18s, max(1 - pop.share_ms13 - pop.share_b18s, 0))
        self.landscape = land = generate(p.landscape, pop.population * self.scale,
                                         self.n_cliques, shares, self.rng)
        # the layers the dynamics read and write: the owner of each cell (a clique's slot,
        # EMPTY or STATE), the landscape's people per cell and how often each cell changed
        # hands; the others are drawn from the state arrays for maps (update_layers)
        self.grid.create_property_layer("owner", EMPTY, np.int64)
        self.grid.create_property_layer("density", 0.0, float)
        self.grid.create_property_layer("population", 0.0, float)
        self.grid.create_property_layer("gang", -1, int)
        self.grid.create_property_layer("violence", 0.0, float)
        self.grid.create_property_layer("changes", 0, np.int64)
        self.grid.owner.data = land.owner
        self.grid.density.data = land.population
        self.territory = Territory.create(self.grid.owner.data, self.grid.density.data,
                                          self.grid.changes.data, self.n_slots)

    def _create_cliques(self) -> None:
        p, land, n = self.cfg.model, self.landscape, self.n_cliques
        # members spread over cliques by the size of the territory they prey on
        weight = np.sqrt(np.maximum(land.territory_pop, 1.0))
        street = self.rng.multinomial(round(p.population.street_members * self.scale),
                                      weight / weight.sum())
        prison = self.rng.multinomial(round(p.population.prison_members * self.scale),
                                      weight / weight.sum())
        o = p.orders
        a = o.obedience_mean * o.obedience_concentration
        b = (1 - o.obedience_mean) * o.obedience_concentration
        obedience = self.rng.beta(max(a, 1e-3), max(b, 1e-3), n)
        n_leaders = max(3, round(p.population.n_leaders * self.scale))
        self._leader_gang = leader_gang = np.arange(n_leaders) % 3
        # each clique is steered by a leader of its own gang, drawn at random
        leader = np.empty(n, np.int64)
        for g in range(3):
            mine = np.flatnonzero(land.clique_gang == g)
            leader[mine] = self.rng.choice(np.flatnonzero(leader_gang == g), len(mine))
        h = p.landscape.height
        home = land.clique_home[:, 0] * h + land.clique_home[:, 1]
        self.cliques = CliqueState.create(street, prison, land.clique_gang, leader, obedience,
                                          home, self.n_slots)
        territory.rebuild(self.cliques, self.territory)  # blocks, borders, homes on own ground
        # the Mesa agents of the cliques, by slot (sim/agents.py), and what they were made from
        self._clique_agents: dict[int, GangClique] = {}
        self._block_agents: dict[int, Civilian] = {}
        self._agent_generation = np.full(self.n_slots, -1, np.int64)  # -1: no agent
        self._agent_home = np.full(self.n_slots, -1, np.int64)

    def _create_leaders(self) -> None:
        g = self._leader_gang
        self.leaders = LeaderState.create(g, np.full(len(g), PRISONS.index("max_security")))
        ImprisonedLeader.create_agents(self, len(g), idx=list(range(len(g))), gang=list(g))
        self.gangs = GangState.create()

    def _create_civilians(self) -> None:
        C, T = self.cliques, self.territory
        total = round(self.cfg.model.population.population * self.scale)
        # residents spread over the blocks by the landscape's people: the cliques' slots (free
        # slots hold nobody), then the rest of the country
        size = self.rng.multinomial(total - int(C.street.sum() + C.prison.sum()),
                                    T.held / T.held.sum())
        self.civilians = CivilianState.create(size)
        land = self.landscape
        outside = np.argwhere(land.owner < 0)
        populated = outside[land.population[tuple(outside.T)] > 0]
        home = populated[np.argmax(land.population[tuple(populated.T)])] if len(populated) \
            else land.clique_home[0]
        self._rest_agent = Civilian(self, self.n_slots, self.grid._cells[tuple(home)])

    def _sync_cliques(self) -> None:
        """Mesa agents for the cliques the state arrays hold: a GangClique and the Civilian
        block of its ground for every slot with members on the street; agents of cliques that
        vanished are removed, cliques formed by a split get theirs, and a clique whose home
        moved moves with it. Only the slots that changed are visited."""
        C, h = self.cliques, self.cfg.model.landscape.height
        generation = np.where(C.street > 0, C.generation, -1)
        changed = np.flatnonzero((generation != self._agent_generation)
                                 | (C.home != self._agent_home))
        cells = self.grid._cells
        for idx in changed.tolist():
            if self._agent_generation[idx] >= 0 and generation[idx] != self._agent_generation[idx]:
                self._clique_agents.pop(idx).remove()
                self._block_agents.pop(idx).remove()
            if generation[idx] < 0:  # vanished: its agents went above
                continue
            cell = cells[divmod(int(C.home[idx]), h)]
            if idx not in self._clique_agents:
                self._clique_agents[idx] = GangClique(self, idx, int(C.gang[idx]), cell,
                                                      int(generation[idx]))
                self._block_agents[idx] = Civilian(self, idx, cell)
            else:
                self._clique_agents[idx].cell = cell
                self._block_agents[idx].cell = cell
        self._agent_generation[changed] = generation[changed]
        self._agent_home[changed] = C.home[changed]

    def _create_security(self) -> None:
        pop, police_cfg = self.cfg.model.population, self.cfg.model.police
        officers = round(pop.police_officers * self.scale)
        n_police = max(4, round(officers / pop.unit_size))
        personnel = np.full(n_police, officers // n_police)
        personnel[: officers - personnel.sum()] += 1
        self.unit_personnel = max(1, officers // n_police)
        barracks = round(pop.army_soldiers * self.scale)
        capacity = barracks // self.unit_personnel + 2  # every army unit the barracks can fill
        self.security = SecurityState.create(personnel, capacity, barracks,
                                             police_cfg.redeploy_days)
        self.n_police_units = n_police
        self.police_units = list(SecurityUnit.create_agents(
            self, n_police, idx=list(range(n_police)), force="police"))
        self.army_units: list[SecurityUnit] = []  # created when first deployed
        mech.redeploy(self.cliques, self.security, self.territory, self.civilians, self.params,
                      self.rng)
        self._sync_units()

    def _spin_up(self, days: int) -> None:
        """Simulate `days` days under the baseline levers before the start date, unrecorded, so
        that the memories the processes keep (retaliation, revenge, arms, habits, grievance)
        start from the model's own state rather than from zero. Mesa's clock does not move."""
        if days <= 0:
            return
        self._levers = Levers.from_config(self.cfg.model.levers)
        self.set_soldiers(self.cfg.model.levers.soldiers_deployed)
        scratch = engine.empty_series(min(days, MAX_STRETCH))
        done = 0
        while done < days:
            k = min(days - done, len(scratch))
            engine.advance(*self._engine_state(), scratch, 0, k, done + 1)
            done += k

    # ------------------------------------------------------------------ policies
    def _apply_policies(self, day: dt.date, first: bool = False) -> None:
        """Switch levers on a change day; prison transfers happen when a policy starts (on the
        first day, every policy already under way has started)."""
        self.levers: LeversConfig = self.timeline.levers(day)
        self._levers = Levers.from_config(self.levers)
        self.policy_names = self.timeline.names(day)
        for spell in (self.timeline.active(day) if first else self.timeline.starting(day)):
            lv = spell.policy.levers
            if lv.leader_prison is not None:
                self.transfer_leaders(lv.leader_prison, lv.leaders_moved)
        self.set_soldiers(self.levers.soldiers_deployed)

    def switch_policy(self, name: str) -> None:
        """Make policy `name` (a key of cfg.policies) the only one from the current date on.

        The scenario's spells under way end yesterday and its later ones are dropped; the
        levers switch at once (baseline levers plus the policy's), and leaders move if the
        policy names a prison, as when any policy starts. The next step simulates the
        current date under it; the days already simulated keep their policies.
        """
        if name not in self.cfg.policies:
            raise ValueError(f"unknown policy {name!r}; accepted: {sorted(self.cfg.policies)}")
        policy = Policy.from_config(self.cfg.policies[name])
        self.timeline = self.timeline.switched(policy, self.date)
        self._change_days = {d for d in self.timeline.change_days() if d > self.date}
        self._apply_policies(self.date)

    def transfer_leaders(self, prison: str, count: int | None) -> None:
        """Move `count` leaders (national number, scaled; None = all) not yet there."""
        code = PRISONS.index(prison)
        leaders = self.agents_by_type[ImprisonedLeader]
        movable = [a for a in leaders if self.leaders.prison[a.idx] != code]
        if count is not None:
            k = min(len(movable), round(count * self.scale))
            movable = [movable[i] for i in sorted(self.rng.choice(len(movable), k, replace=False))]
        for leader in movable:
            leader.transfer(prison)
        L = self.leaders
        isolated = np.bincount(L.gang, weights=L.prison == mech.ISOLATION, minlength=3)
        self.gangs.isolated[:] = isolated / np.maximum(np.bincount(L.gang, minlength=3), 1)

    def set_soldiers(self, soldiers: int) -> None:
        """Deploy or withdraw army units to match the lever (national number, scaled). Deployed
        army units are always the first army units (the processes rely on it)."""
        S = self.security
        first = self.n_police_units
        capacity = len(S.personnel) - first
        target = min(round(soldiers * self.scale / self.unit_personnel), capacity)
        active = int(S.deployed[first:].sum())
        for j in range(first + active, first + target):  # deploy, filled from the barracks
            take = min(self.unit_personnel - S.personnel[j], S.barracks[0])
            S.personnel[j] += take
            S.barracks[0] -= take
            S.deployed[j] = 1
            S.cell[j] = self._patrol_cell()
            if j - first >= len(self.army_units):
                self.army_units.append(SecurityUnit(self, j, "army"))
        for j in range(first + target, first + active):  # back to the barracks
            S.barracks[0] += S.personnel[j]
            S.personnel[j] = 0
            S.deployed[j] = 0
            S.cell[j] = -1
        mech.update_presence(*self._presence_args())

    def _patrol_cell(self) -> int:
        cdf = self.territory.patrol_cdf
        return int(min(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"),
                       len(cdf) - 1))

    def _presence_args(self) -> tuple:
        return self.cliques, self.security, self.territory, self.civilians, self.params

    def _sync_units(self) -> None:
        """Post the Mesa units where the state arrays say they are (after a redeployment)."""
        h = self.cfg.model.landscape.height
        for unit in self.police_units + self.army_units:
            flat = int(self.security.cell[unit.idx])
            if flat < 0:
                if unit.cell is not None:
                    unit.withdraw()
                continue
            cell = self.grid._cells[divmod(flat, h)]
            if unit.cell is not cell:
                unit.post(cell)

    # ------------------------------------------------------------------ the days
    def _engine_state(self) -> tuple:
        """What the compiled day reads and writes, in engine.advance's order."""
        return (self.cliques, self.leaders, self.gangs, self.civilians, self.security,
                self.territory, self.params, self._levers, self.rng, self.today)

    def _advance(self, days: int, first_step: int) -> None:
        """Simulate `days` days from the current date under the current levers."""
        row = len(self._policies)
        engine.advance(*self._engine_state(), self._series, row, days, first_step)
        self._sync_cliques()
        self._policies.extend([self.policy_names] * days)
        self.date += dt.timedelta(days=days)
        last = self.date - dt.timedelta(days=1)
        if last in self._snapshot_days:
            self.territory_snapshots[last.isoformat()] = self.control_layer()
        if self.date > self.end_date:
            self.running = False

    def _territory_dates(self) -> list[dt.date]:
        """The days at whose end the territory is recorded (output.territory_dates, or the
        start, the first of January of two years between and the end)."""
        chosen = self.cfg.output.territory_dates
        if chosen:
            return sorted({parse_date(d, "output.territory_dates") for d in chosen})
        start, end = self.start_date, self.end_date
        between = [dt.date(start.year + round(k * (end.year - start.year) / 3), 1, 1)
                   for k in (1, 2)]
        return sorted({start, end, *[d for d in between if start < d < end]})

    def control_layer(self) -> np.ndarray:
        """(W, H) who controls each cell: -1 nobody, 0-2 the gangs (config.GANGS), 3 the state."""
        owner = self.grid.owner.data
        gang = np.where(owner >= 0, self.cliques.gang[np.maximum(owner, 0)], -1)
        return np.where(owner == STATE, 3, gang).astype(np.int8)

    def _days_to_next_change(self) -> int:
        later = [d for d in self._change_days if d > self.date]
        # a stretch ends after a day on which the territory is recorded
        later += [d + dt.timedelta(days=1) for d in self._snapshot_days if d >= self.date]
        horizon = min(later, default=self.end_date + dt.timedelta(days=1))
        return min((horizon - self.date).days, (self.end_date - self.date).days + 1,
                   MAX_STRETCH)

    def step(self) -> None:
        """One day (Mesa's step: `self.steps` already counts it)."""
        if self.date in self._change_days:
            self._apply_policies(self.date)
        self._advance(1, self.steps)
        self._sync_units()

    def run(self, progress=None) -> pd.DataFrame:
        """Step to the end date; `progress` is called with the number of days done.

        Days between policy changes run as one compiled stretch (the same processes, in the
        same order, as `step`); Mesa's clock advances by the days run."""
        clock = self._default_schedule
        while self.running:
            if self.date in self._change_days:
                self._apply_policies(self.date)
            days = self._days_to_next_change()
            clock.pause()
            self._advance(days, self.steps + 1)
            self.steps += days
            self.time += days
            clock.resume()
            if progress is not None:
                progress(self.steps)
        self._sync_units()
        return self.series()

    # ------------------------------------------------------------------ reading the run
    @property
    def n_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def series(self) -> pd.DataFrame:
        """The daily series so far, one row per day, `date` first (DESIGN.md section 5)."""
        done = len(self._policies)
        values = self._series[:done]
        df = pd.DataFrame({name: (np.round(values[:, k], 6) if name in FRACTIONS
                                  else values[:, k].astype(np.int64))
                           for k, name in enumerate(SERIES)})
        df["policies"] = self._policies
        dates = pd.date_range(self.start_date, periods=done, freq="D")
        df.insert(0, "date", dates.strftime("%Y-%m-%d"))
        if done and df.date.iloc[-1] >= COUNTING_CHANGES:  # the official count's rule that day
            df = apply_counting(df)
        return df

    def people_total(self) -> int:
        """Everyone the model accounts for, alive here, abroad or dead; constant by design."""
        C, V, S = self.cliques, self.civilians, self.security
        return int(V.size.sum() + V.abroad[0] + V.deportees[0] + C.street.sum() + C.prison.sum()
                   + V.detained[0] + S.officers[0] + S.soldiers[0] + S.barracks[0] + V.dead[0])

    def update_layers(self) -> None:
        """Refresh the map layers from the state arrays: residents per cell (their block's
        residents spread by the landscape's people), who controls each cell (-1 nobody, 0-2
        the gangs, 3 the state) and recent violence per resident."""
        C, T, n = self.cliques, self.territory, self.n_slots
        owner = self.grid.owner.data
        block = np.where(owner >= 0, owner, n)
        per_person = self.civilians.size / np.maximum(T.held, 1e-9)
        density = self.grid.density.data
        self.grid.population.data = density * per_person[block]
        self.grid.gang.data = self.control_layer()
        viol = np.append(C.violence, 0.0) / np.maximum(T.held, 1e-9)
        self.grid.violence.data = density * viol[block]

    def unit_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the deployed police units and of the deployed army units."""
        S, h = self.security, self.cfg.model.landscape.height
        deployed = (S.deployed == 1) & (S.cell >= 0)
        xy = np.stack(np.divmod(S.cell, h), axis=1)
        return xy[deployed & (S.army == 0)], xy[deployed & (S.army == 1)]
