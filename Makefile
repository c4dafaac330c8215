# The two commands for a fresh machine:
#   make book   create .venv, install everything, build the HTML book (_build/html)
#   make test   build the book with warnings as errors, then run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
JOBS   ?= 2
# One BLAS thread per process: the test run already keeps both cores busy with two
# workers, and the book's matrices are small, so extra BLAS threads only fight.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

# $(call mark,STEP,start|end): when a step of make test starts and ends, for
# tools/ci_times.py, which prints where the time went at the end of make test.
mark = @mkdir -p _build && echo "$(1) $(2) $$(date +%s.%N)" >> _build/ci-times.log

.PHONY: book test venv build notebooks chromium lab clean exercises catalogs pot fonts pdf

book: build
	@echo "The book is at $(CURDIR)/_build/html/index.html"
	@echo "Chinese edition:  $(CURDIR)/_build/html/zh/index.html"

$(BIN)/activate: requirements.txt pyproject.toml
	$(call mark,venv,start)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	touch $(BIN)/activate
	$(call mark,venv,end)

venv: $(BIN)/activate

# Both editions. The English build executes every chapter from scratch: it runs in
# myst-nb's cache mode on an emptied cache, which fills the cache. The Chinese build
# (language zh_CN, catalogs in locale/) reads the same sources and finds every
# notebook in that cache, so nothing executes twice (tools/editions.py). -W turns
# warnings into errors, -n reports every unresolved reference.
build: venv fonts
	rm -rf _build/.jupyter_cache _build/zh
	$(BIN)/python tools/editions.py config
	$(call mark,build-en,start)
	$(BIN)/jupyter-book build . --config _build/config/en.yml -W -n --keep-going
	$(call mark,build-en,end)
	$(call mark,build-zh,start)
	$(BIN)/jupyter-book build . --config _build/config/zh.yml \
	    --path-output _build/zh -W -n --keep-going
	rm -rf _build/html/zh && mv _build/zh/_build/html _build/html/zh
	$(call mark,build-zh,end)

# The English prose as message templates (_build/i18n/_build/gettext/*.pot), without
# running a notebook: tests/test_translation.py compares the catalogs with them.
# (-qq: without outputs, references to glued figures cannot resolve here.)
pot: venv
	$(call mark,pot,start)
	$(BIN)/python tools/editions.py config
	$(BIN)/jupyter-book build . --config _build/config/gettext.yml \
	    --path-output _build/i18n --builder custom --custom-builder gettext -qq
	$(call mark,pot,end)

# After an English change: extract the prose (no execution), merge it into the
# Chinese catalogs (a changed paragraph becomes a fuzzy entry that keeps the old
# translation as a hint, a new one an empty entry), then let translators work.
catalogs: pot
	$(BIN)/sphinx-intl update -p _build/i18n/_build/gettext -l zh_CN -d locale
	$(BIN)/python tools/editions.py qualify
	$(BIN)/python tools/editions.py status

