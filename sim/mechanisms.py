"""The daily processes M2-M12 of DESIGN.md section 2, each computed for all agents at once.

Each function reads the model's state arrays and parameters, draws today's events with the
model's generator, and returns counts; `GangViolenceModel.step` applies them in a fixed order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import PRISONS
from sim.state import relax

if TYPE_CHECKING:
    from sim.model import GangViolenceModel

ISOLATION = PRISONS.index("isolation")
COMFORT = np.array([0.0, 1.0, -0.5])  # max_security, low_security, isolation (harsher)


def leader_orders(m: "GangViolenceModel") -> None:
    """M3, M4, M5: leaders weigh benefits against grievance; orders reach cliques imperfectly.

    Benefits delivered (negotiation) raise the incentive to order restraint; when they stop,
    the incentive fades while the memory of them (expectation) lingers. The gap (unmet
    expectation) is turned at once into pressure on the state (attacks on security forces),
    and, as it builds up into grievance, into attack orders against rivals and residents.
    What reaches a clique is the order times its leader's prison communication times the
    clique's obedience.
    """
    p, L, lv = m.cfg.model, m.leaders, m.levers
    t = p.truce
    rate = np.where(lv.negotiation > L.incentive, relax(t.incentive_rise_days),
                    relax(t.incentive_halflife_days))
    L.incentive += (lv.negotiation - L.incentive) * rate
    # what leaders count as benefits: the deal and the comfort of their prison
    benefits = (1 - t.comfort_weight) * L.incentive + t.comfort_weight * COMFORT[L.prison]
    L.expectation += np.where(benefits > L.expectation, relax(t.incentive_rise_days * 4),
                              relax(t.expectation_halflife_days)) * (benefits - L.expectation)
    L.unmet[:] = np.clip(L.expectation - benefits, 0.0, 1.0)
    L.grievance += (L.unmet - L.grievance) * relax(p.truce.grievance_halflife_days)
    comm_by_prison = np.array([p.orders.comm_max_security, p.orders.comm_low_security,
                               p.orders.comm_isolation])
    visits = 1.0 if lv.visits else 1.0 - p.orders.visits_share
    L.comm[:] = comm_by_prison[L.prison] * visits
    C = m.cliques
    reach = L.comm[C.leader] * C.obedience
    # leaders who offer talks order restraint themselves, as a token of what they can deliver;
    # the order still has to get out of their prison
    offer = 1.0 if lv.gang_offer else 0.0
    order = reach * np.maximum(L.incentive[C.leader], offer)
    # months of obeying a restraint order make it a habit of the street that outlives the order:
    # it builds up while the order holds and fades once it stops
    C.habit += (order - C.habit) * relax(p.orders.habit_halflife_days)
    C.restraint[:] = np.maximum(order, C.habit)
    # pressure on the state (attacks on security forces) follows the unmet deal at once;
    # the wider war on rivals and residents follows grievance as it builds up
    C.pressure[:] = reach * L.unmet[C.leader]
    C.attack[:] = reach * L.grievance[C.leader]
    # the street sees its leaders' bet fail (the unmet deal) and members start acting on their
    # own, whatever the leaders order; a habit that builds up, and fades, over months
    C.opportunism += (L.unmet[C.leader] - C.opportunism) * relax(p.orders.opportunism_halflife_days)
    m.restraint_on = bool(offer > 0 or L.incentive.max() > 1e-9 or C.habit.max() > 1e-9)


def ceasefire_norm(m: "GangViolenceModel") -> None:
    """M8: the gangs' own order spreads through the street leadership, obeyed at once by those
    who follow orders; without fresh orders the norm fades, and revenge erodes it."""
    c, C = m.cfg.model.ceasefire, m.cliques
    if m.levers.gang_ceasefire:
        target = c.reach * C.obedience
        C.norm += np.maximum(target - C.norm, 0) * relax(c.adoption_halflife_days)
    else:
        C.norm *= 1 - relax(c.norm_halflife_days)
    if c.erosion_per_revenge > 0:
        C.norm *= np.maximum(1 - c.erosion_per_revenge * C.revenge, 0)


def aggression(m: "GangViolenceModel") -> None:
    """M2-M4, M8: today's aggression of each clique, as a multiplier of its 2011 level."""
    p, C = m.cfg.model, m.cliques
    C.aggression[:] = (C.arms
                       * (1 - p.orders.restraint_strength * C.restraint)
                       * (1 + p.orders.attack_strength * C.attack
                          + p.orders.opportunism_strength * C.opportunism)
                       * (1 - p.ceasefire.strength * C.norm)
                       * (1 + C.retaliation + p.repression.revenge_spillover * C.revenge))


