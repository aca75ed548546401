# hearth: the README's two commands.
#   make run   install what is missing, build, answer a question offline
#   make test  install what is missing, build, run every test (normal build,
#              ASan+UBSan build with clang, a ThreadSanitizer build's engine,
#              server and util tests, short libFuzzer runs, a gcc
#              Release build of the library and CLI, the arm64 cross build's
#              kernels/model/engine tests under qemu-aarch64, the browser build's
#              tests in headless chromium), warnings as errors
# Other targets: make build, make deps, make bench, make demo-model, make web, make clean,
#                make install PREFIX=DIR (default /usr/local).

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
BUILD     ?= build
ASAN      ?= build-asan
TSAN      ?= build-tsan
FUZZ      ?= build-fuzz
FUZZ_SECONDS ?= 20
RELEASE   ?= build-release
PREFIX    ?= /usr/local
# -Werror (HEARTH_WERROR): off for users' builds, on in make test's (below).
WERROR    ?= OFF
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the build and the tests need.
DEPS := build-essential cmake pkg-config clang libclang-rt-14-dev \
        libsqlite3-dev sqlite3 libjansson-dev libmicrohttpd-dev \
        libcurl4-openssl-dev libssl-dev openssl curl python3 libseccomp-dev strace \
        libsodium-dev libpq-dev postgresql minisign python3-cryptography util-linux \
        python3-jsonschema libedit-dev zsh
# Only for `make demo-model` (retraining the bundled model).
TRAIN_DEPS := python3 python3-torch python3-numpy libopenblas0-pthread

.PHONY: all run test build deps train-deps asan tsan tsan-test fuzz release install bench demo-model demo-model-256 clean

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

# with WERROR=ON, turns HEARTH_WERROR on in build dir $(1) if it is not yet
# (never back off: that would rebuild everything for nothing)
werror = @[ "$(WERROR)" != ON ] || grep -q '^HEARTH_WERROR:BOOL=ON$$' $(1)/CMakeCache.txt || cmake -B $(1) -DHEARTH_WERROR=ON >/dev/null

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_WERROR=$(WERROR)

build: deps $(BUILD)/Makefile
	$(call werror,$(BUILD))
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/hearth run "What is 2+2?"

$(ASAN)/Makefile:
	CC=clang cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DHEARTH_SANITIZE=ON -DHEARTH_WERROR=$(WERROR)

asan: deps $(ASAN)/Makefile
	$(call werror,$(ASAN))
	cmake --build $(ASAN) -j $(JOBS)

# ThreadSanitizer (clang): only what the engine, server and util tests need
# (the tsan_tests target), -O2 so the pass stays short.
$(TSAN)/Makefile:
	CC=clang cmake -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_TSAN=ON -DHEARTH_WERROR=$(WERROR)

tsan: deps $(TSAN)/Makefile
	$(call werror,$(TSAN))
	cmake --build $(TSAN) -j $(JOBS) --target tsan_tests

# Runs the engine, server and util tests under ThreadSanitizer. Every report
# (also from a server a script started and whose exit status it ignores) goes
# to a file in $(TSAN)/tsan-reports; any such file fails the pass. setarch -R:
# clang 14's TSan runtime cannot map its shadow under the high ASLR entropy
# (vm.mmap_rnd_bits 32) of newer kernels. engine_spec runs only its
# scheduler part here (HEARTH_TEST_SPEC=sched: 8 s; the whole test takes
# over 2 minutes under TSan).
TSAN_CTEST = cd $(TSAN) && rm -rf tsan-reports && mkdir tsan-reports && \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$$PWD/tsan-reports/r" HEARTH_TEST_SPEC=sched \
	  setarch $$(uname -m) -R ctest --output-on-failure -j $(JOBS) -L '^(engine|server|util)$$'; rc=$$?; \
	  for f in tsan-reports/r.*; do [ -e "$$f" ] || continue; echo "== ThreadSanitizer: $$f"; cat "$$f"; rc=1; done; \
	  exit $$rc

tsan-test: tsan
	$(TSAN_CTEST)

$(FUZZ)/Makefile:
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_FUZZ=ON -DHEARTH_FUZZ_SECONDS=$(FUZZ_SECONDS) -DHEARTH_WERROR=$(WERROR)

fuzz: deps $(FUZZ)/Makefile
	$(call werror,$(FUZZ))
	cmake --build $(FUZZ) -j $(JOBS) --target fuzzers

# gcc Release (-O3): its flow analysis warns where -O2 does not; the library
# and the CLI only (the tests run in the other builds).
$(RELEASE)/Makefile:
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DHEARTH_WERROR=$(WERROR)

release: deps $(RELEASE)/Makefile
	$(call werror,$(RELEASE))
	cmake --build $(RELEASE) -j $(JOBS) --target hearth hearth_shared

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# make test's builds treat warnings as errors (prerequisites inherit this).
test: WERROR = ON
test: build asan tsan fuzz release arm64-test web-test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE '^web$$'
	cd $(BUILD) && HEARTH_FORCE_SCALAR=1 ctest --output-on-failure -j $(JOBS) -L '^(kernels|model|engine)$$'
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)
	$(TSAN_CTEST)
	cd $(FUZZ) && ctest --output-on-failure -j $(JOBS) -L fuzz