# nbval runs the very notebooks a reader downloads from the book: the build converts
# each chapter with jupytext into _build/html/_sources/ (_ext/notebook_download.py);
# they are copied into an ignored folder, away from the sources.
notebooks:
	rm -rf .nbtest && mkdir -p .nbtest/book
	cp _build/html/_sources/book/*.ipynb .nbtest/book/

# Chinese glyphs (Debian's fonts-noto-cjk): the Chinese edition's figures are drawn
# with them, and the browser shows the seed's quotations and the Chinese pages in them.
fonts:
	$(call mark,fonts,start)
	@fc-list 2>/dev/null | grep -qi "noto.*cjk" || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq fonts-noto-cjk; \
	  else echo "The Chinese edition needs Debian's fonts-noto-cjk: sudo apt-get install fonts-noto-cjk" >&2; exit 1; fi; }
	$(call mark,fonts,end)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
chromium: fonts
	$(call mark,chromium,start)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }
	$(call mark,chromium,end)

# Package tests, the book's source checks, nbval over every chapter in the toc (whose
# text outputs must equal the build's: the determinism check in tests/conftest.py), and
# the rendered book in headless Chromium (tests/test_rendered.py).
# At the end it prints where the time went (tools/ci_times.py, _build/ci-times.md).
test: chromium build notebooks pot pdf
	$(call mark,pytest,start)
	$(BIN)/python -m pytest tests .nbtest -n $(JOBS) --dist loadfile \
	    --nbval-lax --nbval-current-env --nbval-reference=_build/jupyter_execute \
	    -p no:cacheprovider --junitxml=_build/pytest.xml; status=$$?; \
	  echo "pytest end $$(date +%s.%N)" >> _build/ci-times.log; \
	  $(BIN)/python tools/ci_times.py report; exit $$status

# The PDF editions, _build/pdf/backprop-executed.pdf and backprop-executed-zh.pdf:
# Sphinx's LaTeX builder on the environment each HTML build left (_build/.doctrees,
# _build/zh/_build/.doctrees), with that build's own configuration, so that after
# `make build` no chapter executes again (tests/test_pdf.py reads
# _build/pdf/sphinx.log and sphinx-zh.log), then xelatex (latexmk) from Debian's
# TeX Live; CairoSVG converts the SVG figures. Each PDF is also copied into its
# edition's HTML (_build/html, _build/html/zh), where every page's download menu
# links to it. fonts-freefont-otf: Sphinx's xelatex fonts; texlive-lang-chinese and
# fonts-noto-cjk: xeCJK, for the seed's Chinese quotations and the Chinese edition;
# poppler-utils: pdftotext for the tests.
TEXLIVE := texlive-xetex texlive-latex-recommended texlive-latex-extra \
           texlive-fonts-recommended texlive-lang-chinese latexmk fonts-freefont-otf \
           fonts-noto-cjk poppler-utils libcairo2
LATEXMK := LATEXMKOPTS="-interaction=nonstopmode -halt-on-error"
pdf: venv
	$(call mark,texlive,start)
	@{ command -v xelatex && command -v latexmk && command -v pdftotext \
	   && kpsewhich ucharclasses.sty xeCJK.sty ctexhook.sty \
	   && fc-list | grep -q FreeSerif && fc-list | grep -qi "noto.*cjk"; } >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEXLIVE); \
	  else echo "The PDF needs Debian's TeX Live: sudo apt-get install --no-install-recommends $(TEXLIVE)" >&2; exit 1; fi; }
	$(call mark,texlive,end)
	@mkdir -p _build/pdf
	$(BIN)/python tools/editions.py config
	$(call mark,pdf-en,start)
	$(BIN)/jupyter-book build . --config _build/config/en.yml \
	    --builder latex -W -n --keep-going >_build/pdf/sphinx.log 2>&1 || { cat _build/pdf/sphinx.log; exit 1; }
	@echo "pdf: notebooks executed by the LaTeX build: $$(grep -c 'Executing notebook' _build/pdf/sphinx.log)"
	$(MAKE) -C _build/latex all-pdf $(LATEXMK) \
	    >_build/pdf/latexmk.log 2>&1 || { tail -40 _build/pdf/latexmk.log; exit 1; }
	cp _build/latex/backprop-executed.pdf _build/pdf/
	if [ -d _build/html ]; then cp _build/pdf/backprop-executed.pdf _build/html/; fi
	@echo "The PDF is at $(CURDIR)/_build/pdf/backprop-executed.pdf ($$(pdfinfo _build/pdf/backprop-executed.pdf | sed -n 's/^Pages: *//p') pages)"
	$(call mark,pdf-en,end)
	$(call mark,pdf-zh,start)
	$(BIN)/jupyter-book build . --config _build/config/zh.yml --path-output _build/zh \
	    --builder latex -W -n --keep-going >_build/pdf/sphinx-zh.log 2>&1 || { cat _build/pdf/sphinx-zh.log; exit 1; }
	@echo "pdf (zh): notebooks executed by the LaTeX build: $$(grep -c 'Executing notebook' _build/pdf/sphinx-zh.log)"
	$(MAKE) -C _build/zh/_build/latex all-pdf $(LATEXMK) \
	    >_build/pdf/latexmk-zh.log 2>&1 || { tail -40 _build/pdf/latexmk-zh.log; exit 1; }
	cp _build/zh/_build/latex/backprop-executed-zh.pdf _build/pdf/
	if [ -d _build/html/zh ]; then cp _build/pdf/backprop-executed-zh.pdf _build/html/zh/; fi
	@echo "The Chinese PDF is at $(CURDIR)/_build/pdf/backprop-executed-zh.pdf ($$(pdfinfo _build/pdf/backprop-executed-zh.pdf | sed -n 's/^Pages: *//p') pages)"
	$(call mark,pdf-zh,end)

# Open the chapters in JupyterLab; jupytext makes the .md files open as notebooks.
lab: venv
	$(BIN)/python -m pip install -r requirements-lab.txt
	$(BIN)/jupyter lab book/

# The exercise editions: for each chapter whose exercises use {exercise}, a
# teacher notebook (solutions in place, nbgrader metadata) and a student
# notebook (solutions replaced by stubs), from the chapter sources.
exercises: venv
	$(BIN)/python tools/make_exercises.py --out _build/exercises

clean:
	rm -rf _build .nbtest
