"""How badly a simulated value misses a reported figure, as a deviance (0 = perfect).

Calibration minimises the weighted sum of these deviances, so each kind of figure is scored
with a likelihood that suits it:

- counts over a window (``total``, ``mean`` of an event series such as homicides or police
  killed): negative binomial on the window total. The dispersion comes from the figure's
  tolerance, ``k = 1 / tolerance**2``, so the coefficient of variation never falls below the
  tolerance however long the window (a 16-month mean must not outweigh a 5-day count just
  because it holds more events) and small counts keep their Poisson noise.
- lower bounds: the same deviance, one-sided: zero once the bound is met.
- stocks (``level``) and ``ratio``: log-normal with the tolerance as standard deviation.
- ``trend``: a direction only; a wrong sign costs :data:`TREND_MISS`, two standard deviations.

:func:`tolerance_excess` is separate: how far a value lies outside the figure's acceptance
band (the "within tolerance" test of the fit table), for calibrations that also want every
figure inside its band (``tolerance_weight``).

Every deviance function returns half the deviance, i.e. the negative log-likelihood minus its value at
a perfect match, so losses of different figures add up on one scale.
"""

from __future__ import annotations

import math

from sim.reported import ReportedFigure

#: Series whose windows hold counts of events; the others are stocks.
EVENT_SERIES: frozenset[str] = frozenset({"homicides", "police_killed", "soldiers_killed", "relatives_killed"})

#: Half-deviance of a trend with the wrong sign (a 2-sigma miss: 0.5 * 2**2).
TREND_MISS = 2.0

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


def _sd(figure: ReportedFigure) -> float:
    """The figure's tolerance as a relative standard deviation (25 % if it has none)."""
    return figure.tolerance if figure.tolerance > 0 else 0.25


def dispersion(figure: ReportedFigure) -> float:
    """Negative-binomial size of a count figure: 1 / tolerance**2 (Poisson if tolerance 0)."""
    return math.inf if figure.tolerance == 0 else 1.0 / figure.tolerance**2


def half_deviance(figure: ReportedFigure, simulated: float | None) -> float | None:
    """The figure's half-deviance for a simulated value; None when it was not simulated."""
    if simulated is None:
        return None
    kind = figure.kind
    if kind == "trend":
        return 0.0 if simulated * figure.value > 0 else TREND_MISS
    sd = _sd(figure)
    if kind == "ratio":
        if math.isnan(simulated):  # empty reference window: as bad as a factor of two
            return lognormal_half_deviance(1.0, 2.0, sd)
        return lognormal_half_deviance(figure.value, simulated, sd)
    if kind == "level" or figure.series not in EVENT_SERIES:
        if kind.startswith("lower_bound") and simulated >= figure.value:
            return 0.0
        return lognormal_half_deviance(figure.value, simulated, sd)
    # Counts: compare window totals.
    days = figure.days if kind in ("mean", "lower_bound_mean") else 1
    observed, mu = figure.value * days, simulated * days
    if kind.startswith("lower_bound") and mu >= observed:
        return 0.0
    return nb_half_deviance(observed, mu, dispersion(figure))


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
    tol = _sd(figure)
    band = 0.0 if figure.kind.startswith("lower_bound") else tol  # a bound's error is its miss
    outside = max(abs(error) - band, 0.0) / tol
    return outside * outside
