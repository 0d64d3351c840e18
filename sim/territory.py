"""M1-M2, M8: the territory moves, every four weeks, compiled.

Cells change hands in five ways, resolved every PERIOD days, each a process with its own parameters (model.territory):
- `contest`: each killing across a rival border is a clash won by the killer; the loser cedes
  cells along that border, more when the winner is the stronger side (armed street members per
  resident held) and none while the winner keeps the gangs' cease-fire ("respect each other's
  territorial limits", article 004);
- `state_control`: under the territorial plan (lever state_control) deployed army units take the
  cells they patrol where they outnumber the gang members living there, and hold them for a
  while after they move on;
- `split`: a clique grown beyond `split_members` splits in two, the far side of its ground going
  to a new clique (a free slot of the state arrays: the model creates its Mesa agent);
- `retreat`: a clique with fewer members than its residents need gives up ground, and a clique
  with no members left gives up all of it (the model removes its Mesa agent);
- `settle`: empty populated cells are settled by a neighbouring clique with members to spare.
Residents move with their cell (a binomial share of their block). `rebuild` then recomputes the
blocks, the rival borders that border killings follow, and the fronts along them.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import kernel
from sim.state import EMPTY, STATE

PERIOD = 28  # days between two resolutions of the territory (a full rebuild costs ~0.1 ms)


@kernel
def _block(owner: int, n: int) -> int:
    return owner if owner >= 0 else n


@kernel
def _neighbour(c: int, k: int, w: int, h: int) -> int:
    """The k-th (0-3: east, west, north, south) of cell c's four neighbours, -1 off the grid."""
    x, y = c // h, c % h
    if k == 0:
        return c + h if x + 1 < w else -1
    if k == 1:
        return c - h if x > 0 else -1
    if k == 2:
        return c + 1 if y + 1 < h else -1
    return c - 1 if y > 0 else -1


@kernel
def _draw_count(x: float, rng) -> int:
    """floor(x), plus one with probability x - floor(x): an integer with mean x."""
    k = int(x)
    if rng.random() < x - k:
        k += 1
    return k


@kernel
def strength(C, T, i: int) -> float:
    """Armed street members per resident a clique holds (the landscape's people, so that it
    does not depend on who has fled)."""
    return C.street[i] * C.arms[i] / max(T.held[i], 1e-9)


@kernel
def transfer(V, T, c: int, to: int, rng) -> None:
    """Cell c passes to owner `to` (a clique, EMPTY or STATE); its residents (their block's
    binomial share of its people) move with it."""
    n = len(T.has_border)
    frm = T.owner[c]
    T.owner[c] = to
    T.changes[c] += frm != to
    fb, tb = _block(frm, n), _block(to, n)
    w = T.density[c]
    if frm == STATE:
        T.state_held[0] -= w
    if to == STATE:
        T.state_held[0] += w
    if fb == tb:
        return
    if V.size[fb] > 0:
        if T.cells[fb] <= 1:  # its last cell: everyone left goes
            k = V.size[fb]
        else:
            k = rng.binomial(V.size[fb], min(w / max(T.held[fb], 1e-12), 1.0))
        V.size[fb] -= k
        V.size[tb] += k
    T.held[fb] -= w
    T.held[tb] += w
    T.cells[fb] -= 1
    T.cells[tb] += 1


