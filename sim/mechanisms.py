"""The daily processes M2-M12 of DESIGN.md section 2, compiled, each for all agents at once.

One contract for every process: it reads the state (sim/state.py), today's levers and the
parameters (sim/params.py), draws with the model's generator, and writes today's events into
`Today` (counts per clique or block) or returns them. A process may update the memory it owns
(grievance, habits, norms, feelings, morale); people move between stocks only in
sim/engine.py's `day`, which calls the processes in a fixed order and applies their events.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.compiled import kernel
from sim.draws import binomial_split, pick, pick_nonempty, poisson_split, scatter

ISOLATION = 2  # index of "isolation" in config.PRISONS


class Today(NamedTuple):
    """Today's events per clique (per Civilian block for `fled`), reused from day to day."""
    victims: np.ndarray     # members killed by rival cliques
    by_killer: np.ndarray   # rival members killed by each clique
    security: np.ndarray    # members killed by security forces
    arrests: np.ndarray
    civilians: np.ndarray   # residents of the clique's territory killed by it
    recruits: np.ndarray
    releases: np.ndarray
    fled: np.ndarray        # residents emigrating, per block
    settled: np.ndarray     # deportees settling back among the residents, per block
    detained: np.ndarray    # residents with no gang ties arrested under emergency powers, per block
    freed: np.ndarray       # such detainees released, per block
    custody: np.ndarray     # imprisoned members who died in custody
    rate: np.ndarray        # scratch: per-clique rates
    prob: np.ndarray        # scratch: per-clique probabilities

    @classmethod
    def create(cls, n_cliques: int) -> "Today":
        z = lambda k=n_cliques: np.zeros(k, np.int64)  # noqa: E731
        return cls(z(), z(), z(), z(), z(), z(), z(), z(n_cliques + 1), z(n_cliques + 1),
                   z(n_cliques + 1), z(n_cliques + 1), z(),
                   np.zeros(n_cliques),
                   np.zeros(n_cliques + 1))


@kernel
def relax(halflife_days: float) -> float:
    """Share of the gap to a target closed in one day, for a given half-life."""
    return 1.0 - 0.5 ** (1.0 / halflife_days)


@kernel
def leader_orders(C, L, P, lv) -> bool:
    """M3, M4, M5: leaders weigh benefits against grievance; orders reach cliques imperfectly.

    Benefits delivered (negotiation) raise the incentive to order restraint; when they stop,
    the incentive fades while the memory of them (expectation) lingers. The gap (unmet
    expectation) is turned at once into pressure on the state (attacks on security forces),
    and, as it builds up into grievance, into attack orders against rivals and residents.
    What reaches a clique is the order times its leader's prison communication times the
    clique's obedience. Returns whether any clique receives a restraint order today (only then
    are bodies hidden: a habit of restraint has nothing to prove to the government).
    """
    rise, fade = relax(P.truce_incentive_rise_days), relax(P.truce_incentive_halflife_days)
    remember_up = relax(P.truce_incentive_rise_days * P.truce_expectation_rise_factor)
    forget = P.truce_expectation_fade_rate
    brood = P.truce_grievance_rate
    w = P.truce_comfort_weight
    comfort = (0.0, P.truce_comfort_low_security, P.truce_comfort_isolation)  # by prison
    visits = 1.0 if lv.visits > 0 else 1.0 - P.orders_visits_share
    comm_by_prison = (P.orders_comm_max_security, P.orders_comm_low_security,
                      P.orders_comm_isolation)
    for j in range(len(L.gang)):
        rate = rise if lv.negotiation > L.incentive[j] else fade
        L.incentive[j] += (lv.negotiation - L.incentive[j]) * rate
        # what leaders count as benefits: the deal and the comfort of their prison
        benefits = (1 - w) * L.incentive[j] + w * comfort[L.prison[j]]
        gap = benefits - L.expectation[j]
        L.expectation[j] += (remember_up if gap > 0 else forget) * gap
        L.unmet[j] = min(max(L.expectation[j] - benefits, 0.0), 1.0)
        L.grievance[j] += (L.unmet[j] - L.grievance[j]) * brood
        L.comm[j] = comm_by_prison[L.prison[j]] * visits
    # leaders who offer talks order restraint themselves, as a token of what they can deliver;
    # the order still has to get out of their prison
    offer = P.orders_offer_restraint if lv.gang_offer > 0 else 0.0
    settle = relax(P.orders_habit_halflife_days)
    drift = P.orders_opportunism_rate
    ordered = 0.0
    for i in range(len(C.street)):
        j = C.leader[i]
        reach = L.comm[j] * C.obedience[i]
        order = reach * max(L.incentive[j], offer)
        C.order[i] = order
        ordered = max(ordered, order)
        # months of obeying a restraint order make it a habit of the street that outlives the
        # order: it builds up while the order holds and fades once it stops
        C.habit[i] += (order - C.habit[i]) * settle
        C.restraint[i] = max(order, C.habit[i])
        # pressure on the state (attacks on security forces) follows the unmet deal at once;
        # the wider war on rivals and residents follows grievance as it builds up
        C.pressure[i] = reach * L.unmet[j]
        C.attack[i] = reach * L.grievance[j]
        # the street sees its leaders' bet fail and members start acting on their own,
        # whatever the leaders order; a habit that builds up, and fades, over months
        C.opportunism[i] += (L.unmet[j] - C.opportunism[i]) * drift
    return ordered > 0.0


