# The README's two commands: `make run` (install + start the dashboard) and `make test`
# (install test dependencies + run the whole suite). Everything goes into ./.venv.
# `make run` installs requirements.txt only; the trainer's JAX/Dask stack
# (requirements-train.txt) comes with the test dependencies.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache

.PHONY: run test install install-dev browser host bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-train.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -r requirements-train.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev browser

# Debian packages for the tests: Chromium for the browser tests (never a downloaded browser;
# see engineering notes) and nginx for the scale-out test (started by the test itself).
browser:
	@{ command -v chromium && command -v nginx; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends chromium chromium-driver nginx; }

run: install
	$(PY) app.py

# One BLAS thread per process: the Monte-Carlo tests run ~2x faster on 2 shared cores.
test: install-dev
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest

bench: install-dev
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .numba_cache .pytest_cache
