# make run: set up .venv (if missing) and launch the app; make test: same set-up, then the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench lint-imports clean dist dist-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ntklab

# The suite runs headless: Qt tests use the offscreen platform (tests/conftest.py sets it too).
# Two processes share the tests (pytest-xdist, one per core; a file stays in one process), then the
# tests that bound a wall-clock time run alone. Either run collecting no test fails (pytest's exit 5).
XDIST ?= -n 2 --dist loadfile
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(XDIST) -m "not timing"
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m timing

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(XDIST) -m "not slow and not timing"
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "timing and not slow"

bench: $(STAMP)
	cd bench && QT_QPA_PLATFORM=offscreen ../$(BIN)/python run_all.py

# The student bundle (PyInstaller one-folder) and its archive; minutes, not part of make test.
DIST_STAMP := $(VENV)/.installed-dist
$(DIST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,dist]"
	touch $(DIST_STAMP)

dist: $(DIST_STAMP)
	rm -rf dist/ntklab
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/ntklab.spec
	$(BIN)/python packaging/archive.py

# Builds the bundle, runs --selftest and --screenshot from it in a stripped environment (env -i),
# reports sizes and start-up time; exits non-zero if anything fails or is over its target.
dist-check: dist
	$(BIN)/python packaging/dist_check.py

clean:
	rm -rf $(VENV) build dist *.egg-info
