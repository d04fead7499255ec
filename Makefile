# psflow — `make` builds every program into bin/ (and never installs
# anything: `make deps` installs the system libraries it needs, once);
# `make demo` runs the opt-in study; `make test` installs what the tests need
# and runs them; `make check-asan` runs them again under AddressSanitizer
# and UBSan; `make bench` measures speed; `make install` (PREFIX, DESTDIR).
# V=1 shows the commands.

VERSION  = 0.15.0
CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/psflow
MANDIR  ?= $(PREFIX)/share/man/man1
WARN     = -std=c11 -Wall -Wextra -Werror
DEFS     = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DPSFLOW_VERSION='"$(VERSION)"'
BUILD   ?= build/release
BIN     ?= bin
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# libxgboost is C++ and opened with dlopen: clang's ASan resolves its
# __cxa_throw interceptor at start, so the C++ runtime must be loaded by then
# or XGBoost's first exception (a model it cannot read) aborts the program.
SAN_LIBS = -Wl,--no-as-needed -lstdc++ -Wl,--as-needed

ifeq ($(V),1)
Q =
else
Q = @
endif

# The layers, lowest first: base (errors, memory, column tables), kernels
# (numerics on arrays: no MessagePack, no ZeroMQ, never exit), transport
# (pipes, files, ZeroMQ), wire (MessagePack stream, model files, CSV),
# stages (the stage framework, one module per estimator, boot's engine).
LAYERS   = base kernels transport wire stages
INCLUDES = $(LAYERS:%=-I%)

# pkg-config finds the system libraries; without them the build stops and
# says how to get them (`make deps`), it never installs by itself.
HAVE_PKGS := $(shell pkg-config --exists libzmq msgpack libisal libsodium librsvg-2.0 cairo xgboost libpq sqlite3 jansson 2>/dev/null && echo yes)
# (The goals that install them first, and those that need no compiler, are
# let through: their sub-make checks again.)
ifeq ($(filter deps clean uninstall test test-deps demo check-asan check-asan-clang fuzz,$(MAKECMDGOALS))$(HAVE_PKGS),)
$(error libzmq, msgpack-c, ISA-L, libsodium, librsvg, cairo, xgboost, libpq, sqlite3 or jansson were not found with pkg-config: run 'make deps' (installs Debian's libzmq3-dev, libmsgpack-dev, libisal-dev, libsodium-dev, librsvg2-dev, libxgboost-dev, libpq-dev, libsqlite3-dev and libjansson-dev), or install them yourself)
endif
PKG_CFLAGS = $(shell pkg-config --cflags libzmq msgpack libisal libsodium xgboost 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs msgpack libisal libsodium 2>/dev/null)
LDLIBS    += $(PKG_LIBS) -ldl -lm -lpthread $(EXTRA_LDLIBS)
# libzmq is not linked but opened on first use (transport/zmqlib.c), by the
# soname of the library pkg-config finds.
ZMQ_SONAME = $(shell objdump -p "$$(pkg-config --variable=libdir libzmq)/libzmq.so" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
# libxgboost likewise (kernels/xgblib.c), opened when a program first boosts;
# found where the linker finds it (Debian's xgboost.pc names /usr/lib, but
# the library is in the multiarch directory).
XGB_SONAME = $(shell objdump -p "$$($(CC) -print-file-name=libxgboost.so)" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')

LIB_SRC  := $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
FILTERS  := $(basename $(notdir $(wildcard filters/*.c)))
TOOLS    := $(basename $(notdir $(wildcard tools/*.c)))
PROGRAMS := $(FILTERS) $(TOOLS)
PROGRAM_BINS := $(PROGRAMS:%=$(BIN)/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Fuzz harnesses (tests/fuzz/harness_NAME.c): replayers of the kept corpus
# for make test, libFuzzer targets for make fuzz.
FUZZ_NAMES   := $(patsubst tests/fuzz/harness_%.c,%,$(wildcard tests/fuzz/harness_*.c))
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz-%)
MANPAGES := $(PROGRAMS:%=$(BUILD)/man/psflow-%.1) $(BUILD)/man/psflow.1


.PHONY: FORCE all deps test test-deps test-slow check-asan check-asan-clang check-valgrind demo bench fuzz fuzz-targets man readme-figure \
	install uninstall clean
all: $(PROGRAM_BINS) $(BIN)/psflow $(UNITS) $(FUZZ_REPLAYS)

deps:
	@tools/install-deps.sh build

COMPILE = $(CC) $(WARN) $(DEFS) $(CPPFLAGS) $(CFLAGS) $(KERNEL_CFLAGS) $(EXTRA_CFLAGS) \
	$(PKG_CFLAGS) $(INCLUDES) -MMD -MP

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(COMPILE) -c $< -o $@

# The kernels written in lanes (see kernels/lanes.h): -O3 vectorises their
# fixed-length loops, and -fno-trapping-math lets it turn their selects into
# blends (no floating-point trap is ever enabled). Same bits as -O2.
LANE_OBJ = $(BUILD)/kernels/logit.o $(BUILD)/kernels/psfit.o $(BUILD)/kernels/ipw.o \
	$(BUILD)/kernels/design.o
$(LANE_OBJ): KERNEL_CFLAGS = -O3 -fno-trapping-math
$(BUILD)/kernels/xgblib.o: KERNEL_CFLAGS = -DPSFLOW_XGB_SONAME='"$(or $(XGB_SONAME),$(error libxgboost.so not found by $(CC) -print-file-name (libxgboost-dev)))"'
$(BUILD)/transport/zmqlib.o: KERNEL_CFLAGS = -DPSFLOW_ZMQ_SONAME='"$(or $(ZMQ_SONAME),$(error libzmq.so not found where pkg-config says (libzmq3-dev)))"'

$(BUILD)/libpsflow.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

LINK = $(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS)

$(BIN)/%: $(BUILD)/filters/%.o $(BUILD)/libpsflow.a
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(LINK) $^ -o $@ $(LDLIBS)

$(BIN)/%: $(BUILD)/tools/%.o $(BUILD)/libpsflow.a
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(LINK) $^ -o $@ $(LDLIBS)

# report draws its figures with the code in tools/report/ and renders PNG
# with librsvg and cairo (only report links them).
REPORT_SRC := $(wildcard tools/report/*.c)
REPORT_OBJ := $(REPORT_SRC:%.c=$(BUILD)/%.o)
RSVG_CFLAGS = $(shell pkg-config --cflags librsvg-2.0 cairo 2>/dev/null)
RSVG_LIBS   = $(shell pkg-config --libs librsvg-2.0 cairo 2>/dev/null)
$(BUILD)/tools/report/png.o: KERNEL_CFLAGS = $(RSVG_CFLAGS)
$(BUILD)/tools/report.o $(REPORT_OBJ): INCLUDES += -Itools
$(BIN)/report: $(BUILD)/tools/report.o $(REPORT_OBJ) $(BUILD)/libpsflow.a
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(LINK) $^ -o $@ $(LDLIBS) $(RSVG_LIBS)

# The database converters link the database's own client library (only they).
PQ_CFLAGS = $(shell pkg-config --cflags libpq 2>/dev/null)
PQ_LIBS   = $(shell pkg-config --libs libpq 2>/dev/null)
SQLITE_LIBS = $(shell pkg-config --libs sqlite3 2>/dev/null)
$(BUILD)/tools/pg2mp.o $(BUILD)/tools/mp2pg.o: KERNEL_CFLAGS = $(PQ_CFLAGS)
$(BIN)/pg2mp $(BIN)/mp2pg: LDLIBS += $(PQ_LIBS)
$(BIN)/sqlite2mp $(BIN)/mp2sqlite: LDLIBS += $(SQLITE_LIBS)
JANSSON_CFLAGS = $(shell pkg-config --cflags jansson 2>/dev/null)
JANSSON_LIBS   = $(shell pkg-config --libs jansson 2>/dev/null)
$(BUILD)/tools/jsonl2mp.o $(BUILD)/tools/mp2jsonl.o: KERNEL_CFLAGS = $(JANSSON_CFLAGS)
$(BIN)/jsonl2mp $(BIN)/mp2jsonl: LDLIBS += $(JANSSON_LIBS)

# The front command: `psflow PROGRAM ARGS` runs the program of that name
# from beside it (bin/) or from LIBEXECDIR once installed.
# The list of programs psflow knows, rewritten only when it changes, so that
# a new program rebuilds the front command.
$(BUILD)/programs.list: FORCE
	@mkdir -p $(dir $@)
	@echo "$(PROGRAMS)" | cmp -s - $@ 2>/dev/null || echo "$(PROGRAMS)" >$@
FORCE:
$(BUILD)/psflow.o: tools/psflow/psflow.c $(BUILD)/programs.list
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(COMPILE) -DPSFLOW_BINDIR='"$(BINDIR)"' -DPSFLOW_LIBEXECDIR='"$(LIBEXECDIR)"' \
	    -DPSFLOW_PROGRAMS='"$(PROGRAMS)"' -c $< -o $@
$(BIN)/psflow: $(BUILD)/psflow.o $(BUILD)/libpsflow.a
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(LINK) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libpsflow.a
	@mkdir -p $(dir $@)
	$(Q)$(LINK) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/fuzz/%.o: INCLUDES += -Itests/fuzz
$(BUILD)/tests/fuzz-%: $(BUILD)/tests/fuzz/harness_%.o $(BUILD)/tests/fuzz/standalone.o $(BUILD)/libpsflow.a
	@mkdir -p $(dir $@)
	$(Q)$(LINK) $^ -o $@ $(LDLIBS)
$(BUILD)/fuzz-%: $(BUILD)/tests/fuzz/harness_%.o $(BUILD)/libpsflow.a
	$(Q)$(LINK) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)
fuzz-targets: $(FUZZ_NAMES:%=$(BUILD)/fuzz-%)

# Man pages are made from each program's --help, so they cannot drift.
man: $(MANPAGES)
$(BUILD)/man/psflow-%.1: $(BIN)/% tools/man/help2man.sh
	@mkdir -p $(dir $@)
	$(Q)tools/man/help2man.sh $(VERSION) $* $(BIN)/$* >$@
$(BUILD)/man/psflow.1: $(BIN)/psflow tools/man/help2man.sh
	@mkdir -p $(dir $@)
	$(Q)tools/man/help2man.sh $(VERSION) psflow $(BIN)/psflow >$@

# INSTALL_ONLY=1 installs what is built without building (the install test
# installs the build under test, whatever flags made it).
install: $(if $(INSTALL_ONLY),,all man)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)
	install -m 755 $(BIN)/psflow $(DESTDIR)$(BINDIR)/psflow
	install -m 755 $(PROGRAM_BINS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/psflow $(PROGRAMS:%=$(DESTDIR)$(LIBEXECDIR)/%)
	rm -f $(PROGRAMS:%=$(DESTDIR)$(MANDIR)/psflow-%.1) $(DESTDIR)$(MANDIR)/psflow.1
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

test-deps:
	@tools/install-deps.sh build
	@tools/install-deps.sh test
	@tools/install-deps.sh foreign || echo "make: python3-sklearn could not be installed: the foreign-stage test will be skipped" >&2
	@tools/install-deps.sh browser || echo "make: chromium could not be installed: the browser test will be skipped" >&2
	@tools/install-deps.sh db || echo "make: postgresql could not be installed: the PostgreSQL tests will be skipped" >&2

# `make test` is the README's second command: it installs what the tests
# need (test-deps), then builds (a sub-make, which sees the libraries).
test: test-deps
	@$(MAKE) --no-print-directory all man
	@BIN=$(abspath $(BIN)) UNITS=$(abspath $(BUILD)/tests) MAN=$(abspath $(BUILD)/man) tests/run.sh

# The coverage studies (tools/coverage/coverage.py): 500 data sets per
# scenario, every estimate and interval method; fails unless each method
# psflow recommends covers 93-97%. Long (about 10 minutes on 2 cores); the
# table goes to build/coverage.md.
test-slow: all
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/coverage.md
	@set -e; PATH=$(abspath $(BIN)):$$PATH; \
	/usr/bin/python3 tools/coverage/coverage.py --scenario reference --datasets 500 --rows 2000 \
	    --boot 200 --json $(BUILD)/coverage-reference.json --check | tee -a $(BUILD)/coverage.md; \
	/usr/bin/python3 tools/coverage/coverage.py --scenario realistic --datasets 500 --rows 4000 \
	    --boot 200 --json $(BUILD)/coverage-realistic.json --check | tee -a $(BUILD)/coverage.md; \
	/usr/bin/python3 tools/coverage/coverage.py --scenario spillover --gen-args "--spillover 0" \
	    --datasets 500 --rows 2000 --boot 200 --json $(BUILD)/coverage-clustered.json --check \
	    | tee -a $(BUILD)/coverage.md; \
	/usr/bin/python3 tools/coverage/table.py $(BUILD)/coverage-reference.json \
	    $(BUILD)/coverage-realistic.json $(BUILD)/coverage-clustered.json | tee -a $(BUILD)/coverage.md

# The same tests against a sanitizer build (separate objects and binaries);
# check-asan-clang the same with clang.
ASAN_BUILD ?= build/asan
check-asan: test-deps
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) BIN=$(ASAN_BUILD)/bin \
	    OPT=-O1 EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDLIBS="$(SAN_LIBS)" all man
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 PSFLOW_SANITIZER=asan \
	    BIN=$(abspath $(ASAN_BUILD)/bin) UNITS=$(abspath $(ASAN_BUILD)/tests) \
	    MAN=$(abspath $(ASAN_BUILD)/man) tests/run.sh

check-asan-clang:
	@tools/install-deps.sh clang
	@$(MAKE) --no-print-directory CC=clang ASAN_BUILD=build/asan-clang check-asan

# The end-to-end study with every program under valgrind's memcheck.
check-valgrind: all
	@tests/valgrind.sh

# `make demo` is the README's first command: it installs the libraries when
# they are missing, then builds and runs the study.
demo:
	@tools/install-deps.sh build
	@$(MAKE) --no-print-directory all
	@pipelines/demo.sh

bench: all
	@tools/bench/run.sh

# The README's picture: the reference study's report --html page, as
# headless Chromium renders it (needs chromium: tools/install-deps.sh browser).
readme-figure: all
	@mkdir -p $(BUILD)
	@REPORT_HTML=$(BUILD)/optin-report.html pipelines/optin-study.sh >/dev/null
	@/usr/bin/python3 tests/py/browser.py $(BUILD)/optin-report.html docs/report.png 1 >/dev/null
	@echo "docs/report.png: the report of pipelines/optin-study.sh"

# libFuzzer (clang) on every parser of outside bytes, each harness
# FUZZ_SECONDS long (default 80), in one process per harness, under ASan and
# UBSan, from the corpus kept in tests/fuzz/corpus (tests/fuzz/run.sh).
fuzz:
	@tools/install-deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    EXTRA_LDLIBS="$(SAN_LIBS)" fuzz-targets
	@tests/fuzz/run.sh build/fuzz $(FUZZ_NAMES)

clean:
	rm -rf build bin deps

-include $(LIB_OBJ:.o=.d) $(REPORT_OBJ:.o=.d) $(PROGRAMS:%=$(BUILD)/filters/%.d) $(PROGRAMS:%=$(BUILD)/tools/%.d) \
	$(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d) $(BUILD)/psflow.d \
	$(wildcard $(BUILD)/tests/fuzz/*.d)
.SECONDARY:
