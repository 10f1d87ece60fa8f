# innersearch: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED := $(abspath ../shared)
DEMO := .demo
DEMO_DATA := $(DEMO)/data
DEMO_PACKAGES := py-tenacity py-retrying py-backoff py-python-dotenv py-cachetools \
                 js-kleur js-colorette js-ms js-p-retry go-uuid-gofrs go-uuid-satori

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

# The sample organization: a small subset of ../shared/corpus/build.sh's packages, cached.
$(DEMO)/repos/.built:
	@test -x $(SHARED)/corpus/build.sh || { echo "needs ../shared/corpus/build.sh beside this checkout"; exit 1; }
	mkdir -p $(DEMO)/tools
	cp $(SHARED)/corpus/build.sh $(DEMO)/tools/build.sh
	awk -F'\t' 'NR==1 || index(" $(DEMO_PACKAGES) ", " " $$2 " ")' \
	  $(SHARED)/corpus/categories.tsv > $(DEMO)/tools/categories.tsv
	bash $(abspath $(DEMO))/tools/build.sh $(abspath $(DEMO))
	touch $@

demo-org: $(DEMO)/repos/.built

demo: install demo-org
	$(BIN)/innersearch --data $(DEMO_DATA) index $(DEMO)/repos
	$(BIN)/innersearch --data $(DEMO_DATA) dedup --format html --out $(DEMO)/duplicates.html
	$(BIN)/innersearch --data $(DEMO_DATA) status
	@echo "serving the sample organization on http://127.0.0.1:8080 (Ctrl-C stops)"
	$(BIN)/innersearch --data $(DEMO_DATA) serve --host 127.0.0.1 --port 8080

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO) .innersearch
