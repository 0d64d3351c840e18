"""A calibration's posterior as ensemble draws: which parameter values each replicate runs with.

An ABC calibration (sim.calibration, method ``abc``) keeps its last generation's weighted
particles in ``results/calibration/<name>/posterior.csv``: a ``weight`` column and one column
per free parameter (dotted keys such as ``model.border.kill_rate``). ``sim-ensemble
posterior=NAME`` gives replicate ``r`` the particle :func:`draw_indices` picks for it;
``posterior=record`` names the calibration of record, the one whose values are the defaults
(the last entry of ``applied`` in sim/data/calibrated.yaml); a name ending in ``.csv`` is the
path of a posterior file in that layout.

Draws depend only on the ensemble's ``seed`` and the replicate's row, never on the scenario or
on ``n``: two ensembles of paired scenarios with the same ``seed`` run every replicate at the
same parameters and the same seed (common random numbers), so their difference carries
parameter and seed uncertainty together without the noise of unpaired draws, and the first
``k`` replicates of a larger ensemble are those of a smaller one.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.config import ConfigError

#: The name that stands for the calibration of record.
RECORD = "record"
#: The folder calibrations write into (sim.calibration.config: out_dir).
CALIBRATIONS = Path(__file__).resolve().parent.parent / "results" / "calibration"
#: Offsets the draws' random stream from the runs' own streams of the same seed.
_STREAM = 0x9E3779B9


@dataclass(frozen=True)
class Posterior:
    """Weighted particles: ``values[i, k]`` is particle i's value of ``keys[k]``."""
    name: str
    path: Path
    keys: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray  # normalised to sum 1

    def __len__(self) -> int:
        return len(self.weights)

    def overrides(self, particle: int) -> dict[str, float]:
        return {k: float(v) for k, v in zip(self.keys, self.values[particle])}


def record_name() -> str:
    """The calibration of record: the folder of the last calibrated config applied as defaults."""
    from sim.config import CALIBRATED_PATH
    import yaml

    applied = (yaml.safe_load(Path(CALIBRATED_PATH).read_text(encoding="utf-8")) or {}).get("applied") or []
    for entry in reversed(applied):
        parts = Path(entry).parts
        if len(parts) >= 3 and parts[:2] == ("results", "calibration"):
            return parts[2]
    raise ConfigError(f"posterior: {RECORD}: no calibration in results/calibration/ made the defaults "
                      f"({CALIBRATED_PATH}); accepted: the name of a calibration with a posterior.csv")


def available() -> list[str]:
    """Calibrations under results/calibration that have a posterior."""
    return sorted(p.parent.name for p in CALIBRATIONS.glob("*/posterior.csv"))


def load_posterior(name: str) -> Posterior:
    """The posterior of calibration `name` (or of record), or a one-line ConfigError."""
    accepted = (f"accepted: {RECORD}, a calibration with a posterior.csv "
                f"({', '.join(available()) or 'none yet'}) or the path of such a file")
    if name.endswith(".csv"):
        folder, path = name, Path(name)
        if not path.is_file():
            raise ConfigError(f"posterior: {name}: no such file; {accepted}")
    else:
        folder = record_name() if name == RECORD else name
        if not folder or any(c in folder for c in "/\\") or folder.startswith("."):
            raise ConfigError(f"posterior: '{name}' is not a calibration name; {accepted}")
        path = CALIBRATIONS / folder / "posterior.csv"
        if not path.is_file():
            what = f"the calibration of record ({folder})" if name == RECORD else f"'{folder}'"
            raise ConfigError(f"posterior: {what} has no results/calibration/{folder}/posterior.csv; {accepted}")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"posterior: {path}: unreadable ({type(exc).__name__}); {accepted}") from None
    if not rows or rows[0][:1] != ["weight"] or len(rows[0]) < 2:
        raise ConfigError(f"posterior: {path}: the header must be weight and parameter keys; {accepted}")
    keys = tuple(rows[0][1:])
    try:
        table = np.array([[float(x) for x in row] for row in rows[1:]], dtype=float)
    except ValueError:
        raise ConfigError(f"posterior: {path}: a value is not a number; {accepted}") from None
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != len(keys) + 1:
        raise ConfigError(f"posterior: {path}: no particle, or rows of unequal length; {accepted}")
    if not np.isfinite(table).all() or (table[:, 0] < 0).any() or not table[:, 0].sum() > 0:
        raise ConfigError(f"posterior: {path}: weights must be finite, >= 0 and not all 0, values "
                          f"finite; {accepted}")
    weights = table[:, 0] / table[:, 0].sum()
    return Posterior(folder, path, keys, table[:, 1:], weights)


