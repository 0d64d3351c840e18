"""Posterior draws reach the ensemble's runs, pair across scenarios and fail cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.ensemble import EnsembleConfig, replicates, validate_ensemble
from sim.ensemble_tables import read_params
from sim.model import load_config
from sim.posterior import draw_indices, load_posterior

ROOT = Path(__file__).resolve().parents[1]

KEY = "model.border.kill_rate"


def write_posterior(path: Path, weights, values, key: str = KEY) -> Path:
    pd.DataFrame({"weight": weights, key: values}).to_csv(path, index=False)
    return path


def ensemble_config(**kw) -> EnsembleConfig:
    base = load_config(end="2011-03-31", **{"model.scale": 0.02})
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    return EnsembleConfig(**{**fields, **kw})


def test_draws_follow_the_weights_and_do_not_depend_on_n(tmp_path):
    post = load_posterior(str(write_posterior(tmp_path / "p.csv", [1, 3, 0, 6], [1e-4, 2e-4, 3e-4, 4e-4])))
    draws = draw_indices(post, 7, range(20_000))
    counts = np.bincount(draws, minlength=4) / len(draws)
    assert counts[2] == 0 and np.allclose(counts, [0.1, 0.3, 0.0, 0.6], atol=0.015)
    assert np.array_equal(draw_indices(post, 7, range(50)), draws[:50])  # a prefix of a larger n
    assert not np.array_equal(draw_indices(post, 8, range(50)), draws[:50])  # the seed decides


def test_paired_scenarios_share_seeds_and_parameters(tmp_path):
    path = str(write_posterior(tmp_path / "p.csv", [1, 1, 1], [1e-4, 2e-4, 3e-4]))
    a = replicates(ensemble_config(n=12, posterior=path, seed=5))
    b = replicates(ensemble_config(n=12, posterior=path, seed=5, scenario=load_config(
        scenario="no_truce").scenario))
    assert [(r.seed, dict(r.overrides)) for r in a] == [(r.seed, dict(r.overrides)) for r in b]
    assert len({r.overrides[KEY] for r in a}) > 1


def test_posterior_draws_reach_the_runs(tmp_path):
    path = write_posterior(tmp_path / "p.csv", [1, 1], [2e-5, 8e-4])
    out = tmp_path / "ens"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.ensemble", f"posterior={path}", "n=8", "workers=1", "model.scale=0.02",
         "end=2011-06-30", "output.figures=false", "output.progress=false", f"hydra.run.dir={out}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    params = read_params(out / "params.parquet")
    assert set(params["posterior_particle"]) == {0, 1}
    assert np.allclose(params[KEY], np.where(params["posterior_particle"] == 0, 2e-5, 8e-4))
    runs = pd.read_parquet(out / "runs.parquet")
    killings = runs.groupby("replicate")["gang_vs_gang"].sum()
    by_particle = killings.groupby(params.set_index("replicate")["posterior_particle"]).mean()
    assert by_particle[1] > 5 * by_particle[0]  # a 40-fold kill rate kills far more


@pytest.mark.parametrize("content, words", [
    ("weight,model.border.kill_rate\nnan,1e-4\n", "weights must be finite"),
    ("w,model.border.kill_rate\n1,1e-4\n", "header must be weight"),
    ("weight,model.border.kill_rate\n1,abc\n", "is not a number"),
    ("weight,model.border.nonsense\n1,1e-4\n", "model.border.nonsense: unknown parameter"),
    ("weight,model.border.kill_rate\n1,-1\n", "model.border.kill_rate"),
])
def test_a_bad_posterior_is_one_config_error(tmp_path, content, words):
    path = tmp_path / "p.csv"
    path.write_text(content)
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        validate_ensemble(ensemble_config(n=2, posterior=str(path)))


def test_a_missing_posterior_names_what_is_accepted(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim.ensemble", "posterior=no_such_calibration", "n=2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "posterior: 'no_such_calibration' has no" in line and "accepted: record" in line
    assert not list(tmp_path.iterdir())


def test_a_lever_size_reaches_its_policy_after_composition(tmp_path):
    """model.magnitudes.* are read by the policy files when Hydra composes; a draw set later
    (posterior ensemble, calibration, sensitivity) must still reach the levers, and a lever
    set on the command line must still win."""
    from sim.calibration.objective import run_series
    from sim.ensemble import configure, simulation_config

    key = "model.magnitudes.mano_dura_lethal_force"
    path = str(write_posterior(tmp_path / "p.csv", [1, 1], [1.0, 20.0], key=key))
    cfg = ensemble_config(n=6, posterior=path)
    base = simulation_config(cfg)
    for rep in replicates(cfg):
        drawn = configure(base, rep)
        assert drawn.policies["mano_dura"].levers.lethal_force == rep.overrides[key]
        # the 2020 licence follows mano dura's size while its own default still equals it
        m = base.model.magnitudes
        follows = m.lethal_force_2020 == m.mano_dura_lethal_force
        assert drawn.policies["lethal_force_2020"].levers.lethal_force == (
            rep.overrides[key] if follows else m.lethal_force_2020)
    assert base.policies["mano_dura"].levers.lethal_force == base.model.magnitudes.mano_dura_lethal_force  # left as it was
    pinned = load_config(**{"policies.mano_dura.levers.lethal_force": 7.0})
    assert configure(pinned, replicates(cfg)[0]).policies["mano_dura"].levers.lethal_force == 7.0
    # and it changes the run: twenty times 2011's lethal force kills more gang members
    run = load_config(end="2014-12-31", **{"model.scale": 0.05})
    killed = {v: run_series(run, {key: v}, 0, 0.05).query("date >= '2014-06-01'")["security_vs_gang"].sum()
              for v in (1.0, 20.0)}
    assert killed[20.0] > 2 * killed[1.0]


def test_a_key_set_on_the_command_line_wins_over_the_draw(tmp_path):
    """A sweep over a parameter the posterior also draws (the leader_control study sweeps the
    cliques' obedience) keeps the swept value in every replicate."""
    path = write_posterior(tmp_path / "p.csv", [1, 1], [2e-5, 8e-4])
    out = tmp_path / "ens"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.ensemble", f"posterior={path}", f"{KEY}=3e-4", "n=4", "workers=1",
         "model.scale=0.02", "end=2011-02-28", "output.figures=false", "output.progress=false",
         f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    params = read_params(out / "params.parquet")
    assert (params[KEY] == 3e-4).all() and params["posterior_particle"].nunique() == 2


def test_an_ensemble_must_run_on_the_model_its_posterior_was_fitted_on(tmp_path):
    import json

    from sim.posterior import model_digest

    post = write_posterior(tmp_path / "posterior.csv", [1, 1], [1e-4, 2e-4])
    fitted_on = load_config(model="prior_medians").model
    (tmp_path / "summary.json").write_text(json.dumps(
        {"name": "t", "model_preset": "prior_medians", "base_model_digest": model_digest(fitted_on, [KEY])}))
    ok = ensemble_config(n=2, posterior=str(post), model=fitted_on)
    validate_ensemble(ok)  # the same model beneath the drawn key
    with pytest.raises(ConfigError, match="was fitted on model=prior_medians"):
        validate_ensemble(ensemble_config(n=2, posterior=str(post)))  # the defaults: other values
    # a parameter set on the command line (a study's sweep) may differ, and only that one
    import dataclasses

    swept = dataclasses.replace(fitted_on, orders=dataclasses.replace(
        fitted_on.orders, obedience_mean=fitted_on.orders.obedience_mean / 2))
    validate_ensemble(ensemble_config(n=2, posterior=str(post), model=swept),
                      frozenset({"model.orders.obedience_mean"}))
    with pytest.raises(ConfigError, match="the command line does not set"):
        validate_ensemble(ensemble_config(n=2, posterior=str(post), model=swept),
                          frozenset({"model.border.kill_rate"}))


def test_identification_tells_a_contracted_parameter_from_one_as_wide_as_its_prior(tmp_path):
    """Particles of `a` packed in a tenth of its prior, `b` spread over all of it, `c` tied to
    `a` on the log scale: a and c are identified, b is not, and a-c is a strong pair."""
    import json

    from sim.calibration.identify import main

    rng = np.random.default_rng(3)
    n = 2000
    a = rng.uniform(0.45, 0.55, n)              # prior [0, 1]
    b = rng.uniform(0.0, 10.0, n)               # prior [0, 10]
    c = np.exp(-5 + 10 * (a - 0.45) + rng.normal(0, 0.02, n))  # log prior [e^-6, e^-3]
    folder = tmp_path / "cal"
    folder.mkdir()
    pd.DataFrame({"weight": 1.0, "model.x.a": a, "model.x.b": b, "model.x.c": c}).to_csv(
        folder / "posterior.csv", index=False)
    (folder / "summary.json").write_text(json.dumps({"parameters": {
        "model.x.a": {"low": 0.0, "high": 1.0, "log": False},
        "model.x.b": {"low": 0.0, "high": 10.0, "log": False},
        "model.x.c": {"low": float(np.exp(-6)), "high": float(np.exp(-3)), "log": True}}}))
    assert main([str(folder / "posterior.csv")]) == 0
    table = pd.read_csv(folder / "identification.csv").set_index("parameter")
    assert table.loc["x.a", "identified"] and table.loc["x.c", "identified"]
    assert not table.loc["x.b", "identified"] and table.loc["x.b", "width_ratio"] > 0.9
    r = pd.read_csv(folder / "correlations.csv").set_index("parameter")
    assert r.loc["x.a", "x.c"] > 0.9 and abs(r.loc["x.a", "x.b"]) < 0.1
    text = (folder / "identification.md").read_text()
    assert "**Identified (2 of 3):**" in text and "`x.a` and `x.c` +" in text
    assert (folder / "identification.png").stat().st_size > 0
    # a missing posterior: one line, exit 2
    assert main(["no_such_calibration"]) == 2


def test_the_digest_leaves_out_what_a_drawn_magnitude_sets_and_nothing_else():
    """The April 2020 licence follows mano dura's lethal force: drawing the latter sets both."""
    import dataclasses

    from sim.posterior import model_digest

    base = load_config(model="prior_medians").model
    other = dataclasses.replace(base, magnitudes=dataclasses.replace(
        base.magnitudes, lethal_force_2020=base.magnitudes.lethal_force_2020 + 1))
    drawn = ["model.magnitudes.mano_dura_lethal_force"]
    assert model_digest(base, drawn) == model_digest(other, drawn)
    assert model_digest(base, [KEY]) != model_digest(other, [KEY])


def test_a_model_preset_may_size_the_licence_of_its_own(tmp_path):
    """conf/config.yaml makes the April 2020 licence follow mano dura's lethal force, and a
    preset (as sim-calibrate writes them) or the command line that sets it wins."""
    from sim.compose import compose

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "own_licence.yaml").write_text(
        "defaults:\n  - prior_medians\n  - _self_\nmagnitudes:\n  lethal_force_2020: 7.0\n")
    own = compose([f"hydra.searchpath=[file://{tmp_path}]", "model=own_licence"])
    assert own.model.magnitudes.lethal_force_2020 == 7.0
    assert own.policies["lethal_force_2020"].levers.lethal_force == 7.0
    follows = compose(["model=prior_medians", "model.magnitudes.mano_dura_lethal_force=8"])
    assert follows.policies["lethal_force_2020"].levers.lethal_force == 8.0
    assert compose(["model.magnitudes.lethal_force_2020=12"]).model.magnitudes.lethal_force_2020 == 12.0


@pytest.mark.parametrize("name", ["record", "holdout_blind_2016"])
def test_the_committed_posteriors_still_match_the_model_they_were_fitted_on(name):
    """The model beneath a posterior's draws has not moved since its calibration."""
    import json

    from sim.posterior import model_digest

    summary = json.loads((ROOT / "results" / "calibration" / name / "summary.json").read_text())
    base = load_config(model=summary["model_preset"]).model
    assert model_digest(base, list(summary["parameters"])) == summary["base_model_digest"]
