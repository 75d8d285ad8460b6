# catvnoncat: every target is an artifact with its real inputs, so `make` redoes only what changed.
# `make help` (the default) lists the targets.
#
# Make decides when a stage runs; the ledger of runs (data/runs) decides whether a fit is trained
# again. A stage runs when one of the files it writes is missing, or older than its inputs: the
# data, the features, the file that remembers its flags, and the package's files (pipeline/) as a
# whole, so any edit there reruns the stages. The train stage then looks its run up in the ledger,
# by settings, data and the fit's own code: a run it already holds is restored (a copy, in a
# second), and only a run it does not hold is fitted. So an edit of the page or of the report
# redraws, but trains nothing again.

.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The stages write where make looks, this folder, whatever CATVNONCAT_HOME the caller set
export CATVNONCAT_HOME := $(CURDIR)
VENV_STAMP := $(VENV)/.installed
# Exact versions with their sha256, for the runtime and test tools: `make lock` refreshes it.
LOCKFILE := requirements.lock
# The notebooks' tools (Jupyter), an optional extra locked the same way; make train needs none.
NB_LOCKFILE := requirements-notebooks.lock
NB_STAMP := $(VENV)/.notebooks
# The documentation site (Sphinx, PyData theme, MyST, myst-nb, numpydoc): an optional extra
# locked like the notebooks (its lock holds theirs too); make train needs none of it.
DOCS_LOCKFILE := requirements-docs.lock
DOCS_STAMP := $(VENV)/.docs
# `make bench BENCH_EXTRA=1`'s JAX (bench-only: the CNN's rows against a framework), locked alike.
BENCH_LOCKFILE := requirements-bench.lock
# Each lock is installed with --no-compile (pip byte-compiles one file at a time), then compiled
# here on every core. Without .pyc files, a machine that sets PYTHONDONTWRITEBYTECODE (this
# project's do) compiles numpy and matplotlib again in every process: 0.8 s of the 1.5 s that
# `python -m pipeline compare` takes to refuse a bad option, paid by each test that runs a stage.
COMPILE := $(PY) -m compileall -q -j 0 $(VENV)/lib
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
UV_VERSION := 0.13.9

# What this run is. GOALS: the goals beyond help (none for a plain `make`, which prints help).
# DRY_RUN: -n or -q (make's single-letter flags are the first word of MAKEFLAGS). Reading this
# Makefile writes nothing: the remembered flags are written by recipes (see remember), and only
# a run with GOALS, not DRY_RUN, takes the lock.
# Plain GNU Make 3.81 syntax throughout (macOS ships it): no grouped targets (&:), no $(file).
GOALS := $(filter-out help,$(MAKECMDGOALS))
SHORT_FLAGS := $(filter-out --% %=%,$(firstword -$(MAKEFLAGS)))
DRY_RUN := $(findstring n,$(SHORT_FLAGS))$(findstring q,$(SHORT_FLAGS))

# The Python for scripts/clock_skew.py (standard library only): the venv's once it
# exists, as it starts faster than a version manager's shim; python3 before.
SCRIPT_PY := $(if $(wildcard $(PY)),$(PY),$(PYTHON))

# same(A,B): non-empty when the two strings are equal.
same = $(and $(findstring |$(1)|,|$(2)|),$(findstring |$(2)|,|$(1)|))

# A source dated in the future (clock skew: an archive, a mounted folder) would stay newer than
# what is made from it, so that would be remade at every run: stop at once, naming it.
ifneq ($(GOALS),)
CLOCK_SKEW := $(shell $(SCRIPT_PY) scripts/clock_skew.py Makefile pyproject.toml $(LOCKFILE) \
	$(NB_LOCKFILE) pipeline scripts data/raw $(DATA))
ifneq ($(CLOCK_SKEW),)
$(error $(CLOCK_SKEW))
endif
endif

# One make at a time in this tree: a second make during a run would write the flags and the
# artifacts under the first one's. It refuses in one line instead. scripts/make_lock.sh holds
# the lock while make runs and removes it when make ends; a dry run takes none.
LOCK := data/.make.lock
ifneq ($(GOALS),)
ifeq ($(DRY_RUN),)
LOCK_HOLDER := $(shell sh scripts/make_lock.sh $(LOCK) $$PPID)
ifneq ($(LOCK_HOLDER),)
$(error another make (pid $(LOCK_HOLDER)) is running in $(CURDIR); wait for it, then run again)
endif
endif
endif

