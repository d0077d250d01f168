# Wizwatch developer commands. Only Python 3.11+, make and pip are needed: `.venv` is built on demand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAM_VENV := .sam-venv
SAM := $(SAM_VENV)/bin/sam
# Panther's own tool, pinned, in a venv of its own (its dependencies never meet ours): `make pat`
# builds it (`make test` too, so CI checks the rules tree with Panther's tool); `make lint` and
# tests/unit/rules/test_panther_analysis_tool.py use it.
PAT_VENV := .pat-venv
PAT_VERSION := 1.11.1
PAT := $(PAT_VENV)/bin/panther_analysis_tool
# sam build needs the Lambda runtime's Python (3.12) on PATH; pyenv installs are picked up.
PY312_BIN ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin))
export SAM_CLI_TELEMETRY := 0

.PHONY: venv demo test test-fast bench lint build clean pat pat-test rules-test

$(STAMP): pyproject.toml layers/common/requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/wizwatch local demo

test: $(STAMP) $(PAT)
	$(PY) -m pytest -n 2 --dist loadgroup
	$(VENV)/bin/wizwatch test --minimum-tests 2

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not e2e and not slow"

bench: $(STAMP)
	$(PY) -m wizwatch_tools.bench

lint: $(STAMP)
	$(VENV)/bin/wizwatch test --show-failures-only --minimum-tests 2
	@if [ -x $(PAT) ]; then $(MAKE) --no-print-directory pat-test; else echo "panther_analysis_tool: not installed (make pat installs $(PAT_VERSION) into $(PAT_VENV))"; fi
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	@if [ -x $(SAM) ]; then $(SAM) validate --lint --template template.yaml; else echo "sam: not installed (make build installs it into $(SAM_VENV))"; fi
	@if [ -x $(SAM_VENV)/bin/checkov ]; then $(SAM_VENV)/bin/checkov --quiet --compact --skip-download -f template.yaml; else echo "checkov: not installed (make build installs it into $(SAM_VENV))"; fi

$(PAT):
	$(PYTHON) -m venv $(PAT_VENV)
	$(PAT_VENV)/bin/pip install --quiet --upgrade pip
	$(PAT_VENV)/bin/pip install --quiet 'panther-analysis-tool==$(PAT_VERSION)'

pat: $(PAT)

# Panther's tool on the rule tree (from its parent: PAT only descends into folders it recognises
# when given "."). Correlation rules are validated; PAT does not run their tests offline.
pat-test: $(PAT)
	cd functions/detector && ../../$(PAT) test --path rules --minimum-tests 2

rules-test: $(STAMP)
	$(VENV)/bin/wizwatch test --show-failures-only --minimum-tests 2

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli checkov

# After `sam build`: bytecode for every built function and the layer (sam's Python workflow ships
# none, and /opt and /var/task are read-only, so each cold start would compile every module from
# source; README "Bytecode"). Hash-checked .pyc: zip packaging does not keep source mtimes exactly.
build: $(SAM) rules-test
	PATH="$(if $(PY312_BIN),$(PY312_BIN):)$$PATH" $(SAM) build --template template.yaml
	PATH="$(if $(PY312_BIN),$(PY312_BIN):)$$PATH" python3.12 -m compileall -q -j 0 --invalidation-mode checked-hash .aws-sam/build

clean:
	rm -rf $(VENV) $(SAM_VENV) $(PAT_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
