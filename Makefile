# The documented commands. `make run` and `make test` work from a fresh clone with python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The full MNIST set beside the project when there is one; otherwise Keras downloads it.
MNIST_PATH ?= $(if $(wildcard ../shared/data/mnist.npz),$(abspath ../shared/data/mnist.npz),)
export MNIST_PATH
# Tests run against a real PostgreSQL (pytest-django creates and drops test_digitsite), with the in-memory cache
# (each test clears it; the shared Redis cache's own tests use TEST_CACHE_URL, under keys of their own).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/digitsite
EPOCHS ?= 25
CLUSTER_EPOCHS ?= 10
VERSION ?= $(shell date +%Y%m%d-%H%M)
BUILD := build

.PHONY: install run serve test heldout worker worker-training train evaluate bench bench-web bench-worker loadtest loadtest-compare lint format migrations-check messages requeue

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

install: $(BIN)/.installed

messages: install  # the compiled .mo files are committed; this rebuilds them (needs gettext)
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The production web server (README "Running in production"): collectstatic, a check that every migration is
# applied, then gunicorn with WEB_PROCESSES x WEB_THREADS on HOST:PORT. Needs DEBUG=false and SECRET_KEY to serve
# as in production.
serve: install
	PORT=$(PORT) $(BIN)/python manage.py serve

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) CACHE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)

# The reading engine judged on the independent held-out generator, against issue 10's thresholds
# (a measurement: it prints the per-family table and fails while any threshold is not met).
heldout: install
	$(BIN)/python -m pytest -m heldout -s -q tests/test_reading_heldout.py

worker: install
	$(BIN)/celery -A digitsite worker -Q inference -l info

# Trains new model versions from the corrections (admin: Training jobs), one at a time, on one core, so
# that the inference worker keeps the other. Never in the web process.
worker-training: install
	WORKER_ROLE=training TF_NUM_THREADS=1 $(BIN)/celery -A digitsite worker -Q training -c 1 -n training@%h -l info

requeue: install
	$(BIN)/python manage.py requeue_pending

# The committed model is a pair in one file: a CNN trained on MNIST alone, and a copy of it fine-tuned on
# what our preprocessing makes of MNIST training digits drawn as photos, scans and drawings (with an 11th
# answer, "not one digit"); then the cluster reader of touching digits (mlcore/sequence.py, about another hour).
# About 70 minutes on 2 cores for the pair; see README "How the model is made".
train: install
	$(BIN)/python -m mlcore --model $(BUILD)/mnist_reader.keras train --epochs $(EPOCHS) --version mnist-$(VERSION)
	$(BIN)/python -m mlcore synthesize --out $(BUILD)/extra.npz --seed 3
	$(BIN)/python -m mlcore --model $(BUILD)/picture_reader.keras train --fine-tune $(BUILD)/mnist_reader.keras \
		--extra $(BUILD)/extra.npz --epochs 6 --learning-rate 5e-4 --version reader-$(VERSION)
	$(BIN)/python -m mlcore combine $(BUILD)/mnist_reader.keras $(BUILD)/picture_reader.keras \
		--version $(VERSION)
	$(BIN)/python -m mlcore synthesize-clusters --out $(BUILD)/clusters.npz --numbers 48000 --non-digits 4500 --seed 11
	$(BIN)/python -m mlcore train-cluster-reader --data $(BUILD)/clusters.npz --epochs $(CLUSTER_EPOCHS) \
		--version clusters-$(VERSION)

evaluate: install
	$(BIN)/python -m mlcore evaluate

bench: install
	$(BIN)/python -m mlcore bench

# Side by side with BENCH_BASE's code (a `git worktree` in BENCH_TREE), in one run: the web requests users make
# most, timed in-process (bench/web_requests.py), on a database of its own (BENCH_DATABASE_URL, dropped each run).
BENCH_BASE ?= HEAD~1
BENCH_TREE ?= /tmp/digitsite-bench-base
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/digitsite_bench
bench-web: install
	rm -rf $(BENCH_TREE) && git worktree prune && git worktree add -f --detach $(BENCH_TREE) $(BENCH_BASE) >/dev/null
	for round in 1 2; do \
		(cd $(BENCH_TREE) && DATABASE_URL=$(BENCH_DATABASE_URL) $(CURDIR)/$(BIN)/python -W ignore $(CURDIR)/bench/web_requests.py) && \
		DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -W ignore bench/web_requests.py || exit 1; \
	done
	git worktree remove --force $(BENCH_TREE)

# A queue of BENCH_UPLOADS pictures drained by a real 2-process worker (bench/worker_drain.py), pictures per second,
# side by side with BENCH_BASE's code; the broker keys under a prefix of their own in BENCH_BROKER_URL.
BENCH_UPLOADS ?= 500
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/9
bench-worker: install
	rm -rf $(BENCH_TREE) && git worktree prune && git worktree add -f --detach $(BENCH_TREE) $(BENCH_BASE) >/dev/null
	for round in 1 2; do \
		(cd $(BENCH_TREE) && DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_BROKER_URL=$(BENCH_BROKER_URL) \
			$(CURDIR)/$(BIN)/python -W ignore $(CURDIR)/bench/worker_drain.py --uploads $(BENCH_UPLOADS) 2>>$(BENCH_TREE).log) && \
		DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_BROKER_URL=$(BENCH_BROKER_URL) \
			$(BIN)/python -W ignore bench/worker_drain.py --uploads $(BENCH_UPLOADS) 2>>$(BENCH_TREE).log || exit 1; \
	done
	git worktree remove --force $(BENCH_TREE)

# Issue 11's load (bench/loadtest.py, bench/locustfile.py): 70% API list, 20% detail, 10% upload with ?wait=10,
# each user waiting 0.5-1.5 s, against `manage.py serve` (gunicorn) and a real 2-process worker on 127.0.0.1, on
# a database of its own (LOADTEST_DATABASE_URL, dropped each run); it stops by itself after LOADTEST_SECONDS or
# LOADTEST_MAX_REQUESTS. `make loadtest-compare` runs the same on BENCH_BASE's code first, side by side.
LOADTEST_USERS ?= 200
LOADTEST_SECONDS ?= 60
LOADTEST_MAX_REQUESTS ?= 200000
LOADTEST_ARGS = --users $(LOADTEST_USERS) --duration $(LOADTEST_SECONDS) --max-requests $(LOADTEST_MAX_REQUESTS)
loadtest: install
	$(BIN)/python -W ignore bench/loadtest.py $(LOADTEST_ARGS) 2>>/tmp/digitsite-loadtest.log

loadtest-compare: install
	rm -rf $(BENCH_TREE) && git worktree prune && git worktree add -f --detach $(BENCH_TREE) $(BENCH_BASE) >/dev/null
	cd $(BENCH_TREE) && $(CURDIR)/$(BIN)/python -W ignore $(CURDIR)/bench/loadtest.py $(LOADTEST_ARGS) 2>>/tmp/digitsite-loadtest.log
	$(BIN)/python -W ignore bench/loadtest.py $(LOADTEST_ARGS) 2>>/tmp/digitsite-loadtest.log
	git worktree remove --force $(BENCH_TREE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run
