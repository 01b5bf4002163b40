# Quick start: `make run` (set up, migrate, load the bundled plan and demo data, serve) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup run serve stack test test-fast lint e2e bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The background worker (large imports …) runs beside the web server and stops with it.
run: setup
	$(BIN)/sciencecity migrate --noinput
	$(BIN)/sciencecity bootstrap
	@echo "Serving http://$(HOST):$(PORT)/  (Ctrl-C to stop; the background worker stops with it)"
	$(BIN)/sciencecity worker & WORKER=$$!; trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/sciencecity runserver --insecure $(HOST):$(PORT)

serve: setup
	$(BIN)/sciencecity runserver --insecure $(HOST):$(PORT)

# The scale-out stack on loopback (docs/deploy.md §7): PostgreSQL database sciencecity_stack, a private Redis,
# 2 gunicorn servers behind a small reverse proxy on STACK_PORT, 2 job workers. Ctrl-C stops everything;
# `$(BIN)/python scripts/stack.py --check` shows each part's readiness.
STACK_PORT ?= 8080
stack: setup
	$(BIN)/python scripts/stack.py --port $(STACK_PORT) $(STACK_ARGS)

# The whole test suite (browser tests run when Chromium is installed: see .ci/run), one worker per core
# (pytest-xdist; each worker has its own test database and state folder, a test module stays on one worker).
PYTEST_WORKERS ?= auto
test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test-fast: setup
	$(BIN)/python -m pytest -m "not e2e" -x -q

# The architecture contracts of pyproject.toml ([tool.importlinter]) first, then ruff.
lint: setup
	PYTHONPATH=src $(BIN)/lint-imports --no-cache
	$(BIN)/ruff check src tests bench scripts

bench: setup
	for f in bench/*.py; do case $$f in bench/text_corpus.py|bench/results.py|bench/stack_common.py) continue;; esac; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) var/test .pytest_cache
