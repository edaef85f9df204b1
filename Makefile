# Quick start: `make demo` runs the main job, `make test` the test suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check pytest test-core test-clients lint type format clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: this pin resolves to a local CPU wheel; an unpinned torch pulls a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[agents,dev,ray]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lrm-gym demo --out results/quick

# The README's test command: lint, format check, types, the whole suite, the simulator's own tests in a venv
# holding only lrm_gym and its dev tools (no torch, no agents extra), then the other RL codebases' tests.
test: check pytest test-core test-clients

check: lint type

pytest: $(STAMP)
	$(BIN)/pytest -n 2 --durations=15

CORE_VENV := .venv-core
$(CORE_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/pip install --quiet --upgrade pip
	$(CORE_VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

# The clients extra (TorchRL, Tianshou, Minari, ...) into the main venv, torch held at the pinned CPU wheel.
CLIENTS_STAMP := $(VENV)/.clients-installed
$(CLIENTS_STAMP): $(STAMP)
	echo "torch==2.13.0" > $(VENV)/torch-constraint.txt
	$(BIN)/pip install --quiet --constraint $(VENV)/torch-constraint.txt -e ".[clients]"
	touch $@

test-clients: $(CLIENTS_STAMP)
	$(BIN)/pytest -n 2 -q -m clients tests/clients

test-core: $(CORE_VENV)/.installed
	$(CORE_VENV)/bin/python -c "import importlib.util as u; assert u.find_spec('torch') is None, 'torch must not be needed'"
	$(CORE_VENV)/bin/python -m pytest -n 2 -q tests/lrm_gym lrm_gym

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

type: $(STAMP)
	$(BIN)/mypy lrm_gym agents

clean:
	rm -rf $(VENV) $(CORE_VENV) build *.egg-info