def border_killings(m: "GangViolenceModel") -> tuple[np.ndarray, np.ndarray]:
    """M2: killings across rival borders. Returns (killings by attacker, victims per clique)."""
    p, C, land = m.cfg.model.border, m.cliques, m.landscape
    lam = p.kill_rate * C.street[land.edge_src] * C.aggression[land.edge_src] * land.edge_share
    kills = m.rng.poisson(lam)
    n = len(C.street)
    victims = np.minimum(np.bincount(land.edge_dst, weights=kills, minlength=n).astype(np.int64),
                         C.street)
    by_killer = np.bincount(land.edge_src, weights=kills, minlength=n).astype(np.int64)
    # victims capped by clique size: drop the excess from the killers' tally proportionally
    excess = int(by_killer.sum() - victims.sum())
    if excess > 0:
        by_killer = _remove_excess(by_killer, excess, m.rng)
    return by_killer, victims


def _remove_excess(counts: np.ndarray, excess: int, rng: np.random.Generator) -> np.ndarray:
    counts = counts.copy()
    for _ in range(excess):
        i = rng.choice(np.flatnonzero(counts))
        counts[i] -= 1
    return counts


def security_operations(m: "GangViolenceModel", street_left: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """M6, M9: security forces kill (lethal force) and arrest (raids) gang members."""
    r, C, lv = m.cfg.model.repression, m.cliques, m.levers
    effort = C.presence * m.security_effort()
    lethal = lv.lethal_force * (1 + m.security.response)
    killed = np.minimum(m.rng.poisson(r.lethal_kill_rate * lethal * effort * street_left),
                        street_left)
    p_arrest = np.minimum(r.arrest_rate * lv.arrest_intensity * effort, 1)
    arrested = m.rng.binomial(street_left - killed, p_arrest)
    return killed, arrested


def attacks_on_security(m: "GangViolenceModel") -> tuple[int, int, int]:
    """M6, M7: gangs kill police, soldiers and their relatives: revenge, pressure orders from
    leaders, and planned campaigns. Returns (police, soldiers, relatives) killed."""
    p, C, G = m.cfg.model, m.cliques, m.gangs
    r = p.repression
    phase1 = ((G.security_days > 0) * p.isolation.campaign_hostility)[C.gang]
    phase2 = ((G.relatives_days > 0) * p.isolation.campaign_relatives_hostility)[C.gang]
    base = r.security_kill_rate * C.street * C.presence * C.arms
    # the cease-fire was also declared towards the government, yet police killings went on
    base = base * (1 - p.ceasefire.strength * p.ceasefire.covers_security * C.norm)
    hostile = float(base @ (1 + r.pressure_gain * C.pressure + C.revenge))
    # a sum of independent Poisson draws is one Poisson draw of the summed rate
    security = int(m.rng.poisson(hostile + float(base @ phase1)))
    relatives = int(m.rng.poisson(r.relatives_per_security_killing
                                  * (hostile + float(base @ phase2))))
    police, army = m.deployed_personnel()
    exposed_army = army * r.soldier_exposure
    soldiers = int(m.rng.binomial(security, exposed_army / max(police + exposed_army, 1)))
    return security - soldiers, soldiers, relatives


def civilian_killings(m: "GangViolenceModel") -> tuple[np.ndarray, int]:
    """M10: gangs kill residents of their territory (extortion refused, suspicion, spill-over)
    and recently deported returnees. Returns (killed per block of a clique, deportees killed)."""
    c, C, civ = m.cfg.model.civilians, m.cliques, m.civilians
    n = len(C.street)
    killed = np.minimum(m.rng.poisson(c.kill_rate * C.street * C.aggression), civ.size[:n])
    members = C.street.sum()
    mean_aggr = float(C.aggression @ C.street) / max(members, 1)
    per_resident = c.kill_rate * members / max(civ.size.sum(), 1)
    deportees = min(int(m.rng.poisson(c.deportee_risk * per_resident * mean_aggr
                                      * civ.deportees)), civ.deportees)
    return killed, deportees


def economy(m: "GangViolenceModel", security_kills: np.ndarray, arrests: np.ndarray
            ) -> tuple[int, np.ndarray]:
    """M4, M6: extortion (up when fighting gives way to revenue), arms bought with it, and
    recruitment fed by revenue and by repression. Returns (extortions, recruits per clique)."""
    t, r, C = m.cfg.model.truce, m.cfg.model.repression, m.cliques
    revenue = 1 + t.peace_extortion_gain * C.restraint  # extortion per member vs 2011
    extortions = int(m.rng.poisson(t.extortion_rate * float(C.street @ revenue)))
    C.arms += (revenue ** t.rearm_elasticity - C.arms) * relax(t.arms_halflife_days)
    lam = (r.recruit_rate * C.street * (1 + r.revenue_recruit_gain * (revenue - 1))
           + r.recruits_per_repression * security_kills + r.recruits_per_arrest * arrests)
    recruits = np.minimum(m.rng.poisson(lam), m.civilians.size[:len(C.street)])
    return extortions, recruits


def prison_releases(m: "GangViolenceModel") -> np.ndarray:
    """M9: members leave prison; overcrowding speeds releases up."""
    p, C = m.cfg.model.prisons, m.cliques
    crowding = max(C.prison.sum() / max(p.capacity * m.scale, 1) - 1, 0)
    rate = min(1 / p.mean_sentence_days * (1 + p.overcrowding_release_gain * crowding), 1)
    return m.rng.binomial(C.prison, rate)


def hidden_bodies(m: "GangViolenceModel", gang_kills: np.ndarray) -> int:
    """M12: cliques following a restraint order hide some of their victims."""
    if not m.restraint_on:  # nobody is restraining: nothing to hide
        return 0
    share = np.minimum(m.cfg.model.reporting.hide_share * m.cliques.restraint, 1)
    return int(m.rng.binomial(gang_kills, share).sum())


def campaigns(m: "GangViolenceModel", security_kills: np.ndarray) -> None:
    """M7: gangs whose leaders are isolated, or whose members security forces kill, build up
    grievance; past a threshold they plan a campaign against security forces, then their
    relatives."""
    iso, G, C = m.cfg.model.isolation, m.gangs, m.cliques
    G.grievance += iso.grievance_per_isolated_day * m.isolated_share()
    if security_kills.sum() > 0:
        members = np.bincount(C.gang, weights=C.street, minlength=3)
        kills = np.bincount(C.gang, weights=security_kills, minlength=3)
        G.grievance += (iso.grievance_per_security_killing * kills
                        / np.maximum(members / 1000, 1e-9))
    ending = (G.security_days == 1)
    G.security_days = np.maximum(G.security_days - 1, 0)
    G.relatives_days = np.maximum(G.relatives_days - 1, 0)
    G.relatives_days[ending] = iso.campaign_relatives_days
    launch = (G.grievance >= iso.campaign_threshold) & (G.security_days == 0) & (
        G.relatives_days == 0)
    G.security_days[launch] = iso.campaign_security_days
    G.grievance[launch] = 0.0
    G.campaigns += int(launch.sum())


def update_feelings(m: "GangViolenceModel", victims: np.ndarray, security_kills: np.ndarray
                    ) -> None:
    """M2, M6: each killing raises the victims' urge to retaliate; both fade with time."""
    b, r, C = m.cfg.model.border, m.cfg.model.repression, m.cliques
    C.retaliation *= 1 - relax(b.retaliation_halflife_days)
    C.retaliation += b.retaliation_per_killing * victims
    np.minimum(C.retaliation, b.retaliation_cap, out=C.retaliation)
    C.revenge *= 1 - relax(r.revenge_halflife_days)
    C.revenge += r.revenge_per_killing * security_kills
    np.minimum(C.revenge, r.revenge_cap, out=C.revenge)


def flight(m: "GangViolenceModel") -> tuple[int, int]:
    """M10: residents emigrate, more where killings are frequent; some emigrants are deported
    back and face a heightened risk until they settle. Returns (fled, deported back)."""
    c, civ, C = m.cfg.model.civilians, m.civilians, m.cliques
    n = len(C.street)
    p = np.full(len(civ.size), c.flight_base)
    p[:n] += c.flight_per_violence * 365e5 * C.violence / np.maximum(civ.size[:n], 1)
    fled = m.rng.binomial(civ.size, np.minimum(p, 1))
    civ.size -= fled
    deported = int(m.rng.binomial(civ.abroad, c.deportation_rate))
    civ.abroad += int(fled.sum()) - deported
    civ.deportees += deported
    settled = 0
    if m.steps % 7 == 0:  # settle a week's worth at once: one draw over the blocks
        week = 1 - (1 - relax(c.reintegration_halflife_days)) ** 7
        settled = int(m.rng.binomial(civ.deportees, week))
    if settled:
        civ.deportees -= settled
        civ.size += m.rng.multinomial(settled, civ.size / civ.size.sum())
    return int(fled.sum()), deported
