# The two commands for a fresh machine:
#   make book   create .venv, install everything, build the HTML book (_build/html)
#   make test   build the book with warnings as errors, then run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
JOBS   ?= 2

.PHONY: book test venv build notebooks lab clean

book: build
	@echo "The book is at $(CURDIR)/_build/html/index.html"

$(BIN)/activate: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

# Executes every chapter from scratch (execute_notebooks: force); -W turns warnings
# into errors, -n reports every unresolved reference.
build: venv
	$(BIN)/jupyter-book build . -W -n --keep-going

# The chapters as .ipynb for nbval, converted by jupytext into an ignored folder.
notebooks: venv
	rm -rf .nbtest && mkdir -p .nbtest/book
	$(BIN)/python tests/convert_notebooks.py .nbtest

# Package tests, the book's source checks, and nbval over every chapter in the toc,
# whose text outputs must equal the build's (the determinism check in tests/conftest.py).
test: build notebooks
	$(BIN)/python -m pytest tests .nbtest -n $(JOBS) --dist loadfile \
	    --nbval-lax --nbval-current-env --nbval-reference=_build/jupyter_execute \
	    -p no:cacheprovider

# Open the chapters in JupyterLab; jupytext makes the .md files open as notebooks.
lab: venv
	$(BIN)/python -m pip install -r requirements-lab.txt
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build .nbtest
