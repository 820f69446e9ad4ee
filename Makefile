# django-singlestore developer entry points. Fixed names: ../shared/design/interfaces.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT      := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PY311     ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
PY312     ?= $(shell $(ROOT)/.ci/find-python 12)
LEG       ?= all
VENV_DJ52 := $(ROOT)/.venv
VENV_DJ61 := $(ROOT)/.venv-dj61
# demo, bench, faults and testbed run on .venv/ unless LEG=dj61.
TOOL_VENV := $(if $(filter dj61,$(LEG)),$(VENV_DJ61),$(VENV_DJ52))
PYTEST_ARGS ?=

# Debian packages: MariaDB server and client (the test bed), mysqlclient's headers and build tools, openssl,
# Chromium and its WebDriver (the admin's browser test, tests/examples).
DEB_PACKAGES := mariadb-server mariadb-client libmariadb-dev libmariadb-dev-compat pkg-config build-essential openssl \
                chromium chromium-driver
DEB_BINARIES := /usr/sbin/mariadbd /usr/bin/mariadb /usr/bin/mariadb-install-db /usr/bin/mariadb-tzinfo-to-sql \
                /usr/bin/mariadb_config /usr/bin/pkg-config /usr/bin/gcc /usr/bin/openssl \
                /usr/bin/chromium /usr/bin/chromedriver

.PHONY: help deps venvs test lint testbed testbed-stop demo django-suite mutation bench faults clean

help:
	@echo "make deps          install the Debian packages (root) the project needs"
	@echo "make venvs         build .venv/ (Python 3.11, Django 5.2) and .venv-dj61/ (Python 3.12+, Django 6.1)"
	@echo "make test          run the suite on both legs (LEG=dj52 or LEG=dj61 for one)"
	@echo "make lint          ruff and mypy"
	@echo "make testbed       start the embedded default (private MariaDB + gateway); stdout: its two URLs,"
	@echo "                   stderr: a mariadb client command and a DATABASES snippet"
	@echo "                   (TESTBED_MASTER_PORT / TESTBED_CHILD_PORT fix the ports)"
	@echo "make testbed-stop  stop it, saying what it stopped"
	@echo "make demo          the example ASGI app (examples/shop) under a short load, on the embedded default"
	@echo "                   or SINGLESTORE_URL (DEMO_KEEP=1 keeps the app, its data and the test bed serving)"
	@echo "make django-suite  Django's own test suite against the backend, in the background (tests/django_suite/README.md)"
	@echo "make mutation      mutation testing (cosmic-ray) of the rule modules, in the background; resumable;"
	@echo "                   MUTATION_MODULES=errors,options,... picks modules; report: tests/MUTATION.md"
	@echo "make bench         the benchmarks into benchmarks/results/ (resumable; QUICK=1 for the short run)"
	@echo "make faults        fault experiments: schema changes under live traffic, and the fault campaign"
	@echo "                   (ledger, leaks, recovery time per fault kind against >= 90% within 2 s)"
	@echo "make clean         make testbed-stop, then remove .testbed/ and the tool caches"
	@echo "Targets that run Python use .venv/ unless LEG=dj61."

deps:
	@missing=0; for b in $(DEB_BINARIES); do [ -x "$$b" ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "deps: installing $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES); \
	else echo "deps: Debian packages present"; fi

$(VENV_DJ52)/.installed: pyproject.toml
	@for b in $(DEB_BINARIES); do [ -x "$$b" ] || { $(MAKE) --no-print-directory deps; break; }; done
	$(PY311) -m venv $(VENV_DJ52)
	$(VENV_DJ52)/bin/pip install -q --upgrade pip
	$(VENV_DJ52)/bin/pip install -q -e '.[async,test,lint,bench]' 'Django>=5.2,<5.3'
	touch $@

$(VENV_DJ61)/.installed: pyproject.toml
	@for b in $(DEB_BINARIES); do [ -x "$$b" ] || { $(MAKE) --no-print-directory deps; break; }; done
	@[ -n "$(PY312)" ] || { echo "no Python 3.12+ found for the dj61 leg"; exit 1; }
	$(PY312) -m venv $(VENV_DJ61)
	$(VENV_DJ61)/bin/pip install -q --upgrade pip
	$(VENV_DJ61)/bin/pip install -q -e '.[async,test,lint,bench]' 'Django>=6.1,<6.2'
	touch $@

venvs: $(VENV_DJ52)/.installed $(if $(PY312),$(VENV_DJ61)/.installed)

# One leg: `make test-leg V=<venv>`; pytest's exit 5 (no tests collected) is a failure.
define run_leg
	@echo "=== leg $(1): $$($(2)/bin/python -c 'import sys, django; print("Python", sys.version.split()[0], "Django", django.get_version())')"
	@cd $(ROOT) && $(2)/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc = 5 ]; then echo "leg $(1): pytest collected no tests: failing"; exit 1; fi; exit $$rc
endef

test:
ifeq ($(LEG),dj52)
	@$(MAKE) --no-print-directory $(VENV_DJ52)/.installed
	$(call run_leg,dj52,$(VENV_DJ52))
else ifeq ($(LEG),dj61)
	@$(MAKE) --no-print-directory $(VENV_DJ61)/.installed
	$(call run_leg,dj61,$(VENV_DJ61))
else
	@$(MAKE) --no-print-directory test LEG=dj52
	@if [ -n "$(PY312)" ]; then $(MAKE) --no-print-directory test LEG=dj61; \
	 elif [ "$$CI" = "true" ]; then echo "CI: no Python 3.12+ for the dj61 leg: failing"; exit 1; \
	 else echo "no Python 3.12+ found: skipping the dj61 leg (Django 6.1)"; fi
endif

lint: $(VENV_DJ52)/.installed
	$(VENV_DJ52)/bin/ruff check .
	$(VENV_DJ52)/bin/ruff format --check .
	$(VENV_DJ52)/bin/mypy

# The embedded default's state (PIDs, data dir, logs); tests point it at a temp dir.
TESTBED_DIR ?= $(ROOT)/.testbed

testbed: $(TOOL_VENV)/.installed
	@cd $(ROOT) && $(TOOL_VENV)/bin/python -m tests.testbed start --state-dir $(TESTBED_DIR)

testbed-stop:
	@cd $(ROOT) && if [ -x $(TOOL_VENV)/bin/python ]; then $(TOOL_VENV)/bin/python -m tests.testbed stop --state-dir $(TESTBED_DIR); \
	  else python3 -m tests.testbed stop --state-dir $(TESTBED_DIR); fi

# The example ASGI app (examples/shop/demo.py): migrate, demo data, uvicorn, a short load, stop.
# SINGLESTORE_URL (a real master aggregator) replaces the embedded default. It uses a test bed that
# `make testbed` started and leaves it running; one it started itself it stops, unless DEMO_KEEP=1,
# which keeps the app, its data and the test bed serving.
DEMO_KEEP ?=
demo: $(TOOL_VENV)/.installed
	@cd $(ROOT) && py=$(TOOL_VENV)/bin/python && mkdir -p $(TESTBED_DIR) && \
	  if [ -n "$$SINGLESTORE_URL" ]; then started=none; url="$$SINGLESTORE_URL"; \
	  else \
	    if $$py -m tests.testbed status --quiet --state-dir $(TESTBED_DIR) > $(TESTBED_DIR)/urls 2>/dev/null; then started=0; \
	    else started=1; $$py -m tests.testbed start --quiet --state-dir $(TESTBED_DIR) > $(TESTBED_DIR)/urls || exit 1; fi; \
	    url="$$(head -1 $(TESTBED_DIR)/urls | cut -f2)"; \
	  fi; \
	  DEMO_KEEP="$(DEMO_KEEP)" $$py examples/shop/demo.py "$$url" --state-dir $(TESTBED_DIR); rc=$$?; \
	  if [ $$started = none ]; then :; \
	  elif [ "$(DEMO_KEEP)" = 1 ] || [ $$started = 0 ]; then \
	    echo; [ $$started = 0 ] && echo "demo: the test bed was already running (make testbed); left running."; \
	    $$py -m tests.testbed status --state-dir $(TESTBED_DIR) > /dev/null; \
	  else $$py -m tests.testbed stop --state-dir $(TESTBED_DIR); fi; exit $$rc

