/*
 * test_robust.c — the engine against what a hostile or careless caller gives it (issue 15):
 *   - extraction of texts of any length in a context of one window, step by step, with the entities of a
 *     run of every window at once (the reference: et_tokenize_windows, one et_context_run, et_merge_windows,
 *     softmax, the decoder), for every aggregation, several strides and contexts;
 *   - non-finite logits (NaN or infinite weights): an error naming the text, never a confident answer;
 *   - labels that are duplicated or hold a NUL byte: a corrupt file;
 *   - the file loader looks at a file's size and magic before reading it;
 *   - the memory cap is the WebAssembly build's alone.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "tagging.h"
#include "testlib.h"

static const char *const labels[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
static const char *const words[] = {"john", "##ny", "lives", "in", "new", "york", "##er", "x", "hello", "world", ".", "caf\xc3\xa9"};
#define N_WORDS (int)(sizeof words / sizeof words[0])

static size_t build(tl_model_spec *s, uint8_t **buf, int task) {
    s->task = task;
    s->n_labels = task == ET_TASK_EMBEDDING ? 0 : 5;
    s->label_names = labels;
    s->n_vocab = 5 + N_WORDS, s->words = words;
    return tl_build_model(s, buf, NULL);
}

static et_model *load(uint8_t *buf, size_t n) {
    et_model *m = NULL;
    et_error err;
    CHECK(et_model_load_from_buffer(buf, n, NULL, &m, &err) == ET_OK, "load: %s", err.message);
    return m;
}

static et_context *context(const et_model *m, int32_t max_tokens, int32_t max_texts, int32_t max_seq) {
    et_context_params cp = et_context_default_params();
    cp.max_tokens = max_tokens, cp.max_texts = max_texts, cp.max_seq = max_seq;
    et_context *ctx = NULL;
    CHECK(et_context_create(m, &cp, &ctx) == ET_OK, "context of %d tokens", max_tokens);
    return ctx;
}

/* ---- the reference: every window in one run ---------------------------------------------------------- */

static void softmax(const float *x, int n, float t, float *p) {
    float mx = x[0], sum = 0.0f;
    for (int j = 1; j < n; j++) mx = x[j] > mx ? x[j] : mx;
    for (int j = 0; j < n; j++) sum += (p[j] = expf((x[j] - mx) / t));
    for (int j = 0; j < n; j++) p[j] /= sum;
}

/* The entities of `text` computed the direct way; returns their count (out holds up to cap). */
static int32_t reference(const et_model *m, const char *text, int32_t window, int32_t stride, int32_t agg, et_entity *out,
                         int32_t cap) {
    et_model_info in;
    et_model_get_info(m, &in);
    int32_t nt, nw;
    et_error err;
    CHECK(et_tokenize_windows(m, text, strlen(text), window, stride, NULL, NULL, 0, NULL, NULL, 0, &nt, &nw, &err) == ET_OK,
          "count windows: %s", err.message);
    int32_t *ids = malloc((size_t)nt * 4), *offs = malloc((size_t)nt * 8), *len = malloc((size_t)nw * 4), *first = malloc((size_t)nw * 4);
    CHECK(et_tokenize_windows(m, text, strlen(text), window, stride, ids, offs, nt, len, first, nw, &nt, &nw, &err) == ET_OK, "windows");
    et_context *ctx = context(m, nt, nw, window);
    CHECK(et_context_run(ctx, ids, NULL, len, nw) == ET_OK, "run: %s", et_context_last_error(ctx));
    const float *logits;
    int32_t rows, C;
    et_context_logits(ctx, &logits, &rows, &C);
    const int32_t n = first[nw - 1] + len[nw - 1] - 2;
    float *probs = malloc(((size_t)n + 1) * (size_t)C * 4);
    int32_t *tid = malloc(((size_t)n + 1) * 4), *toff = malloc(((size_t)n + 1) * 8);
    et_merge_windows(logits, C, len, first, nw, probs, n);
    for (int32_t t = 0; t < n; t++) softmax(probs + (size_t)t * C, C, in.temperature, probs + (size_t)t * C);
    for (int32_t w = 0, row = 0; w < nw; row += len[w], w++)
        for (int32_t j = 0; j < len[w] - 2; j++) {
            const int32_t t = first[w] + j;
            tid[t] = ids[row + 1 + j], toff[2 * t] = offs[2 * (row + 1 + j)], toff[2 * t + 1] = offs[2 * (row + 1 + j) + 1];
        }
    et_entity *all = malloc(((size_t)n + 1) * sizeof *all);
    void *scratch = malloc(((size_t)n + 1) * ET_TAGGING_UNIT_BYTES + (size_t)C * 8);
    const int32_t ne = et__decode_entities(m, probs, tid, toff, n, agg, scratch, all);
    memcpy(out, all, (size_t)(ne < cap ? ne : cap) * sizeof *out);
    free(all), free(scratch), free(probs), free(tid), free(toff), free(ids), free(offs), free(len), free(first);
    et_context_free(ctx);
    return ne;
}

