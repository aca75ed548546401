# hearth: the README's two commands.
#   make run   install what is missing, build, answer a question offline
#   make test  install what is missing, build, run every test (normal build,
#              ASan+UBSan build with clang, short libFuzzer runs)
# Other targets: make build, make deps, make bench, make demo-model, make clean.

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
FUZZ_SECONDS ?= 30
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the build and the tests need.
DEPS := build-essential cmake pkg-config clang libclang-rt-14-dev \
        libsqlite3-dev sqlite3 libjansson-dev libmicrohttpd-dev \
        libcurl4-openssl-dev libssl-dev openssl curl python3 libseccomp-dev strace \
        libsodium-dev libpq-dev postgresql minisign python3-cryptography util-linux \
        python3-jsonschema
# Only for `make demo-model` (retraining the bundled model).
TRAIN_DEPS := python3 python3-torch python3-numpy libopenblas0-pthread

.PHONY: all run test build deps train-deps asan fuzz bench demo-model clean

all: build

deps:
	@missing=""; for p in $(DEPS) $(EXTRA_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

train-deps:
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(TRAIN_DEPS)"

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/hearth run "What is 2+2?"

$(ASAN)/Makefile:
	CC=clang cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DHEARTH_SANITIZE=ON

asan: deps $(ASAN)/Makefile
	cmake --build $(ASAN) -j $(JOBS)

$(FUZZ)/Makefile:
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_FUZZ=ON -DHEARTH_FUZZ_SECONDS=$(FUZZ_SECONDS)

fuzz: deps $(FUZZ)/Makefile
	cmake --build $(FUZZ) -j $(JOBS)

test: build asan fuzz
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD) && HEARTH_FORCE_SCALAR=1 ctest --output-on-failure -j $(JOBS) -L 'kernels|model|engine'
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)
	cd $(FUZZ) && ctest --output-on-failure -L fuzz

bench: build
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b || exit 1; done

demo-model: train-deps build
	$(MAKE) -C tools/demo-model

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)

# ---- sync soak: the Jepsen-style test, long (tests/sync/jepsen.py) ------------
# SOAK_RUNS runs per backend (SOAK_BACKENDS), seeds from SOAK_SEED; prints the
# runs, faults injected by kind, lost writes, divergent ends and duplicates.
SOAK_RUNS     ?= 1000
SOAK_SEED     ?= 1
SOAK_BACKENDS ?= sqlite postgresql

.PHONY: soak
soak: build
	@rc=0; for b in $(SOAK_BACKENDS); do \
	  HEARTH_BUILD_DIR=$(BUILD) bash tests/sync/jepsen.sh $$b $(SOAK_RUNS) --seed-base $(SOAK_SEED) || rc=1; \
	done; exit $$rc
