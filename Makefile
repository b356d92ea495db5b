# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: run serve bench reliability test test-postgres lint audit install browser nginx wrk vnu lock \
	superuser rebuild-search \
	backup restore clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## Set up and serve the site on the embedded SQLite database (db.sqlite3), with the
## worker that sends its e-mail beside the server (e-mail printed here); Ctrl-C stops both.
run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m tools.run

## The site as in production, at http://127.0.0.1:$(PORT)/: Debian's nginx in front of
## gunicorn, DEBUG off, static files compressed and cached by WhiteNoise, the e-mail
## worker beside them, the same database as `make run`, e-mail printed here. The first
## run writes .env with a secret key that later runs keep. Ctrl-C stops all three.
serve: $(STAMP) nginx
	PORT=$(PORT) $(BIN)/python -m tools.serve

## Requests/s and latency of the main pages, production stack (nginx's front cache in
## front of gunicorn), two sizes of data, anonymous and with a signed-in reader's and
## staff's sessions, beside nginx's own static files, a one-line view and WordPress's
## figures; Django's page cache on PostgreSQL + Redis beside SQLite (skipped when they do
## not answer); readers' latency around a comment posted under load; then one post
## mailed to 10,000 followers (docs/performance.md). `make bench BENCH_ARGS=--quick` for
## a short try, BENCH_ARGS="--stampede-before PATH" for the stampede in an earlier
## checkout too; results in bench/results.json.
bench: $(STAMP) wrk nginx
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Importing a large WordPress export (10,000 posts, 100,000 comments): time and peak
## memory, in bench/import-results.json and docs/performance.md.
.PHONY: bench-import
bench-import: $(STAMP)
	$(BIN)/python -m bench.imports $(BENCH_ARGS)

## Load and faults against the production server, SQLite and PostgreSQL (docs/reliability.md).
## `make reliability RELIABILITY_ARGS="--db sqlite"` for one database; --write-doc rewrites the doc.
reliability: $(STAMP) nginx
	$(BIN)/python -m tests.reliability $(RELIABILITY_ARGS)

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

