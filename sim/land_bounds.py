"""How many cells of a grid are land whatever the seed (the country of sim/landscape.py).

The landscape draws an elongated country between a wavy coast and a northern border whose
phases come from the seed (docs/ODD.md 5.1):

    coast(x) = COAST_MID h + COAST_WAVE h sin(...)         in [0.02 h, 0.22 h]
    north(x) = h - 1 - NORTH_BAND h (1 + cos(...)) / 2     in [h - 1 - 0.15 h, h - 1]

Every land cell is populated (the rural background is positive on land while
landscape.urban_share < 1), so the rows between the highest coast and the lowest northern
border are populated in every column for every seed. `sim.config.validate` uses this bound
to refuse a grid that cannot give each clique a populated home cell, before the landscape is
drawn. The constants must stay those of sim/landscape.py (tests/test_land_bounds.py checks
the bound against drawn landscapes).
"""

from __future__ import annotations

import math

COAST_MID = 0.12   # mean height of the coast, share of the grid height
COAST_WAVE = 0.10  # amplitude of the coast's wave
NORTH_BAND = 0.15  # depth of the band the northern border moves in

_EPS = 1e-9  # rounded inwards: a coast exactly on a row may land just above it in floats


def surely_land_rows(height: int) -> int:
    """Rows y with coast(x) <= y <= north(x) in every column, for every pair of phases."""
    lowest = math.ceil((COAST_MID + COAST_WAVE) * height + _EPS)
    highest = math.floor(height - 1 - NORTH_BAND * height - _EPS)
    return max(0, highest - lowest + 1)


def surely_land_cells(width: int, height: int) -> int:
    """A lower bound on the populated cells of a width x height grid, for every seed."""
    return width * surely_land_rows(height)
