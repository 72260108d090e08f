# Two commands: `make run` (bootstrap, migrate, seed the demo once, serve API + scheduler) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint test-sqlite test-postgres bench install install-dev clean browser translations

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/vcc db upgrade
	$(BIN)/vcc seed-demo --if-empty
	$(BIN)/vcc serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test-sqlite: install-dev
	$(BIN)/pytest -q

test-postgres: install-dev
	TEST_DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest -q

# The join page's browser test drives the system's Chromium (never a downloaded one): on Debian as root it is
# installed here when missing; otherwise this says how, and the test skips (CI=true makes it fail).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get install -y chromium chromium-driver || { apt-get update && apt-get install -y chromium chromium-driver; }; \
	else echo "Headless Chromium is missing: run 'sudo apt-get install -y chromium chromium-driver' (Debian) for the join page's browser test"; fi

# the two database tiers run side by side (one core each); --output-sync keeps each tier's output together
test: lint browser
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# Messages of the code into the catalogues: extract, merge into every language, copy the source texts into the
# English catalogue (so a copy editor can change them there), compile the .mo files that are committed beside them.
TRANSLATIONS := service/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -c TRANSLATORS: --add-location=file --sort-output \
		--project=vcc-backend -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete \
		--ignore-pot-creation-date
	$(BIN)/python -c "$$FILL_SOURCE_CATALOGUE" $(TRANSLATIONS)/en/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics
	rm $(TRANSLATIONS)/messages.pot

define FILL_SOURCE_CATALOGUE
import sys
from babel.messages.pofile import read_po, write_po
path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f)
for message in catalog:
    if message.id and not (all(message.string) if message.pluralizable else message.string):
        message.string = message.id
with open(path, "wb") as f:
    write_po(f, catalog, sort_output=True)
endef
export FILL_SOURCE_CATALOGUE
