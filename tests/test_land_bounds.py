"""The seed-independent bound on populated cells that validate uses holds on drawn landscapes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.config import LandscapeConfig
from sim.land_bounds import surely_land_cells, surely_land_rows
from sim.landscape import generate

SHAPES = [(8, 8), (20, 9), (30, 13), (104, 44), (40, 101)]


@pytest.mark.parametrize("width,height", SHAPES)
def test_every_drawn_landscape_has_at_least_the_bound_of_populated_cells(width, height):
    # the most urban landscape accepted (urban_share 0.99) with the tightest towns: the rural
    # background alone must still put people in every land cell
    cfg = dataclasses.replace(LandscapeConfig(), width=width, height=height, urban_share=0.99,
                              urban_radius=0.5)
    bound = surely_land_cells(width, height)
    populated = [int((generate(cfg, 1e6, 6, (0.55, 0.28, 0.17),
                               np.random.default_rng(seed)).population > 0).sum())
                 for seed in range(40)]
    assert min(populated) >= bound
    # and not vacuous: each column's worst coast and border rarely meet, so drawn countries
    # are about 20% larger, no more
    assert min(populated) <= 1.3 * bound


def test_surely_land_is_the_rows_between_the_highest_coast_and_the_lowest_border():
    # 1 - 0.22 - 0.15 = 63% of the rows, less one for the rounding at each end
    for h in range(8, 400):
        assert 0.63 * h - 2 <= surely_land_rows(h) <= 0.63 * h
    assert surely_land_rows(8) == 4  # rows 2 to 5: 0.22 x 8 = 1.76 and 8 - 1 - 1.2 = 5.8
