# innersearch: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := .demo
DEMO_DATA := $(DEMO)/data
DEMO_PORT ?= 8080

.PHONY: install system-deps test lint demo demo-org bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Debian packages the tests need: git, and chromium for the browser tests.
system-deps:
	@missing=""; \
	command -v git >/dev/null || missing="$$missing git"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check innersearch tests bench

test: install system-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# The sample organization: release archives of 18 packages from PyPI and the npm registry
# (innersearch/demo/packages.py), cached in .demo/archives, each made a git repo in .demo/repos.
# Always run: with everything cached it reads no network and takes well under a second.
demo-org: install
	$(BIN)/python -m innersearch.demo --dest $(DEMO)

demo: demo-org
	$(BIN)/innersearch --data $(DEMO_DATA) index $(DEMO)/repos
	$(BIN)/innersearch --data $(DEMO_DATA) dedup --format html --out $(DEMO)/duplicates.html
	@$(BIN)/python -m innersearch.demo --tour http://127.0.0.1:$(DEMO_PORT)
	$(BIN)/innersearch --data $(DEMO_DATA) serve --host 127.0.0.1 --port $(DEMO_PORT)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO) .innersearch
