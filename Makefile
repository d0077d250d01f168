# Wizwatch developer commands. Only Python 3.11+, make and pip are needed: `.venv` is built on demand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAM_VENV := .sam-venv
SAM := $(SAM_VENV)/bin/sam
# sam build needs the Lambda runtime's Python (3.12) on PATH; pyenv installs are picked up.
PY312_BIN ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin))
export SAM_CLI_TELEMETRY := 0

.PHONY: venv demo test test-fast bench lint build clean

$(STAMP): pyproject.toml layers/common/requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/wizwatch local demo

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup
	$(VENV)/bin/wizwatch test --minimum-tests 2

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not e2e and not slow"

bench: $(STAMP)
	$(PY) -m wizwatch_tools.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	@if [ -x $(SAM) ]; then $(SAM) validate --lint --template template.yaml; else echo "sam: not installed (make build installs it into $(SAM_VENV))"; fi
	@if [ -x $(SAM_VENV)/bin/checkov ]; then $(SAM_VENV)/bin/checkov --quiet --compact --skip-download -f template.yaml; else echo "checkov: not installed (make build installs it into $(SAM_VENV))"; fi

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli checkov

build: $(SAM)
	PATH="$(if $(PY312_BIN),$(PY312_BIN):)$$PATH" $(SAM) build --template template.yaml

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
