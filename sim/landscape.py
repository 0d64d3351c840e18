"""A synthetic territory drawn from the seed: urban centres and the clique territories of the
start date.

Nothing here is hand-drawn: population density is a mixture of urban centres and a rural
background inside a country-shaped mask, cliques settle where people are, the three gangs form
a patchwork, and each clique holds the populated cells nearest to it. The borders are computed
from the owners by sim/territory.py, which also moves them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.compiled import kernel

from sim.config import LandscapeConfig


@dataclass
class Landscape:
    population: np.ndarray      # (W, H) people per cell at national scale x scale
    owner: np.ndarray           # (W, H) index of the controlling clique on the start date, -1
                                # for none (the territory then moves: sim/territory.py)
    clique_home: np.ndarray     # (C, 2) home cell of each clique
    clique_gang: np.ndarray     # (C,) gang of each clique: 0 MS-13, 1 B18-S, 2 B18-R
    territory_pop: np.ndarray   # (C,) people living in each clique's territory


def _density(cfg: LandscapeConfig, rng: np.random.Generator) -> np.ndarray:
    w, h = cfg.width, cfg.height
    x, y = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
    # an elongated country: land between a wavy coast (south) and a northern border
    u = x / (w - 1)
    coast = 0.12 * h + 0.10 * h * np.sin(2.5 * np.pi * u + rng.uniform(0, 2 * np.pi))
    north = h - 1 - 0.15 * h * (1 + np.cos(2 * np.pi * u + rng.uniform(0, 2 * np.pi))) / 2
    land = (y >= coast) & (y <= north)
    rural = land * rng.gamma(2.0, 0.5, size=(w, h))
    urban = np.zeros((w, h))
    # the capital is the largest centre; the others are smaller towns
    weights = np.sort(rng.pareto(1.2, cfg.n_urban_centres) + 1)[::-1]
    weights[0] *= 2.5
    landed = np.argwhere(land)
    for wt in weights:
        cx, cy = landed[rng.integers(len(landed))]
        r = cfg.urban_radius * (0.7 + 0.6 * rng.random())
        urban += wt * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
    urban *= land
    rural /= rural.sum()
    urban /= urban.sum()
    return cfg.urban_share * urban + (1 - cfg.urban_share) * rural


@kernel
def _nearest(points: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of (the first, on ties) and distance to the nearest site for each point."""
    idx = np.empty(len(points), np.int64)
    dist = np.empty(len(points))
    for a in range(len(points)):
        best, arg = np.inf, 0
        for b in range(len(sites)):
            d2 = (points[a, 0] - sites[b, 0]) ** 2 + (points[a, 1] - sites[b, 1]) ** 2
            if d2 < best:
                best, arg = d2, b
        idx[a] = arg
        dist[a] = np.sqrt(best)
    return idx, dist


def generate(cfg: LandscapeConfig, population: float, n_cliques: int,
             gang_shares: tuple[float, float, float], rng: np.random.Generator) -> Landscape:
    w, h = cfg.width, cfg.height
    density = _density(cfg, rng)
    people = density * population
    flat = density.ravel()
    cells = np.argwhere(np.ones((w, h), bool))  # row-major, matches ravel()

    # cliques settle where people are, denser in cities (weight ~ density^0.8)
    p = flat ** 0.8
    p /= p.sum()
    homes_flat = rng.choice(len(flat), size=n_cliques, replace=len(flat) < n_cliques, p=p)
    jitter = rng.uniform(-0.45, 0.45, size=(n_cliques, 2))
    sites = cells[homes_flat] + jitter

    # the gang patchwork: each clique takes the gang of its nearest patch seed
    n_patch = max(3, round(n_cliques / cfg.cliques_per_patch))
    patch_xy = cells[rng.choice(len(flat), size=n_patch, p=p)] + rng.uniform(-.5, .5, (n_patch, 2))
    patch_gang = rng.choice(3, size=n_patch, p=np.asarray(gang_shares))
    patch_gang[:3] = [0, 1, 2]  # every gang exists
    gang = patch_gang[_nearest(sites, patch_xy)[0]]

    owned = flat > 0
    owner = np.full(w * h, -1, dtype=np.int64)
    near, dist = _nearest(cells[owned].astype(float), sites)
    owner[np.flatnonzero(owned)] = np.where(dist <= cfg.max_territory_distance, near, -1)
    owner = owner.reshape(w, h)

    flat_people = people.ravel()
    territory_pop = np.bincount(owner.ravel()[owner.ravel() >= 0],
                                weights=flat_people[owner.ravel() >= 0], minlength=n_cliques)

    return Landscape(population=people, owner=owner,
                     clique_home=np.clip(np.rint(sites), 0, [w - 1, h - 1]).astype(np.int64),
                     clique_gang=gang.astype(np.int64), territory_pop=territory_pop)
