"""What a search method hands to the report: the best values, every evaluation, a posterior."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class SearchResult:
    """The outcome of one calibration search.

    `history` has one row per evaluated parameter set, in evaluation order, with columns
    `number`, `loss` and one column per parameter key (and `generation` for ABC).
    `posterior` (ABC only) has one row per particle of the last generation with a `weight`
    column (summing to 1) and one column per parameter key.
    """
    method: str
    best: dict[str, float]
    best_loss: float
    history: pd.DataFrame
    posterior: pd.DataFrame | None
    elapsed_s: float
    resumed: bool = False
    #: Optuna: the best trials run again on fresh seeds (number, search_loss, reselect_loss).
    reselected: pd.DataFrame | None = None
    #: SMC: the parameter sets evaluated (its history holds the populations, not every proposal)
    evaluations: int | None = None
    #: SMC: one row per generation (epsilon, particles, evaluations, acceptance, distinct)
    generations: pd.DataFrame | None = None

    @property
    def n_evaluations(self) -> int:
        return len(self.history) if self.evaluations is None else int(self.evaluations)
