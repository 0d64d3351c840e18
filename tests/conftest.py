"""Shared helpers: small-scale models composed from the real config tree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.compose import compose
from sim.model import GangViolenceModel

SMALL = 0.05  # 5% of the national populations; rates per person unchanged
# the 2011-2017 history unless a test names a scenario: the mechanisms of the seed articles'
# years need no 2018-2024 (a later scenario= override wins)
HISTORY_2017 = "scenario=historical_2017"
# a fixed, named parameter set (the retired hand fit, conf/model/hand_fit.yaml), not the
# calibration's: what a mechanism does is tested with parameter values the test sets, so a
# refit of the defaults cannot move these tests (a test may still override any value)
PARAMETERS = "model=hand_fit"


def run(*overrides: str, scale: float = SMALL, seed: int = 0) -> pd.DataFrame:
    cfg = compose([HISTORY_2017, PARAMETERS, f"model.scale={scale}", f"seed={seed}",
                   "output.figures=false", *overrides])
    return GangViolenceModel(cfg).run()


def window(df: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return df[(df.date >= start) & (df.date <= end)]


def mean_over_seeds(column: str, *overrides: str, seeds=(0, 1, 2), scale: float = SMALL,
                    start: str = "0000", end: str = "9999") -> float:
    return float(np.mean([window(run(*overrides, scale=scale, seed=s), start, end)[column].mean()
                          for s in seeds]))


@pytest.fixture(scope="session")
def historical_small() -> pd.DataFrame:
    """The 2011-2017 history (historical_2017) at 5%."""
    return run()
