"""Random draws for many agents at once, exact and cheap when events are rare.

Most agents have nothing happen to them on a given day: of 600 cliques, a dozen lose a member.
Drawing one Poisson or binomial per agent per day costs more than the rest of the model, so each
helper below draws the day's total once and places the events on agents, with the same joint
distribution as one independent draw per agent:
- `poisson_split`: independent Poisson counts are one Poisson total placed in proportion to the
  rates (superposition);
- `binomial_split`: a binomial(n, p) count is the number of distinct members hit by a Poisson
  number of blows of mean -n log(1 - p) thrown uniformly at the n members (a member is missed
  with probability exp(log(1 - p)) = 1 - p), so independent binomials with different n and p are
  one Poisson total of blows, placed on agents and members, and counted without repeats.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import kernel


@kernel
def pick(cum: np.ndarray, total: float, rng) -> int:
    """An index drawn in proportion to the increments of the cumulative sum `cum`."""
    x = rng.random() * total
    lo, hi = 0, len(cum) - 1
    while lo < hi:  # the first index whose cumulative sum exceeds x
        mid = (lo + hi) >> 1
        if cum[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel
def guide(cum: np.ndarray, total: float) -> np.ndarray:
    """A guide table for many picks from one `cum`: entry k is the first index whose cumulative
    sum exceeds k / len(cum) of the total, so a pick starts next to its answer."""
    m = len(cum)
    table = np.empty(m, np.int64)
    j = 0
    step = total / m
    for k in range(m):
        threshold = k * step
        while j < m - 1 and cum[j] <= threshold:
            j += 1
        table[k] = j
    return table


@kernel
def pick_guided(cum: np.ndarray, total: float, table: np.ndarray, rng) -> int:
    """The same draw as `pick`, found from the guide table by a short forward scan."""
    x = rng.random() * total
    k = min(int(x / total * len(cum)), len(cum) - 1)
    j = table[max(k - 1, 0)]  # one bucket back: safe whatever the rounding of x / total
    while j < len(cum) - 1 and cum[j] <= x:
        j += 1
    return j


@kernel
def scatter(k: int, cum: np.ndarray, rng, out: np.ndarray) -> None:
    """Add k events to `out`, each on an index drawn as by `pick` (in proportion to the
    increments of `cum`, whose last entry is positive); a guide table when there are many."""
    total = cum[-1]
    if k > 32:
        table = guide(cum, total)
        for _ in range(k):
            out[pick_guided(cum, total, table, rng)] += 1
    else:
        for _ in range(k):
            out[pick(cum, total, rng)] += 1


@kernel
def poisson_split(rates: np.ndarray, rng, out: np.ndarray) -> int:
    """out[i] ~ Poisson(rates[i]), independently; returns the total."""
    cum = np.cumsum(rates)
    out[:] = 0
    total = cum[-1] if len(cum) else 0.0
    if total <= 0.0:
        return 0
    k = rng.poisson(total)
    scatter(k, cum, rng, out)
    return k


@kernel
def binomial_split(n: np.ndarray, p: np.ndarray, rng, out: np.ndarray) -> int:
    """out[i] ~ Binomial(n[i], p[i]), independently; returns the total. p may be a scalar
    broadcast as a one-element array.

    Blows are thrown at a rate n p / (1 - p) per agent (no logarithm needed) and each is kept
    with probability -log(1 - p) (1 - p) / p <= 1: a thinned Poisson process, with the rate
    -n log(1 - p) of the construction above, so logarithms are taken only for the few blows
    thrown, not for every agent. One pass over the agents builds the cumulative rates (an agent
    with a large share gets its own draw, in agent order, and adds nothing to them)."""
    m = len(n)
    shared = len(p) == 1
    thin = shared and 0.0 < p[0] <= 0.1  # one rate per member for all: no division per agent
    odds = p[0] / (1.0 - p[0]) if thin else 0.0
    cum = np.empty(m)
    out[:] = 0
    done = 0
    total = 0.0
    for i in range(m):
        if thin:
            if n[i] > 0:
                total += n[i] * odds
        elif n[i] > 0:
            q = p[0] if shared else p[i]
            if q >= 1.0:  # everyone: no draw
                out[i] = n[i]
                done += n[i]
            elif q > 0.1:  # a large share: its own draw (thinning would waste most blows)
                out[i] = rng.binomial(n[i], q)
                done += out[i]
            elif q > 0.0:
                total += n[i] * q / (1.0 - q)
        cum[i] = total
    if m == 0 or total <= 0.0:
        return done
    blows = rng.poisson(total)
    if blows == 0:
        return done
    agent = np.empty(blows, np.int64)
    many = blows > 32  # then a guide table pays for itself
    table = guide(cum, total) if many else np.empty(0, np.int64)
    kept = 0
    for b in range(blows):
        i = pick_guided(cum, total, table, rng) if many else pick(cum, total, rng)
        q = p[0] if shared else p[i]
        u = rng.random()
        # keep with probability -log(1-q)(1-q)/q, which is at least (1-q)(1+q/2): most blows
        # are kept without taking the logarithm
        if u < (1.0 - q) * (1.0 + 0.5 * q) or u * q < -np.log1p(-q) * (1.0 - q):
            agent[kept] = i
            kept += 1
            out[i] += 1
    # a member hit twice counts once: an agent hit h times has as many distinct members hit
    # as h blows thrown one after another at its n members, each new with probability
    # (n - members hit so far) / n (cum, no longer needed, marks the agents resolved)
    done += kept
    for b in range(kept):
        i = agent[b]
        hits = out[i]
        if hits < 2 or cum[i] < 0:
            continue
        distinct = 1
        for h in range(1, hits):
            distinct += rng.random() * n[i] >= distinct
        out[i] = distinct
        done -= hits - distinct
        cum[i] = -1.0
    return done


@kernel
def pick_nonempty(sizes: np.ndarray, lo: int, hi: int, rng) -> int:
    """A uniformly drawn index in [lo, hi) whose size is positive (retries, as units are rarely
    empty); -1 when none is found in 20 tries."""
    for _ in range(20):
        j = lo + rng.integers(0, hi - lo)
        if sizes[j] > 0:
            return j
    return -1
