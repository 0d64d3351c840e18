# Two commands do everything on a fresh machine: `make run` and `make test`.
# Python 3.12 comes from pyenv through .python-version; override with PYTHON=...
PYTHON ?= python3.12
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench docs check-docs clean app
PORT ?= 8765

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,sweep]'
	$(PY) -m sim.app_assets  # the dashboard's browser scripts, from the npm registry (needs npm)
	touch $(STAMP)

## run the 2011-2024 history (scenario historical) at national scale (outputs under results/runs/)
run: $(STAMP)
	$(VENV)/bin/sim-run

## run the test suite (small-scale configs)
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15

## serve the dashboard on http://127.0.0.1:$(PORT) (make app PORT=8800 for another port)
app: $(STAMP)
	$(VENV)/bin/sim-app --port $(PORT)

## rerun every study of experiments/ (sim-ensemble at national scale, 20-50 runs a scenario, each at
## its own draw from the posterior of the calibration of record and its own seed)
.PHONY: studies
studies: $(STAMP)
	$(PY) experiments/studies.py --posterior record

## the calibration of record from scratch (docs/CALIBRATION.md, issue 14): screen the source
## priors, list what they resolve, fit the ABC posterior (resumes from its abc.db), make its
## posterior medians the defaults, regenerate the ODD tables
.PHONY: calibrate
calibrate: $(STAMP)
	$(VENV)/bin/sim-sensitivity sensitivity=sources
	$(PY) -m sim.sensitivity.resolved results/sensitivity/sources --top 16
	$(PY) -m sim.calibration.prior_medians
	$(VENV)/bin/sim-calibrate calibration=record
	$(PY) -m sim.calibration.apply results/calibration/record/calibrated.yaml
	$(PY) -m sim.docs

## time national-scale runs of 2011-2017 (historical_2017) and of 2011-2024 (historical) against a
## Mesa reference, and the whole sim-run command of 2011-2017; one JSON line each
bench: $(STAMP)
	$(PY) benchmarks/bench_run.py
	$(PY) benchmarks/bench_run.py --scenario historical
	$(PY) benchmarks/bench_cli.py

## time a 100-job seed ensemble of 2011-2017: joblib on 2 workers against one job at a time; one JSON line
.PHONY: bench-sweep
bench-sweep: $(STAMP)
	$(PY) benchmarks/bench_sweep.py

## time a 1,000-replicate national ensemble of 2011-2017 (sim-ensemble scenario=historical_2017 n=1000 workers=2)
## and runs.parquet's size; one JSON line
.PHONY: bench-ensemble
bench-ensemble: $(STAMP)
	$(PY) benchmarks/bench_ensemble.py

## the benchmarks of record (README, Speed): make bench's three lines into results/bench_run.json
## and results/bench_cli.json, make bench-ensemble's into results/bench_ensemble.json, the cost of
## each daily process (benchmarks/bench_processes.py) into results/bench_processes.json; run it on
## an otherwise quiet machine (each file is replaced only once its benchmark has finished)
.PHONY: bench-record
bench-record: $(STAMP)
	$(PY) benchmarks/bench_run.py > results/bench_run.json.part
	$(PY) benchmarks/bench_run.py --scenario historical >> results/bench_run.json.part
	mv results/bench_run.json.part results/bench_run.json
	$(PY) benchmarks/bench_cli.py --repeat 5 > results/bench_cli.json.part
	mv results/bench_cli.json.part results/bench_cli.json
	$(PY) benchmarks/bench_ensemble.py > results/bench_ensemble.json.part
	mv results/bench_ensemble.json.part results/bench_ensemble.json
	$(PY) benchmarks/bench_processes.py > results/bench_processes.json.part
	mv results/bench_processes.json.part results/bench_processes.json

## regenerate the parameter tables of docs/ODD.md from sim/config.py
docs: $(STAMP)
	$(PY) -m sim.docs

check-docs: $(STAMP)
	$(PY) -m sim.docs --check

clean:
	rm -rf $(VENV) .pytest_cache
