# The README's commands. Each one sets up what it needs first, so a fresh checkout works.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# honcho gives every process its own PORT, so the worker is told where the web server is (for
# the sandbox's API, and for the links in the emails it sends).
export KLAVIYO_SANDBOX_BASE_URL ?= http://127.0.0.1:$(PORT)/sandbox/klaviyo
export SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test e2e bench lint format check-deploy audit clean clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# A new venv holds the pip and setuptools that came with Python, which pip-audit reports as
# vulnerable; upgrading here also refreshes an older .venv whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The embedded default serves plain http on 127.0.0.1; production sets SECURE_HTTPS=true (README).
run: export SECURE_HTTPS ?= false
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@$(BIN)/python manage.py demo_setup > $(VENV)/.demo-login
	@echo
	@echo "  Step Builder is starting on http://127.0.0.1:$(PORT)"
	@echo "  $$(cat $(VENV)/.demo-login)"
	@echo "  Press Ctrl-C to stop the web server and the worker."
	@echo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --procfile Procfile --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

e2e: $(VENV)/.installed
	E2E_REQUIRED=1 $(BIN)/pytest tests/e2e $(PYTEST_ARGS)

bench: $(VENV)/.installed
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: $(VENV)/.installed
	DEBUG=false SECURE_HTTPS=true SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# Known vulnerabilities in the virtualenv's packages (pip-audit). Says so and exits 0 when no
# vulnerability database can be reached, so it never fails offline (.ci/audit.py).
audit: $(VENV)/.installed
	$(BIN)/python .ci/audit.py

clean:
	rm -rf $(VENV) data/test* artifacts

# Deletes the database and the generated keys (stored credentials become unreadable).
clean-data:
	@echo "This deletes data/ (database, broker, generated keys). Ctrl-C within 5 s to keep it."
	@sleep 5
	rm -rf data