# The package's files, every one an input of every stage (Python's caches are not).
PACKAGE := $(sort $(shell find pipeline -type f ! -path '*/__pycache__/*'))

# A stage that writes a set of files (report, compare, cv) writes with them a list of their
# names, one a line, and that list is the stage's target: listed(LIST) reads the files it names,
# and missing(FILES) is FORCE when one of them is gone, so deleting any file of a set remakes it.
listed = $(addprefix $(dir $(1)),$(shell cat $(1) 2>/dev/null))
missing = $(if $(filter-out $(wildcard $(1)),$(1)),FORCE)

# remember(FILE,FLAGS): FILE holds the flags that its targets were made with. It is read here
# and rewritten by its recipe only when the flags differ (or it is missing), so its time stamp
# marks a change of flags and nothing else, and only a run that builds from it writes it, never
# `make -n` or `make help`: targets depend on it. Use: $(eval $(call remember,FILE,FLAGS)).
define remember
$(1): $(if $(call same,$(strip $(2)),$(shell cat $(1) 2>/dev/null)),,FORCE)
	@mkdir -p $$(@D) && echo '$(strip $(2))' > $$@.tmp && mv $$@.tmp $$@
endef
FORCE:

# The package's file list, remembered: deleting or adding a file of pipeline/ changes no time
# stamp that $(PACKAGE) holds, so the list's own file stands for it.
PACKAGE_LIST := data/.package-files
$(eval $(call remember,$(PACKAGE_LIST),$(PACKAGE)))
PACKAGE += $(PACKAGE_LIST)

RAW := data/raw/train_catvnoncat.h5 data/raw/test_catvnoncat.h5
FEATURES := data/processed/features.npz

# The data: the course's files, or DATA=DIR holding a dataset's train.h5 and test.h5 (`make
# dataset`). Remembered like the hyperparameters, so `make train` alone goes back to the course.
DATA ?=
DATA_FILES := $(if $(DATA),$(DATA)/train.h5 $(DATA)/test.h5,$(RAW))
# ALLOW_SPARSE=1: an .h5 that stores far fewer pixels than it declares is read all the same
ALLOW_SPARSE ?=
FEATURES_FLAGS := $(strip $(if $(DATA),--train-file $(DATA)/train.h5 --test-file $(DATA)/test.h5) \
	$(if $(ALLOW_SPARSE),--allow-sparse))
FEATURES_ARGS := data/processed/features-args.txt
$(eval $(call remember,$(FEATURES_ARGS),$(FEATURES_FLAGS)))
ifneq ($(DATA),)
$(DATA)/%.h5:
	@echo "error: $@ not found: DATA names a folder that \`make dataset\` wrote" >&2; exit 2
