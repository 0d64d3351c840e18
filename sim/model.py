"""GangViolenceModel: the Mesa model, one step a day with a calendar date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from mesa import DataCollector, Model
from mesa.discrete_space import OrthogonalMooreGrid
from omegaconf import DictConfig, OmegaConf

from sim import mechanisms as mech
from sim.agents import Civilian, GangClique, ImprisonedLeader, PoliceUnit, sample_units
from sim.config import PRISONS, Config, LeversConfig, parse_date, validate
from sim.landscape import generate
from sim.policy import Policy, Timeline
from sim.state import (CivilianState, CliqueState, GangState, LeaderState, SecurityState,
                       relax)

RECENT = relax(15.0)  # "recent violence" is a 15-day half-life moving average of killings

# the daily series of DESIGN.md section 5 (plus a few stocks), in output order
SERIES = ("homicides", "homicides_true", "hidden", "gang_vs_gang", "gang_vs_civilian",
          "gang_vs_security", "security_vs_gang", "police_killed", "soldiers_killed",
          "relatives_killed", "gang_members_street", "gang_members_prison", "arrests",
          "releases", "recruits", "civilians_fled", "deported", "extortion", "police_officers",
          "soldiers_deployed", "police_morale", "population", "leaders_isolated",
          "ceasefire_norm", "campaign_active", "police_resigned")


def load_config(cfg: Config | DictConfig | None = None, **overrides: Any) -> Config:
    """A typed, validated Config from a DictConfig, a Config, or the packaged defaults.

    `overrides` use dotted keys, e.g. load_config(**{"model.scale": 0.05, "seed": 3}).
    """
    if cfg is None:
        from sim.compose import compose
        cfg = compose([f"{k}={v}" for k, v in overrides.items()])
        overrides = {}
    if isinstance(cfg, Config):
        cfg = OmegaConf.structured(cfg)
    for key, value in overrides.items():
        OmegaConf.update(cfg, key, value, merge=False)
    typed = OmegaConf.to_object(cfg) if isinstance(cfg, DictConfig) else cfg
    validate(typed)
    return typed


class GangViolenceModel(Model):
    """Gang cliques, imprisoned leaders, police units and civilians on a territory grid."""

    def __init__(self, cfg: Config | DictConfig | None = None, rng: int | None = None):
        self.cfg = cfg = load_config(cfg)
        super().__init__(rng=cfg.seed if rng is None else rng)
        self.dead = 0  # everyone killed so far, for the people ledger
        self._isolated: np.ndarray | None = None
        self.restraint_on = False
        p = cfg.model
        self.scale = p.scale
        self.start_date = parse_date(cfg.start, "start")
        self.end_date = parse_date(cfg.end, "end")
        self.date = self.start_date
        self.timeline = Timeline.from_config(cfg.scenario, cfg.policies, p.levers)
        self._change_days = self.timeline.change_days()
        self.levers: LeversConfig = self.timeline.levers(self.date)
        self.grid = OrthogonalMooreGrid((p.landscape.width, p.landscape.height), torus=False,
                                        random=self.random)
        self._create_landscape()
        self._create_cliques()
        self._create_leaders()
        self._create_civilians()
        self._create_security()
        self.today: dict[str, float] = dict.fromkeys(SERIES, 0.0)
        # one table row a day: cheaper than a reporter per series, and the same record
        self.datacollector = DataCollector(tables={"daily": list(SERIES) + ["policies"]})
        self.policy_names = self.timeline.names(self.date)
        # 2011 coverage (police plus the baseline levers' soldiers) is the reference effort
        self._national_ratio = (self._personnel[0] + p.levers.soldiers_deployed * self.scale) \
            / max(self.civilians.size.sum(), 1)
        self._apply_policies(self.date, first=True)
        self._change_days.discard(self.start_date)  # already applied
        self.running = True

    # ------------------------------------------------------------------ set-up
    def _create_landscape(self) -> None:
        p = self.cfg.model
        pop = p.population
        self.n_cliques = max(6, round(pop.n_cliques * self.scale))
        shares = (pop.share_ms13, pop.share_b18s, max(1 - pop.share_ms13 - pop.share_b18s, 0))
        self.landscape = generate(p.landscape, pop.population * self.scale, self.n_cliques,
                                  shares, self.rng)
        land = self.landscape
        self.grid.create_property_layer("population", 0.0, float)
        self.grid.create_property_layer("gang", -1, int)
        self.grid.create_property_layer("violence", 0.0, float)
        self.grid.population.data = land.population
        self.grid.gang.data = land.gang
        self._territory_weights = land.population / np.maximum(
            np.where(land.owner >= 0, land.territory_pop[np.maximum(land.owner, 0)],
                     land.outside_pop), 1e-9)

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
        leader_gang = np.arange(n_leaders) % 3
        leader = np.array([self.rng.choice(np.flatnonzero(leader_gang == g))
                           for g in land.clique_gang])
        self.cliques = CliqueState(
            street=street.astype(np.int64), prison=prison.astype(np.int64),
            gang=land.clique_gang, leader=leader, obedience=obedience,
            retaliation=np.zeros(n), revenge=np.zeros(n), arms=np.ones(n), norm=np.zeros(n),
            presence=np.ones(n), violence=np.zeros(n))
        cells = [self.grid._cells[tuple(xy)] for xy in land.clique_home]
        GangClique.create_agents(self, n, idx=list(range(n)), gang=list(land.clique_gang),
                                 leader=list(leader), cell=cells)
        self._leader_gang = leader_gang

    def _create_leaders(self) -> None:
        g = self._leader_gang
        n = len(g)
        self.leaders = LeaderState(
            gang=g, prison=np.full(n, PRISONS.index("max_security")), comm=np.zeros(n),
            incentive=np.zeros(n), expectation=np.zeros(n), grievance=np.zeros(n))
        ImprisonedLeader.create_agents(self, n, idx=list(range(n)), gang=list(g))
        self.gangs = GangState()

    def _create_civilians(self) -> None:
        land, C = self.landscape, self.cliques
        total = round(self.cfg.model.population.population * self.scale)
        n = self.n_cliques
        weights = np.append(land.territory_pop, land.outside_pop)
        size = self.rng.multinomial(total - int(C.street.sum() + C.prison.sum()),
                                    weights / weights.sum())
        self.civilians = CivilianState(size=size.astype(np.int64))
        outside = np.argwhere(land.owner < 0)
        populated = outside[land.population[tuple(outside.T)] > 0]
        home = populated[np.argmax(land.population[tuple(populated.T)])] if len(populated) \
            else land.clique_home[0]
        cells = [self.grid._cells[tuple(xy)] for xy in land.clique_home] + [
            self.grid._cells[tuple(home)]]
        Civilian.create_agents(self, n + 1, idx=list(range(n + 1)), cell=cells)

    def _create_security(self) -> None:
        pop, police_cfg = self.cfg.model.population, self.cfg.model.police
        officers = round(pop.police_officers * self.scale)
        n_units = max(4, round(officers / pop.unit_size))
        personnel = np.full(n_units, officers // n_units)
        personnel[: officers - personnel.sum()] += 1
        self.police_units = list(PoliceUnit.create_agents(
            self, n_units, idx=list(range(n_units)), force="police", personnel=list(personnel)))
        self.army_units: list[PoliceUnit] = []
        self.unit_personnel = max(1, officers // n_units)
        self.security = SecurityState(morale=1.0, authorized=officers,
                                      army_barracks=round(pop.army_soldiers * self.scale))
        self._national_ratio: float | None = None
        self._patrol_cdf = np.cumsum(self.landscape.population.ravel())
        self.redeploy()
        self._next_redeploy = police_cfg.redeploy_days
        self._rates = {"morale": relax(police_cfg.morale_recovery_halflife_days),
                       "hiring": relax(police_cfg.hiring_halflife_days),
                       "response": relax(self.cfg.model.repression.response_halflife_days)}

    # ------------------------------------------------------------------ policies
    def _apply_policies(self, day: dt.date, first: bool = False) -> None:
        """Switch levers on a change day; prison transfers happen when a policy starts (on the
        first day, every policy already under way has started)."""
        self.levers = self.timeline.levers(day)
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

    def isolated_share(self) -> np.ndarray:
        """Per gang, the share of its leaders held in isolation (cached between transfers)."""
        if self._isolated is None:
            L = self.leaders
            iso = np.bincount(L.gang, weights=L.prison == mech.ISOLATION, minlength=3)
            self._isolated = iso / np.maximum(np.bincount(L.gang, minlength=3), 1)
        return self._isolated

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
        self._isolated = None

    def set_soldiers(self, soldiers: int) -> None:
        """Deploy or withdraw army units to match the lever (national number, scaled)."""
        target = round(soldiers * self.scale / self.unit_personnel)
        active = [u for u in self.army_units if u.deployed]
        while len(active) < target:
            idle = [u for u in self.army_units if not u.deployed]
            if idle:
                unit = idle[0]
            else:
                unit = PoliceUnit(self, len(self.police_units) + len(self.army_units), "army", 0)
                self.army_units.append(unit)
            take = min(self.unit_personnel - unit.personnel, self.security.army_barracks)
            unit.personnel += take
            self.security.army_barracks -= take
            unit.deployed = True
            unit.post(self._patrol_cells(1)[0])
            active.append(unit)
        for unit in active[target:]:
            self.security.army_barracks += unit.personnel
            unit.personnel = 0
            unit.withdraw()
        self._update_presence()

    # ------------------------------------------------------------------ security forces
    def deployed_units(self) -> list[PoliceUnit]:
        return self.police_units + [u for u in self.army_units if u.deployed]

    def deployed_personnel(self) -> tuple[int, int]:
        """(police officers, deployed soldiers); cached, refreshed when units change."""
        return self._personnel

    def _count_personnel(self) -> None:
        self._personnel = (sum(u.personnel for u in self.police_units),
                           sum(u.personnel for u in self.army_units if u.deployed))

    def security_effort(self) -> float:
        """National effort relative to 2011 coverage, damped by low police morale."""
        return self._coverage * (0.5 + 0.5 * self.security.morale)

    def _patrol_cells(self, k: int) -> list:
        """k cells drawn in proportion to population (patrol areas)."""
        flat = np.searchsorted(self._patrol_cdf, self.rng.random(k) * self._patrol_cdf[-1],
                               side="right")
        h = self.cfg.model.landscape.height
        return [self.grid._cells[divmod(int(i), h)] for i in flat]

    def redeploy(self) -> None:
        """Units move: some to the most violent territories, the rest to patrol areas."""
        cfg, C = self.cfg.model.police, self.cliques
        units = self.deployed_units()
        patrol = self._patrol_cells(len(units))
        hot = self.rng.random(len(units)) < cfg.hotspot_share
        if C.violence.sum() > 0 and hot.any():
            cdf = np.cumsum(C.violence)
            target = np.searchsorted(cdf, self.rng.random(int(hot.sum())) * cdf[-1],
                                     side="right")
            homes = self.landscape.clique_home[target]
            for j, i in enumerate(np.flatnonzero(hot)):
                patrol[i] = self.grid._cells[tuple(homes[j])]
        for unit, cell in zip(units, patrol):
            unit.post(cell)
        self._update_presence()

    def _update_presence(self) -> None:
        land, w = self.landscape, self.cfg.model.police.local_presence_weight
        units = self.deployed_units()
        self._count_personnel()
        xy = np.array([u.cell.coordinate for u in units])
        people = np.array([u.personnel for u in units], dtype=float)
        owner = land.owner[xy[:, 0], xy[:, 1]]
        inside = owner >= 0
        local = np.bincount(owner[inside], weights=people[inside], minlength=self.n_cliques)
        total = people.sum()
        ratio = total / max(self.civilians.size.sum(), 1)
        local_ratio = local / np.maximum(self.civilians.size[:self.n_cliques], 1) / max(ratio, 1e-12)
        self.cliques.presence[:] = (1 - w) + w * local_ratio
        self._ratio = ratio
        self._coverage = 1.0 if self._national_ratio is None else ratio / self._national_ratio

    def _police_events(self, police_killed: int, soldiers_killed: int) -> tuple[int, int]:
        """M11: killed officers leave their units, morale falls, some quit, the state hires.
        Returns the (police, soldiers) actually killed: nobody dies twice in an empty unit."""
        m, sec = self.cfg.model.police, self.security
        police_lost = sum(u.lose(1) for u in sample_units(self.police_units, police_killed,
                                                          self.rng))
        soldiers_lost = 0
        for unit in sample_units([u for u in self.army_units if u.deployed] if soldiers_killed
                                 else [], soldiers_killed, self.rng):
            lost = unit.lose(1)
            soldiers_lost += lost
            if lost and sec.army_barracks > 0:  # replaced from the barracks: deployment holds
                sec.army_barracks -= 1
                unit.personnel += 1
            elif lost:
                self._personnel = (self._personnel[0], self._personnel[1] - 1)
        r = self.cfg.model.repression
        sec.response = min(r.response_cap, sec.response * (1 - self._rates["response"])
                           + r.response_per_killing * (police_lost + soldiers_lost) / self.scale)
        sec.morale += (1 - sec.morale) * self._rates["morale"]
        # morale responds to national losses: a killing at scale s stands for 1/s killings
        sec.morale = max(0.0, sec.morale - m.morale_drop_per_killing
                         * (police_lost + soldiers_lost) / self.scale)
        officers = self._personnel[0] - police_lost
        quit_p = m.resignation_base + m.resignation_low_morale * (1 - sec.morale)
        resigned = int(self.rng.binomial(max(officers, 0), min(quit_p, 1)))
        left = sum(u.lose(1) for u in sample_units(self.police_units, resigned, self.rng))
        sec.pending_hires += max(sec.authorized - officers + left, 0) * self._rates["hiring"]
        hires = min(int(sec.pending_hires), int(self.civilians.size[-1]))
        if hires:  # new officers join the units in turn
            sec.pending_hires -= hires
            self.police_units[self.steps % len(self.police_units)].personnel += hires
        # quitters rejoin civilian life, recruits come from it: people are conserved
        self.civilians.size[-1] += left - hires
        self.today["police_resigned"] = left
        self._personnel = (officers - left + hires, self._personnel[1])
        return police_lost, soldiers_lost

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        if self.date in self._change_days:
            self._apply_policies(self.date)
        C, civ, n = self.cliques, self.civilians, self.n_cliques
        mech.leader_orders(self)
        mech.ceasefire_norm(self)
        mech.aggression(self)
        by_killer, gg_victims = mech.border_killings(self)
        C.street -= gg_victims
        sg, arrests = mech.security_operations(self, C.street)
        C.street -= sg + arrests
        C.prison += arrests
        police_k, soldiers_k, relatives_k = mech.attacks_on_security(self)
        civ_killed, deportees_killed = mech.civilian_killings(self)
        civ.size[:n] -= civ_killed
        civ.deportees -= deportees_killed
        relatives_k = min(relatives_k, int(civ.size[-1]))
        civ.size[-1] -= relatives_k
        extortions, recruits = mech.economy(self, sg, arrests)
        civ.size[:n] -= recruits
        C.street += recruits
        releases = mech.prison_releases(self)
        C.prison -= releases
        C.street += releases
        mech.update_feelings(self, gg_victims, sg)
        hidden = mech.hidden_bodies(self, by_killer + civ_killed)
        mech.campaigns(self, sg)
        police_k, soldiers_k = self._police_events(police_k, soldiers_k)
        fled, deported = mech.flight(self)
        local = gg_victims + sg + civ_killed
        C.violence += (local - C.violence) * RECENT
        gg, sgt, civ_total = int(gg_victims.sum()), int(sg.sum()), int(civ_killed.sum())
        self.dead += gg + sgt + civ_total + deportees_killed + police_k + soldiers_k + relatives_k
        self._next_redeploy -= 1
        if self._next_redeploy <= 0:
            self.redeploy()
            self._next_redeploy = self.cfg.model.police.redeploy_days

        gc = civ_total + deportees_killed
        gs = police_k + soldiers_k + relatives_k
        true = gg + gc + gs + sgt
        police, army = self.deployed_personnel()
        t = self.today
        t.update(homicides=true - hidden, homicides_true=true, hidden=hidden, gang_vs_gang=gg,
                 gang_vs_civilian=gc, gang_vs_security=gs, security_vs_gang=sgt,
                 police_killed=police_k, soldiers_killed=soldiers_k,
                 relatives_killed=relatives_k, gang_members_street=int(C.street.sum()),
                 gang_members_prison=int(C.prison.sum()), arrests=int(arrests.sum()),
                 releases=int(releases.sum()), recruits=int(recruits.sum()),
                 civilians_fled=fled, deported=deported, extortion=extortions,
                 police_officers=police, soldiers_deployed=army,
                 police_morale=round(self.security.morale, 6),
                 population=int(civ.size.sum() + civ.deportees + C.street.sum()
                                + C.prison.sum() + police + army),
                 leaders_isolated=int((self.leaders.prison == mech.ISOLATION).sum()),
                 ceasefire_norm=round(float(C.norm.mean()), 6),
                 campaign_active=int(((self.gangs.security_days > 0)
                                      | (self.gangs.relatives_days > 0)).sum()))
        t["policies"] = self.policy_names
        self.datacollector.add_table_row("daily", t)
        self.date += dt.timedelta(days=1)
        if self.date > self.end_date:
            self.running = False

    # ------------------------------------------------------------------ reading the run
    @property
    def n_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def run(self, progress=None) -> pd.DataFrame:
        """Step to the end date; `progress` is called with the number of days done."""
        while self.running:
            self.step()
            if progress is not None:
                progress(self.steps)
        return self.series()

    def series(self) -> pd.DataFrame:
        """The daily series so far, one row per day, `date` first (DESIGN.md section 5)."""
        df = self.datacollector.get_table_dataframe("daily")
        dates = pd.date_range(self.start_date, periods=len(df), freq="D")
        df.insert(0, "date", dates.strftime("%Y-%m-%d"))
        return df

    def people_total(self) -> int:
        """Everyone the model accounts for, alive here, abroad or dead; constant by design."""
        C, civ, sec = self.cliques, self.civilians, self.security
        police, army = self.deployed_personnel()
        return int(civ.size.sum() + civ.abroad + civ.deportees + C.street.sum()
                   + C.prison.sum() + police + army + sec.army_barracks + self.dead)

    def update_layers(self) -> None:
        """Refresh the property layers from the state arrays (for maps and the dashboard)."""
        land, C = self.landscape, self.cliques
        owner = land.owner
        block = np.where(owner >= 0, owner, self.n_cliques)
        initial = np.append(land.territory_pop, land.outside_pop)
        factor = self.civilians.size / np.maximum(initial, 1e-9)
        self.grid.population.data = land.population * factor[block]
        viol = np.append(C.violence, 0.0)
        self.grid.violence.data = viol[block] * self._territory_weights

    def unit_positions(self) -> tuple[np.ndarray, np.ndarray]:
        police = np.array([u.cell.coordinate for u in self.police_units]).reshape(-1, 2)
        army = np.array([u.cell.coordinate for u in self.army_units if u.deployed]).reshape(-1, 2)
        return police, army
