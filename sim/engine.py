"""The day, compiled: the processes of sim/mechanisms.py in a fixed order, and the one place
where people move between stocks (street, prison, residents, abroad, the dead).

`advance` runs a stretch of days without coming back to Python; GangViolenceModel calls it
between the days on which something happens to the Mesa agents themselves (a policy starts,
leaders are transferred, army units deploy). The row written for each day follows SERIES.
"""

from __future__ import annotations

import numpy as np

from sim import mechanisms as M
from sim import territory
from sim.compiled import kernel

# the daily series of DESIGN.md section 5 (plus a few stocks), in output order
SERIES = ("homicides", "homicides_true", "hidden", "gang_vs_gang", "gang_vs_civilian",
          "gang_vs_security", "security_vs_gang", "police_killed", "soldiers_killed",
          "relatives_killed", "gang_members_street", "gang_members_prison", "arrests",
          "releases", "recruits", "civilians_fled", "deported", "extortion", "police_officers",
          "soldiers_deployed", "police_morale", "population", "leaders_isolated",
          "ceasefire_norm", "campaign_active", "police_resigned", "prison_population",
          "arrests_non_members", "deaths_in_custody", "excluded_security", "excluded_graves",
          "excluded_gang_members", "territory_ms13", "territory_b18s", "territory_b18r",
          "territory_state", "cliques_active")
# series that are not counts of people or events (written with 6 decimals)
FRACTIONS = ("police_morale", "ceasefire_norm")
RECENT_HALFLIFE = 15.0  # "recent violence" is a 15-day half-life moving average of killings


@kernel
def _remove(stock, count) -> int:
    """stock[i] -= count[i] for the first len(count) entries of stock; returns the total."""
    total = 0
    for i in range(len(count)):
        stock[i] -= count[i]
        total += count[i]
    return total


@kernel
def _add(stock, count) -> None:
    for i in range(len(count)):
        stock[i] += count[i]


@kernel
def _move(source, target, count) -> None:
    """count[i] people from source[i] to target[i] (explicit loops: numba makes a temporary
    array for each `a[:] -= b`)."""
    _remove(source, count)
    _add(target, count)


