# The two commands a fresh machine needs; each sets up .venv/ itself on first use.
#   make run    the whole pipeline on the bundled taxi data (local Beam, SQLite metadata)
#   make test   the test suite (what CI runs)

PYTHON := .venv/bin/python
export TF_USE_LEGACY_KERAS := 1

.PHONY: run test venv clean

run: venv
	$(PYTHON) -m pipeline run $(ARGS)

test: venv
	@scripts/system_deps.sh
	$(PYTHON) -m pytest $(PYTEST_ARGS)

venv:
	@scripts/bootstrap.sh

clean:
	rm -rf workspace .pytest_cache
