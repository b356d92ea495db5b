# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: run serve bench test test-postgres lint install browser wrk lock superuser rebuild-search \
	clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## Set up and serve the site on the embedded SQLite database (db.sqlite3).
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_april_2014
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## The site as in production, at http://127.0.0.1:$(PORT)/: gunicorn, DEBUG off, static
## files compressed and cached by WhiteNoise, the same database as `make run`, e-mail
## printed here. The first run writes .env with a secret key that later runs keep.
serve: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m config.serve

## Requests/s and latency of the main pages, production server, two sizes of data.
## `make bench BENCH_ARGS=--quick` for a short try; results in bench/results.json.
bench: $(STAMP) wrk
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Debian's wrk, the load generator of `make bench`.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's wrk for the benchmark..."; \
	    timeout 900 apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      timeout 900 apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "make bench needs wrk (Debian/Ubuntu: apt-get install wrk)." >&2; exit 1; \
	  fi; \
	fi

## The whole suite, on SQLite, no server needed (browser tests in Debian's Chromium).
test: $(STAMP) browser
	$(BIN)/python -m pytest

## The same suite on PostgreSQL (PG_URL; this machine's server by default). Where none
## answers it is skipped with a message; in CI (CI=true) it must run.
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP) browser
	@if $(BIN)/python -c "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=5).close()" \
	    "$(PG_URL)" 2>/dev/null; then \
	  echo "Running the suite on PostgreSQL ($(PG_URL))"; \
	  DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest; \
	elif [ "$$CI" = "true" ]; then \
	  echo "No PostgreSQL answers at $(PG_URL), and CI needs this leg." >&2; exit 1; \
	else \
	  echo "No PostgreSQL answers at $(PG_URL): the PostgreSQL leg is skipped."; \
	fi

## Debian's Chromium for the browser tests: Playwright cannot download a browser here.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (timeout 900 apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      timeout 900 apt-get install -y -qq chromium >/dev/null) \
	    || echo "Chromium could not be installed: the browser tests will be skipped."; \
	  else \
	    echo "No Chromium, and no root to install it: the browser tests will be skipped."; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

## Create a staff account that can sign in at /admin/.
superuser: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createsuperuser

## Re-pin requirements.lock from the ranges in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --extra postgres --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

## Index every post for search afresh (after writing rows in bulk).
rebuild-search: $(STAMP)
	$(BIN)/python manage.py rebuild_search_index

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
