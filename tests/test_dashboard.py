"""The dashboard's model and helpers without a browser (tests/test_app.py drives the page)."""

from __future__ import annotations

import inspect

import pytest

pytest.importorskip("solara")

from sim import app, app_assets  # noqa: E402
from sim.dashboard import DEFAULTS, MECHANISMS, DashboardModel, Mechanism, model_params  # noqa: E402


def test_default_controls_reproduce_the_small_config() -> None:
    model = DashboardModel(**{k: v["value"] for k, v in model_params().items()})
    assert model.overrides == ["model=small", "scenario=historical", "seed=0",
                               "model.scale=0.05"]
    assert model.scale == 0.05 and model.cfg.model.border.kill_rate == pytest.approx(
        DEFAULTS["border_kill_rate"] * MECHANISMS["border_kill_rate"].factor)


def test_slider_ranges_hold_the_defaults() -> None:
    for name, m in MECHANISMS.items():
        assert m.lo <= DEFAULTS[name] <= m.hi, (name, DEFAULTS[name], m.lo, m.hi)


def test_slider_ranges_come_from_the_accepted_ranges() -> None:
    assert (MECHANISMS["obedience_mean"].lo, MECHANISMS["obedience_mean"].hi) == (0.0, 1.0)
    assert MECHANISMS["border_kill_rate"].lo == 0.0  # the accepted lower bound, in slider units
    with pytest.raises(ValueError, match="leaves the accepted values"):
        Mechanism("model.orders.obedience_mean", "obedience", 0.01, hi=2.0)
    with pytest.raises(ValueError, match="no bound"):
        Mechanism("model.border.kill_rate", "border kills", 0.1)


def test_controls_set_config_keys() -> None:
    model = DashboardModel(scenario_name="steady_truce", seed=3, scale=0.02,
                           border_kill_rate=2.0, obedience_mean=0.5)
    assert model.cfg.seed == 3 and model.scale == 0.02
    assert model.cfg.scenario.name == "steady_truce"
    assert model.cfg.model.border.kill_rate == pytest.approx(2.0e-4)
    assert model.cfg.model.orders.obedience_mean == 0.5
    assert model.timeline.names(model.date) == "truce"


def test_every_control_is_a_keyword_of_the_model() -> None:
    """SolaraViz re-creates the model with the controls as keywords; `scenario` is Mesa's own
    (a Scenario object), so the model must not take it."""
    keywords = inspect.signature(DashboardModel.__init__).parameters
    assert set(model_params()) <= set(keywords)
    assert "scenario" not in keywords and "kwargs" not in keywords


def test_frame_follows_steps_and_switches_and_stops_at_the_end() -> None:
    model = DashboardModel(scale=0.02)
    model.end_date = model.start_date.replace(day=10)
    first = model.frame()
    assert first.days == 0 and first.policies == "baseline"
    for _ in range(12):  # SolaraViz may step past the end within a render interval
        model.step()
    frame = model.frame()
    assert frame.days == 10 and not frame.running and frame.revision == 10
    assert model.frame() is frame  # cached until the model changes
    assert frame.violence.shape == frame.gang.shape == (104, 44)
    model.switch_policy("mano_dura")
    assert model.frame().policies == "mano_dura" and model.switches[-1][1] == "mano_dura"


def test_app_runs_solara_on_the_page() -> None:
    args = app.solara_args(8800, "127.0.0.1")
    assert args[:2] == ["run", "sim.dashboard:Page"]
    assert args[args.index("--port") + 1] == "8800" and "--production" in args


def test_assets_are_read_from_solaras_template() -> None:
    specs = app_assets.packages()
    assert any(s.startswith("requirejs@") for s in specs)
    assert any(s.startswith("@widgetti/solara-vuetify") for s in specs)
    assert any(s.startswith("@widgetti/vue-grid-layout@") for s in specs)
