# skindelta — plain Makefile: out-of-tree build in $(BUILD), per-file ISA flags, no configure step.
# `make help` lists the targets.

BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc
VERSION    := 0.1.0
SOVERSION  := 0

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Targets that need no compiler or dependencies.
NODEPS_GOALS := clean help uninstall
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
SKIP_DEPS := 1
endif

ifndef SKIP_DEPS
DEPS_STATUS := $(shell PKG_CONFIG="$(PKG_CONFIG)" ./tools/deps.sh >&2 && echo ok)
ifneq ($(DEPS_STATUS),ok)
$(error build dependencies are missing (see the message above))
endif
PKGS        := vips openblas libpng libjpeg
DEP_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS))
DEP_LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS)) -llapacke -lm -lpthread
endif

GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

OPT       ?= -O2
CFLAGS    ?= $(OPT) -g
WARN      := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wvla
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -fPIC -I. $(DEP_CFLAGS) \
             -DSD_VERSION='"$(VERSION)"' -DSD_GIT_REV='"$(GIT_REV)"' $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

# ---- sources (wildcards: a new file in one of these folders is built without editing this file)
LIB_SRC   := $(wildcard src/*.c) $(wildcard kernels/*.c) $(wildcard kernels/x86/*.c)
CLI_SRC   := $(wildcard src/cli/*.c)
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
CHECKASM_SRC := $(wildcard tests/checkasm/*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
CHECKASM_BIN := $(if $(CHECKASM_SRC),$(BUILD)/checkasm)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

STATIC_LIB := $(BUILD)/libskindelta.a
SHARED_LIB := $(BUILD)/libskindelta.so.$(VERSION)
CLI        := $(BUILD)/skindelta
PCFILE     := $(BUILD)/skindelta.pc

# ISA files get their target flags; everything else stays baseline x86-64.
$(BUILD)/kernels/x86/%_avx2.o:   ISA_CFLAGS := -mavx2 -mfma -mf16c
$(BUILD)/kernels/x86/%_avx512.o: ISA_CFLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c

.PHONY: all lib test check asan bench demo install uninstall clean help fuzz models samples
.DEFAULT_GOAL := all
# keep objects built through pattern chains (tests, benches, fuzz) to avoid relinking churn
.SECONDARY:

all: $(CLI) $(STATIC_LIB) $(SHARED_LIB) $(PCFILE)
lib: $(STATIC_LIB) $(SHARED_LIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(ISA_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC_LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libskindelta.so.$(SOVERSION) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(DEP_LIBS)
	$(Q)ln -sf libskindelta.so.$(VERSION) $(BUILD)/libskindelta.so

$(CLI): $(CLI_OBJ) $(STATIC_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(STATIC_LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJ) $(STATIC_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(TESTLIB_OBJ) $(STATIC_LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

$(BUILD)/checkasm: $(CHECKASM_SRC:%.c=$(BUILD)/%.o) $(STATIC_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CHECKASM_SRC:%.c=$(BUILD)/%.o) $(STATIC_LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

# Fuzz targets: built with a replay main() everywhere; `make fuzz` builds libFuzzer binaries with clang.
$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(STATIC_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(STATIC_LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

# Each bench/bench_<name>.c is one program, build/bench/bench_<name>.
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(STATIC_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC_LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

$(PCFILE): Makefile
	@mkdir -p $(@D)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: skindelta' 'Description: before/after facial skin change scores' 'Version: $(VERSION)' \
	  'Requires.private: vips openblas libpng libjpeg' 'Libs: -L$${libdir} -lskindelta' \
	  'Libs.private: -llapacke -lm -lpthread' 'Cflags: -I$${includedir}/skindelta' > $@

test: all $(TEST_BIN) $(CHECKASM_BIN) $(FUZZ_BIN)
	$(Q)BUILD=$(BUILD) ./tests/run.sh

check: test

# ASan+UBSan build of the library and the tests, in its own folder.
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" SD_ASAN=1 test

bench: all $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) ./bench/run.sh

fuzz:
	$(Q)./tests/fuzz/build-libfuzzer.sh $(BUILD)

# Face weights: npm pack of the pinned package, sha256-checked, converted byte-identically.
models:
	$(Q)python3 tools/convert_faceapi.py models

demo: all
	$(Q)BUILD=$(BUILD) ./tools/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/skindelta/src $(DESTDIR)$(PREFIX)/include/skindelta/kernels \
	  $(DESTDIR)$(PREFIX)/share/skindelta/models $(DESTDIR)$(PREFIX)/share/skindelta/samples/faces
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/skindelta
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libskindelta.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libskindelta.so.$(SOVERSION)
	ln -sf libskindelta.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libskindelta.so
	install -m 644 $(PCFILE) $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 644 src/skindelta.h $(DESTDIR)$(PREFIX)/include/skindelta/
	install -m 644 $(filter-out %_int.h %_internal.h,$(wildcard src/*.h)) $(DESTDIR)$(PREFIX)/include/skindelta/src/
	install -m 644 $(wildcard kernels/*.h) $(DESTDIR)$(PREFIX)/include/skindelta/kernels/
	$(if $(wildcard models/*.bin models/*.json),install -m 644 $(wildcard models/*.bin models/*.json) $(DESTDIR)$(PREFIX)/share/skindelta/models/)
	install -m 644 $(wildcard samples/faces/*.png) $(DESTDIR)$(PREFIX)/share/skindelta/samples/faces/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/skindelta $(DESTDIR)$(PREFIX)/lib/libskindelta.* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/skindelta.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/skindelta $(DESTDIR)$(PREFIX)/share/skindelta

clean:
	rm -rf $(BUILD) build-asan build-fuzz

help:
	@echo "skindelta $(VERSION) — targets:"
	@echo "  make            build build/skindelta, libskindelta.a/.so and skindelta.pc"
	@echo "  make demo       generate the sample course and run the whole job on it"
	@echo "  make test       kernel proofs (checkasm), unit and integration tests"
	@echo "  make asan       the tests again under AddressSanitizer + UBSan (build-asan/)"
	@echo "  make bench      kernel benchmark (MP/s, vs scalar, vs OpenCV); writes bench/results/"
	@echo "  make fuzz       libFuzzer builds of the fuzz targets (clang)"
	@echo "  make install    to \$$(DESTDIR)\$$(PREFIX) (PREFIX=$(PREFIX))"
	@echo "  make uninstall, make clean"
	@echo "Variables: BUILD=dir V=1 CC=... PKG_CONFIG=... PREFIX=... DESTDIR=..."

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)
