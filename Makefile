# Two commands for a fresh machine:
#   make demo   creates .venv, installs research-news, checks and builds the sample issue into build/,
#               then the whole sample series as a web site into build/site/
#   make test   creates .venv, installs research-news with its test tools, lints, checks types, runs the test suite
# System packages (WeasyPrint's Pango, Chromium for browser tests) are installed with
# apt-get when missing; that needs root, as on CI.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RN     := $(VENV)/bin/research-news
SAMPLE := issues/2023-01-data-and-society

BUILD_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_PACKAGES  := chromium poppler-utils openssl

.PHONY: demo test lint bench bytecode system-build system-test node clean

demo: $(VENV)/.installed bytecode system-build
	$(RN) check issues
	$(RN) build $(SAMPLE) --offprints
	@echo "Open build/$(notdir $(SAMPLE))/index.html, build/$(notdir $(SAMPLE))/$(notdir $(SAMPLE)).pdf and build/$(notdir $(SAMPLE))/email.html"
	@echo "The French edition is in build/$(notdir $(SAMPLE))/fr/ (same file names)"
	$(RN) site issues --out build/site
	@echo "The series as a web site: open build/site/index.html (search needs it served: python3 -m http.server -d build/site)"

test: lint bytecode system-build system-test node
	$(PY) -m pytest -q

# ruff and mypy read their settings from pyproject.toml; fix what they report rather than silence it.
lint: $(VENV)/.installed-dev
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy

bench: $(VENV)/.installed-dev bytecode system-build
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_cache.py
	$(PY) benchmarks/bench_site.py
	$(PY) benchmarks/bench_send.py
	$(PY) benchmarks/bench_svg.py
	$(PY) benchmarks/bench_serve.py

# pip compiles an installed package's modules once; an editable install leaves that to each run, and
# where PYTHONDONTWRITEBYTECODE is set no run keeps what it compiled: every command would compile
# research-news's modules again (0.1 s of a check's 0.4 s). Only what changed is compiled again.
bytecode: $(VENV)/.installed
	$(PY) -m compileall -q src

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# Install Debian packages only when one is missing (apt-get update is slow).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system-build:
	$(call apt_install,$(BUILD_PACKAGES))

system-test:
	$(call apt_install,$(TEST_PACKAGES))

node: tests/js/node_modules/.installed

tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --silent
	touch $@

clean:
	rm -rf build $(VENV) tests/js/node_modules
