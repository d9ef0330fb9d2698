# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export SAQI_DATA_ROOT ?= $(CURDIR)/data
# Debian packages: fonts for Arabic/Latin reports, poppler for PDF checks, Chromium for the UI test.
DEB_PACKAGES := fonts-noto-core fonts-dejavu-core poppler-utils chromium libpango-1.0-0 libpangoft2-1.0-0

.PHONY: install debs demo test ui serve bench lock clean

install: $(STAMP)

debs:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

$(STAMP): requirements.lock constraints.txt pyproject.toml
	@$(MAKE) --no-print-directory debs
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv==0.13.9
	$(VENV)/bin/pip install -q -r constraints.txt
	$(UV) pip install -q --python $(PY) -c constraints.txt -r requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	touch $(STAMP)

demo: install
	@mkdir -p $(DAGSTER_HOME) && cp configs/dagster/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/saqi demo --data-root $(SAQI_DATA_ROOT)

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

ui: install
	@mkdir -p $(DAGSTER_HOME) && cp -n configs/dagster/dagster.yaml $(DAGSTER_HOME)/dagster.yaml || true
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

# Production-like on one machine: PostgreSQL instance, code server, daemon and webserver as separate
# processes, run monitoring, one run per farm at a time (configs/deploy/README.md, "make serve").
serve: install
	VENV=$(VENV) scripts/serve.sh

bench: install
	$(PY) -m benchmarks

lock:
	$(UV) pip compile -q --python $(PY) -c constraints.txt requirements.in -o requirements.lock

clean:
	rm -rf $(VENV) data .dagster_home
