# Two commands a newcomer needs: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# `make run` is development: the development secrets and the demo community are allowed only there
DEV := LINLI_ENV=development
FLASK := $(DEV) $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
# test processes (pytest-xdist); in the backend pass each gets its own database and Redis db (tests/conftest.py)
JOBS ?= 2

.PHONY: run test test-moved-clock install migrate seed bench lint clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

# Web server + in-process worker + fake WeChat API, on SQLite and an in-memory Redis stand-in.
run: seed
	$(DEV) $(PY) devserver.py

# The whole suite on SQLite + embedded queue; then again on PostgreSQL + Redis when
# TEST_DATABASE_URL / TEST_REDIS_URL are set (.ci/run sets both).
test: install
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(PY) -m pytest -n $(JOBS)
	@if [ -n "$$TEST_DATABASE_URL" ] || [ -n "$$TEST_REDIS_URL" ]; then \
		echo "== again on $$TEST_DATABASE_URL and $$TEST_REDIS_URL (tests that touch no backend are not repeated)"; \
		LINLI_BACKEND_PASS=1 $(PY) -m pytest -n $(JOBS); \
	fi

# The SQLite pass again with every process's clock 400 days ahead (time-machine, started by
# tests/moved_clock/sitecustomize.py); browser tests stay out. .ci/run runs it after `make test`.
test-moved-clock: install
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL PYTHONPATH=tests/moved_clock LINLI_CLOCK_SHIFT_DAYS=400 \
		$(PY) -m pytest -n $(JOBS) -m "not browser"

bench: install
	$(PY) bench/nlp_bench.py
	$(PY) bench/wechat_roundtrip.py
	$(PY) bench/hot_paths.py

# ruff and the import contracts (both also run inside make test's architecture tests where they apply)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache
