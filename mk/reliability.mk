# reliability.mk — sanitizer, valgrind and fuzzing targets (docs/reliability.md).
# Included by the Makefile; builds into its own directories and leaves build/ and bin/ alone.

# make sanitize: every tool and C test (and the ONNX test's dumpers) with ASan+UBSan into
# build-san/ and bin-san/, then the whole test suite against them.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_OBJ   := $(LIB_SRC:src/%.c=build-san/%.o) $(GEN_SRC:build/%.c=build-san/%.o)
SAN_TOOLS := $(TOOLS:bin/%=bin-san/%)
SAN_TESTS := $(TEST_BIN:build/tests/%=build-san/tests/%)

build-san/%.o: src/%.c | build/gen/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<
build-san/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<
build-san/libsigeo.a: $(SAN_OBJ)
	$(AR) rcs $@ $^
bin-san/%: src/tools/%.c build-san/libsigeo.a | bin-san
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< build-san/libsigeo.a $(LDLIBS)
build-san/tests/%: tests/%.c build-san/libsigeo.a | build-san/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< build-san/libsigeo.a $(LDLIBS)
build-san bin-san build-san/tests:
	mkdir -p $@

sanitize: $(SAN_TOOLS) $(SAN_TESTS) build-san/tests/onnx_dump build-san/tests/onnx_inputs
	SIGEO_BIN=$(CURDIR)/bin-san SIGEO_TESTS=build-san/tests SIGEO_SANITIZE=1 \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:allocator_may_return_null=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run.sh

# make valgrind: memcheck over sample-arch | score-sigeo (untrained supernet, tiny data)
# | rank, and the JSON round trip; any error or leak fails.
valgrind: bin/sample-arch bin/score-sigeo bin/rank bin/warmup-supernet bin/mp2json bin/json2mp \
          bin/train-arch bin/predict
	tests/valgrind.sh

# make fuzz FUZZ_SECONDS=60: each libFuzzer harness in fuzz/ for FUZZ_SECONDS, starting
# from the committed seeds (fuzz/corpus/NAME); new inputs go to build-fuzz/corpus/NAME,
# crashes to build-fuzz/crash-NAME-*.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
FUZZ_NAMES   := rec json ckpt model
FUZZ_OBJ     := $(LIB_SRC:src/%.c=build-fuzz/%.o) $(GEN_SRC:build/%.c=build-fuzz/%.o)

build-fuzz/%.o: src/%.c | build/gen/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build-fuzz/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build-fuzz/libsigeo.a: $(FUZZ_OBJ)
	$(AR) rcs $@ $^
build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libsigeo.a | build-fuzz
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libsigeo.a $(LDLIBS)
build-fuzz:
	mkdir -p $@

fuzz: $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
	@for n in $(FUZZ_NAMES); do \
	    mkdir -p build-fuzz/corpus/$$n; \
	    echo "fuzz_$$n: $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	        -artifact_prefix=build-fuzz/crash-$$n- -print_final_stats=1 \
	        build-fuzz/corpus/$$n fuzz/corpus/$$n > build-fuzz/fuzz_$$n.log 2>&1; rc=$$?; \
	    grep -E "ERROR|SUMMARY|Test unit written|^Done|exec_per_sec|new_units" build-fuzz/fuzz_$$n.log; \
	    [ $$rc -eq 0 ] || { echo "fuzz_$$n: crash (log build-fuzz/fuzz_$$n.log); add the input to tests/regress/$$n/"; exit 1; }; \
	done

.PHONY: sanitize valgrind fuzz
-include $(wildcard build-san/*.d build-san/tests/*.d)
