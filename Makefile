# hdh-transparence — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: lock run setup install db demo translations translations-compile index test lint bench browsers clean

run: setup ## Set everything up and serve the site on http://$(HOST):$(PORT) (or GUNICORN_BIND)
	GUNICORN_BIND="$${GUNICORN_BIND:-$(HOST):$(PORT)}" $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

setup: install translations-compile db demo index

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

db: install ## Apply migrations
	$(FLASK) db upgrade

demo: db ## Load the demo register when the database is empty
	$(FLASK) registry demo --if-empty

index: demo ## Build the search index if it is missing
	$(FLASK) registry reindex --if-missing

translations: install ## Extract, update and compile the catalogues
	$(FLASK) translate update

translations-compile: install
	$(FLASK) translate compile

lint: install
	$(BIN)/ruff check .

test: install translations-compile lint ## Run the whole suite (SQLite; PostgreSQL beside it if TEST_DATABASE_URL is set; then browser and load tests)
	bash tests/passes.sh

BENCH_DATABASE ?= hdh_bench

bench: setup ## Benchmarks, as ratios against a reference measured in the same run → docs/performance.md
	@command -v wrk >/dev/null 2>&1 || { echo "Installing wrk (Debian's package)"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo -n ) apt-get install -y -qq wrk >/dev/null; }
	@if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
		createdb -h 127.0.0.1 -U postgres $(BENCH_DATABASE) 2>/dev/null || true; \
		export BENCH_DATABASE_URL="$${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/$(BENCH_DATABASE)}"; \
	else echo "PostgreSQL not answering on 127.0.0.1:5432: PostgreSQL figures left out"; fi; \
	$(BIN)/python -m bench --write docs/performance.md $(BENCH_ARGS)

lock: ## Re-resolve the newest versions pyproject.toml allows and pin them in constraints.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[test]'
	{ sed -n '1,2p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv
	@echo "constraints.txt updated: run make test, then commit it"

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
	find translations -name '*.mo' -delete
