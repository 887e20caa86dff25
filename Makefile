# `make run` and `make test` do all set-up on a fresh machine: a virtualenv in .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The bot's own dependencies (no torch: it runs the models' ONNX exports) ...
$(BIN)/.serving: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	touch $@

# ... and everything: training, evaluation, export (torch), the tests and the linters.
$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install run try demo test lint
install: $(BIN)/.installed

run: $(BIN)/.serving
	$(BIN)/python -m bot

# The bot's replies to your photos without a Telegram token: make try PHOTOS="a.jpg b.png"
try: $(BIN)/.serving
	$(BIN)/python -m devkit.try_bot $(PHOTOS)

# The bot in a chat page on http://127.0.0.1:8765/, no Telegram token needed.
demo: $(BIN)/.serving
	$(BIN)/python -m devkit.playground

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy model bot scripts tests devkit

# Two workers: the suite waits on subprocesses and the network as much as it computes. One
# module per worker at a time (loadfile): a module's tests share its fixtures, e.g. the container
# images built once (pytest-xdist's loadgroup does not group under pytest 9 here).
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile
