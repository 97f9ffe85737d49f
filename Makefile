# Makefile: a thin front over CMake/CTest.  The two set-up commands for a
# fresh Debian 12 machine are `make run` and `make test` (README.md).
BUILD      ?= build
ASAN_BUILD ?= build-asan
REL_BUILD  ?= build-release
FUZZ_BUILD ?= build-fuzz
DATA       ?= ./coffer-data
LISTEN     ?= 127.0.0.1:8443
JOBS       ?= $(shell nproc)

.PHONY: all deps build build-asan build-release run test test-fast \
	test-asan fuzz bench \
	check-style clean

all: build

deps:
	sh scripts/deps.sh

# The two test builds honour the e2e suite's COFFER_TEST_* hooks
# (-DCF_TEST_HOOKS=ON); the Release build, the one `make run` serves, does
# not (src/base/testhook.h).
build: deps
	cmake -S . -B $(BUILD) -DCF_WERROR=ON -DCF_TEST_HOOKS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCF_WERROR=ON -DCF_SANITIZE=ON \
	    -DCF_TEST_HOOKS=ON \
	    -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The product alone at -O3 (Release), warnings as errors: the optimiser
# sees more (-Wformat-truncation, -Wmaybe-uninitialized) than the other
# two builds, and a packager builds this way.  Compiled, not tested.
build-release: deps
	cmake -S . -B $(REL_BUILD) -DCF_WERROR=ON -DCF_BUILD_TESTS=OFF \
	    -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(REL_BUILD) -j $(JOBS)

# Install, build and start the server on the embedded default: the
# Release build, without test hooks.
run: build-release
	@echo "coffer: starting the server on https://$(LISTEN) (data in $(DATA))"
	@echo "coffer: in another terminal, log in and secure the admin account:"
	@echo "  ./$(REL_BUILD)/coffer login --server https://$(LISTEN) \\"
	@echo "      --token-file $(DATA)/bootstrap-token --ca-cert $(DATA)/tls/server.crt"
	@echo "  ./$(REL_BUILD)/coffer user passwd && ./$(REL_BUILD)/coffer mfa enroll"
	./$(REL_BUILD)/coffer server --data $(DATA) --listen $(LISTEN)

# Install, build and run every test: the style check, the normal build,
# the Release compile, then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
test: check-style build build-release build-asan
	COFFER_RELEASE_BIN=$(CURDIR)/$(REL_BUILD)/coffer \
	    scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

test-fast: check-style build
	scripts/run-tests.sh $(BUILD)

# The mechanical rules of the style guide (scripts/check-style.sh).
check-style:
	sh scripts/check-style.sh

# libFuzzer builds (clang); see fuzz/README.md.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCF_FUZZ=ON -DCF_WERROR=ON \
	    -DCF_BUILD_TESTS=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

bench: build
	sh bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(REL_BUILD) $(FUZZ_BUILD)