def draw_indices(posterior: Posterior, seed: int, rows: range) -> np.ndarray:
    """The particle of each replicate row: weighted, with replacement, from the ensemble's seed.
    Row r's draw is the r-th uniform of the seed's own stream, so it does not depend on n."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(np.random.SeedSequence([_STREAM, seed & 0xFFFFFFFF, int(seed < 0)]))
    u = rng.random(rows.stop)[rows.start:]
    cdf = np.cumsum(posterior.weights)
    cdf[-1] = 1.0  # rounding must not leave a uniform above the last particle
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(posterior) - 1)



#: A parameter is identified when its posterior's 90 % interval is at most this share of its
#: prior's (on the prior's scale: log for a log-uniform prior).
IDENTIFIED_WIDTH = 0.5


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs=(0.05, 0.5, 0.95)) -> list[float]:
    """Each q: the smallest value with at least the share q of the weight at or below it."""
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order]) / weights.sum()
    return [float(values[order][min(int(np.searchsorted(cdf, q)), len(values) - 1)]) for q in qs]


def calibration_summary(posterior: Posterior) -> dict:
    """The summary.json sim-calibrate wrote beside the posterior; {} for a file of one's own."""
    import json

    try:
        return json.loads((posterior.path.parent / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def identification(posterior: Posterior, priors: dict[str, dict]) -> "pd.DataFrame":
    """Per parameter: prior range, posterior 5/50/95 % quantiles, the width ratio (posterior
    90 % interval over the prior's, on the prior's scale) and whether it is identified.
    `priors` maps keys to {low, high, log} (a calibration's summary.json "parameters")."""
    import pandas as pd

    rows = []
    for k, key in enumerate(posterior.keys):
        prior = priors.get(key)
        if prior is None:
            raise ConfigError(f"posterior: {posterior.path}: no prior for {key} in the calibration's summary")
        q05, q50, q95 = weighted_quantiles(posterior.values[:, k], posterior.weights)
        scale = math.log if prior.get("log") else float
        lo, hi = scale(prior["low"]), scale(prior["high"])
        width = (scale(q95) - scale(q05)) / (0.9 * (hi - lo)) if hi > lo else math.nan
        rows.append({"parameter": key.removeprefix("model."), "prior_low": prior["low"],
                     "prior_high": prior["high"], "log": bool(prior.get("log")), "q05": q05,
                     "median": q50, "q95": q95, "width_ratio": width,
                     "identified": bool(width <= IDENTIFIED_WIDTH)})
    return pd.DataFrame(rows)


def calibration_priors(posterior: Posterior) -> dict[str, dict]:
    """The priors of the calibration a posterior comes from (its summary.json beside it)."""
    priors = calibration_summary(posterior).get("parameters")
    if not isinstance(priors, dict):
        raise ConfigError(f"posterior: {posterior.path.parent / 'summary.json'}: missing or without "
                          "'parameters'; accepted: the summary.json sim-calibrate writes beside posterior.csv")
    return priors


def model_digest(model, exclude=()) -> str:
    """A digest of a model config's numeric values, leaving out `exclude` (the keys a posterior
    draws), the magnitudes that follow a drawn one (sim.magnitudes.FOLLOWS: a draw sets them
    too) and model.scale: equal digests, the same model beneath the draws."""
    import hashlib
    import json

    from sim.ensemble_tables import numeric_leaves
    from sim.magnitudes import FOLLOWS

    prefix = "model.magnitudes."
    followers = {prefix + f for k in exclude if k.startswith(prefix)
                 for f in FOLLOWS.get(k.removeprefix(prefix), ())}
    skip = {"model.scale", *exclude, *followers}
    values = {k: v for k, (_, v) in numeric_leaves(model).items() if k not in skip}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def check_base_model(posterior: Posterior, model, changed=()) -> None:
    """ConfigError unless `model` is the one the posterior was fitted on, beneath the drawn
    keys (when its calibration recorded it: summary.json's base_model_digest). Keys in `changed`
    (set on the command line, as a study's sweep sets the parameter it varies) may differ: the
    rest of the model must still be the calibration's preset."""
    summary = calibration_summary(posterior)
    digest = summary.get("base_model_digest")
    drawn = set(posterior.keys)
    if not digest or digest == model_digest(model, drawn):
        return
    preset = summary.get("model_preset")
    extra = {k for k in changed if k.startswith("model.")} - drawn
    if preset and extra:
        from sim.compose import compose, options
        from sim.model import load_config

        if preset not in options("model"):
            raise ConfigError(f"posterior: '{posterior.name}' was fitted on model={preset}, which "
                              f"conf/model/ no longer has; accepted: a posterior whose preset exists "
                              f"({', '.join(options('model'))})")
        base = load_config(compose([f"model={preset}"])).model
        if model_digest(base, drawn) != digest:
            raise ConfigError(f"posterior: '{posterior.name}' was fitted on model={preset}, which has "
                              f"changed since beneath the draws; accepted: a posterior refitted on "
                              f"today's model={preset}")
        if model_digest(base, drawn | extra) == model_digest(model, drawn | extra):
            return
    preset = preset or "the one of its calibration"
    raise ConfigError(f"posterior: '{posterior.name}' was fitted on model={preset}, and this model "
                      f"differs in parameters it does not draw and the command line does not set; "
                      f"accepted: model={preset} or model=calibrated_{summary.get('name', posterior.name)}, "
                      f"with parameters set on the command line")


def model_preset(posterior: Posterior) -> str | None:
    """The conf/model preset the posterior's calibration ran on (None if it did not say)."""
    return calibration_summary(posterior).get("model_preset")
