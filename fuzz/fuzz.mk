# fuzz.mk: the libFuzzer targets, one per reader, built from fuzz/fuzz_read.c on top of the Makefile's compile
# rules. They link only the I/O part of the library (src/base, src/io), which is all a reader uses, so the
# targets build quickly and do not depend on the model code. fuzz/run.sh uses it as:
#   make -f Makefile -f fuzz/fuzz.mk BUILD=build-fuzz CC=clang SAN=1 NO_OMP=1 CFLAGS=-fsanitize=fuzzer-no-link fuzz-targets
FUZZ_FORMATS ?= gif webp png jpeg video webm tgs lottie svg
FUZZ_BIN := $(FUZZ_FORMATS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard src/base/*.c src/io/*.c)))

.PHONY: fuzz-targets
fuzz-targets: $(FUZZ_BIN)

$(BUILD)/libildiff_io.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_read.c $(BUILD)/libildiff_io.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_FORMAT=ILDIFF_FORMAT_$$(echo $* | tr a-z A-Z) $< $(BUILD)/libildiff_io.a $(ALL_LDFLAGS) \
	    -fsanitize=fuzzer $(PKG_LIBS) -o $@
