# formletter: every target installs what it needs, system packages included.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := tesseract-ocr tesseract-ocr-eng chromium chromium-driver fonts-dejavu-core
DEMO    ?= demo

.PHONY: install sysdeps demo test lint typecheck bench bench-large bench-incremental clean

# Debian packages: installed only when a tool is missing, so repeat runs stay fast.
sysdeps:
	@if ! command -v tesseract >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
	  echo "Installing system packages: $(APT_PKGS)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[all,dev]"
	@touch $(STAMP)

install: sysdeps $(STAMP)

demo: install
	$(BIN)/formletter synth $(DEMO)/synth --letters 400 --seed 7
	$(BIN)/formletter analyze $(DEMO)/synth/letters ../shared/seeds --db $(DEMO)/demo.db
	$(BIN)/formletter families --db $(DEMO)/demo.db --limit 15
	$(BIN)/formletter evaluate --db $(DEMO)/demo.db --truth $(DEMO)/synth/truth.jsonl
	$(BIN)/formletter report --db $(DEMO)/demo.db -o $(DEMO)/report.html
	@echo "Database: $(DEMO)/demo.db   Report: $(DEMO)/report.html   Browse: $(BIN)/formletter serve --db $(DEMO)/demo.db"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest -q

bench: install
	$(BIN)/python benchmarks/bench.py --letters 20000 --repeat 3

bench-large: install
	$(BIN)/python benchmarks/bench.py --letters 10000 100000 1000000 --shards 10000

# adding 1,000 letters to a database of a million (analyze --incremental)
bench-incremental: install
	$(BIN)/python benchmarks/incremental.py --letters 1000000 --new 1000 --rounds 2

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
