# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint run check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## preview the 2023 Lạc Thủy campaign (the sandbox demo comes with the Telegram adapter)
	$(BIN)/loa check schedules/*.yaml
	$(BIN)/loa preview schedules/2023-lac-thuy.yaml --units schedules/units/lac-thuy.csv

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot tests
	$(BIN)/ruff format --check bot tests

run: $(STAMP)  ## serve real chats (needs the Telegram adapter: not yet built)
	$(BIN)/loa run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
