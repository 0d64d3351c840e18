"""Bad input ends before anything is written: one line naming the key and what is accepted,
exit code 2, no traceback. Runs go through sim-run's real entry point (sim.run.main, in this
process, or `python -m` on a copy of the package for broken data and YAML files)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import typing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sim.compose import compose, options
from sim.config import PRISONS, LeversConfig, ModelConfig, PolicySpell

ROOT = Path(__file__).resolve().parent.parent
SHORT = ["model.scale=0.02", "end=2011-01-14", "output.figures=false", "output.progress=false"]
ERROR = re.compile(r"^sim-run: config error: (?P<key>[^:\s]+): .*; accepted: \S")


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def sim_run(args: list[str], cwd: Path) -> Outcome:
    """`sim-run ARGS` through sim.run.main in this process, from folder `cwd`."""
    from sim.run import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["sim-run", *args]
    code = 0
    try:
        with contextlib.chdir(cwd), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        sys.argv = argv
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_config_error(outcome: Outcome, key: str, cwd: Path) -> None:
    assert outcome.code == 2, outcome.stderr or outcome.stdout[-500:]
    assert len(outcome.lines) == 1, outcome.stderr
    found = ERROR.match(outcome.lines[0])
    assert found and found["key"] == key, outcome.lines[0]
    assert "Traceback" not in outcome.stderr + outcome.stdout
    assert not list(cwd.iterdir()), "an output folder was created"


NEW_BAD = [
    # NaN or infinity, in a parameter or a lever
    (["model.border.kill_rate=nan"], "model.border.kill_rate"),
    (["model.truce.extortion_rate=inf"], "model.truce.extortion_rate"),
    (["model.border.kill_rate=1e400"], "model.border.kill_rate"),  # parses as infinity
    (["model.scale=nan"], "model.scale"),
    (["policies.mano_dura.levers.lethal_force=nan"], "policies.mano_dura.levers.lethal_force"),
    (["model.levers.arrest_intensity=-inf"], "model.levers.arrest_intensity"),
    (["policies.truce.levers.negotiation=nan"], "policies.truce.levers.negotiation"),
    (["model.population.n_cliques=inf"], "model.population.n_cliques"),  # an integer
    # a negative seed
    (["seed=-1"], "seed"),
    # a scale below the floor (6 cliques, 3 leaders, one unit of police at 600/360/22,000)
    (["model.scale=0.0001"], "model.scale"),
    (["model.scale=0.009"], "model.scale"),
    (["model.scale=0"], "model.scale"),
    (["model.scale=0.02", "model.population.n_cliques=200"], "model.scale"),
    (["model.population.unit_size=30000"], "model.population.unit_size"),
    (["model.population.n_leaders=2"], "model.population.n_leaders"),
    (["model.population.population=1000"], "model.population.population"),
    # a lever beyond what the model has
    (["policies.mano_dura.levers.soldiers_deployed=30000"],
     "policies.mano_dura.levers.soldiers_deployed"),
    (["model.levers.soldiers_deployed=25001"], "model.levers.soldiers_deployed"),
    (["model.population.army_soldiers=7000"], "policies.mano_dura.levers.soldiers_deployed"),
    (["policies.prison_isolation.levers.leaders_moved=361"],
     "policies.prison_isolation.levers.leaders_moved"),
    (["policies.state_of_exception.levers.sentence_factor=0.5"],
     "policies.state_of_exception.levers.sentence_factor"),
    (["policies.state_of_exception.levers.mass_arrests=-1"],
     "policies.state_of_exception.levers.mass_arrests"),
    (["policies.state_of_exception.levers.mass_arrests=nan"],
     "policies.state_of_exception.levers.mass_arrests"),
    (["policies.state_of_exception.levers.mass_arrests=1e9"],
     "policies.state_of_exception.levers.mass_arrests"),
    # a policy spell outside its scenario
    (["scenario.timeline.3.start=2106-06-01"], "scenario.timeline[3].start"),
    (["scenario.timeline.0.end=2010-12-31"], "scenario.timeline[0].end"),
    # a grid too large, or with fewer populated cells than cliques
    (["model.landscape.width=600", "model.landscape.height=500"], "model.landscape.width"),
    (["model.landscape.width=8", "model.landscape.height=8", "model.population.n_cliques=2400"],
     "model.landscape.width"),
    (["model.landscape.urban_share=1"], "model.landscape.urban_share"),
    # keys the schema does not have, added with +, and values OmegaConf will not take
    (["+model.border.kill_rat=1"], "model.border.kill_rat"),
    (["+foo=1"], "foo"),
    (["policies.nopolicy.levers.negotiation=1"], "policies.nopolicy"),
    (["model.levers.visits=maybe"], "model.levers.visits"),
    (["model.border=3"], "model.border"),
    (["end=null"], "end"),
]


@pytest.mark.parametrize("args,key", NEW_BAD, ids=[" ".join(a) for a, _ in NEW_BAD])
def test_bad_input_is_one_line_naming_the_key_exit_2_nothing_written(tmp_path, args, key):
    # no hydra.run.dir: the default output folder would appear under tmp_path
    assert_config_error(sim_run([*SHORT, *args], tmp_path), key, tmp_path)


EDGES = [
    ["model.scale=0.01"],  # the floor at the default populations (and the dashboard's minimum)
    ["model.scale=0.02", "model.population.n_cliques=300"],  # exactly 6 cliques
    ["model.levers.soldiers_deployed=25000", "policies.prison_isolation.levers.leaders_moved=360"],
    ["scenario.timeline.3.start=2017-12-31", "scenario.timeline.0.end=2011-01-01"],
    # 20 columns x 4 rows that are land for every seed: 80 cells for 80 cliques
    ["model.landscape.width=20", "model.landscape.height=8", "model.population.n_cliques=4000"],
]


@pytest.mark.parametrize("args", EDGES, ids=[" ".join(a) for a in EDGES])
def test_values_at_the_limits_run(tmp_path, args):
    out = tmp_path / "run"
    outcome = sim_run([*SHORT, *args, f"hydra.run.dir={out}"], tmp_path)
    assert outcome.code == 0, outcome.stderr
    df = pd.read_csv(out / "timeseries.csv")
    assert df.date.iloc[0] == "2011-01-01" and len(df) >= 2


def test_the_largest_grid_is_accepted():
    from sim.config import MAX_GRID_CELLS
    from sim.model import load_config

    # validated only: building it takes seconds (benchmarks/bench_grid.py)
    cfg = load_config(compose(["model.landscape.width=500", "model.landscape.height=500"]))
    assert cfg.model.landscape.width * cfg.model.landscape.height == MAX_GRID_CELLS


# ----------------------------------------------------------------------------- broken files
@pytest.fixture
def package(tmp_path) -> Path:
    """A copy of the sim package and its conf/ whose files a test may break."""
    root = tmp_path / "package"
    for part in ("sim", "conf"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run_copy(package: Path, module: str, args: list[str], cwd: Path) -> Outcome:
    env = dict(os.environ, PYTHONPATH=str(package))
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def test_malformed_yaml_names_the_file_and_line(package, tmp_path):
    scenario = package / "conf" / "scenario" / "historical.yaml"
    lines = scenario.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "truce_erosion" in line)
    lines[at] = lines[at].replace("}", "")  # an unclosed flow mapping
    scenario.write_text("\n".join(lines) + "\n")
    work = tmp_path / "work"
    work.mkdir()
    outcome = run_copy(package, "sim.run", SHORT, work)
    assert_config_error(outcome, "conf/scenario/historical.yaml", work)
    found = re.search(r": line (\d+), column \d+: ", outcome.lines[0])
    # the parser notices one line later, where the next item starts
    assert found and int(found[1]) in (at + 1, at + 2), outcome.lines[0]


@pytest.mark.parametrize("module,args", [("sim.run", SHORT), ("sim.compare", None),
                                         ("sim.calibrate", ["calibration=small"])])
def test_missing_reported_figures_stop_before_the_run(package, tmp_path, module, args):
    (package / "sim" / "data" / "reported.csv").unlink()
    work = tmp_path / "work"
    work.mkdir()
    if args is None:  # sim-compare reads a sweep folder: an empty one, checked first
        (work / "sweep").mkdir()
        args = ["sweep"]
    outcome = run_copy(package, module, args, work)
    assert outcome.code == 2, outcome.stderr
    assert len(outcome.lines) == 1, outcome.stderr
    prog = module.replace("sim.", "sim-")
    assert re.match(rf"^{prog}: (config error: )?sim/data/reported\.csv: .*; accepted: ",
                    outcome.lines[0]), outcome.lines[0]
    assert [p.name for p in work.rglob("*")] == (["sweep"] if module == "sim.compare" else [])


@pytest.mark.parametrize("module", ["sim.run", "sim.compare"])
def test_malformed_reported_figures_stop_before_the_run(package, tmp_path, module):
    reported = package / "sim" / "data" / "reported.csv"
    rows = reported.read_text().splitlines()
    cells = rows[1].split(",")
    cells[5] = "many"  # the value column of the first figure
    reported.write_text("\n".join([rows[0], ",".join(cells), *rows[2:]]) + "\n")
    work = tmp_path / "work"
    (work / "sweep").mkdir(parents=True)
    outcome = run_copy(package, module, SHORT if module == "sim.run" else ["sweep"], work)
    assert outcome.code == 2 and len(outcome.lines) == 1, outcome.stderr
    line = outcome.lines[0]
    assert "sim/data/reported.csv: " in line and "'value'" in line and "; accepted: " in line
    assert [p.name for p in work.rglob("*")] == ["sweep"]


# ----------------------------------------------------------------------------- property
# Override sets drawn from the schema (sim/config.py's dataclasses): valid values inside the
# ranges, and invalid ones. An invalid draw is "field" when it is wrong by itself (out of
# range, NaN, infinity, wrong type, unknown key, negative seed, bad date, unknown policy): the
# error must name it. It is "cross" when it is wrong against the populations (a lever beyond
# them, a scale below the floor): the run must still stop, naming some key of the schema.
# Valid values come from [lo, hi], or [lo, 2 x default] where there is no upper bound (a short
# run stays short); a set of valid values may still clash (shares over 1, a scale below the
# floor of the drawn populations) and then ends in one config error like any other.
POLICIES = options("policy")
SPELLS = len(compose([]).scenario.timeline)  # the default scenario's (historical, 2011-2024)


@dataclass(frozen=True)
class Draw:
    key: str    # as on the command line (+key adds one)
    value: str
    kind: str   # "valid", "field" or "cross"
    named: str  # the key a config error about this draw names

    @property
    def override(self) -> str:
        return f"{self.key}={self.value}"


def _named(key: str) -> str:
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key.lstrip("+"))


def draw(key: str, value, kind: str, named: str | None = None) -> Draw:
    text = repr(value) if isinstance(value, float) else str(value)
    return Draw(key, text, kind, named or _named(key))


def _schema_leaves(cls, prefix: str):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            if f.name != "levers":  # the levers have no ranges: their own strategy below
                yield from _schema_leaves(hints[f.name], f"{prefix}.{f.name}")
        elif f.name != "scale":
            yield f"{prefix}.{f.name}", hints[f.name], f.metadata["lo"], f.metadata["hi"], f.default


LEAVES = list(_schema_leaves(ModelConfig, "model"))
KNOWN = ({"seed", "start", "end", "scenario", "model.scale", "model.landscape", "model.population"}
         | {key for key, *_ in LEAVES}
         | {f"{p}.levers.{f.name}" for p in ["model", *(f"policies.{q}" for q in POLICIES)]
            for f in dataclasses.fields(LeversConfig)}
         | {f"scenario.timeline[{i}].{f.name}" for i in range(SPELLS)
            for f in dataclasses.fields(PolicySpell)})

WRONG_TYPE = st.sampled_from(["abc", "[1,2]", "{a: 1}"])


Strategies = tuple[st.SearchStrategy[Draw], st.SearchStrategy[Draw]]  # (valid, bad)


def _parameter(key: str, kind: type, lo, hi, default) -> Strategies:
    upper = hi if hi is not None else max(2 * default, lo + 2)
    if kind is int:
        valid = st.integers(lo, int(upper))
        bad = st.one_of(st.integers(1, 10_000).map(lambda d: lo - d), st.just(2.5),
                        st.sampled_from(["nan", "inf"]), WRONG_TYPE)
    else:
        valid = st.floats(lo, upper, allow_nan=False, allow_infinity=False)
        beyond = [st.floats(1e-3, 1e3).map(lambda d: lo - d)]
        if hi is not None:
            beyond.append(st.floats(1e-3, 1e3).map(lambda d: hi + d))
        bad = st.one_of(*beyond, st.sampled_from(["nan", "inf", "-inf", "1e400"]), WRONG_TYPE)
    return (valid.map(lambda v: draw(key, v, "valid")), bad.map(lambda v: draw(key, v, "field")))


def _lever(prefix: str) -> Strategies:
    def at(name: str) -> str:
        return f"{prefix}.levers.{name}"

    rates = st.sampled_from(["lethal_force", "arrest_intensity"])
    counts = st.sampled_from(["soldiers_deployed", "leaders_moved"])
    switches = st.sampled_from(["visits", "gang_ceasefire", "gang_offer"])
    # a transfer is a policy's: the baseline refuses any value of these two levers
    transfer = "field" if prefix == "model" else "valid"
    valid = st.one_of(
        st.floats(0, 1).map(lambda v: draw(at("negotiation"), v, "valid")),
        st.tuples(rates, st.floats(0, 5)).map(lambda t: draw(at(t[0]), t[1], "valid")),
        st.integers(0, 25_000).map(lambda v: draw(at("soldiers_deployed"), v, "valid")),
        st.integers(0, 360).map(lambda v: draw(at("leaders_moved"), v, transfer)),
        st.sampled_from(PRISONS).map(lambda v: draw(at("leader_prison"), v, transfer)),
        st.tuples(switches, st.sampled_from(["true", "false"])).map(
            lambda t: draw(at(t[0]), t[1], "valid")))
    bad = st.one_of(
        st.sampled_from(["nan", -0.1, 1.5, "abc"]).map(
            lambda v: draw(at("negotiation"), v, "field")),
        st.tuples(rates, st.sampled_from(["nan", "inf", -1.0, "abc"])).map(
            lambda t: draw(at(t[0]), t[1], "field")),
        st.tuples(counts, st.sampled_from([-5, 2.5, "nan", "abc"])).map(
            lambda t: draw(at(t[0]), t[1], "field")),
        # more than the largest valid army (2 x 25,000) or leaders (2 x 360) drawn above
        st.integers(50_001, 10**6).map(lambda v: draw(at("soldiers_deployed"), v, "cross")),
        st.integers(721, 10**5).map(lambda v: draw(at("leaders_moved"), v, "cross")),
        st.just(draw(at("leader_prison"), "moon", "field")),
        switches.map(lambda name: draw(at(name), "maybe", "field")))
    return valid, bad


def _dates(key: str, first: dt.date, last: dt.date) -> Strategies:
    return (st.dates(first, last).map(lambda d: draw(key, d.isoformat(), "valid")),
            st.sampled_from(["2011-13-01", "2011-02-30", "soon", "2011/01/05"]).map(
                lambda v: draw(key, v, "field")))


# start on or before, end on or after the base end: the run is never empty
START = _dates("start", dt.date(2010, 12, 1), dt.date(2011, 1, 14))
END = _dates("end", dt.date(2011, 1, 14), dt.date(2011, 2, 11))
spell = st.integers(0, SPELLS - 1)
OTHERS_VALID = st.one_of(
    st.integers(0, 2**32).map(lambda v: draw("seed", v, "valid")),
    st.floats(0.01, 0.05).map(lambda v: draw("model.scale", v, "valid")),
    START[0], END[0],
    st.tuples(spell, st.sampled_from(POLICIES)).map(
        lambda t: draw(f"scenario.timeline.{t[0]}.policy", t[1], "valid")))
OTHERS_BAD = st.one_of(
    st.one_of(st.integers(-2**31, -1), st.just("1.5"), st.just("abc")).map(
        lambda v: draw("seed", v, "field")),
    st.sampled_from(["nan", "inf", 1.5, "abc"]).map(lambda v: draw("model.scale", v, "field")),
    st.sampled_from([0.0, -0.5, 1e-4, 0.004]).map(lambda v: draw("model.scale", v, "cross")),
    START[1], END[1],
    st.tuples(spell, st.from_regex(r"\A[a-z]{3,12}\Z").filter(lambda n: n not in POLICIES)).map(
        lambda t: draw(f"scenario.timeline.{t[0]}.policy", t[1], "field")),
    st.tuples(spell, st.sampled_from(["2106-06-01", "2011-02-29", "x"])).map(
        lambda t: draw(f"scenario.timeline.{t[0]}.start", t[1], "field")),
    st.sampled_from([("model.border.kill_ratee", "1", None), ("model.nope", "1", None),
                     ("+model.border.extra", "1", None), ("+foo", "1", None),
                     ("output.nope", "true", None),
                     ("policies.truce.levers.foo", "1", None),
                     ("policies.nopolicy.levers.negotiation", "1", "policies.nopolicy")]).map(
        lambda t: draw(t[0], t[1], "field", t[2])))

# a third each: the parameters, the levers, the rest (one_of picks its branches evenly)
PARAMETERS = [_parameter(*leaf) for leaf in LEAVES]
LEVERS = [_lever("model"), *(_lever(f"policies.{p}") for p in POLICIES)]
VALID = st.one_of(st.one_of(*(v for v, _ in PARAMETERS)), st.one_of(*(v for v, _ in LEVERS)),
                  OTHERS_VALID)
BAD = st.one_of(st.one_of(*(b for _, b in PARAMETERS)), st.one_of(*(b for _, b in LEVERS)),
                OTHERS_BAD)


@st.composite
def override_sets(draw_from) -> list[Draw]:
    # half the sets valid only, so that runs are checked as often as errors
    pool = VALID if draw_from(st.booleans()) else st.one_of(VALID, BAD)
    draws = draw_from(st.lists(pool, min_size=1, max_size=3,
                               unique_by=lambda d: d.key.lstrip("+")))
    if not any(d.key.startswith("scenario.") for d in draws):  # its spells are drawn by index
        scenario = draw_from(st.one_of(st.none(), st.sampled_from(options("scenario")),
                                       st.just("nowhere")))
        if scenario is not None:
            draws.append(draw("scenario", scenario, "field" if scenario == "nowhere" else "valid"))
    return draws


# 20 examples by default (the suite must stay short); SIM_INPUT_EXAMPLES=500 for a longer hunt
@settings(max_examples=int(os.environ.get("SIM_INPUT_EXAMPLES", 20)), deadline=None,
          derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(override_sets())
# each case of the issue at least once, whatever the draws
@example([draw("seed", -1, "field")])
@example([draw("model.border.kill_rate", "nan", "field")])
@example([draw("policies.mano_dura.levers.lethal_force", "inf", "field")])
@example([draw("model.scale", 1e-4, "cross")])
@example([draw("policies.mano_dura.levers.soldiers_deployed", 60_000, "cross")])
@example([draw("scenario.timeline.3.start", "2106-06-01", "field")])
@example([draw("model.landscape.width", 40_000, "field")])
@example([draw("+model.border.extra", 1, "field")])
@example([draw("model.population.n_cliques", 1_000, "valid"),
          draw("model.landscape.height", 8, "valid"), draw("model.landscape.width", 8, "valid")])
def test_every_drawn_input_runs_or_is_one_config_error(draws):
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        out = cwd / "run"
        outcome = sim_run([*SHORT, f"hydra.run.dir={out}", *(d.override for d in draws)], cwd)
        assert "Traceback" not in outcome.stdout + outcome.stderr, outcome.stderr
        field = {d.named for d in draws if d.kind == "field"}
        event("ran" if outcome.code == 0 else "config error")
        if outcome.code == 0:
            assert not field and all(d.kind == "valid" for d in draws), "bad input ran"
            values = {d.key: d.value for d in draws}
            days = (dt.date.fromisoformat(values.get("end", "2011-01-14"))
                    - dt.date.fromisoformat(values.get("start", "2011-01-01"))).days + 1
            assert len(pd.read_csv(out / "timeseries.csv")) == days
            return
        assert outcome.code == 2 and len(outcome.lines) == 1, outcome.stderr[-2000:]
        found = ERROR.match(outcome.lines[0])
        assert found, outcome.lines[0]
        assert found["key"] in (field or KNOWN), outcome.lines[0]
        assert not list(cwd.iterdir()), "an output folder was created"
