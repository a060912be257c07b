# The two commands a fresh machine needs; each sets up .venv/ itself on first use.
#   make run    the whole pipeline on the bundled taxi data (local Beam, SQLite metadata)
#   make test   the test suite (what CI runs)

PYTHON := .venv/bin/python
# One pytest worker per core, each test file on one worker (a file's module fixtures, e.g.
# a pushed model, are built once); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
export TF_USE_LEGACY_KERAS := 1

.PHONY: run test venv clean

run: venv
	$(PYTHON) -m pipeline run $(ARGS)

test: venv
	@scripts/system_deps.sh
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

venv:
	@scripts/bootstrap.sh

clean:
	rm -rf workspace .pytest_cache