static int same_entities(const et_entity *a, const et_entity *b, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (a[i].type != b[i].type || a[i].label != b[i].label || a[i].start != b[i].start || a[i].end != b[i].end ||
            fabsf(a[i].score - b[i].score) > 1e-6f)
            return 0;
    return 1;
}

/* A random text of the vocabulary's words, typed specials, unknown words and punctuation. */
static char *random_text(tl_rng *r, int n_words) {
    static const char *const extra[] = {"[SEP]", "[UNK]", "zzq", "!", "  ", "\xf0\x9f\x98\x80", "John", "\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0"};
    char *s = malloc((size_t)n_words * 16 + 1);
    size_t at = 0;
    for (int i = 0; i < n_words; i++) {
        const int k = tl_int(r, 0, N_WORDS + 7);
        const char *w = k < N_WORDS ? words[k] : extra[k - N_WORDS];
        if (!strncmp(w, "##", 2)) w += 2, at -= at > 0 && s[at - 1] == ' '; /* glue a piece to the word before */
        at += (size_t)sprintf(s + at, "%s ", w);
    }
    s[at] = '\0';
    return s;
}

/* Collects a stepped extraction's entities (the steps' sizes vary, their union is the answer). */
static int32_t stepped(et_context *ctx, const char *text, int32_t agg, int32_t stride, et_entity *out, int32_t cap, int32_t *steps,
                       int32_t *escalate) {
    int32_t n = 0, done = 0;
    *steps = 0;
    if (et_context_extract_begin(ctx, text, strlen(text), agg, stride) != ET_OK) return -1;
    while (!done) {
        const et_entity *e;
        int32_t k;
        if (et_context_extract_next(ctx, &e, &k, escalate, &done) != ET_OK) return -1;
        for (int32_t i = 0; i < k && n < cap; i++) out[n++] = e[i];
        ++*steps;
    }
    return n;
}

