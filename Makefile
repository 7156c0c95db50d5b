# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SCR_DATABASE_URL ?= sqlite:///scr.db
export SCR_MAIL_DIR ?= mail

.PHONY: setup run test lint bench demo schema migration clean

# Bytecode for our own packages too: an editable install leaves them uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set every `scr` command would compile them again (0.1 s of a
# cold `scr show`). Quick when nothing changed; Python ignores a .pyc older than its source.
setup: $(STAMP)
	@$(BIN)/python -m compileall -q states storage lifecycle handlers >/dev/null

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/scr init
	mkdir -p $(SCR_MAIL_DIR)
	@echo
	@echo "The database is ready ($(SCR_DATABASE_URL)); mail goes to $(SCR_MAIL_DIR) (a maildir)."
	@echo "Starting the daemon and the portal here: the daemon fires deadlines and delivers"
	@echo "mail, the portal serves the participants' pages, until Ctrl-C."
	@echo "In another terminal, in this directory, open the admin shell beside it:"
	@echo "  $(BIN)/scr shell"
	@echo "or run single commands, e.g. add yourself as the business manager (scr acts as"
	@echo "the login that runs it: the first user is bound to the login that adds them,"
	@echo "$$(id -un) here, unless --login names another) and refer a first case:"
	@echo "  $(BIN)/scr users add 'Sam Patel' --email sam@board.example --role business_manager"
	@echo "  $(BIN)/scr example referral > referral.json && $(BIN)/scr refer --file referral.json"
	@echo "The tour in README.md runs on a training board of its own. To run scr on a server,"
	@echo "see deploy/README.md."
	@echo
	@echo "The portal is at http://127.0.0.1:8080: sign in with a user's e-mail address; the"
	@echo "link arrives in $(SCR_MAIL_DIR) once the daemon delivers it (within 15 seconds)."
	@echo
	@$(BIN)/scr web & web=$$!; trap 'kill $$web 2>/dev/null; wait $$web 2>/dev/null' EXIT; \
	  $(BIN)/scr daemon

# TESTS_DAYS_AHEAD=N runs the suite with every test process's wall clock moved N days ahead
# (tests/ahead/sitecustomize.py, on PYTHONPATH here); CI runs it at 0, 400 and 1096.
test: setup
	PYTHONPATH=$(CURDIR)/tests/ahead$${PYTHONPATH:+:$$PYTHONPATH} \
	  $(BIN)/python -m pytest -q -n auto --dist loadgroup

bench: setup
	$(BIN)/python -m bench.run

# A training run on a throwaway board in a new ./scr-demo-* folder; it ignores the
# SCR_DATABASE_URL and SCR_MAIL_DIR exported above and never sends mail.
demo: setup
	$(BIN)/scr demo

# storage/tables.py (Core tables and the case record) is generated from storage/models.py.
schema: setup
	$(BIN)/python -m scr.storage.schema

# A new migration from the difference between the models and the latest revision:
#   make migration MESSAGE="what it does"    (then read it, and run make schema)
migration: setup
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what it does"'; exit 2; }
	$(BIN)/python -m scr.storage.migrate new "$(MESSAGE)"

lint: setup
	$(BIN)/ruff check states storage lifecycle handlers tests bench
	@mkdir -p .lint/scr && for f in states storage lifecycle handlers; do \
	  ln -sfn ../../$$f .lint/scr/$$f; done
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .lint