@kernel
def rebuild(C, T) -> None:
    """Blocks, rival borders and fronts from the owner layer; clashes start again from zero.
    A clique that lost its home cell moves home to the nearest cell it still holds."""
    n = len(C.street)
    w, h = T.shape[0], T.shape[1]
    ncell = w * h
    T.clashes[:T.border_ptr[n]] = 0  # the borders' clashes so far
    T.held[:] = 0.0
    T.cells[:] = 0
    T.state_held[0] = 0.0
    for c in range(ncell):
        b = _block(T.owner[c], n)
        T.held[b] += T.density[c]
        T.cells[b] += 1
        if T.owner[c] == STATE:
            T.state_held[0] += T.density[c]
    T.cell_ptr[0] = 0
    for b in range(n + 1):
        T.cell_ptr[b + 1] = T.cell_ptr[b] + T.cells[b]
    fill = T.cell_ptr[:n + 1].copy()
    for c in range(ncell):
        b = _block(T.owner[c], n)
        T.cell_list[fill[b]] = c
        fill[b] += 1
    for i in range(n):
        if T.cells[i] > 0 and T.owner[C.home[i]] != i:
            hx, hy = C.home[i] // h, C.home[i] % h
            best, arg = np.inf, C.home[i]
            for q in range(T.cell_ptr[i], T.cell_ptr[i + 1]):
                c = T.cell_list[q]
                d = (c // h - hx) ** 2 + (c % h - hy) ** 2
                if d < best:
                    best, arg = d, c
            C.home[i] = arg
    # each clique's rival borders, from its own cells: the neighbouring cells held by cliques
    # of other gangs (the front it can take), grouped by the rival that holds them
    dsts, fronts, length = T.scratch[0], T.scratch[1], T.scratch[2]
    mark = np.full(n, -1, np.int64)
    local = np.zeros(n, np.int64)
    e = 0
    f = 0
    for i in range(n):
        T.border_ptr[i] = e
        first = e
        r = 0
        for q in range(T.cell_ptr[i], T.cell_ptr[i + 1]):
            a = T.cell_list[q]
            for k in range(4):
                b = _neighbour(a, k, w, h)
                if b < 0:
                    continue
                ob = T.owner[b]
                if ob >= 0 and ob != i and C.gang[ob] != C.gang[i]:
                    dsts[r] = ob
                    fronts[r] = b
                    r += 1
        for q in range(r):
            d = dsts[q]
            if mark[d] != i:
                mark[d] = i
                local[d] = e
                T.border_dst[e] = d
                length[e] = 0
                e += 1
            length[local[d]] += 1
        for q in range(first, e):
            T.front_ptr[q] = f
            f += length[q]
        for q in range(r):
            slot = local[dsts[q]]
            T.front_cell[T.front_ptr[slot]] = fronts[q]
            T.front_ptr[slot] += 1
        acc = 0
        for q in range(first, e):
            T.front_ptr[q] -= length[q]  # back to the start of the front
            acc += length[q]
            T.border_cum[q] = acc / r
        T.has_border[i] = 1.0 if e > first else 0.0
    T.border_ptr[n] = e
    T.front_ptr[e] = f


@kernel
def contest(C, V, T, P, rng) -> None:
    """M2, M8: the period's clashes move the borders towards the weaker side."""
    n = len(C.street)
    for i in range(n):
        for e in range(T.border_ptr[i], T.border_ptr[i + 1]):
            k = T.clashes[e]
            if k == 0:
                continue
            j = T.border_dst[e]
            si, sj = strength(C, T, i), strength(C, T, j)
            edge = 2 * si / (si + sj) if si + sj > 0 else 1.0
            x = P.territory_clash_share * k * T.cells[j] * edge * (1 - C.norm[i])
            lo, hi = T.front_ptr[e], T.front_ptr[e + 1]
            for _ in range(min(_draw_count(x, rng), hi - lo)):
                c = T.front_cell[lo + rng.integers(0, hi - lo)]
                if T.owner[c] == j:
                    transfer(V, T, c, i, rng)


@kernel
def state_control(C, V, S, T, P, lv, rng) -> None:
    """M1 (the state's plan): army units take the cells they patrol where they outnumber the
    members living there, and hold them `state_hold_days` after the last unit left."""
    ncell = len(T.owner)
    for c in range(ncell):
        if T.owner[c] == STATE:
            T.state_days[c] -= PERIOD
            if T.state_days[c] <= 0:
                transfer(V, T, c, EMPTY, rng)
    if lv.state_control <= 0:
        return
    for j in range(len(S.personnel)):
        c = S.cell[j]
        if S.deployed[j] == 0 or S.army[j] == 0 or c < 0 or T.density[c] <= 0:
            continue
        o = T.owner[c]
        if o >= 0:
            members = C.street[o] * T.density[c] / max(T.held[o], 1e-9)
            if S.personnel[j] < P.territory_state_force_ratio * members:
                continue
        if o != STATE:
            transfer(V, T, c, STATE, rng)
        T.state_days[c] = P.territory_state_hold_days


@kernel
def split(C, V, T, P, rng) -> None:
    """M1: a clique beyond `split_members` street members splits: the cells nearer to its
    farthest cell than to its home form a new clique in a free slot, with the members in
    proportion to the people, its leader, and the habits and feelings of the old clique."""
    n = len(C.street)
    h = T.shape[1]
    for i in range(n):
        if C.street[i] <= P.territory_split_members or T.cells[i] < 2:
            continue
        k = -1
        for s in range(n):
            if C.street[s] == 0 and C.prison[s] == 0 and T.cells[s] == 0:
                k = s
                break
        if k < 0:
            return  # no free slot: splits wait
        hx, hy = C.home[i] // h, C.home[i] % h
        far, far_d = -1, -1
        for q in range(T.cell_ptr[i], T.cell_ptr[i + 1]):
            c = T.cell_list[q]
            d = (c // h - hx) ** 2 + (c % h - hy) ** 2
            if T.owner[c] == i and d > far_d:
                far, far_d = c, d
        if far_d <= 0:
            continue
        fx, fy = far // h, far % h
        for q in range(T.cell_ptr[i], T.cell_ptr[i + 1]):
            c = T.cell_list[q]
            if T.owner[c] == i and ((c // h - fx) ** 2 + (c % h - fy) ** 2
                                    < (c // h - hx) ** 2 + (c % h - hy) ** 2):
                transfer(V, T, c, k, rng)
        if T.cells[k] == 0:
            continue
        moved = rng.binomial(C.street[i], T.held[k] / max(T.held[i] + T.held[k], 1e-12))
        C.street[i] -= moved
        C.street[k] = moved
        C.gang[k], C.leader[k], C.obedience[k] = C.gang[i], C.leader[i], C.obedience[i]
        C.retaliation[k], C.revenge[k], C.arms[k] = C.retaliation[i], C.revenge[i], C.arms[i]
        C.norm[k], C.presence[k], C.violence[k] = C.norm[i], C.presence[i], C.violence[i]
        C.opportunism[k], C.habit[k], C.order[k] = C.opportunism[i], C.habit[i], C.order[i]
        C.restraint[k], C.pressure[k], C.attack[k] = C.restraint[i], C.pressure[i], C.attack[i]
        C.aggression[k] = C.aggression[i]
        C.home[k] = far
        C.generation[k] = C.generation.max() + 1


@kernel
def retreat(C, V, T, P, rng) -> None:
    """M1: an overstretched clique (fewer members than `residents_per_member` asks for its
    residents) gives up a share of its excess ground, its home cell last; a clique with no
    members on the street gives up all of it and its prisoners join a clique of their gang."""
    n = len(C.street)
    for i in range(n):
        lo, hi = T.cell_ptr[i], T.cell_ptr[i + 1]
        if C.street[i] == 0:
            for q in range(lo, hi):
                if T.owner[T.cell_list[q]] == i:
                    transfer(V, T, T.cell_list[q], EMPTY, rng)
            if C.prison[i] > 0:
                _bequeath(C, i, rng)
            continue
        if T.cells[i] < 2 or hi == lo:  # (a clique formed in this resolution has no list yet)
            continue
        over = V.size[i] / (C.street[i] * P.territory_residents_per_member)
        if over <= 1:
            continue
        for _ in range(min(_draw_count(P.territory_retreat_share * T.cells[i] * (1 - 1 / over),
                                       rng), T.cells[i] - 1)):
            c = T.cell_list[lo + rng.integers(0, hi - lo)]
            if T.owner[c] == i and c != C.home[i]:
                transfer(V, T, c, EMPTY, rng)


@kernel
def _bequeath(C, i: int, rng) -> None:
    """The prisoners of a clique with no one left on the street join one of their gang's
    cliques that still has members, drawn at random (none: they stay, and may revive it)."""
    heirs = 0
    for s in range(len(C.street)):
        heirs += C.street[s] > 0 and C.gang[s] == C.gang[i]
    if heirs == 0:
        return
    pick = rng.integers(0, heirs)
    for s in range(len(C.street)):
        if C.street[s] > 0 and C.gang[s] == C.gang[i]:
            if pick == 0:
                C.prison[s] += C.prison[i]
                C.prison[i] = 0
                return
            pick -= 1


@kernel
def settle(C, V, T, P, rng) -> None:
    """M1: an empty populated cell is settled, with probability `settle_share` in a period, by
    the strongest neighbouring clique with members to spare; a clique with members and no
    ground goes back to its home cell if it is empty."""
    n = len(C.street)
    w, h = T.shape[0], T.shape[1]
    room = P.territory_residents_per_member
    # choose on the owners at the start of the sweep, then move: a clique advances one cell
    # deep at most per resolution, in every direction alike
    chosen = T.scratch[0]
    cell = T.scratch[1]
    k_chosen = 0
    for c in range(w * h):
        if T.owner[c] != EMPTY or T.density[c] <= 0 or rng.random() >= P.territory_settle_share:
            continue
        best, best_s = -1, -1.0
        for k in range(4):
            b = _neighbour(c, k, w, h)
            if b < 0:
                continue
            o = T.owner[b]
            if o >= 0 and C.street[o] > 0 and V.size[o] < C.street[o] * room:
                s = strength(C, T, o)
                if s > best_s:
                    best, best_s = o, s
        if best >= 0:
            chosen[k_chosen] = best
            cell[k_chosen] = c
            k_chosen += 1
    for q in range(k_chosen):
        transfer(V, T, cell[q], chosen[q], rng)
    for i in range(n):
        if C.street[i] > 0 and T.cells[i] == 0 and T.owner[C.home[i]] == EMPTY \
                and T.density[C.home[i]] > 0 and rng.random() < P.territory_settle_share:
            transfer(V, T, C.home[i], i, rng)


@kernel
def resolve(C, V, S, T, P, lv, rng) -> None:
    """The period's changes of hands, in order, then the borders anew."""
    contest(C, V, T, P, rng)
    state_control(C, V, S, T, P, lv, rng)
    split(C, V, T, P, rng)
    retreat(C, V, T, P, rng)
    settle(C, V, T, P, rng)
    rebuild(C, T)