@kernel
def ceasefire_norm(C, G, P, lv) -> None:
    """M8: the gangs' own order spreads through the street leadership, obeyed at once by those
    who follow orders. The order itself weakens as the gangs' resolve to keep it fades
    (`ceasefire.order_halflife_days`); the norm follows the order down at its own pace, and
    fades at that pace once the order ends; revenge erodes it."""
    adopt, fade = relax(P.ceasefire_adoption_halflife_days), relax(P.ceasefire_norm_halflife_days)
    ordered = lv.gang_ceasefire > 0
    order = G.ceasefire_order[0] if ordered else 0.0
    for i in range(len(C.norm)):
        target = P.ceasefire_reach * C.obedience[i] * order
        C.norm[i] += (target - C.norm[i]) * (adopt if target > C.norm[i] else fade)
        if P.ceasefire_erosion_per_revenge > 0:
            C.norm[i] *= max(1 - P.ceasefire_erosion_per_revenge * C.revenge[i], 0.0)
    # a fresh order starts at full strength; one under way weakens day by day
    G.ceasefire_order[0] = G.ceasefire_order[0] * (1 - relax(P.ceasefire_order_halflife_days)) \
        if ordered else 1.0


@kernel
def aggression(C, P) -> None:
    """M2-M4, M8: today's aggression of each clique, as a multiplier of its 2011 level."""
    for i in range(len(C.aggression)):
        C.aggression[i] = (C.arms[i]
                           * (1 - P.orders_restraint_strength * C.restraint[i])
                           * (1 + P.orders_attack_strength * C.attack[i]
                              + P.orders_opportunism_strength * C.opportunism[i])
                           * (1 - P.ceasefire_strength * C.norm[i])
                           * (1 + C.retaliation[i] + P.repression_revenge_spillover * C.revenge[i]))


@kernel
def border_killings(C, T, P, rng, E) -> None:
    """M2: killings across rival borders, into E.victims (per victim clique) and E.by_killer.

    A clique kills rivals at a rate proportional to its street members and aggression; each
    killing falls on the rival across one of its borders, chosen by the share of its rival
    border that faces it. Victims are capped by the victims' clique size, and the excess is
    removed from the killers' tally at random.
    """
    for i in range(len(C.street)):
        E.rate[i] = P.border_kill_rate * C.street[i] * C.aggression[i] * T.has_border[i]
    poisson_split(E.rate, rng, E.by_killer)
    E.victims[:] = 0
    for i in range(len(C.street)):
        lo, hi = T.border_ptr[i], T.border_ptr[i + 1]
        for _ in range(E.by_killer[i]):
            e = lo + pick(T.border_cum[lo:hi], 1.0, rng)
            E.victims[T.border_dst[e]] += 1
            T.clashes[e] += 1  # the clash may move this border (sim/territory.py)
    excess = 0
    for i in range(len(C.street)):
        if E.victims[i] > C.street[i]:
            excess += E.victims[i] - C.street[i]
            E.victims[i] = C.street[i]
    while excess > 0:  # a killer drawn uniformly among those with kills left
        killers = np.flatnonzero(E.by_killer > 0)
        E.by_killer[killers[rng.integers(0, len(killers))]] -= 1
        excess -= 1