## Debian's nginx, in front of gunicorn in `make serve` (and the tests that start it).
## Without root or apt-get it says so; the server's tests are then skipped, except in CI
## (CI=true), where they fail. With its Lua module: nginx's own page cache fills each
## reader's CSRF token with it (tools/front_csrf.lua).
nginx:
	@if ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } \
	    || [ ! -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's nginx and its Lua module for make serve..."; \
	    (timeout 900 apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      timeout 900 apt-get install -y -qq nginx libnginx-mod-http-lua >/dev/null) \
	    || echo "nginx could not be installed (apt-get install nginx libnginx-mod-http-lua)." >&2; \
	  else \
	    echo "No nginx with Lua, and no root to install it: apt-get install nginx libnginx-mod-http-lua (as root)." >&2; \
	  fi; \
	fi

## The whole suite, on SQLite, no server needed (browser tests in Debian's Chromium, the
## server's in front of Debian's nginx).
test: $(STAMP) browser nginx vnu
	$(BIN)/python -m pytest --junitxml=test-artifacts/junit-sqlite.xml

## The same suite on PostgreSQL (PG_URL; this machine's server by default) with the
## shared Redis cache (REDIS_URL; a database of its own, flushed by the tests). Where no
## PostgreSQL answers the leg is skipped with a message, and where no Redis answers it
## runs with the local-memory cache; in CI (CI=true) both must answer.
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15
test-postgres: $(STAMP) browser nginx vnu
	@if ! $(BIN)/python -m tools.services postgres "$(PG_URL)"; then \
	  if [ "$$CI" = "true" ]; then \
	    echo "No PostgreSQL answers at $(PG_URL), and CI needs this leg." >&2; exit 1; \
	  fi; \
	  echo "No PostgreSQL answers at $(PG_URL): the PostgreSQL leg is skipped."; exit 0; \
	fi; \
	cache=""; \
	if $(BIN)/python -m tools.services redis "$(REDIS_URL)"; then cache="$(REDIS_URL)"; \
	elif [ "$$CI" = "true" ]; then \
	  echo "No Redis answers at $(REDIS_URL), and CI needs this leg." >&2; exit 1; \
	else echo "No Redis answers at $(REDIS_URL): this leg uses the local-memory cache."; fi; \
	echo "Running the suite on PostgreSQL ($(PG_URL)), cache $${cache:-locmem://}"; \
	DATABASE_URL="$(PG_URL)" CACHE_URL="$${cache:-locmem://}" \
	  $(BIN)/python -m pytest --junitxml=test-artifacts/junit-postgres.xml

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

## The Nu HTML Checker for tests/test_html_validity.py: npm's vnu-jar (pinned) under
## .venv/vnu, run with Debian's Java (installed with apt-get when missing). Without
## them that test is skipped with a message, except in CI (CI=true), where it fails.
VNU_VERSION := 26.9.27
VNU_STAMP := $(VENV)/vnu/.installed-$(VNU_VERSION)
vnu: $(VNU_STAMP)
	@if ! command -v java >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's Java for the Nu HTML Checker..."; \
	    (timeout 900 apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      timeout 900 apt-get install -y -qq default-jre-headless >/dev/null) \
	    || echo "Java could not be installed (apt-get install default-jre-headless)." >&2; \
	  else \
	    echo "No Java, and no root to install it: the HTML validity test will be skipped."; \
	  fi; \
	fi

$(VNU_STAMP):
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's npm for the Nu HTML Checker..."; \
	  (timeout 900 apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    timeout 900 apt-get install -y -qq npm >/dev/null) \
	  || echo "npm could not be installed (apt-get install npm)." >&2; \
	fi
	@if command -v npm >/dev/null; then \
	  echo "Installing the Nu HTML Checker (vnu-jar $(VNU_VERSION))..."; \
	  mkdir -p $(VENV)/vnu && timeout 900 npm install --silent --no-audit --no-fund \
	    --prefix $(VENV)/vnu vnu-jar@$(VNU_VERSION) && touch $@ \
	  || echo "vnu-jar could not be installed: the HTML validity test will be skipped." >&2; \
	else \
	  echo "No npm: the HTML validity test will be skipped."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

## Known vulnerabilities in the pinned packages (pip-audit) and in our code (bandit).
audit: $(STAMP)
	$(BIN)/python .ci/audit.py

## Create a staff account that can sign in at /admin/.
superuser: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createsuperuser

## Re-pin requirements.lock from the ranges in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --extra postgres --extra rq --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

## The site's fonts cut afresh from their npm packages (tools/fonts.py: needs npm), and
## the favicon drawn from them (tools/favicon.py). Commit what they write.
.PHONY: fonts
fonts: $(STAMP)
	$(BIN)/python -m tools.fonts
	$(BIN)/python -m tools.favicon

## Index every post for search afresh (after writing rows in bulk).
rebuild-search: $(STAMP)
	$(BIN)/python manage.py rebuild_search_index

## Back up the content (posts, comments, users…) to backups/cpsw-<UTC time>.jsonl.gz,
## readable by you only. BACKUP_ARGS="--output DIR" for another directory.
backup: $(STAMP)
	$(BIN)/python manage.py backup $(BACKUP_ARGS)

## Replace the content with a backup: `make restore FILE=backups/cpsw-….jsonl.gz`. It does
## not ask: the content it replaces is backed up first (to BACKUP_ARGS' directory).
restore: $(STAMP)
	@if [ -z "$(FILE)" ]; then \
	  echo "Usage: make restore FILE=backups/cpsw-<time>.jsonl.gz" >&2; exit 2; \
	fi
	@echo "Replacing this database's content with $(FILE); the current content is backed up first."
	$(BIN)/python manage.py restore --noinput $(BACKUP_ARGS) "$(FILE)"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
