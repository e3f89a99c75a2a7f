# Two commands for a fresh machine:
#
#   make book   - set up .venv from requirements.lock, get/verify the data, execute every
#                 notebook and write the HTML book to _build/html
#   make test   - set up the same .venv, run the tests and the notebooks (HMF_PROFILE=smoke)
#
# Useful variables: HMF_DATA_DIR (read local copies instead of downloading), HMF_PROFILE
# (smoke | book | paper; the book default is `book`), BOOK_FLAGS (extra jupyter-book flags).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The stamp is rewritten only after a complete install, so an interrupted install is redone.
STAMP := $(VENV)/.installed

# Data sets to get; empty means all. DIGINETICA has no direct download (see book/reproduce.md):
# `hmf data fetch` skips it when absent and the book shows it as a marked gap.
DATASETS ?=

BOOK_FLAGS ?=
STRICT_FLAGS := --all -W -n --keep-going
MATHJAX := book/_static/mathjax/tex-mml-chtml.js

.PHONY: help venv data mathjax book book-strict results verify-records check-site lint test clean

help:
	@echo "make book         build the book into _build/html (sets up .venv, data, MathJax)"
	@echo "make test         lint (ruff), then run tests and notebooks with HMF_PROFILE=smoke"
	@echo "make lint         ruff check and ruff format --check (fix: ruff check --fix, ruff format)"
	@echo "make book-strict  build as CI does: $(STRICT_FLAGS)"
	@echo "make results      recompute the book profile's result records (hours; resumable)"
	@echo "make verify-records  re-run every committed record and compare (hours; one process"
	@echo "                  per core); RECORD=book/ml-100k/mf/lr=0.001_weight_decay=0-seed0 for one"
	@echo "make check-site   open the built book in headless Chromium; fail on console errors,"
	@echo "                  missing images, unrendered math (screenshots: _build/screenshots)"
	@echo "make pdf          print the built book to one PDF (_build/pdf/hmf-book.pdf; Chromium)"
	@echo "make clean        remove _build and the local MathJax copy (keeps .venv and data)"

venv: $(STAMP)

# --no-build-isolation: the project is built with the locked setuptools, not a fresh download.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-deps --no-build-isolation -e .
	touch $@

# Copies found under HMF_DATA_DIR are only verified; a data set not found there is downloaded
# from its official source into the per-user cache (checksummed; never into the repository).
data: $(STAMP)
	$(BIN)/hmf data fetch $(DATASETS)

mathjax: $(MATHJAX)

$(MATHJAX): scripts/install_mathjax.sh
	bash scripts/install_mathjax.sh

book: $(STAMP) data $(MATHJAX)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "Book written to _build/html/index.html"

# What CI runs: every page rebuilt, any warning (or failing cell) is an error.
book-strict:
	$(MAKE) book BOOK_FLAGS="$(STRICT_FLAGS)"

# Recompute the committed `book` records (hours on 2 cores; resumable: finished runs are kept).
results: $(STAMP)
	bash scripts/book_sweep.sh

# Re-run committed records and compare epochs and every metric with what they store (rtol 2e-3;
# NeuMF within 0.01 and two epochs: its CPU matrix kernels differ between processor models).
# All of them by default (about 14 h of the book's process time plus the paper profile's CPU
# records, over every core); RECORD=NAME (a file or a name under results/) for one or a few.
# CI re-runs one rotation bucket per commit instead (tests/test_committed_records.py).
RECORD ?=
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

verify-records: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/hmf records verify --workers $(WORKERS) $(RECORD)

# The browser check of an existing build (run `make book` first): serves _build/html on
# localhost, blocks every other request, and opens each page in Debian's chromium (CHROMIUM=path
# to use another binary). Screenshots go to _build/screenshots/.
check-site: $(STAMP)
	$(BIN)/python scripts/check_site.py

# The whole book as one PDF, from an existing build (run `make book` first): every page of
# _toc.yml printed by Chromium in reading order, merged with pypdf behind a table of contents.
.PHONY: pdf
pdf: $(STAMP)
	$(BIN)/python scripts/build_pdf.py

LINTED := hmf tests benchmarks scripts notebooks

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

test: $(STAMP) lint
	HMF_PROFILE=smoke $(BIN)/python -m pytest

clean:
	rm -rf _build book/_static/mathjax