@kernel
def security_operations(C, S, P, lv, rng, E) -> None:
    """M6, M9: security forces kill (lethal force) and arrest (raids) street members, in
    proportion to their local presence and national effort; into E.security and E.arrests."""
    effort = S.coverage[0] * (0.5 + 0.5 * S.morale[0])  # national effort, damped by morale
    lethal = lv.lethal_force * (1 + S.response[0])
    for i in range(len(C.street)):
        E.rate[i] = P.repression_lethal_kill_rate * lethal * C.presence[i] * effort * C.street[i]
    poisson_split(E.rate, rng, E.security)
    n = len(C.street)
    left = np.empty(n, np.int64)
    for i in range(n):
        E.security[i] = min(E.security[i], C.street[i])
        left[i] = C.street[i] - E.security[i]
        E.prob[i] = min(P.repression_arrest_rate * lv.arrest_intensity * C.presence[i] * effort,
                        1.0)
    binomial_split(left, E.prob[:n], rng, E.arrests)


@kernel
def mass_arrests(C, V, P, lv, rng, E) -> int:
    """M6, M9: arrests under emergency powers (state of exception), a national number a day
    (an input: the published arrests), beyond ordinary policing. A share of those arrested
    have no gang ties (residents of the gangs' territories, E.detained per block); the members
    are taken where members are and security forces are present, added to E.arrests, as many
    as the street still holds. Returns the residents detained."""
    E.detained[:] = 0
    if lv.mass_arrests <= 0:
        return 0
    total = rng.poisson(lv.mass_arrests * P.scale)
    residents = rng.binomial(total, P.exception_non_member_share) if total > 0 else 0
    n = len(C.street)
    left = 0
    for i in range(n):
        E.rate[i] = (C.street[i] - E.security[i] - E.arrests[i]) * C.presence[i]
        left += C.street[i] - E.security[i] - E.arrests[i]
    cum = np.cumsum(E.rate)
    if cum[-1] > 0:
        for _ in range(min(total - residents, left)):  # no more tries than members left
            i = pick(cum, cum[-1], rng)
            if E.arrests[i] + E.security[i] < C.street[i]:  # a member is taken only once
                E.arrests[i] += 1
    homes = np.cumsum(V.size[:n].astype(np.float64))  # residents of the gangs' territories
    taken = 0
    if homes[-1] > 0:
        for _ in range(min(residents, int(homes[-1]))):
            b = pick(homes, homes[-1], rng)
            if E.detained[b] < V.size[b]:
                E.detained[b] += 1
                taken += 1
    return taken


@kernel
def attacks_on_security(C, G, S, P, rng) -> tuple:
    """M6, M7: gangs kill police, soldiers and their relatives: revenge, pressure orders from
    leaders, and planned campaigns. Returns (police, soldiers, relatives) killed, as drawn."""
    hostile = 0.0
    first = 0.0   # campaign against security forces
    second = 0.0  # campaign against their relatives
    for i in range(len(C.street)):
        # the cease-fire was also declared towards the government, yet police killings went on
        base = (P.repression_security_kill_rate * C.street[i] * C.presence[i] * C.arms[i]
                * (1 - P.ceasefire_strength * P.ceasefire_covers_security * C.norm[i]))
        hostile += base * (1 + P.repression_pressure_gain * C.pressure[i] + C.revenge[i])
        g = C.gang[i]
        if G.security_days[g] > 0:
            first += base * P.isolation_campaign_hostility
        if G.relatives_days[g] > 0:
            second += base * P.isolation_campaign_relatives_hostility
    security = rng.poisson(hostile + first)
    relatives = rng.poisson(P.repression_relatives_per_security_killing * (hostile + second))
    exposed = S.soldiers[0] * P.repression_soldier_exposure
    soldiers = rng.binomial(security, exposed / max(S.officers[0] + exposed, 1.0)) \
        if security > 0 else 0
    return security - soldiers, soldiers, relatives


@kernel
def civilian_killings(C, V, P, rng, E) -> int:
    """M10: gangs kill residents of their territory (extortion refused, suspicion, spill-over)
    into E.civilians, and recently deported returnees (returned)."""
    n = len(C.street)
    members = 0
    weighted = 0.0
    for i in range(n):
        E.rate[i] = P.civilians_kill_rate * C.street[i] * C.aggression[i]
        members += C.street[i]
        weighted += C.aggression[i] * C.street[i]
    poisson_split(E.rate, rng, E.civilians)
    for i in range(n):
        E.civilians[i] = min(E.civilians[i], V.size[i])
    mean_aggression = weighted / max(members, 1)
    per_resident = P.civilians_kill_rate * members / max(V.size.sum(), 1)
    lam = P.civilians_deportee_risk * per_resident * mean_aggression * V.deportees[0]
    return min(rng.poisson(lam), V.deportees[0]) if lam > 0 else 0


@kernel
def economy(C, V, P, rng, E) -> int:
    """M4, M6: extortion (up when fighting gives way to revenue), arms bought with it, and
    recruitment fed by revenue and by repression, into E.recruits. Returns extortions."""
    rearm = relax(P.truce_arms_halflife_days)
    elasticity = P.truce_rearm_elasticity
    revenue_total = 0.0
    for i in range(len(C.street)):
        revenue = 1 + P.truce_peace_extortion_gain * C.restraint[i]  # per member, vs 2011
        revenue_total += C.street[i] * revenue
        # revenue ** elasticity, as exp(e log revenue) (a third of pow's cost), and neither
        # when the power is the identity (an elasticity of 1, the source value)
        if revenue == 1.0 or elasticity == 1.0:
            target = revenue
        else:
            target = np.exp(elasticity * np.log(revenue))
        C.arms[i] += (target - C.arms[i]) * rearm
        E.rate[i] = (P.repression_recruit_rate * C.street[i]
                     * (1 + P.repression_revenue_recruit_gain * (revenue - 1))
                     + P.repression_recruits_per_repression * E.security[i]
                     + P.repression_recruits_per_arrest * E.arrests[i])
    extortions = rng.poisson(P.truce_extortion_rate * revenue_total)
    poisson_split(E.rate, rng, E.recruits)
    for i in range(len(C.street)):
        E.recruits[i] = min(E.recruits[i], V.size[i])
    return extortions


@kernel
def prison_releases(C, V, P, lv, rng, E) -> int:
    """M9: members leave prison, into E.releases, and so do residents detained under emergency
    powers (E.freed, back among the residents where people live); overcrowding speeds releases
    up where early release is allowed; longer sentences (lever) slow them down. Returns the
    detainees freed."""
    crowding = max(C.prison.sum() / max(P.prisons_capacity * P.scale, 1.0) - 1, 0.0)
    rate = min(1 / (P.prisons_mean_sentence_days * lv.sentence_factor)
               * (1 + P.prisons_overcrowding_release_gain * crowding * lv.early_release), 1.0)
    binomial_split(C.prison, np.array([rate]), rng, E.releases)
    E.freed[:] = 0
    freed = rng.binomial(V.detained[0], rate) if V.detained[0] > 0 else 0
    if freed > 0:  # back among the residents, where people live
        scatter(freed, np.cumsum(V.size.astype(np.float64)), rng, E.freed)
    return freed


@kernel
def custody_deaths(C, V, P, rng, E) -> int:
    """M9: prisoners die in custody (not homicides): members into E.custody; returns the
    detainees with no gang ties who died."""
    binomial_split(C.prison, np.array([P.prisons_custody_death_rate]), rng, E.custody)
    return rng.binomial(V.detained[0], P.prisons_custody_death_rate) if V.detained[0] > 0 else 0


@kernel
def update_feelings(C, P, E) -> None:
    """M2, M6: each killing raises the victims' urge to retaliate (rivals) and their hostility
    to security forces (security forces); both fade with time."""
    fade_r = 1 - relax(P.border_retaliation_halflife_days)
    fade_v = 1 - relax(P.repression_revenge_halflife_days)
    for i in range(len(C.street)):
        C.retaliation[i] = min(C.retaliation[i] * fade_r
                               + P.border_retaliation_per_killing * E.victims[i],
                               P.border_retaliation_cap)
        C.revenge[i] = min(C.revenge[i] * fade_v + P.repression_revenge_per_killing
                           * E.security[i], P.repression_revenge_cap)


@kernel
def hidden_bodies(C, P, rng, E, restraining: bool) -> tuple:
    """M12: cliques under a restraint order hide some of the rivals and residents they kill, in
    proportion to the order they receive today. Returns the hidden bodies of rival members and
    of residents."""
    members = 0
    residents = 0
    if not restraining:  # no order today: nothing to hide
        return members, residents
    for i in range(len(C.street)):
        share = min(P.reporting_hide_share * C.order[i], 1.0)
        if E.by_killer[i] > 0:
            members += rng.binomial(E.by_killer[i], share)
        if E.civilians[i] > 0:
            residents += rng.binomial(E.civilians[i], share)
    return members, residents


@kernel
def campaigns(C, G, P, rng, E) -> None:
    """M7: gangs whose leaders are isolated, or whose members security forces kill, build up
    grievance; a gang launches a campaign against security forces (first phase), then against
    their relatives (second phase), with a daily hazard proportional to its grievance, so that
    when campaigns start is random; the grievance is spent when one starts."""
    killed = E.security.sum()
    members = np.zeros(3)
    kills = np.zeros(3)
    if killed > 0:
        for i in range(len(C.street)):
            members[C.gang[i]] += C.street[i]
            kills[C.gang[i]] += E.security[i]
    for g in range(3):
        G.grievance[g] += P.isolation_grievance_per_isolated_day * G.isolated[g]
        if killed > 0:
            G.grievance[g] += (P.isolation_grievance_per_security_killing * kills[g]
                               / max(members[g] / 1000, 1e-9))
        ending = G.security_days[g] == 1
        G.security_days[g] = max(G.security_days[g] - 1, 0)
        G.relatives_days[g] = max(G.relatives_days[g] - 1, 0)
        if ending:
            G.relatives_days[g] = int(P.isolation_campaign_relatives_days)
        if G.security_days[g] == 0 and G.relatives_days[g] == 0 and G.grievance[g] > 0:
            if rng.random() < -np.expm1(-P.isolation_campaign_hazard * G.grievance[g]):
                G.security_days[g] = int(P.isolation_campaign_security_days)
                G.grievance[g] = 0.0


@kernel
def security_losses(S, V, P, police_killed: int, soldiers_killed: int, rng, day: int) -> tuple:
    """M6, M11: officers and soldiers killed leave their units, security forces respond in
    kind, morale falls and recovers, officers quit (more when morale is low), the state hires
    back to strength, and deployed soldiers are replaced from the barracks.

    Returns (police killed, soldiers killed, officers who quit, officers hired), as they
    happened: nobody dies twice in an empty unit. Quitters rejoin civilian life and recruits
    come from it (the ungoverned Civilian block): the caller moves them.
    """
    n_police = len(S.personnel) - S.army.sum()
    police_lost = _lose(S.personnel, 0, n_police, police_killed, rng)
    soldiers_lost = 0
    for _ in range(soldiers_killed):  # deployed army units are the first after the police
        j = pick_nonempty(S.personnel, n_police, n_police + _deployed_army(S, n_police), rng) \
            if S.soldiers[0] > 0 else -1
        if j < 0:
            continue
        S.personnel[j] -= 1
        soldiers_lost += 1
        if S.barracks[0] > 0:  # replaced from the barracks: deployment holds
            S.barracks[0] -= 1
            S.personnel[j] += 1
        else:
            S.soldiers[0] -= 1
    lost = police_lost + soldiers_lost
    S.response[0] = min(P.repression_response_cap,
                        S.response[0] * (1 - relax(P.repression_response_halflife_days))
                        + P.repression_response_per_killing * lost / P.scale)
    S.morale[0] += (1 - S.morale[0]) * relax(P.police_morale_recovery_halflife_days)
    # morale responds to national losses: a killing at scale s stands for 1/s killings
    S.morale[0] = max(0.0, S.morale[0] - P.police_morale_drop_per_killing * lost / P.scale)
    officers = S.officers[0] - police_lost
    quit_p = min(P.police_resignation_base + P.police_resignation_low_morale * (1 - S.morale[0]),
                 1.0)
    resigned = rng.binomial(max(officers, 0), quit_p) if officers > 0 else 0
    left = _lose(S.personnel, 0, n_police, resigned, rng)
    S.pending_hires[0] += max(S.authorized[0] - officers + left, 0) \
        * relax(P.police_hiring_halflife_days)
    hires = min(int(S.pending_hires[0]), V.size[-1])
    if hires > 0:  # new officers join the units in turn
        S.pending_hires[0] -= hires
        S.personnel[day % n_police] += hires
    S.officers[0] = officers - left + hires
    return police_lost, soldiers_lost, left, hires