bench: build
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b || exit 1; done

demo-model: train-deps build
	$(MAKE) -C tools/demo-model

# models/hearth-demo-256.gguf (the 256-wide partner; same tokenizer as hearth-demo.gguf).
demo-model-256: train-deps build
	$(MAKE) -C tools/demo-model model256

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZ) $(RELEASE) $(ARM64) $(WEB)

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

# ---- arm64: cross build, tests under qemu-aarch64 (issue 18) --------------------
# deps-arm64 enables Debian's arm64 architecture and installs the cross
# compiler, qemu-user-static and the arm64 libraries (libpq5 only: libpq-dev
# is not multiarch, the host's headers serve). arm64-test runs the kernels,
# model and engine C tests once per kernel level, each on a qemu CPU that has
# exactly that level (the detection from the hwcaps is what is tested):
# scalar (HEARTH_FORCE_SCALAR; kernels only), neon (cortex-a72), dotprod
# (neoverse-n1), i8mm (max).
ARM64     ?= build-arm64
ARM64_DEPS := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static libc6:arm64 \
        libsqlite3-dev:arm64 libjansson-dev:arm64 libmicrohttpd-dev:arm64 \
        libcurl4-openssl-dev:arm64 libssl-dev:arm64 libseccomp-dev:arm64 \
        libsodium-dev:arm64 libpq5:arm64 libedit-dev:arm64
# HEARTH_TEST_QUICK: tests with long loops (engine_spec: 10 min under qemu) run a short version
ARM64_CTEST = HEARTH_TEST_QUICK=1 ctest --output-on-failure -j $(JOBS) -L '^(kernels|model|engine)$$' -E '_sh$$'
# The scalar level runs the kernel tests only: every arm64 CPU has NEON, the
# scalar code is the host's (tested in its scalar pass), and the emulated
# model and engine tests are the slowest part of make test.
ARM64_CTEST_KERNELS = ctest --output-on-failure -j $(JOBS) -L '^kernels$$'

.PHONY: deps-arm64 arm64 arm64-test
deps-arm64:
	@dpkg --print-foreign-architectures | grep -qx arm64 || $(SUDO) dpkg --add-architecture arm64
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(ARM64_DEPS)"

$(ARM64)/Makefile:
	cmake -S . -B $(ARM64) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_HOST_GENMODEL=$(abspath $(BUILD))/hearth-genmodel

arm64: deps-arm64 build $(ARM64)/Makefile
	cmake --build $(ARM64) -j $(JOBS) --target emulated_tests

ifeq ($(shell uname -m),aarch64)
arm64-test: # natively on arm64 the normal build's tests already ran these kernels
	@echo "arm64 host: no emulated pass (build/ is the arm64 build)"
else
arm64-test: arm64
	cd $(ARM64) && HEARTH_FORCE_SCALAR=1 HEARTH_KERNEL_LEVEL=scalar $(ARM64_CTEST_KERNELS)
	cd $(ARM64) && QEMU_CPU=cortex-a72 HEARTH_KERNEL_LEVEL=neon $(ARM64_CTEST)
	cd $(ARM64) && QEMU_CPU=neoverse-n1 HEARTH_KERNEL_LEVEL=dotprod $(ARM64_CTEST)
	cd $(ARM64) && QEMU_CPU=max HEARTH_KERNEL_LEVEL=i8mm $(ARM64_CTEST)
endif

# ---- the browser build (issue 19): web/ compiled by emscripten ---------------
# make web builds $(WEB)/ (the engine as hearth-wasm.wasm/.js, the worker, the
# page, the demo model): serve it with `hearth serve --web $(WEB)` and open
# http://127.0.0.1:8080/web/. emscripten's JS tools need node-acorn, found
# through NODE_PATH (Debian's node modules). The tests (tests/web, label web)
# drive Debian's chromium with playwright-core from npm.
WEB       ?= build-web
WEB_DEPS  := emscripten node-acorn chromium clang-19
WEB_ENV   := NODE_PATH=$(if $(NODE_PATH),$(NODE_PATH):,)/usr/share/nodejs

.PHONY: deps-web web web-test web-bench
deps-web:
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(WEB_DEPS)"

$(WEB)/Makefile:
	$(WEB_ENV) emcmake cmake -S web -B $(WEB) -DCMAKE_BUILD_TYPE=Release

web: deps-web $(WEB)/Makefile
	$(WEB_ENV) cmake --build $(WEB) -j $(JOBS)

# the browser tests (label web) of the normal build, against $(WEB)
web-test: web build
	cd $(BUILD) && HEARTH_WEB_BUILD=$(abspath $(WEB)) ctest --output-on-failure -L '^web$$'

# tokens/s in headless chromium vs native, sizes, INIT -> READY (bench/bench_web.sh)
web-bench: web build
	@[ -d tests/web/node_modules/playwright-core ] || (cd tests/web && npm ci --no-audit --no-fund --silent)
	bench/bench_web.sh $(BUILD) $(WEB)
