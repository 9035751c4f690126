# sigeo — sub-one-shot NAS as small Unix filters.
CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -Iinclude
# The engine's parallel loops (layers.c's lay_par); without OpenMP they run in order.
CFLAGS  += -fopenmp
MSGPACK := $(shell pkg-config --exists msgpack-c && echo msgpack-c || echo msgpack)
PKGS    := $(MSGPACK) openblas zlib stb libprotobuf-c
CFLAGS  += $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm
# Link only the libraries a tool uses: rank and the JSON converters then do not load
# OpenBLAS, whose thread start-up fails under a tight ulimit -v (docs/reliability.md).
LDFLAGS += -Wl,--as-needed

# src/tools/: one source file per tool. The other folders of src/ are the layers of the
# library every tool links (docs/architecture.md).
LAYERS     := base io data engine spaces model proxies export
TOOL_SRC   := $(wildcard src/tools/*.c)
TOOLS      := $(TOOL_SRC:src/tools/%.c=bin/%)
LIB_SRC    := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
# ONNX's schema compiled to C by protobuf-c at build time (src/export/ writes ONNX files).
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
GEN_SRC    := build/gen/onnx.pb-c.c
LIB_OBJ    := $(LIB_SRC:src/%.c=build/%.o) $(GEN_SRC:.c=.o)
CFLAGS     += -Ibuild/gen
TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(TEST_SRC:tests/%.c=build/tests/%)

all: $(TOOLS)

build/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

build/gen/onnx.pb-c.c build/gen/onnx.pb-c.h &: $(ONNX_PROTO)
	@mkdir -p build/gen
	protoc-c --proto_path=$(dir $(ONNX_PROTO)) --c_out=build/gen $(ONNX_PROTO)

build/gen/%.o: build/gen/%.c
	$(CC) $(CFLAGS) -c -o $@ $<

# Every object may include the generated header: it exists before any is compiled.
$(LIB_OBJ) $(TEST_BIN): | build/gen/onnx.pb-c.h

# The engine's loops (ReLU, BN, pooling, im2col, the conv paths) need the loop vectorizer.
$(filter build/engine/%,$(LIB_OBJ)): CFLAGS += -O3

build/libsigeo.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

bin/%: build/tools/%.o build/libsigeo.a | bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libsigeo.a $(LDLIBS)

build/tests/%: tests/%.c build/libsigeo.a | build/tests
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< build/libsigeo.a $(LDLIBS)

bin build/tests:
	mkdir -p $@

# Runs every C test and every tests/t_*.sh; prints "N passed, N failed".
test: all $(TEST_BIN) build/tests/onnx_dump build/tests/onnx_inputs
	@tests/run.sh

# Engine cross-check against PyTorch (tests/torch_check.py; skips when torch is missing).
torch-check: build/tests/torch_dump
	/usr/bin/python3 tests/torch_check.py build/tests/torch_dump

# Whole DARTS networks against PyTorch (tests/darts_check.py; skips when torch is missing).
darts-check: build/tests/darts_dump
	/usr/bin/python3 tests/darts_check.py build/tests/darts_dump

# Warm-up throughput against PyTorch and the time of a default warm-up (docs/warmup.md).
bench-warmup: bin/warmup-supernet
	bench/warmup.sh

# Scoring throughput against PyTorch and the time to score all cells (docs/proxies.md).
bench-score: bin/warmup-supernet bin/sample-arch bin/score-sigeo
	bench/score.sh

# Engine throughput vs PyTorch and sgemm peak (bench/engine.sh; not a test).
build/bench/bench_engine: bench/bench_engine.c build/libsigeo.a | build/bench
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libsigeo.a $(LDLIBS)

# im2col vs direct conv paths, per shape (bench/bench_conv.c; docs/engine.md).
build/bench/bench_conv: bench/bench_conv.c build/libsigeo.a | build/bench
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libsigeo.a $(LDLIBS)

# DARTS network steps for bench/darts.py (engine vs PyTorch, alternating).
build/bench/bench_darts: bench/bench_darts.c build/libsigeo.a | build/bench
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libsigeo.a $(LDLIBS)

# Model file load and build time (bench/bench_model.c; docs/models.md).
build/bench/bench_model: bench/bench_model.c build/libsigeo.a | build/bench
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libsigeo.a $(LDLIBS)

bench-darts: build/bench/bench_darts
	/usr/bin/python3 bench/darts.py

build/bench:
	mkdir -p $@

bench-engine:
	bench/engine.sh $(THREADS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build bin

.PHONY: all test install clean torch-check darts-check bench-darts bench-engine bench-warmup bench-score
.PRECIOUS: build/%.o
# sanitize, valgrind, fuzz (docs/reliability.md)
include mk/reliability.mk
-include $(wildcard build/*/*.d build/tests/*.d)