# Django's own test suite against the backend (issue 7, tests/django_suite/README.md). Runs in the background
# and resumes by app; `python -m tests.django_suite status` shows progress, RESULTS.md the results.
# LEG=dj52|dj61 runs one leg; DJANGO_SUITE_ARGS adds flags (--apps a,b --force --retry --quick ...);
# DJANGO_SUITE_BG= (empty) runs in the foreground.
DJANGO_SUITE_BG ?= --background
DJANGO_SUITE_ARGS ?=
SUITE_PYTHONS := $(if $(filter dj52,$(LEG)),--python $(VENV_DJ52)/bin/python,$(if $(filter dj61,$(LEG)),--python $(VENV_DJ61)/bin/python))
# Django's tests/requirements (the `django-suite` extra) and a memcached binary are only needed here, so
# `make venvs` (and CI) stays lean; pylibmc builds against libmemcached-dev.
DJANGO_SUITE_DEB := memcached libmemcached-dev
$(VENV_DJ52)/.django-suite $(VENV_DJ61)/.django-suite: %/.django-suite: %/.installed
	@[ -x /usr/bin/memcached ] && [ -e /usr/include/libmemcached/memcached.h ] || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DJANGO_SUITE_DEB); }
	$*/bin/pip install -q -e '.[django-suite]'
	touch $@

django-suite: $(VENV_DJ52)/.django-suite
	@if [ "$(LEG)" != dj52 ] && [ -n "$(PY312)" ]; then $(MAKE) --no-print-directory $(VENV_DJ61)/.django-suite; fi
	@cd $(ROOT) && $(VENV_DJ52)/bin/python -m tests.django_suite run $(DJANGO_SUITE_BG) $(SUITE_PYTHONS) $(DJANGO_SUITE_ARGS)

# Benchmarks (issue 13, README "Benchmarks"): resumable; QUICK=1 is the short run (results/quick/).
# BENCH_RESULTS=DIR writes elsewhere; BENCH_ARGS adds flags (--fresh, --legs uvicorn,crud, --report-only);
# BENCH_PYTHON=python runs with that interpreter instead of the tool venv (the test suite uses it).
# The full run builds benchmarks/.venv-older/ (django-singlestore 5.0.1 + the tool venv's Django).
QUICK ?=
BENCH_ARGS ?=
BENCH_RESULTS ?=
BENCH_PYTHON ?=
OLDER_VENV := $(ROOT)/benchmarks/.venv-older
BENCH_PY := $(or $(BENCH_PYTHON),$(TOOL_VENV)/bin/python)

$(OLDER_VENV)/.installed:
	$(PY311) -m venv $(OLDER_VENV)
	$(OLDER_VENV)/bin/pip install -q 'django-singlestore==5.0.1' \
	  "Django==$$($(BENCH_PY) -c 'import django; print(django.get_version())')"
	touch $@

bench: $(if $(BENCH_PYTHON),,$(TOOL_VENV)/.installed) $(if $(QUICK),,$(OLDER_VENV)/.installed)
	@cd $(ROOT) && $(BENCH_PY) -m benchmarks $(if $(QUICK),--quick) \
	  $(if $(BENCH_RESULTS),--results $(BENCH_RESULTS)) $(BENCH_ARGS)

# Fault experiments (tests/faults, marked slow): schema changes under live traffic (issue 20), with a
# per-run report (write gap, writes acknowledged and refused by error, lost/reverted/resurrected = 0);
# the fault campaign (issue 14): ledger verdict, leaks, and per fault kind the time until throughput is
# back to >= 90 % of its pre-fault level, reported against 2 s (a report, not a gate).
FAULTS_ARGS ?=
faults: $(TOOL_VENV)/.installed
	@cd $(ROOT) && $(TOOL_VENV)/bin/python -m pytest tests/faults -m slow -s -q $(FAULTS_ARGS) \
	  | grep -E '(rebuild|column) +(updates|mixed|collide) |^REPORT|passed|failed|[Ee]rror' | sed 's/^\.//'; \
	  exit $${PIPESTATUS[0]}

# Mutation testing (issue 19, tests/mutation/run.py): each mutant of a rule module against that module's
# tests, in the background under nice; a rerun resumes. `python -m tests.mutation status|report|stop`.
# MUTATION_MODULES picks modules (default: the stable ones; `all`: every one), `name:N` a seeded sample of N
# of a module's mutants (`name:all`: every one); MUTATION_BG= (empty) runs in the foreground.
MUTATION_MODULES ?=
MUTATION_BG ?= --background
mutation: $(VENV_DJ52)/.installed
	@$(VENV_DJ52)/bin/python -c 'import cosmic_ray' 2>/dev/null || $(VENV_DJ52)/bin/pip install -q -e '.[mutation]'
	@cd $(ROOT) && nice -n 19 $(VENV_DJ52)/bin/python -m tests.mutation run $(MUTATION_BG) \
	  $(if $(MUTATION_MODULES),--modules $(MUTATION_MODULES))


clean: testbed-stop
	rm -rf .testbed .pytest_cache .mypy_cache .ruff_cache