endif
PARAMS := data/models/params.npz
METRICS := reports/metrics.json
# The report: the run's figures and section, and the page, written as one set, with its list.
REPORT := reports/report-files.txt
# Other stages' sections: inputs of the page, never remade by `make report`. Their list is
# remembered, so removing one (rm -r reports/cv) reassembles the page.
SECTIONS := $(wildcard reports/compare/section.html reports/cv/section.html \
	reports/runs/section.html reports/notebooks/*.html)
SECTIONS_LIST := reports/.sections
PAGE_STAMP := reports/.assembled

# Hyperparameters: empty means the defaults in pipeline/config.py. The flags are remembered in a
# file rewritten only when they change, so `make train LR=0.01` retrains and a repeat does nothing.
LR ?=
ITERATIONS ?=
L2 ?=
AUGMENT ?=
# The model: empty is the lesson's one neuron; two-layer or l-layer the course's week-4 networks,
# LAYERS their hidden sizes; cnn the course's week-1 convolutional network, LAYERS its layers
# ("4x8 p8 2x16 p4": a 4x4 convolution of 8 filters, an 8x8 max-pool, ...). Remembered with the
# rest, so a plain `make train` is logistic again.
MODEL ?=
LAYERS ?=
OPTION_FLAGS := $(if $(MODEL),--model $(MODEL)) $(if $(LAYERS),--layers $(LAYERS)) \
	$(if $(L2),--l2 $(L2)) $(if $(AUGMENT),--augment $(AUGMENT))
# The optimizer: empty is gd, the course's full-batch run; minibatch or adam the second course's,
# with BATCH images a step for EPOCHS passes (and Adam's BETA1, BETA2, momentum's BETA), the
# rate lowered once an epoch with DECAY=inverse|scheduled (DECAY_RATE, DECAY_INTERVAL epochs).
OPTIMIZER ?=
BATCH ?=
EPOCHS ?=
BETA1 ?=
BETA2 ?=
BETA ?=
DECAY ?=
DECAY_RATE ?=
DECAY_INTERVAL ?=
OPTION_FLAGS += $(if $(OPTIMIZER),--optimizer $(OPTIMIZER)) \
	$(if $(BATCH),--mini-batch-size $(BATCH)) $(if $(EPOCHS),--num-epochs $(EPOCHS)) \
	$(if $(BETA1),--beta1 $(BETA1)) $(if $(BETA2),--beta2 $(BETA2)) $(if $(BETA),--beta $(BETA)) \
	$(if $(DECAY),--decay $(DECAY)) $(if $(DECAY_RATE),--decay-rate $(DECAY_RATE)) \
	$(if $(DECAY_INTERVAL),--decay-interval $(DECAY_INTERVAL))
# A network's start (INIT=course|he) and dropout on its hidden layers (KEEP_PROB, 1 is off).
INIT ?=
KEEP_PROB ?=
OPTION_FLAGS += $(if $(INIT),--init $(INIT)) $(if $(KEEP_PROB),--keep-prob $(KEEP_PROB))
TRAIN_FLAGS := $(strip $(if $(LR),--learning-rate $(LR)) \
	$(if $(ITERATIONS),--num-iterations $(ITERATIONS)) $(OPTION_FLAGS))
TRAIN_ARGS := data/models/train-args.txt
$(eval $(call remember,$(TRAIN_ARGS),$(TRAIN_FLAGS)))

# The calibration (make calibrate): how far to trust p(cat), fitted on the run's out-of-fold
# logits over CALIBRATE_FOLDS folds of the training set (seeded by CALIBRATE_SEED), remembered
# like the flags above. Its own target: make train neither waits for it nor changes.
CALIBRATION := data/models/calibration.npz
CALIBRATE_FOLDS ?=
CALIBRATE_SEED ?=
CALIBRATE_FLAGS := $(strip $(if $(CALIBRATE_FOLDS),--folds $(CALIBRATE_FOLDS)) \
	$(if $(CALIBRATE_SEED),--seed $(CALIBRATE_SEED)))
CALIBRATE_ARGS := data/models/calibrate-args.txt
$(eval $(call remember,$(CALIBRATE_ARGS),$(CALIBRATE_FLAGS)))

# The comparison's rates (empty: the course's three) and iterations, remembered the same way.
LRS ?=
COMPARE_FLAGS := $(strip $(if $(LRS),--learning-rates $(LRS)) \
	$(if $(ITERATIONS),--num-iterations $(ITERATIONS)) $(OPTION_FLAGS))
COMPARE_ARGS := data/models/compare-args.txt
$(eval $(call remember,$(COMPARE_ARGS),$(COMPARE_FLAGS)))
COMPARE := reports/compare/files.txt

# Cross-validation's options, remembered the same way (L2, KEEP_PROB and AUGMENT may be lists
# here: KEEP_PROB="1 0.8" reaches cv as --keep-prob 1 0.8, and train refuses two values).
# SEARCH=random draws TRIALS candidates instead (ZOOM=1: a second round around the best); each
# setting's variable is then a range lo..hi or one value: LR=1e-4..1e-1 KEEP_PROB=0.5..1.
FOLDS ?=
REPEATS ?=
SEED ?=
SEARCH ?=
TRIALS ?=
ZOOM ?=
CV_FLAGS := $(strip $(if $(FOLDS),--folds $(FOLDS)) $(if $(REPEATS),--repeats $(REPEATS)) \
	$(if $(SEED),--seed $(SEED)) $(if $(or $(LRS),$(LR)),--learning-rates $(or $(LRS),$(LR))) \
	$(if $(SEARCH),--search $(SEARCH)) $(if $(TRIALS),--trials $(TRIALS)) \
	$(if $(filter-out 0,$(ZOOM)),--zoom) \
	$(if $(ITERATIONS),--num-iterations $(ITERATIONS)) $(OPTION_FLAGS))
CV_ARGS := data/models/cv-args.txt
$(eval $(call remember,$(CV_ARGS),$(CV_FLAGS)))
CV := reports/cv/files.txt
$(eval $(call remember,$(SECTIONS_LIST),$(SECTIONS)))

.PHONY: help setup lock notebooks docs lab data dataset features train evaluate calibrate report \
	compare cv runs \
	runs-prune classify bench \
	browser test test-portable lint clean

help: ## list the targets
	@echo 'usage: make TARGET [MODEL=two-layer|l-layer|cnn] [LAYERS="20 7 5"] [LR=X] [LRS="X Y ..."]'
	@echo '       [ITERATIONS=N] [L2=X] [AUGMENT=flip] [INIT=course|he] [KEEP_PROB=P]'
	@echo '       [OPTIMIZER=minibatch|momentum|adam] [BATCH=N] [EPOCHS=N] [BETA=X] [BETA1=X]'
	@echo '       [BETA2=X] [DECAY=none|inverse|scheduled] [DECAY_RATE=X] [DECAY_INTERVAL=N]'
	@echo '       make cv [FOLDS=K] [REPEATS=N] [SEED=S] [L2="0 1"] [AUGMENT="none flip"]'
	@echo '               [KEEP_PROB="1 0.8"] (a network: MODEL=l-layer, INIT=he too)'
	@echo '       make cv SEARCH=random [TRIALS=N] [ZOOM=1] [LR=1e-4..1e-1] [L2=0..10]'
	@echo '               [KEEP_PROB=0.5..1] [BETA1=0.8..0.99] [BATCH=16..256] [LAYERS="8..32 7 5"]'
	@echo '       make calibrate [CALIBRATE_FOLDS=K] [CALIBRATE_SEED=S]'
	@echo '       (empty: the defaults in pipeline/config.py)'
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

setup: $(VENV_STAMP) ## make .venv: the locked packages, hash-checked, and the project

# Every package from the lock, each checked against its sha256; then the project itself, with
# no dependency resolved or downloaded beyond the lock (its build backend is locked too).
$(VENV_STAMP): pyproject.toml $(LOCKFILE)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile --require-hashes \
		--no-deps -r $(LOCKFILE)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e .
	$(COMPILE)
	touch $@

# The newest versions within pyproject.toml's ranges, with hashes: one version of each package
# for every Python from 3.11 on where it can (fewest), so the set CI proves is the one installed.
lock: | $(VENV_STAMP) ## refresh requirements.lock (needs PyPI), then make setup installs it
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	printf 'setuptools>=64\n' | $(VENV)/bin/uv pip compile pyproject.toml - --extra dev \
		--universal --python-version 3.11 --fork-strategy fewest --generate-hashes --upgrade \
		--quiet --custom-compile-command 'make lock' -o $(LOCKFILE)
	printf 'setuptools>=64\n' | $(VENV)/bin/uv pip compile pyproject.toml - --extra dev \
		--extra notebooks --universal --python-version 3.11 --fork-strategy fewest \
		--generate-hashes --upgrade --quiet --custom-compile-command 'make lock' \
		-c $(LOCKFILE) -o $(NB_LOCKFILE)
	printf 'setuptools>=64\n' | $(VENV)/bin/uv pip compile pyproject.toml - --extra dev \
		--extra notebooks --extra docs --universal --python-version 3.11 --fork-strategy fewest \
		--generate-hashes --upgrade --quiet --custom-compile-command 'make lock' \
		-c $(LOCKFILE) -c $(NB_LOCKFILE) -o $(DOCS_LOCKFILE)
	printf 'setuptools>=64\n' | $(VENV)/bin/uv pip compile pyproject.toml - --extra dev \
		--extra bench --universal --python-version 3.11 --fork-strategy fewest \
		--generate-hashes --upgrade --quiet --custom-compile-command 'make lock' \
		-c $(LOCKFILE) -o $(BENCH_LOCKFILE)

$(NB_STAMP): $(NB_LOCKFILE) | $(VENV_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile --require-hashes \
		--no-deps -r $(NB_LOCKFILE)
	$(COMPILE)
	touch $@

$(DOCS_STAMP): $(DOCS_LOCKFILE) | $(VENV_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile --require-hashes \
		--no-deps -r $(DOCS_LOCKFILE)
	$(COMPILE)
	touch $@

# Warnings are errors: a broken link, a missing page, a docstring Sphinx cannot read or a failing
# notebook cell stops the build. The notebooks run once; their cache (site/.jupyter_cache) keeps a
# rebuild from running them again.
SPHINX_BUILD := $(VENV)/bin/sphinx-build -W --keep-going -q -b html -d site/.doctrees docs site
docs: $(RAW) $(DOCS_STAMP) ## the documentation site -> site/index.html (sphinx-build -W)
	$(SPHINX_BUILD)
	@echo site/index.html

notebooks: $(RAW) $(NB_STAMP) ## run every notebook in a fresh kernel -> reports/notebooks/*.html
	$(PY) scripts/run_notebooks.py $(NOTEBOOKS)

# As root (a container, this project's machines) Jupyter wants to be told that it is meant.
lab: $(RAW) $(NB_STAMP) ## open the notebooks in JupyterLab, on this venv
	cd notebooks && ../$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

# `make data` checks the sha256 of what is there every time, and fetches again what is missing or
# damaged; a good file is left untouched, so nothing downstream reruns.
data: | $(VENV_STAMP) ## fetch or re-verify the .h5 files (mirror folder first, then URLs)
	$(PY) -m pipeline data

# A pattern rule with several targets makes them all in one run, in every GNU Make (grouped
# targets, &:, need 4.3): here % stands for the 5 of .h5, and below for the s of reports.
$(subst .h5,.h%,$(RAW)): | $(VENV_STAMP)
	$(PY) -m pipeline data

# Your own labelled photos in the course's layout: one folder per class, or train/ and test/.
PHOTOS ?=
NAME ?= mine
DATASET_FLAGS ?=
dataset: | $(VENV_STAMP) ## your photo folders -> data/datasets/NAME: make dataset PHOTOS=dir
	@if [ -z "$(PHOTOS)" ]; then echo "error: name the photo folder: make dataset" \
		"PHOTOS=folder [NAME=mine] [DATASET_FLAGS='--positive dog --force']" >&2; exit 2; fi
	$(PY) -m pipeline dataset $(PHOTOS) --out data/datasets/$(NAME) $(DATASET_FLAGS)

features: $(FEATURES) ## flatten into uint8 rows: X (n_x, m), standardized as it is read

$(FEATURES): $(DATA_FILES) $(FEATURES_ARGS) $(PACKAGE) | $(VENV_STAMP)
	$(PY) -m pipeline features $(FEATURES_FLAGS)

train: $(PARAMS) $(METRICS) ## train the model (MODEL=two-layer|l-layer|cnn), print train/test accuracy

# One train run writes the model and its metrics (what `python -m pipeline evaluate` writes),
# from the one pass over each split that scores the run for the ledger: as in the .h5 rule, a
# pattern rule's targets are made together, % being the s of models/ and of reports/.
$(subst models/,model%/,$(PARAMS)) $(subst reports/,report%/,$(METRICS)): $(FEATURES) \
		$(TRAIN_ARGS) $(PACKAGE) | $(VENV_STAMP)
	$(PY) -m pipeline train $(strip $(TRAIN_FLAGS) --metrics $(METRICS))

evaluate: $(PARAMS) $(METRICS) ## accuracies and mislabeled images: reports/metrics.json (as train)

calibrate: $(CALIBRATION) ## how far to trust p(cat): a temperature fitted on train's folds

$(CALIBRATION): $(PARAMS) $(FEATURES) $(CALIBRATE_ARGS) $(PACKAGE) | $(VENV_STAMP)
	$(strip $(PY) -m pipeline calibrate $(CALIBRATE_FLAGS))

report: $(REPORT) $(PAGE_STAMP) ## figures and reports/index.html (trains only if stale)

# Make must not delete an artifact on Ctrl-C: every stage writes atomically (the report's files
# as one set), so what is there is always whole, and deleting it would lose the previous run.
.PRECIOUS: $(RAW) $(FEATURES) $(PARAMS) $(METRICS) $(CALIBRATION) $(REPORT) $(COMPARE) $(CV)
$(REPORT): $(PARAMS) $(METRICS) $(CALIBRATION) $(FEATURES) $(PACKAGE) \
		$(call missing,$(call listed,$(REPORT))) \
		| $(VENV_STAMP)
	$(PY) -m pipeline report

# The page again from the sections that exist, when only they changed: it draws nothing. When
# the report itself was just made, its page already holds them.
$(PAGE_STAMP): $(REPORT) $(SECTIONS) $(SECTIONS_LIST) | $(VENV_STAMP)
	$(if $(filter $(REPORT),$?),,$(PY) -m pipeline assemble)
	@touch $@

compare: $(COMPARE) ## one model per rate: make compare LRS="0.01 0.001" ITERATIONS=1500

$(COMPARE): $(FEATURES) $(COMPARE_ARGS) $(PACKAGE) $(call missing,$(call listed,$(COMPARE))) \
		| $(VENV_STAMP)
	$(PY) -m pipeline compare $(COMPARE_FLAGS)

cv: $(CV) ## cross-validation on train only: make cv FOLDS=5 REPEATS=10 L2="0 1"

$(CV): $(FEATURES) $(CV_ARGS) $(PACKAGE) $(call missing,$(call listed,$(CV))) | $(VENV_STAMP)
	$(PY) -m pipeline cv $(CV_FLAGS)

# The ledger of runs (data/runs): every finished train, each rate of compare and cv's final fit
# is kept there, and `make train` restores a run it already holds instead of training it again.
RUNS ?=
KEEP ?=
runs: | $(VENV_STAMP) ## every run kept, newest first; RUNS="id id" side by side -> reports/runs
	$(PY) -m pipeline runs $(RUNS)

ifneq ($(filter runs-prune,$(MAKECMDGOALS)),)
ifeq ($(KEEP),)
$(error say how many runs to keep: make runs-prune KEEP=20)
endif
endif
runs-prune: | $(VENV_STAMP) ## remove all runs but the KEEP newest and the current one
	$(PY) -m pipeline runs --prune $(KEEP)

# Without IMAGE it says so at once, rather than training first.
classify: $(if $(IMAGE),$(PARAMS) $(CALIBRATION)) ## your own photo: make classify IMAGE=my_cat.jpg (files or folders)
	@if [ -z "$(IMAGE)" ]; then echo "error: name a photo: make classify IMAGE=my_cat.jpg" >&2; \
		exit 2; fi
	$(PY) scripts/classify.py $(IMAGE)

# BENCH_FLAGS=--no-large skips the rows on generated 25,000- and 100,000-image datasets.
BENCH_FLAGS ?=
# BENCH_EXTRA=1 first installs the optional extra `bench` (JAX, for the CNN's rows) from its lock.
bench: $(FEATURES) | $(VENV_STAMP) ## speed ratios side by side: reports/bench.json
	$(if $(BENCH_EXTRA),$(PY) -m pip install --quiet --disable-pip-version-check --no-compile \
		--require-hashes --no-deps -r $(BENCH_LOCKFILE))
	$(PY) scripts/bench.py $(BENCH_FLAGS)

# The page's tests run in a real browser: Debian's chromium, installed here when it is missing and
# we are root (as on CI); otherwise those tests are skipped and say why.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& echo "installing Debian's chromium for the page's tests" \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium fonts-dejavu-core >/dev/null; } \
		|| echo "note: no chromium (apt-get install chromium); the browser tests will be skipped"

# The notebooks run once here, as the site is built from them (a failing cell fails it).
test: $(RAW) browser $(NB_STAMP) $(DOCS_STAMP) | $(VENV_STAMP) ## lint, the tests, the page in Chromium, the site and its notebooks
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m mypy
	$(PY) -m pytest
	$(SPHINX_BUILD)

# The suite again on another CPU's kernels (scripts/portable_env.py): NumPy's SIMD targets above
# its baseline off, an older OpenBLAS core type, one BLAS thread. CI runs it after `make test`.
# PORTABLE_TESTS narrows it (pytest arguments); empty runs every test.
PORTABLE_TESTS ?=
test-portable: $(RAW) browser | $(VENV_STAMP) ## the tests on another CPU's kernels, one thread
	eval "env $$($(PY) scripts/portable_env.py) $(PY) -m pytest $(PORTABLE_TESTS)"

lint: | $(VENV_STAMP) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(PY) -m mypy

clean: ## remove everything made from the data (keeps data/raw and .venv)
	rm -rf data/processed/* data/models/* reports/* site
