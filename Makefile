# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint run bench bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## the 2023 Lạc Thủy week on the sandbox Telegram and Zalo Bot APIs (about 2 minutes)
	$(BIN)/loa check schedules/*.yaml
	$(BIN)/loa demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy  # strict, on bot/ (pyproject's [tool.mypy])

bench: $(STAMP)  ## a 300-group broadcast at 20, 100 and 250 ms, then 2,000 answers and a 10,000-unit export (about 3.5 minutes)
	missed=0; for latency in 0.02 0.1 0.25; do \
		$(BIN)/python bench/broadcast.py --groups 300 --latency $$latency || missed=1; \
	done; $(BIN)/python bench/answers.py && exit $$missed

bench-scale: $(STAMP)  ## province scale: 5,000 units, 6,000 chats: plan, restart, /tiendo, overview, exports (about 3 minutes); BENCH_DATABASE_URL= an empty PostgreSQL database
	$(BIN)/python bench/scale.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))

run: $(STAMP)  ## serve real chats: TELEGRAM_BOT_TOKEN, LOA_CAMPAIGN (and more) from the environment or .env
	$(BIN)/loa run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
