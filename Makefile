# The two commands of the README's quick start, and a few helpers.
VENV ?= .venv
PYTEST_ARGS ?=
# Test workers (pytest-xdist): the suite waits on servers and timers more
# than it computes, so more workers than cores pay off.
WORKERS ?= 4

.PHONY: start test lint venv unit functional clean

## Install into .venv and start the whole service on the embedded default.
start: venv
	$(VENV)/bin/blazar-all

## Run the whole test suite (real MariaDB/PostgreSQL/RabbitMQ tests skip,
## naming the server, where one does not answer).
## The tests marked exclusive (they stop a shared server) run after, alone.
test: venv
	$(VENV)/bin/python -m pytest -q -ra -n $(WORKERS) --dist loadgroup -m 'not exclusive' \
		blazar/tests $(PYTEST_ARGS); parallel=$$?; \
	$(VENV)/bin/python -m pytest -q -ra -m exclusive blazar/tests $(PYTEST_ARGS); \
	alone=$$?; [ $$parallel -eq 0 ] && { [ $$alone -eq 0 ] || [ $$alone -eq 5 ]; }

## The linter CI runs before the tests: ruff (pyproject.toml) and bashate.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bashate devstack/plugin.sh devstack/settings devstack/upgrade/settings \
		devstack/upgrade/shutdown.sh devstack/upgrade/upgrade.sh

venv:
	@VENV=$(VENV) tools/ensure-venv.sh

unit: venv
	$(VENV)/bin/python -m pytest -q blazar/tests/unit $(PYTEST_ARGS)

functional: venv
	$(VENV)/bin/python -m pytest -q blazar/tests/functional $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .state .pytest_cache .hypothesis