static void test_any_length(void) {
    tl_model_spec s = tl_small_spec();
    s.threshold = 0.6f;
    uint8_t *buf;
    const size_t size = build(&s, &buf, ET_TASK_TOKEN_CLASSIFICATION);
    et_model *m = load(buf, size);
    enum { CAP = 20000 };
    et_entity *want = malloc(CAP * sizeof *want), *got = malloc(CAP * sizeof *got);
    tl_rng r = {7};
    int compared = 0;
    for (int round = 0; round < 60; round++) {
        char *text = random_text(&r, round < 10 ? round : tl_int(&r, 1, 400));
        const int32_t window = 6 + tl_int(&r, 0, 26), stride = tl_int(&r, -1, window - 3);
        const int32_t step_stride = stride < 0 ? (window - 2) / 4 : stride;
        for (int agg = ET_AGGREGATION_NONE; agg <= ET_AGGREGATION_MAX; agg++) {
            const int32_t nref = reference(m, text, window, step_stride, agg, want, CAP);
            for (int per_step = 1; per_step <= 3; per_step++) {
                et_context *ctx = context(m, window * per_step, per_step, window);
                const et_entity *e;
                int32_t n = -1, esc = -1, steps, esc2;
                const et_status st = et_context_extract(ctx, text, strlen(text), agg, stride, &e, &n, &esc);
                if (nref <= window * per_step) {
                    CHECK(st == ET_OK && n == nref && same_entities(e, want, n),
                          "round %d agg %d window %d stride %d, %d per step: status %d (%s), %d entities, want %d", round, agg,
                          window, stride, per_step, st, et_context_last_error(ctx), n, nref);
                    int want_esc = 0;
                    for (int32_t i = 0; i < nref; i++) want_esc |= want[i].score < 0.6f;
                    CHECK(st != ET_OK || esc == want_esc, "escalate");
                } else {
                    CHECK(st == ET_ERR_CAPACITY && strstr(et_context_last_error(ctx), "et_context_extract_begin"),
                          "too many entities for one call: %s", et_context_last_error(ctx));
                }
                const int32_t ns = stepped(ctx, text, agg, stride, got, CAP, &steps, &esc2);
                CHECK(ns == nref && same_entities(got, want, ns), "stepped: round %d agg %d window %d, %d per step: %d entities, want %d",
                      round, agg, window, per_step, ns, nref);
                compared++;
                et_context_free(ctx);
            }
        }
        free(text);
    }
    CHECK(compared == 60 * 5 * 3, "compared %d", compared);

    /* 50,000 words in a context of one 32-token window: no allocation, the last entity near the end. */
    char *text = random_text(&r, 50000);
    const size_t len = strlen(text);
    et_context *ctx = context(m, 32, 1, 32);
    int32_t steps, esc;
    const long allocs = tl_alloc_calls();
    const int32_t n = stepped(ctx, text, ET_AGGREGATION_SIMPLE, -1, got, CAP, &steps, &esc);
    CHECK(tl_alloc_calls() == allocs, "a stepped extraction allocates nothing");
    CHECK(n > 1000 && got[n - 1].end > (int32_t)(len * 8 / 10), "%d entities, the last ends at %d of ~%zu characters", n,
          n > 0 ? got[n - 1].end : -1, len);
    CHECK(steps > 1000, "%d steps", steps);
    /* A step after the last, and a step without a begin: STATE; a failed begin leaves no stream. */
    const et_entity *e;
    int32_t k, done;
    CHECK(et_context_extract_next(ctx, &e, &k, &esc, &done) == ET_ERR_STATE, "next after the end");
    CHECK(et_context_extract_begin(ctx, "\xff", 1, 1, -1) == ET_ERR_INPUT, "invalid UTF-8");
    CHECK(et_context_extract_next(ctx, &e, &k, &esc, &done) == ET_ERR_STATE, "next after a failed begin");
    CHECK(et_context_extract_begin(ctx, "x", 1, 9, -1) == ET_ERR_INVALID_ARGUMENT, "aggregation 9");
    CHECK(et_context_extract_begin(ctx, "hello", 5, 1, -1) == ET_OK, "begin");
    const char *t1[1] = {"x"};
    const size_t l1[1] = {1};
    CHECK(et_context_classify(ctx, t1, l1, 1) == ET_ERR_STATE, "classify with a tagger");
    CHECK(et_context_extract_next(ctx, &e, &k, &esc, &done) == ET_ERR_STATE, "another call ends the stream");
    et_context_free(ctx);
    free(text), free(want), free(got);
    et_model_free(m);
    free(buf);
}

/* ---- non-finite logits ------------------------------------------------------------------------------- */

/* Sets every float of tensor `name` to v in the model file. */
static void poison(uint8_t *buf, size_t size, const char *name, float v) {
    et_model *m = load(buf, size);
    et_model_info in;
    et_model_get_info(m, &in);
    int found = 0;
    for (int32_t i = 0; i < in.n_tensors; i++) {
        et_tensor_info t;
        et_model_tensor_info(m, i, &t);
        if (strcmp(t.name, name)) continue;
        for (uint32_t b = 0; b < t.n_bytes; b += 4) memcpy(buf + t.offset + b, &v, 4);
        found = 1;
    }
    et_model_free(m);
    CHECK(found, "tensor %s", name);
}

static void test_non_finite(void) {
    const float bad[] = {NAN, INFINITY};
    for (int k = 0; k < 2; k++) {
        tl_model_spec s = tl_small_spec();
        uint8_t *buf;
        size_t size = build(&s, &buf, ET_TASK_SEQUENCE_CLASSIFICATION);
        poison(buf, size, k ? "cls.output.bias" : "blk.1.ffn_down.weight", bad[k]);
        et_model *m = load(buf, size);
        et_context *ctx = context(m, 0, 0, 0);
        const char *texts[2] = {"hello", "world"};
        const size_t lens[2] = {5, 5};
        CHECK(et_context_classify(ctx, texts, lens, 2) == ET_ERR_NUMERIC && strstr(et_context_last_error(ctx), "text 0"),
              "classify with %s weights: %s", k ? "infinite" : "NaN", et_context_last_error(ctx));
        int32_t label;
        CHECK(et_context_classification(ctx, 0, &label, NULL, NULL, NULL) == ET_ERR_STATE, "no result to read");
        et_context_free(ctx);
        et_model_free(m);
        free(buf);

        s = tl_small_spec();
        size = build(&s, &buf, ET_TASK_TOKEN_CLASSIFICATION);
        poison(buf, size, k ? "cls.output.bias" : "blk.0.attn_q.weight", bad[k]);
        m = load(buf, size);
        ctx = context(m, 0, 0, 0);
        const et_entity *e;
        int32_t n, esc;
        CHECK(et_context_extract(ctx, "hello world", 11, ET_AGGREGATION_FIRST, -1, &e, &n, &esc) == ET_ERR_NUMERIC,
              "extract with %s weights: %s", k ? "infinite" : "NaN", et_context_last_error(ctx));
        et_context_free(ctx);
        et_model_free(m);
        free(buf);
    }
    CHECK(!strcmp(et_status_string(ET_ERR_NUMERIC), "non-finite result"), "status text: %s", et_status_string(ET_ERR_NUMERIC));
}

