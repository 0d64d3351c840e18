"""How badly a simulated value misses a reported figure, as a deviance (0 = perfect).

Calibration minimises the weighted sum of these deviances, so each kind of figure is scored
with a likelihood that suits it:

- counts over a window (``total``, ``mean`` of an event series such as homicides or police
  killed): negative binomial on the window total. Its relative standard deviation
  :func:`relative_sd` is the figure's measurement error (the spread between its sources) and
  the model discrepancy :data:`MODEL_DISCREPANCY` added in quadrature, ``k = 1 / sd**2``, so
  the coefficient of variation never falls below it however long the window, and small
  counts keep their Poisson noise.
- lower and upper bounds: the same deviance, one-sided: zero once the bound is met.
- stocks (``level``) and ``ratio``: log-normal with that standard deviation.
- ``trend``: a direction only; a wrong sign costs :data:`TREND_MISS`, two standard deviations.
- nested figures (``nested_in``: a five-day count inside a scored month, a count to mid-May
  inside a scored year): the window's *share* of the enclosing total, log-normal with the
  relative sd plus the binomial noise of a share, ``(1 - p) / (n p)`` for share ``p`` of ``n``
  events. The enclosing total is scored once, on its own; the share adds only what the
  nested figure says beyond it (the multinomial split of a total into its parts), so the
  same events are not counted twice. Figures that are sums or ratios of scored figures
  have weight 0 in the data files (scored in the fit table, not in the loss).

:func:`tolerance_excess` is separate: how far a value lies outside the figure's acceptance
band (the "within tolerance" test of the fit table), for calibrations that also want every
figure inside its band (``tolerance_weight``).

Every deviance function returns half the deviance, i.e. the negative log-likelihood minus its value at
a perfect match, so losses of different figures add up on one scale.
"""

from __future__ import annotations

import math

from sim.reported import BOUND_KINDS, ReportedFigure

#: Series whose windows hold counts of events; the others are stocks.
EVENT_SERIES: frozenset[str] = frozenset({"homicides", "police_killed", "soldiers_killed", "relatives_killed",
                                          "security_vs_gang", "hidden"})

#: Half-deviance of a trend with the wrong sign (a 2-sigma miss: 0.5 * 2**2).
TREND_MISS = 2.0

#: Relative sd of what the model cannot represent, added in quadrature to each figure's
#: measurement error: the official counts agree to 1-2 %, far closer than a mechanistic model
#: can follow a month. Assumed, not fitted, and set without the figures after 2015 (the blind
#: hold-out uses it too): a round value below the month-to-month swings of 2015 (the sd of
#: the log change between consecutive months of 2015 is 0.36), since part of those
#: swings is what the mechanisms must explain.
MODEL_DISCREPANCY = 0.15

# A run that simulates no event at all still gets a finite (large) loss.
_MU_FLOOR = 0.1


def nb_half_deviance(observed: float, mu: float, k: float) -> float:
    """Half the negative-binomial deviance of count ``observed`` under mean ``mu``, size ``k``.

    Poisson when ``k`` is infinite. Zero when ``mu == observed``.
    """
    mu = max(mu, _MU_FLOOR)
    y = observed
    term = y * math.log(y / mu) if y > 0 else 0.0
    if math.isinf(k):
        return term - (y - mu)
    return term - (y + k) * math.log((y + k) / (mu + k))


def lognormal_half_deviance(observed: float, simulated: float, sd: float) -> float:
    z = math.log(max(simulated, 1e-12) / observed) / sd
    return 0.5 * z * z


def _band(figure: ReportedFigure) -> float:
    """The figure's tolerance, its acceptance band (25 % if it has none)."""
    return figure.tolerance if figure.tolerance > 0 else 0.25


def relative_sd(figure: ReportedFigure, discrepancy: float = MODEL_DISCREPANCY) -> float:
    """The likelihood's relative sd: measurement error and model discrepancy in quadrature."""
    return math.hypot(figure.error_sd, discrepancy)


def dispersion(figure: ReportedFigure, discrepancy: float = MODEL_DISCREPANCY) -> float:
    """Negative-binomial size of a count figure: 1 / sd**2 (Poisson if the sd is 0)."""
    sd = relative_sd(figure, discrepancy)
    return math.inf if sd == 0 else 1.0 / sd**2


def _bound_met(figure: ReportedFigure, simulated: float, reported: float) -> bool:
    if figure.kind.startswith("lower_bound"):
        return simulated >= reported
    return figure.kind.startswith("upper_bound") and simulated <= reported


def share_half_deviance(figure: ReportedFigure, simulated: float, enclosing_simulated: float,
                        enclosing_reported: float, discrepancy: float = MODEL_DISCREPANCY) -> float:
    """Half-deviance of a nested figure's share of its enclosing total (log-normal)."""
    observed = figure.window_days_total / enclosing_reported
    share = figure.as_total(simulated) / enclosing_simulated if enclosing_simulated > 0 else 0.0
    if _bound_met(figure, share, observed):
        return 0.0
    binomial = (1.0 - min(observed, 1.0)) / (enclosing_reported * observed)
    sd = math.sqrt(relative_sd(figure, discrepancy) ** 2 + binomial)
    return lognormal_half_deviance(observed, share, sd)


def half_deviance(figure: ReportedFigure, simulated: float | None,
                  discrepancy: float = MODEL_DISCREPANCY) -> float | None:
    """The figure's half-deviance for a simulated value; None when it was not simulated.
    A nested figure is scored by :func:`share_half_deviance` instead."""
    if simulated is None:
        return None
    kind = figure.kind
    if kind == "trend":
        return 0.0 if simulated * figure.value > 0 else TREND_MISS
    sd = relative_sd(figure, discrepancy)
    if kind == "ratio":
        if math.isnan(simulated):  # empty reference window: as bad as a factor of two
            return lognormal_half_deviance(1.0, 2.0, sd)
        return lognormal_half_deviance(figure.value, simulated, sd)
    if kind == "level" or figure.series not in EVENT_SERIES:
        if _bound_met(figure, simulated, figure.value):
            return 0.0
        return lognormal_half_deviance(figure.value, simulated, sd)
    # Counts: compare window totals.
    days = figure.days if kind in ("mean", "lower_bound_mean") else 1
    observed, mu = figure.value * days, simulated * days
    if _bound_met(figure, mu, observed):
        return 0.0
    return nb_half_deviance(observed, mu, dispersion(figure, discrepancy))


def tolerance_excess(figure: ReportedFigure, simulated: float | None) -> float | None:
    """Squared distance outside the figure's acceptance band, in units of its tolerance.

    Built on the figure's own error (``ReportedFigure.error``, 0 for a bound met or a trend of
    the right sign): zero inside the band, 1 for a wrong trend, an undefined ratio or a miss of
    twice the tolerance. None if not simulated.
    """
    error = figure.error(simulated)
    if error is None:
        return None
    if figure.kind == "trend" or (figure.kind == "ratio" and math.isnan(simulated)):
        return 0.0 if error == 0.0 else 1.0
    tol = _band(figure)
    band = 0.0 if figure.kind in BOUND_KINDS else tol  # a bound's error is its miss
    outside = max(abs(error) - band, 0.0) / tol
    return outside * outside
