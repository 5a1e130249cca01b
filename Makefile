# Remorai — the two commands: `make run` (the whole service) and `make test` (the suite).
# Python 3.11: `python3.11` when on the PATH, else `python3` (checked below to be 3.11).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrate venv clean synth synth-test bench soak lock

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
	  "Python 3.11 is needed: make PYTHON=/path/to/python3.11 …")'
	$(PYTHON) -m venv $(VENV)

# Every requirements file is pinned with hashes (`make lock` regenerates them from the .in files):
# pip refuses any file whose hash differs from the one locked, e.g. a re-published release.
$(STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install -q --require-hashes -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

# The whole service: web + queue worker + provider simulator (Ctrl-C stops all three);
# `make run RUN_ADDR=127.0.0.1:8001` when 8000 is taken.
RUN_ADDR ?= 127.0.0.1:8000
run: migrate
	$(PY) manage.py ensure_local_admin --address $(RUN_ADDR)
	$(PY) manage.py devserver $(RUN_ADDR)

# Re-pin requirements*.txt and deploy/requirements.txt, with hashes, from their .in files (uv).
LOCK = $(CURDIR)/$(VENV)/bin/uv pip compile -q --universal --python-version 3.11 --generate-hashes
lock: venv
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt
	$(LOCK) requirements-litellm.in -o requirements-litellm.txt
	cd deploy && $(LOCK) requirements.in -o requirements.txt

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Benchmarks (bench/, docs/benchmarks.md), never run by the test suite: all of them, or some with
# `make bench B=b3` / `make bench B="b1 b4"`. Needs PostgreSQL (BENCH_DATABASE_URL).
bench: venv
	$(PY) bench/run.py $(B)

# The long chaos soak (tests/reliability/, docs/reliability.md): 300 extractions under ~20% random
# provider faults with 3 worker SIGKILLs, on PostgreSQL. CI runs the same test with 60 runs, 1 kill.
SOAK_RUNS ?= 300
SOAK_KILLS ?= 3
SOAK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/remorai_soak
soak: venv
	SOAK_RUNS=$(SOAK_RUNS) SOAK_KILLS=$(SOAK_KILLS) DATABASE_URL=$(SOAK_DATABASE_URL) \
	  $(VENV)/bin/pytest tests/reliability/test_chaos_soak.py -m chaos -s -p no:cacheprovider \
	  -o timeout=3600 $(PYTEST_ARGS)

# Deployment as code (deploy/, docs/deploy.md): the CDK app in its own venv, run offline with the
# machine's Node.js. `make synth CDK_CONTEXT="-c litellm_enabled=false"` passes context values.
CDK_VENV ?= .venv-cdk
CDK_STAMP := $(CDK_VENV)/.installed

$(CDK_STAMP): deploy/requirements.txt
	$(PYTHON) -m venv $(CDK_VENV)
	$(CDK_VENV)/bin/pip install -q --require-hashes -r deploy/requirements.txt
	touch $(CDK_STAMP)

synth: $(CDK_STAMP)
	rm -rf deploy/cdk.out
	cd deploy && ../$(CDK_VENV)/bin/python app.py $(CDK_CONTEXT)
	ls deploy/cdk.out/*.template.json

synth-test: synth
	cd deploy && ../$(CDK_VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(CDK_VENV) deploy/cdk.out var staticfiles .pytest_cache .ruff_cache