/* ---- labels ------------------------------------------------------------------------------------------- */

/* Found by fuzz_gguf: an int8 model whose activations reach infinity made the activation quantizer convert NaN to
 * an integer (undefined; UBSan stopped there). Every quantizer now gives levels in range and a non-finite scale. */
static void test_quantize_non_finite(void) {
    const float rows[3][8] = {{INFINITY, 1, -2, 3, 0, 0, 0, 0}, {NAN, 1, 2, 3, 4, 5, 6, 7}, {-INFINITY, INFINITY, 0, 0, 0, 0, 0, 0}};
    const et_q8_quantize_fn fns[4] = {et_q8_quantize_i16__scalar, et_q8_quantize_i16__wasmsimd, et_q8_quantize_u7__scalar,
                                      et_q8_quantize_u7__wasmsimd};
    for (int f = 0; f < 4; f++) {
        int16_t q16[3 * 8];
        float sa[3];
        int32_t za[3];
        fns[f](3, 8, &rows[0][0], 8, q16, 8, sa, za);
        for (int i = 0; i < 3; i++) CHECK(za[i] >= 0 && za[i] <= 255, "quantizer %d row %d: zero %d", f, i, za[i]);
        CHECK(!isfinite(sa[0]) && !isfinite(sa[2]), "quantizer %d: the scales of rows with infinities are not finite", f);
    }
}

static void test_labels(void) {
    static const char *const dup[] = {"O", "B-PER", "I-PER", "B-PER", "I-LOC"};
    static const char *const nul[] = {"O", "B-PER", "I-PER", "B-L\x01OC", "I-LOC"};
    static const char *const proto[] = {"O", "__proto__", "constructor", "toString", "hasOwnProperty"};
    const char *const *sets[] = {dup, nul, proto};
    for (int k = 0; k < 3; k++) {
        tl_model_spec s = tl_small_spec();
        s.task = ET_TASK_SEQUENCE_CLASSIFICATION, s.n_labels = 5, s.label_names = sets[k];
        uint8_t *buf;
        const size_t size = tl_build_model(&s, &buf, NULL);
        if (k == 1) { /* the NUL the builder cannot write: 0x01 replaced in place */
            uint8_t *hit = memmem(buf, size, "B-L\x01OC", 6);
            CHECK(hit != NULL, "label bytes");
            if (hit) hit[3] = 0;
        }
        et_model *m = NULL;
        et_error err;
        const et_status st = et_model_load_from_buffer(buf, size, NULL, &m, &err);
        if (k < 2)
            CHECK(st == ET_ERR_CORRUPT && strstr(err.message, k ? "NUL" : "twice"), "labels %d: %s", k, err.message);
        else
            CHECK(st == ET_OK, "JavaScript's special names are plain labels here: %s", err.message);
        et_model_free(m);
        free(buf);
    }
}

/* ---- files -------------------------------------------------------------------------------------------- */

static void test_file_checked_before_read(void) {
    char path[] = "/tmp/edgetag-robust-XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0, "temp file");
    /* 256 MiB that are not a model (a sparse file: nothing is written but the first bytes). */
    CHECK(write(fd, "NOTAGGUF", 8) == 8 && ftruncate(fd, 256 << 20) == 0, "write");
    close(fd);
    et_model *m = NULL;
    et_error err;
    const long calls = tl_alloc_calls();
    tl_alloc_largest_reset();
    CHECK(et_model_load_from_file(path, NULL, &m, &err) == ET_ERR_BAD_MAGIC, "bad magic: %s", err.message);
    CHECK(tl_alloc_largest() < (1 << 20), "the loader allocated %zu bytes for a file that is not a model", tl_alloc_largest());
    CHECK(tl_alloc_calls() - calls < 8, "allocations");
    remove(path);
}

static void test_memory_limit(void) {
    CHECK(et_memory_set_limit(64 << 20) == 0 && et_memory_set_limit(0) == 0, "natively the cap does nothing");
}

int main(void) {
    test_any_length();
    test_non_finite();
    test_quantize_non_finite();
    test_labels();
    test_file_checked_before_read();
    test_memory_limit();
    return tl_finish("test_robust");
}
