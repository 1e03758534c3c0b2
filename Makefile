# ildiff: one Makefile. `make` builds build/ildiff and build/libildiff.a; `make check` runs every test (release
# build, then AddressSanitizer + UBSan build); `make demo` mattes the bundled example with the shipped model; `make fuzz` runs
# every fuzz target for FUZZ_SECONDS each; `make bench` runs the benchmarks.
#
# Variables: BUILD (output folder, default build), SAN=1 (sanitizer build), NO_OMP=1 (single-threaded build).

BUILD ?= build
CC ?= cc
PKGS := libwebp libwebpmux libwebpdemux libpng libjpeg zlib libavformat libavcodec libavutil libswscale \
        rlottie librsvg-2.0 cairo libcjson openblas ompi-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lgif -ldnnl -lm -lpthread

WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wvla -Werror=implicit-function-declaration \
        -Werror=incompatible-pointer-types -Werror=return-type
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE $(WARN) -Iinclude -Isrc -MMD -MP -g $(PKG_CFLAGS)
ifeq ($(SAN),1)
  OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN := -fsanitize=address,undefined
else
  OPT := -O2 -march=native
  LDSAN :=
endif
ifeq ($(NO_OMP),1)
  OMP := -fopenmp-simd -Wno-unknown-pragmas
else
  OMP := -fopenmp
endif
ALL_CFLAGS := $(CFLAGS_BASE) $(OPT) $(OMP) $(CFLAGS)
ALL_LDFLAGS := $(LDSAN) $(OMP) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/*/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_SRC := $(filter-out $(CLI_SRC),$(LIB_SRC))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib tests benches check check-release check-asan demo fuzz bench clean fixtures setup paper
all: $(BUILD)/ildiff $(BUILD)/libildiff.a

lib: $(BUILD)/libildiff.a
tests: $(TEST_BIN) $(BUILD)/ildiff
benches: $(BENCH_BIN) $(BUILD)/ildiff

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libildiff.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/ildiff: $(CLI_OBJ) $(BUILD)/libildiff.a
	@echo "LD $@"
	@$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libildiff.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libildiff.a $(ALL_LDFLAGS) $(PKG_LIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libildiff.a
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) $< $(BUILD)/libildiff.a $(ALL_LDFLAGS) $(PKG_LIBS) -o $@

setup:
	./scripts/setup.sh

# PyTorch reference outputs for the parity tests (regenerated, never committed).
fixtures:
	/usr/bin/python3 tests/reference/make_fixtures.py --out build/fixtures

# Every test: the release build with the PyTorch fixtures, then the sanitizer build. Ends with "N passed, N failed".
check:
	./tests/run.sh

demo: all
	./scripts/demo.sh

FUZZ_SECONDS ?= 60
fuzz:
	./fuzz/run.sh $(FUZZ_SECONDS)

bench: benches
	./bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# `make paper`: the paper's tables and figures (`ildiff paper`, src/eval/paper.h) on TASD-T into report/, with every
# model row whose weights exist (scripts/paper.sh; the ablation rows come from scripts/train_default.sh).
paper: all
	ILDIFF=$(BUILD)/ildiff ./scripts/paper.sh