@kernel
def day(C, L, G, V, S, T, P, lv, rng, E, row, step: int) -> None:
    """One day: the processes in order, each seeing the people the previous ones left."""
    restraining = M.leader_orders(C, L, P, lv)
    M.ceasefire_norm(C, G, P, lv)
    M.aggression(C, P)

    M.border_killings(C, T, P, rng, E)
    _remove(C.street, E.victims)
    M.security_operations(C, S, P, lv, rng, E)
    detained = M.mass_arrests(C, V, P, lv, rng, E)
    _remove(C.street, E.security)
    _move(C.street, C.prison, E.arrests)
    _remove(V.size, E.detained)
    V.detained[0] += detained
    police_k, soldiers_k, relatives_k = M.attacks_on_security(C, G, S, P, rng)
    deportees_k = M.civilian_killings(C, V, P, rng, E)
    n = len(C.street)
    _remove(V.size, E.civilians)  # the first n blocks are the cliques' territories
    V.deportees[0] -= deportees_k
    relatives_k = min(relatives_k, V.size[-1])  # relatives live among the ungoverned block
    V.size[-1] -= relatives_k
    extortions = M.economy(C, V, P, rng, E)
    _move(V.size, C.street, E.recruits)
    freed = M.prison_releases(C, V, P, lv, rng, E)
    _move(C.prison, C.street, E.releases)
    V.detained[0] -= freed
    _add(V.size, E.freed)
    detainees_died = M.custody_deaths(C, V, P, rng, E)
    custody = _remove(C.prison, E.custody) + detainees_died
    V.detained[0] -= detainees_died

    M.update_feelings(C, P, E)
    hidden_members, hidden_residents = M.hidden_bodies(C, P, rng, E, restraining)
    hidden = hidden_members + hidden_residents
    M.campaigns(C, G, P, rng, E)
    police_k, soldiers_k, quit, hired = M.security_losses(S, V, P, police_k, soldiers_k, rng,
                                                          step)
    V.size[-1] += quit - hired
    deported, settled = M.flight(C, V, P, rng, E, step)
    fled = _remove(V.size, E.fled)
    V.abroad[0] += fled - deported
    V.deportees[0] += deported - settled
    _add(V.size, E.settled)

    # the day's totals in one pass over the cliques (integer sums: exact in any order)
    recent = M.relax(RECENT_HALFLIFE)
    gang_gang = security_gang = civilians_k = street = prison = 0
    arrests = releases = recruits = active = 0
    norm = 0.0
    held = np.zeros(3, np.int64)  # residents on each gang's ground
    for i in range(n):
        local = E.victims[i] + E.security[i] + E.civilians[i]
        C.violence[i] += (local - C.violence[i]) * recent
        gang_gang += E.victims[i]
        security_gang += E.security[i]
        civilians_k += E.civilians[i]
        street += C.street[i]
        prison += C.prison[i]
        arrests += E.arrests[i]
        releases += E.releases[i]
        recruits += E.recruits[i]
        on = C.street[i] > 0
        active += on
        norm += C.norm[i] * on
        held[C.gang[i]] += V.size[i]
    V.dead[0] += (gang_gang + security_gang + civilians_k + deportees_k + police_k + soldiers_k
                  + relatives_k + custody)
    S.next_redeploy[0] -= 1
    if S.next_redeploy[0] <= 0:
        M.redeploy(C, S, T, V, P, rng)
        S.next_redeploy[0] = int(P.police_redeploy_days)

    gang_civilian = civilians_k + deportees_k
    gang_security = police_k + soldiers_k + relatives_k
    killed = gang_gang + gang_civilian + gang_security + security_gang
    isolated = 0
    for j in range(len(L.prison)):
        isolated += L.prison[j] == M.ISOLATION
    campaigning = 0
    for g in range(3):
        campaigning += G.security_days[g] > 0 or G.relatives_days[g] > 0
    row[0] = killed - hidden
    row[1] = killed
    row[2] = hidden
    row[3] = gang_gang
    row[4] = gang_civilian
    row[5] = gang_security
    row[6] = security_gang
    row[7] = police_k
    row[8] = soldiers_k
    row[9] = relatives_k
    row[10] = street
    row[11] = prison
    row[12] = arrests + detained
    row[13] = releases
    row[14] = recruits
    row[15] = fled
    row[16] = deported
    row[17] = extortions
    row[18] = S.officers[0]
    row[19] = S.soldiers[0]
    row[20] = S.morale[0]
    row[21] = (V.size.sum() + V.deportees[0] + street + prison + V.detained[0] + S.officers[0]
               + S.soldiers[0])
    row[22] = isolated
    row[23] = norm / max(active, 1)
    row[24] = campaigning
    row[25] = quit
    row[26] = prison + V.detained[0] + round(P.prisons_other_prisoners * P.scale)
    row[27] = detained
    row[28] = custody
    # the categories the official count may leave out (sim/counting.py), each counted every
    # day: killed by security forces; bodies found in clandestine graves (none: the model's
    # hidden bodies are never found); gang members killed by rivals, their bodies found
    row[29] = security_gang
    row[30] = 0
    row[31] = gang_gang - hidden_members
    # people living under each one's control (the state's share of the non-gang block is its
    # share of that block's landscape people)
    row[32] = held[0]
    row[33] = held[1]
    row[34] = held[2]
    row[35] = round(V.size[n] * T.state_held[0] / T.held[n]) if T.held[n] > 0 else 0
    row[36] = active


@kernel
def advance(C, L, G, V, S, T, P, lv, rng, E, out, first_row: int, days: int,
            first_step: int) -> None:
    """`days` days from row `first_row` of `out`; step numbers count from 1 on the first day."""
    for d in range(days):
        day(C, L, G, V, S, T, P, lv, rng, E, out[first_row + d], first_step + d)
        if (first_step + d) % territory.PERIOD == 0:  # the period's changes of hands
            territory.resolve(C, V, S, T, P, lv, rng)
            M.update_presence(C, S, T, V, P)  # units now stand on other owners' ground


def empty_series(n_days: int) -> np.ndarray:
    return np.zeros((n_days, len(SERIES)))
