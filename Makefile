# The two commands a fresh machine needs; each sets up .venv/ itself on first use.
#   make run    the whole pipeline on the bundled taxi data (local Beam, SQLite metadata)
#   make test   the test suite (what CI runs)
#   make fuzz   fuzz the CSV reader for FUZZ_SECONDS (default 600); crashes land in fuzz-out/

PYTHON := .venv/bin/python
# One pytest worker per core, each test file on one worker (a file's module fixtures, e.g.
# a pushed model, are built once); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
export TF_USE_LEGACY_KERAS := 1

.PHONY: run test fuzz venv clean

run: venv
	$(PYTHON) -m pipeline run $(ARGS)

test: venv
	@scripts/system_deps.sh
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

FUZZ_SECONDS ?= 600

# New corpus entries go to fuzz-out/corpus (not the checked-in seeds); a crash or hang is
# written to fuzz-out/ and belongs in tests/fuzz/crashes/ once fixed.
fuzz: venv
	mkdir -p fuzz-out/corpus
	$(PYTHON) -m tests.fuzz.csv_reader_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-artifact_prefix=fuzz-out/ fuzz-out/corpus tests/fuzz/corpus tests/fuzz/crashes

venv:
	@scripts/bootstrap.sh

clean:
	rm -rf workspace .pytest_cache fuzz-out
