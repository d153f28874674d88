# itembank: two commands on a fresh Debian machine with Python 3.11.
#   make serve   set up, then start JupyterLab on 127.0.0.1 over the sample bank
#   make test    set up (virtual environment, package, test tools, Debian chromium), then run
#                the linters (ruff, mypy, the layer rules) and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
BANK   ?= $(CURDIR)/item_bank

.PHONY: help setup serve sample-results test lint pytest chromium bench clean hub

help:
	@echo "make serve   start JupyterLab (127.0.0.1:$(PORT)) on the sample bank"
	@echo "make test    run linters and the whole test suite"
	@echo "make bench   run the benchmarks (figures go in benchmarks/README.md)"
	@echo "make hub     start a demo JupyterHub (127.0.0.1:$(HUB_PORT), NOT for production)"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[apps,test]'
	touch $(STAMP)

setup: $(STAMP)

# Another apt or dpkg run may hold Debian's package locks: wait for it, at most APT_WAIT
# seconds. apt-get install waits by itself (DPkg::Lock::Timeout); apt-get update (apt 2.6)
# ignores that option for /var/lib/apt/lists/lock, so it is retried while that lock is busy.
APT_WAIT ?= 600
APT_GET  := apt-get -o DPkg::Lock::Timeout=$(APT_WAIT)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  deadline=$$(( $$(date +%s) + $(APT_WAIT) )); \
	  until out=$$($(APT_GET) update -qq 2>&1); do \
	    echo "$$out"; \
	    echo "$$out" | grep -q 'Could not get lock' || exit 1; \
	    [ $$(date +%s) -lt $$deadline ] || { \
	      echo "The package lists stayed locked for $(APT_WAIT) s: let the other apt finish, then run make test again."; exit 1; }; \
	    echo "Waiting for another apt to release the package lists..."; sleep 3; \
	  done; \
	  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium; }

# The sample administration (sample_results/, both forms, SIMULATED) in a results folder
# OUTSIDE the repository, so the results screens have something to show. An import is keyed
# by the hash of its files: importing the same files again stores nothing. Both forms: about
# 45 s the first time, 20 s when already there (2 busy cores; start-up, bank, parse, match).
RESULTS ?= $(CURDIR)-results
SAMPLE_FORMS := practitioner-knowledge-live-2026-1 practitioner-knowledge-live-2026-2
sample-results: setup
	@for f in $(SAMPLE_FORMS); do \
	  $(BIN)/itembank results import $(CURDIR)/sample_results/$$f/responses.csv.gz --form $$f \
	    --candidates $(CURDIR)/sample_results/$$f/candidates-SIMULATED.csv.gz \
	    --bank $(BANK) --results $(RESULTS) --quiet || exit 1; \
	  $(BIN)/itembank results import-marks $(CURDIR)/sample_results/$$f/practice-marks-SIMULATED.csv.gz \
	    --form $$f --bank $(BANK) --results $(RESULTS) >/dev/null || exit 1; \
	done

# JupyterLab for writers and standalone Voila for the panel apps (review_apps/), both on
# 127.0.0.1, each with its own token; the URLs are printed; Ctrl-C stops both. Both read the
# sample results imported above (through ITEMBANK_RESULTS).
VOILA_PORT ?= 8866
serve: setup sample-results
	ITEMBANK_RESULTS=$(RESULTS) $(BIN)/itembank serve --bank $(BANK) --apps $(CURDIR)/review_apps \
	  --port $(VOILA_PORT) --lab $(CURDIR)/authoring_notebooks --lab-port $(PORT) \
	  --lab-open write_items.ipynb

# lint-imports checks the layer rules in pyproject.toml [tool.importlinter]
lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src
	$(BIN)/mypy
	$(BIN)/lint-imports

# configurable-http-proxy (JupyterHub's proxy) from the npm registry into .hub/ (git-ignored),
# pinned, with no lock file. The hub tests need it, so `make test` installs it too.
CHP_VERSION := 5.3.0
CHP := .hub/node_modules/.bin/configurable-http-proxy
$(CHP):
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for JupyterHub's proxy: apt-get install npm"; exit 1; }
	npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix .hub \
	  configurable-http-proxy@$(CHP_VERSION)

# A real JupyterHub on 127.0.0.1 over the sample bank (deploy/hub.py, NOT for production): a bare
# repository made from item_bank/ in $(HUB_STATE) is the remote, each user gets a clone there.
HUB_PORT  ?= 8000
HUB_STATE ?= $(CURDIR)-hub
hub: setup $(CHP)
	$(BIN)/python deploy/hub.py --port $(HUB_PORT) --state $(HUB_STATE)

pytest: setup chromium $(CHP)
	$(BIN)/pytest tests authoring_notebooks review_apps --nbval-lax --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider

test: lint pytest

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# Mutation testing (issue 8) of the modules behind the headline promises, configured in
# pyproject.toml [tool.mutmut]; bounded to MUTATE_SECONDS, results kept in mutants/ (git-ignored).
# `make mutate` then `.venv/bin/mutmut results` / `.venv/bin/mutmut show NAME`.
MUTATE_SECONDS ?= 1260
MUTANTS ?= 'itembank.core.workflow.*' 'itembank.forms.scoring.*' 'itembank.core.canonical.*' \
  'itembank.review.rules.x_check_blind_response*' 'itembank.review.rules.x_matches_key*' \
  'itembank.review.rules.x_build_review*' 'itembank.review.rules.x_next_status*' \
  'itembank.review.rules.x_policy_verdict*' 'itembank.core.identity.x_same_person*' \
  'itembank.review.rules.x_option_ids*' 'itembank.forms.exporters._qti.x_response_processing*'
.PHONY: mutate
mutate: setup
	$(BIN)/pip install --quiet -e '.[mutate]'
	rm -rf mutants
	timeout $(MUTATE_SECONDS) $(BIN)/mutmut run --max-children 2 $(MUTANTS) || true
	$(BIN)/mutmut results
