# psflow — `make` builds every program into bin/; `make demo` runs the
# opt-in study; `make test` runs the tests; `make check-asan` runs them
# again under AddressSanitizer and UBSan; `make bench` measures speed.
# Missing system libraries (libzmq, msgpack-c) are installed on first use.

CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
BUILD   ?= build/release
BIN     ?= bin
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Evaluated lazily: after deps/ok has installed what was missing.
# libzmq is not linked but opened on first use (common/zmqlib.c): by the
# soname of the library pkg-config finds.
PKG_CFLAGS = $(shell pkg-config --cflags libzmq msgpack)
PKG_LIBS   = $(shell pkg-config --libs msgpack) -ldl
ZMQ_SONAME = $(shell objdump -p "$$(pkg-config --variable=libdir libzmq)/libzmq.so" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
FILTERS    := $(basename $(notdir $(wildcard filters/*.c)))
TOOLS      := $(basename $(notdir $(wildcard tools/*.c)))
PROGRAMS   := $(FILTERS:%=$(BIN)/%) $(TOOLS:%=$(BIN)/%)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNITS      := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test test-deps check-asan check-valgrind demo bench fuzz clean
all: $(PROGRAMS) $(UNITS)

deps: deps/ok
deps/ok: tools/install-deps.sh
	@tools/install-deps.sh build
	@mkdir -p deps && touch $@

$(BUILD)/%.o: %.c $(wildcard common/*.h) | deps/ok
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(WARN) $(CFLAGS) $(KERNEL_CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -Icommon -c $< -o $@

# The kernels written in lanes (see common/lanes.h): -O3 vectorises their
# fixed-length loops, and -fno-trapping-math lets it turn their selects into
# blends (no floating-point trap is ever enabled). Same bits as -O2.
LANE_OBJ = $(BUILD)/common/logit.o $(BUILD)/common/psfit.o $(BUILD)/common/ipw.o
$(LANE_OBJ): KERNEL_CFLAGS = -O3 -fno-trapping-math
$(BUILD)/common/zmqlib.o: KERNEL_CFLAGS = -DPSFLOW_ZMQ_SONAME='"$(or $(ZMQ_SONAME),$(error libzmq.so not found where pkg-config says (libzmq3-dev)))"'

$(BUILD)/libpsflow.a: $(COMMON_OBJ)
	@ar rcs $@ $^

$(BIN)/%: $(BUILD)/filters/%.o $(BUILD)/libpsflow.a
	@mkdir -p $(BIN)
	@echo "  LINK  $@"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $^ -o $@ $(PKG_LIBS) -lm -lpthread

$(BIN)/%: $(BUILD)/tools/%.o $(BUILD)/libpsflow.a
	@mkdir -p $(BIN)
	@echo "  LINK  $@"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $^ -o $@ $(PKG_LIBS) -lm -lpthread

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libpsflow.a
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $^ -o $@ $(PKG_LIBS) -lm -lpthread

test-deps:
	@tools/install-deps.sh test
	@tools/install-deps.sh foreign || echo "make: python3-sklearn could not be installed: the foreign-stage test will be skipped" >&2

test: all test-deps
	@BIN=$(abspath $(BIN)) UNITS=$(abspath $(BUILD)/tests) tests/run.sh

# The same tests against a sanitizer build (separate objects and binaries).
check-asan: test-deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin \
	    OPT=-O1 EXTRA_CFLAGS="$(SAN_FLAGS)" all
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    BIN=$(abspath build/asan/bin) UNITS=$(abspath build/asan/tests) tests/run.sh

# The end-to-end study with every program under valgrind's memcheck.
check-valgrind: all
	@tests/valgrind.sh

demo: all
	@pipelines/demo.sh

bench: all
	@tools/bench/run.sh

# AFL++ on the stream reader, FUZZ_SECONDS long (tests/fuzz/run.sh).
fuzz:
	@tools/install-deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=build/fuzz BIN=build/fuzz/bin CC=afl-clang-fast \
	    OPT=-O1 EXTRA_CFLAGS="$(SAN_FLAGS)" build/fuzz/bin/mpcat
	@tests/fuzz/run.sh

clean:
	rm -rf build bin deps
.SECONDARY:
