# Two commands on a machine with only python3, pip and make (DESIGN section 9):
#   make run    embedded PostgreSQL + Redis under var/ (unless DATABASE_URL / REDIS_URL are set),
#               migrate, demo data, web server + Celery worker + Celery beat; Ctrl-C stops all
#   make test   lint (ruff, ruff format, mypy), then the whole suite, the browser tests
#               (tests/browser, Debian's Chromium) included; PYTEST_ARGS="-k batch -x" passes
#               arguments on, PYTEST_ARGS="-m 'not browser'" leaves the browser tests out
#   make bench  the benchmarks in bench/ (README, Benchmarks); ARGS=--quick the quick ones
#   make trace  the tests that name a regulatory clause, then the traceability matrix
#               (var/traceability.html and .csv; carnk_mfg/traceability)

PYTHON ?= python3
VENV = .venv
BIN = $(VENV)/bin
PYTEST_ARGS ?=

CHROMIUM = /usr/bin/chromium

.PHONY: install run test trace lint chromium bench clean clean-data

install: $(VENV)/.installed

# A stamp, so the virtualenv is (re)built only when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

run: install
	$(BIN)/python -m carnk_mfg.localstack run

# Each run also keeps the clause-marked tests' outcomes, so `python -m carnk_mfg.traceability`
# can build the matrix from the last run.
TRACE_RESULTS = var/trace-results.json

test: lint chromium
	TRACE_RESULTS=$(TRACE_RESULTS) $(BIN)/python -m carnk_mfg.localstack test $(PYTEST_ARGS)

# The matrix is built even when a test fails (it shows which); make trace then fails too.
trace: install
	@TRACE_RESULTS=$(TRACE_RESULTS) $(BIN)/python -m carnk_mfg.localstack test \
	  -m "clause and not browser" $(PYTEST_ARGS); tests=$$?; \
	$(BIN)/python -m carnk_mfg.traceability $(TRACE_RESULTS) || exit $$?; \
	exit $$tests

# The browser tests drive the system's Chromium (Playwright's own browser download is never
# run), and the release documents are opened in a second PDF reader (poppler's pdftoppm):
# both installed here when missing and we are root, as in CI; otherwise the tests say so.
chromium:
	@if [ ! -x $(CHROMIUM) ] || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils; \
	  else \
	    echo "no $(CHROMIUM) or pdftoppm: apt-get install chromium poppler-utils" >&2; \
	  fi; \
	fi

# mypy imports the Django settings (its plugin), which need no server: without DATABASE_URL /
# REDIS_URL they only name the embedded ones, nothing is started or connected.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# `make bench ARGS=--quick` (CI): the benchmarks' quick modes only (small sizes, loose ratio
# checks); `make bench ARGS=scale` one benchmark by name.
ARGS ?=

bench: install
	$(BIN)/python -m bench $(ARGS)

# Removes the virtualenv only; the data of the embedded servers stays in var/.
clean:
	rm -rf $(VENV)

clean-data:
	rm -rf var