@kernel
def _deployed_army(S, n_police: int) -> int:
    k = 0
    for j in range(n_police, len(S.deployed)):
        k += S.deployed[j]
    return k


@kernel
def _lose(personnel, lo: int, hi: int, k: int, rng) -> int:
    """k people leave units drawn at random (with replacement) among [lo, hi) with anyone left
    in them; returns how many actually left."""
    picked = np.empty(k, np.int64)
    for b in range(k):
        picked[b] = pick_nonempty(personnel, lo, hi, rng)
    lost = 0
    for b in range(k):
        j = picked[b]
        if j >= 0 and personnel[j] > 0:
            personnel[j] -= 1
            lost += 1
    return lost


@kernel
def flight(C, V, P, rng, E, day: int) -> tuple:
    """M10: residents emigrate, more where killings are frequent (E.fled); some emigrants are
    deported back and face a heightened risk until they settle among the residents, a week's
    worth at once (E.settled). Returns (deported back, settled)."""
    n = len(C.street)
    for i in range(n + 1):
        E.prob[i] = P.civilians_flight_base
        if i < n:
            E.prob[i] += (P.civilians_flight_per_violence * 365e5 * C.violence[i]
                          / max(V.size[i], 1))
        E.prob[i] = min(E.prob[i], 1.0)
    binomial_split(V.size, E.prob, rng, E.fled)
    deported = rng.binomial(V.abroad[0], P.civilians_deportation_rate) if V.abroad[0] > 0 else 0
    E.settled[:] = 0
    deportees = V.deportees[0] + deported
    settled = 0
    if day % 7 == 0 and deportees > 0:
        week = 1 - (1 - relax(P.civilians_reintegration_halflife_days)) ** 7
        settled = rng.binomial(deportees, week)
        # back among the residents, where people live
        scatter(settled, np.cumsum((V.size - E.fled).astype(np.float64)), rng, E.settled)
    return deported, settled


@kernel
def redeploy(C, S, T, V, P, rng) -> None:
    """Units move: a share to the most violent territories (the home cell of a clique drawn by
    recent violence), the rest to patrol areas drawn by population; then presence follows."""
    hot_total = C.violence.sum()
    cum_violence = np.cumsum(C.violence)
    for j in range(len(S.personnel)):
        if S.deployed[j] == 0:
            continue
        S.cell[j] = pick(T.patrol_cdf, T.patrol_cdf[-1], rng)
        if rng.random() < P.police_hotspot_share and hot_total > 0:
            S.cell[j] = C.home[pick(cum_violence, hot_total, rng)]
    update_presence(C, S, T, V, P)


@kernel
def update_presence(C, S, T, V, P) -> None:
    """Local presence: personnel posted in a clique's territory per resident, relative to the
    national ratio; weighted with national coverage (`police_local_presence_weight`)."""
    n = len(C.street)
    local = np.zeros(n)
    total = 0.0
    officers = 0
    soldiers = 0
    for j in range(len(S.personnel)):
        if S.deployed[j] == 0:
            continue
        total += S.personnel[j]
        if S.army[j]:
            soldiers += S.personnel[j]
        else:
            officers += S.personnel[j]
        owner = T.owner[S.cell[j]] if S.cell[j] >= 0 else -1
        if owner >= 0:
            local[owner] += S.personnel[j]
    S.officers[0] = officers
    S.soldiers[0] = soldiers
    ratio = total / max(V.size.sum(), 1)
    w = P.police_local_presence_weight
    for i in range(n):
        C.presence[i] = (1 - w) + w * local[i] / max(V.size[i], 1) / max(ratio, 1e-12)
    S.coverage[0] = ratio / S.reference[0] if S.reference[0] > 0 else 1.0
