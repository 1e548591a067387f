# workmail-sandbox: two commands do everything.
#   make lab    create .venv if needed, install the kit, start JupyterLab on notebooks/ (sandbox mode)
#   make test   create .venv if needed, install the kit, lint (ruff), type-check (mypy), run the whole test suite
#   make lint   ruff and mypy only
#   make book   execute every lesson and build the static site in build/book (book/, docs/book.md)
#   make screenshots  drive JupyterLab in Chromium (tests/test_browser.py) and save docs/images/*.jpg
# Override the interpreter with `make PYTHON=python3.12 test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8888
STAMP  := $(VENV)/.installed
# Jupyter refuses to run as root unless told; containers and CI machines run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--ServerApp.allow_root=True,)

.PHONY: lab test lint install bench strip screenshots book clean help

help:
	@echo "make lab    - start JupyterLab on notebooks/ in sandbox mode (http://127.0.0.1:$(PORT)/lab)"
	@echo "make test   - lint (ruff), type-check (mypy), run the tests and every notebook (nbval)"
	@echo "make lint   - ruff and mypy only"
	@echo "make bench  - run the benchmarks (ratios against baselines measured in the same run)"
	@echo "make strip  - strip notebook outputs before committing"
	@echo "make book   - execute every lesson and build the lessons as a static site in build/book (open build/book/index.html)"
	@echo "make screenshots - run the browser test and save its screenshots in docs/images (needs: apt-get install chromium)"

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("workmail-sandbox needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,dev,lint,browser,book,scale]'
	# An editable install leaves the kit's own modules uncompiled; where PYTHONDONTWRITEBYTECODE is set,
	# every process (kernel, CLI, pytest) would compile them again (~0.2 s). Cached .pyc files are read anyway.
	$(BIN)/python -m compileall -q workmail_sandbox
	@touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	WORKMAIL_SANDBOX_MODE=sandbox $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		--ServerApp.open_browser=False --ServerApp.root_dir=notebooks $(ROOT_FLAG)

lint: $(STAMP)
	$(BIN)/ruff check workmail_sandbox tests benchmarks data examples
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; \
		$(BIN)/python $$script || { echo "make bench: $$script missed a target or failed (see above)"; exit 1; }; done

strip: $(STAMP)
	$(BIN)/nbstripout --keep-count notebooks/*.ipynb notebooks/solutions/*.ipynb

# The README's pictures. Fails, rather than skips, when Chromium or playwright is missing.
screenshots: $(STAMP)
	WORKMAIL_SANDBOX_SCREENSHOTS=docs/images WORKMAIL_SANDBOX_REQUIRE_BROWSER=1 \
		$(BIN)/python -m pytest -p no:cacheprovider tests/test_browser.py -q -rsP

# The lessons as a book (book/conf.py, docs/book.md): Sphinx + MyST-NB execute every notebook in sandbox
# mode; an error in any cell fails the build. BOOK_REPOSITORY=https://github.com/OWNER/NAME adds Binder links.
BOOK_REPOSITORY ?=
book: $(STAMP)
	@$(BIN)/python -c 'import sphinx, myst_nb, sphinx_book_theme' 2>/dev/null || \
		{ echo "make book needs the [book] extra: $(BIN)/python -m pip install -e '.[book]'"; exit 1; }
	rm -rf build/book build/.book-doctrees build/jupyter_execute
	WORKMAIL_SANDBOX_MODE=sandbox WORKMAIL_SANDBOX_BOOK_REPOSITORY="$(BOOK_REPOSITORY)" \
		$(BIN)/python -m sphinx -b html -E -T -c book -d build/.book-doctrees . build/book
	@echo "The book is in build/book: open build/book/index.html"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
