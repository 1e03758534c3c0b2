# fuzz.mk: the libFuzzer targets, one per reader, built from fuzz/fuzz_read.c on top of the Makefile's library.
# fuzz/run.sh uses it as:
#   make -f Makefile -f fuzz/fuzz.mk BUILD=build-fuzz CC=clang SAN=1 NO_OMP=1 CFLAGS=-fsanitize=fuzzer-no-link fuzz-targets
FUZZ_FORMATS ?= gif webp png jpeg video webm tgs lottie svg
FUZZ_BIN := $(FUZZ_FORMATS:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: fuzz-targets
fuzz-targets: $(FUZZ_BIN)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_read.c $(BUILD)/libildiff.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_FORMAT=ILDIFF_FORMAT_$$(echo $* | tr a-z A-Z) $< $(BUILD)/libildiff.a $(ALL_LDFLAGS) \
	    -fsanitize=fuzzer $(PKG_LIBS) -o $@
