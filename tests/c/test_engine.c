/*
 * test_engine.c — the public API and the forward pass on in-memory models:
 *  - the SIMD forward pass against the scalar-reference forward pass, for every task and odd sizes;
 *  - ragged batching: a text's outputs are bit-identical alone or in any batch;
 *  - F16, BF16-free and Q8_0 files give bit-identical outputs to F32 files holding the same values;
 *  - every input error, the result state machine, NULL-safety, versions;
 *  - no allocation in a run; out-of-memory at every allocation of loading and context creation.
 * Parity with PyTorch is tested on real reference models by tests/js/parity.test.mjs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "engine_helpers.h"

static void test_reference_vs_simd_and_batching(void) {
    struct {
        int task, n_embd, n_head, n_ff, labels;
    } shapes[] = {
        {ET_TASK_EMBEDDING, 24, 3, 40, 0},
        {ET_TASK_SEQUENCE_CLASSIFICATION, 20, 4, 33, 3},   /* head size 5, odd FFN */
        {ET_TASK_TOKEN_CLASSIFICATION, 30, 2, 17, 5},      /* head size 15 */
        {ET_TASK_SEQUENCE_CLASSIFICATION, 16, 16, 64, 1},  /* head size 1, one label */
    };
    const int32_t lengths[] = {1, 7, 32, 3, 17};
    const int n_texts = 5;
    tl_rng r = {99};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        tl_model_spec s = tl_small_spec();
        s.task = shapes[si].task, s.n_embd = shapes[si].n_embd, s.n_head = shapes[si].n_head;
        s.n_ff = shapes[si].n_ff, s.n_labels = shapes[si].labels, s.seed = 100 + si;
        loaded l = load_spec(&s);
        if (!l.m) continue;
        int32_t ids[64], types[64];
        const int32_t total = make_batch(&r, s.n_vocab, s.n_types, lengths, n_texts, ids, types);
        for (int hidden = 0; hidden < 2; hidden++) {
            int32_t rows, cols, rows2, cols2;
            float *simd = run(l.m, ET_KERNELS_AUTO, ids, types, lengths, n_texts, hidden, &rows, &cols);
            float *ref = run(l.m, ET_KERNELS_REFERENCE, ids, types, lengths, n_texts, hidden, &rows2, &cols2);
            CHECK(rows == rows2 && cols == cols2, "shape");
            const int per_token = hidden || s.task == ET_TASK_TOKEN_CLASSIFICATION;
            CHECK(rows == (per_token ? total : n_texts), "rows %d", rows);
            CHECK(cols == (hidden ? s.n_embd : s.task == ET_TASK_EMBEDDING ? s.n_embd : s.n_labels), "cols %d", cols);
            const double d = max_abs_diff(simd, ref, (size_t)rows * cols);
            CHECK(d <= FORWARD_ABS_TOL, "shape %zu hidden=%d: SIMD vs reference max diff %g", si, hidden, d);
            double mag = 0;
            for (int i = 0; i < rows * cols; i++) mag = fmax(mag, fabs(ref[i]));
            CHECK(mag > 0.05, "shape %zu: outputs are all near zero (%g); the comparison would be vacuous", si, mag);

            /* Each text alone must give bit-identical rows, with either kernel set. */
            for (int kernels = 0; kernels < 2; kernels++) {
                const float *batch = kernels ? ref : simd;
                int32_t start = 0, row = 0;
                for (int b = 0; b < n_texts; b++) {
                    int32_t r1, c1;
                    float *alone = run(l.m, kernels, ids + start, types + start, &lengths[b], 1, hidden, &r1, &c1);
                    CHECK(alone && memcmp(alone, batch + (size_t)row * cols, sizeof(float) * (size_t)r1 * c1) == 0,
                          "shape %zu kernels %d hidden %d: text %d alone differs from the batch", si, kernels, hidden, b);
                    free(alone);
                    start += lengths[b];
                    row += per_token ? lengths[b] : 1;
                }
            }
            free(simd), free(ref);
        }
        unload(&l);
    }
}

/* Files storing the same values as F16 / Q8_0 / with alignment 1 must give bit-identical outputs. */
static void test_weight_types(void) {
    const int types[] = {1, 8};
    for (int i = 0; i < 2; i++) {
        tl_model_spec s = tl_small_spec();
        s.n_embd = 32, s.n_head = 4, s.n_ff = 64; /* rows multiple of the Q8_0 block */
        s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 32;
        s.weight_type = types[i];
        loaded q = load_spec(&s);
        s.weight_type = 0, s.round_to = types[i];
        loaded f = load_spec(&s);
        const int32_t ids[] = {1, 9, 17, 33, 2}, lengths[] = {5};
        int32_t r1, c1, r2, c2;
        float *a = run(q.m, ET_KERNELS_AUTO, ids, NULL, lengths, 1, 0, &r1, &c1);
        float *b = run(f.m, ET_KERNELS_AUTO, ids, NULL, lengths, 1, 0, &r2, &c2);
        CHECK(a && b && r1 == r2 && c1 == c2 && memcmp(a, b, sizeof(float) * (size_t)r1 * c1) == 0,
              "type %d file differs from the F32 file with the same values", types[i]);
        et_model_info in;
        et_model_get_info(q.m, &in);
        CHECK(in.owned_bytes > 0 && in.weights_bytes > 0, "converted bytes are owned");
        free(a), free(b);
        unload(&q), unload(&f);
    }
    tl_model_spec s = tl_small_spec();
    loaded a32 = load_spec(&s);
    s.alignment = 1;
    loaded a1 = load_spec(&s);
    const int32_t ids[] = {1, 9, 17, 2}, lengths[] = {4};
    int32_t r1, c1, r2, c2;
    float *x = run(a32.m, ET_KERNELS_AUTO, ids, NULL, lengths, 1, 0, &r1, &c1);
    float *y = run(a1.m, ET_KERNELS_AUTO, ids, NULL, lengths, 1, 0, &r2, &c2);
    CHECK(x && y && memcmp(x, y, sizeof(float) * (size_t)r1 * c1) == 0, "alignment 1 file differs");
    free(x), free(y);
    unload(&a32), unload(&a1);
}

static void test_inputs_and_state(void) {
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_SEQUENCE_CLASSIFICATION, s.n_labels = 3;
    loaded l = load_spec(&s);
    et_context_params cp = et_context_default_params();
    cp.max_tokens = 20, cp.max_texts = 3, cp.max_seq = 16;
    et_context *ctx = NULL;
    CHECK(et_context_create(l.m, &cp, &ctx) == ET_OK, "context");
    const float *out;
    int32_t rows, cols;
    CHECK(et_context_logits(ctx, &out, &rows, &cols) == ET_ERR_STATE, "logits before any run");
    CHECK(strstr(et_context_last_error(ctx), "et_context_run"), "message: %s", et_context_last_error(ctx));

    int32_t ids[40], lengths[4] = {3, 3, 3, 3};
    for (int i = 0; i < 40; i++) ids[i] = 5 + i;
    CHECK(et_context_run(ctx, ids, NULL, lengths, 2) == ET_OK, "good run");
    CHECK(et_context_logits(ctx, &out, &rows, &cols) == ET_OK && rows == 2 && cols == 3, "logits %dx%d", rows, cols);
    CHECK(et_context_last_error(ctx)[0] == '\0', "no error after success");

    struct {
        int32_t bad_id, bad_type, len0, n_texts, len1;
        et_status want;
        const char *mention;
    } cases[] = {
        {-1, 0, 3, 1, 3, ET_ERR_INPUT, "-1"},
        {50, 0, 3, 1, 3, ET_ERR_INPUT, "50"},
        {0, 2, 3, 1, 3, ET_ERR_INPUT, "type id 2"},
        {0, -1, 3, 1, 3, ET_ERR_INPUT, "type id -1"},
        {0, 0, 0, 1, 3, ET_ERR_INPUT, "length 0"},
        {0, 0, 3, 0, 3, ET_ERR_INPUT, "0 texts"},
        {0, 0, 3, 4, 3, ET_ERR_CAPACITY, "4 texts"},
        {0, 0, 17, 1, 3, ET_ERR_CAPACITY, "max_seq"},
        {0, 0, 16, 2, 16, ET_ERR_CAPACITY, "max_tokens"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t in_ids[40], in_types[40], lens[4] = {cases[i].len0, cases[i].len1, 3, 3};
        for (int t = 0; t < 40; t++) in_ids[t] = 5 + t, in_types[t] = 0;
        if (cases[i].bad_id) in_ids[1] = cases[i].bad_id;
        if (cases[i].bad_type) in_types[2] = cases[i].bad_type;
        CHECK(et_context_run(ctx, ids, NULL, lengths, 1) == ET_OK, "reset run");
        const et_status st = et_context_run(ctx, in_ids, in_types, lens, cases[i].n_texts);
        CHECK(st == cases[i].want, "case %zu: status %d want %d (%s)", i, st, cases[i].want, et_context_last_error(ctx));
        CHECK(strstr(et_context_last_error(ctx), cases[i].mention), "case %zu message: %s", i, et_context_last_error(ctx));
        /* A failed run leaves no result behind, and says why. */
        CHECK(et_context_logits(ctx, &out, &rows, &cols) == ET_ERR_STATE, "case %zu: stale result readable", i);
        CHECK(strstr(et_context_last_error(ctx), cases[i].mention), "case %zu: reason kept", i);
    }
    CHECK(et_context_run(ctx, NULL, NULL, lengths, 1) == ET_ERR_INVALID_ARGUMENT, "NULL ids");
    CHECK(et_context_run(ctx, ids, NULL, NULL, 1) == ET_ERR_INVALID_ARGUMENT, "NULL lengths");
    CHECK(et_context_run(NULL, ids, NULL, lengths, 1) == ET_ERR_INVALID_ARGUMENT, "NULL context");
    CHECK(et_context_run(ctx, ids, NULL, lengths, 1) == ET_OK, "run");
    CHECK(et_context_logits(ctx, NULL, &rows, &cols) == ET_ERR_INVALID_ARGUMENT, "NULL data pointer");
    CHECK(et_context_embeddings(ctx, 7, 0, &out, &rows, &cols) == ET_ERR_INVALID_ARGUMENT, "bad pooling");
    CHECK(et_context_logits(ctx, &out, &rows, &cols) == ET_OK, "a getter's misuse keeps the result");
    et_context_free(ctx);

    /* Context params. */
    et_context_params bad = et_context_default_params();
    bad.max_seq = s.n_ctx + 1;
    CHECK(et_context_create(l.m, &bad, &ctx) == ET_ERR_INVALID_ARGUMENT && !ctx, "max_seq past n_ctx");
    bad = et_context_default_params();
    bad.max_tokens = -1;
    CHECK(et_context_create(l.m, &bad, &ctx) == ET_ERR_INVALID_ARGUMENT, "negative max_tokens");
    bad = et_context_default_params();
    bad.kernels = 9;
    CHECK(et_context_create(l.m, &bad, &ctx) == ET_ERR_INVALID_ARGUMENT, "unknown kernels");
    CHECK(et_context_create(NULL, NULL, &ctx) == ET_ERR_INVALID_ARGUMENT, "NULL model");
    CHECK(et_context_create(l.m, NULL, NULL) == ET_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(et_context_create(l.m, NULL, &ctx) == ET_OK && et_context_memory(ctx) > 0, "defaults");
    /* Defaults: one text of the model's full length fits. */
    int32_t full[32], full_len[1] = {32};
    for (int i = 0; i < 32; i++) full[i] = 5 + i;
    CHECK(et_context_run(ctx, full, NULL, full_len, 1) == ET_OK, "full length: %s", et_context_last_error(ctx));
    et_context_free(ctx);

    CHECK(!strcmp(et_model_label(l.m, 0), "label_0") && !strcmp(et_model_label(l.m, 2), "label_2"), "labels");
    CHECK(et_model_label(l.m, 3) == NULL && et_model_label(l.m, -1) == NULL && et_model_label(NULL, 0) == NULL, "label range");
    unload(&l);
}

static void test_embeddings(void) {
    tl_model_spec s = tl_small_spec();
    s.with_pooler = 0;
    loaded l = load_spec(&s);
    et_model_info in;
    et_model_get_info(l.m, &in);
    CHECK(in.has_pooler == 0 && in.n_out == 0, "no pooler");
    et_context *ctx = NULL;
    et_context_create(l.m, NULL, &ctx);
    const int32_t ids[] = {1, 8, 9, 10, 1, 20, 21}, lengths[] = {4, 3};
    CHECK(et_context_run(ctx, ids, NULL, lengths, 2) == ET_OK, "run");
    const float *out, *hid, *e;
    int32_t rows, cols, hr, hc;
    CHECK(et_context_logits(ctx, &out, &rows, &cols) == ET_ERR_STATE, "no pooler, no logits");
    CHECK(strstr(et_context_last_error(ctx), "pooler"), "message: %s", et_context_last_error(ctx));
    CHECK(et_context_hidden(ctx, &hid, &hr, &hc) == ET_OK && hr == 7 && hc == 24, "hidden");
    float *h = malloc(sizeof(float) * 7 * 24);
    memcpy(h, hid, sizeof(float) * 7 * 24);
    CHECK(et_context_embeddings(ctx, ET_POOLING_MEAN, 0, &e, &rows, &cols) == ET_OK && rows == 2 && cols == 24, "mean");
    double d = 0;
    for (int j = 0; j < 24; j++) {
        const double m0 = ((double)h[0 * 24 + j] + h[1 * 24 + j] + h[2 * 24 + j] + h[3 * 24 + j]) / 4;
        const double m1 = ((double)h[4 * 24 + j] + h[5 * 24 + j] + h[6 * 24 + j]) / 3;
        d = fmax(d, fmax(fabs(e[j] - m0), fabs(e[24 + j] - m1)));
    }
    CHECK(d < 1e-6, "mean pooling off by %g", d);
    CHECK(et_context_embeddings(ctx, ET_POOLING_CLS, 0, &e, &rows, &cols) == ET_OK, "cls");
    CHECK(memcmp(e, h, sizeof(float) * 24) == 0 && memcmp(e + 24, h + 4 * 24, sizeof(float) * 24) == 0, "cls rows");
    CHECK(et_context_embeddings(ctx, ET_POOLING_MEAN, 1, &e, &rows, &cols) == ET_OK, "normalized");
    for (int b = 0; b < 2; b++) {
        double ss = 0;
        for (int j = 0; j < 24; j++) ss += (double)e[b * 24 + j] * e[b * 24 + j];
        CHECK(fabs(ss - 1) < 1e-5, "norm² %g", ss);
    }
    /* Hidden states are untouched by pooling. */
    CHECK(et_context_hidden(ctx, &hid, &hr, &hc) == ET_OK && memcmp(hid, h, sizeof(float) * 7 * 24) == 0, "hidden kept");
    free(h);
    et_context_free(ctx);
    unload(&l);
}

static void test_no_allocation_in_runs(void) {
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 4;
    loaded l = load_spec(&s);
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    cp.max_tokens = 64, cp.max_texts = 4;
    et_context_create(l.m, &cp, &ctx);
    int32_t ids[64], lengths[3] = {30, 1, 20};
    for (int i = 0; i < 64; i++) ids[i] = 5 + i % 40;
    const long before = tl_alloc_calls();
    for (int rep = 0; rep < 3; rep++) {
        const float *out;
        int32_t rows, cols;
        CHECK(et_context_run(ctx, ids, NULL, lengths, 3) == ET_OK, "run");
        et_context_logits(ctx, &out, &rows, &cols);
        et_context_hidden(ctx, &out, &rows, &cols);
        et_context_embeddings(ctx, ET_POOLING_MEAN, 1, &out, &rows, &cols);
        et_context_run(ctx, ids, NULL, lengths, 9); /* an error path too */
    }
    CHECK(tl_alloc_calls() == before, "runs allocated %ld times", tl_alloc_calls() - before);
    et_context_free(ctx);
    unload(&l);
}

/* Fail the 1st, 2nd, … allocation of a load and of a context creation: each must report
 * ET_ERR_OUT_OF_MEMORY and leak nothing (LeakSanitizer checks at exit). */
static void test_out_of_memory(void) {
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_SEQUENCE_CLASSIFICATION, s.n_labels = 3, s.weight_type = 1; /* F16: conversion allocates */
    uint8_t *p;
    const size_t n = tl_build_model(&s, &p, NULL);
    int failures = 0;
    for (long k = 1; k < 100; k++) {
        et_model *m = NULL;
        et_error err;
        tl_fail_allocation(k);
        et_model_params mp = et_model_default_params();
        mp.copy_buffer = k & 1;
        const et_status st = et_model_load_from_buffer(p, n, &mp, &m, &err);
        tl_fail_allocation(0);
        if (st == ET_OK) {
            et_model_free(m);
            break;
        }
        failures++;
        CHECK(st == ET_ERR_OUT_OF_MEMORY && !m, "allocation %ld failed: status %d (%s)", k, st, err.message);
    }
    CHECK(failures >= 5, "only %d allocation points in a load", failures);

    et_model *m = NULL;
    et_model_load_from_buffer(p, n, NULL, &m, NULL);
    for (long k = 1; k < 10; k++) {
        et_context *ctx = NULL;
        tl_fail_allocation(k);
        const et_status st = et_context_create(m, NULL, &ctx);
        tl_fail_allocation(0);
        if (st == ET_OK) {
            et_context_free(ctx);
            break;
        }
        CHECK(st == ET_ERR_OUT_OF_MEMORY && !ctx, "context allocation %ld: status %d", k, st);
    }
    /* An arena too large to exist is refused, not overflowed. */
    et_context_params big = et_context_default_params();
    big.max_tokens = INT32_MAX, big.max_texts = INT32_MAX;
    et_context *ctx = NULL;
    CHECK(et_context_create(m, &big, &ctx) == ET_ERR_OUT_OF_MEMORY && !ctx, "huge arena");
    et_model_free(m);
    free(p);
}

static void test_api_basics(void) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", ET_VERSION_MAJOR, ET_VERSION_MINOR, ET_VERSION_PATCH);
    CHECK(!strcmp(et_version(), ET_VERSION_STRING) && !strcmp(buf, ET_VERSION_STRING), "version string %s", et_version());
    CHECK(et_version_number() == ET_VERSION_NUMBER &&
              ET_VERSION_NUMBER == ET_VERSION_MAJOR * 1000000 + ET_VERSION_MINOR * 1000 + ET_VERSION_PATCH,
          "version number");
    for (int a = 0; a <= ET_ERR_STATE; a++) {
        CHECK(et_status_string((et_status)a)[0], "status %d has no text", a);
        for (int b = 0; b < a; b++)
            CHECK(strcmp(et_status_string((et_status)a), et_status_string((et_status)b)) != 0, "statuses %d and %d", a, b);
    }
    CHECK(!strcmp(et_status_string((et_status)999), "unknown status"), "unknown status");
    et_model_free(NULL);
    et_context_free(NULL);
    CHECK(et_context_memory(NULL) == 0 && et_context_last_error(NULL)[0], "NULL context getters");
    et_model_info in;
    CHECK(et_model_get_info(NULL, &in) == ET_ERR_INVALID_ARGUMENT, "info of NULL");
    CHECK(!strcmp(et_type_name(0), "F32") && !strcmp(et_type_name(8), "Q8_0") && !strcmp(et_type_name(-3), "?") &&
              !strcmp(et_type_name(5), "?"),
          "type names");
    et_model_params mp;
    et_model_default_params_by_ref(&mp);
    CHECK(mp.copy_buffer == 0, "model defaults");
    et_context_params cp;
    et_context_default_params_by_ref(&cp);
    CHECK(cp.max_tokens == 0 && cp.kernels == ET_KERNELS_AUTO, "context defaults");
}

/* Two contexts on one model, interleaved, give the same results as one. */
static void test_shared_model(void) {
    tl_model_spec s = tl_small_spec();
    loaded l = load_spec(&s);
    et_context *a = NULL, *b = NULL;
    et_context_create(l.m, NULL, &a);
    et_context_create(l.m, NULL, &b);
    const int32_t ids1[] = {1, 6, 7, 2}, ids2[] = {1, 30, 2}, len1[] = {4}, len2[] = {3};
    et_context_run(a, ids1, NULL, len1, 1);
    et_context_run(b, ids2, NULL, len2, 1);
    const float *oa, *ob;
    int32_t r, c;
    et_context_logits(a, &oa, &r, &c);
    float first[24];
    memcpy(first, oa, sizeof first);
    et_context_run(a, ids2, NULL, len2, 1);
    et_context_logits(a, &oa, &r, &c);
    et_context_logits(b, &ob, &r, &c);
    CHECK(memcmp(oa, ob, sizeof first) == 0, "same input, two contexts, different output");
    CHECK(memcmp(first, ob, sizeof first) != 0, "different inputs gave the same pooler output");
    et_context_free(a);
    et_context_free(b);
    unload(&l);
}

/* Borrowing without pack_in_place leaves the buffer byte for byte as it was; the row-major kernels then
 * give what the packed ones give, within the GEMM tolerance. */
static void test_pack_in_place(void) {
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 4;
    uint8_t *buf;
    const size_t n = tl_build_model(&s, &buf, NULL);
    uint8_t *copy = malloc(n);
    memcpy(copy, buf, n);
    et_model *m = NULL;
    et_model_load_from_buffer(buf, n, NULL, &m, NULL);
    const int32_t ids[] = {1, 9, 17, 33, 40, 2}, lengths[] = {6};
    int32_t r1, c1, r2, c2;
    float *x = run(m, ET_KERNELS_AUTO, ids, NULL, lengths, 1, 0, &r1, &c1);
    CHECK(memcmp(buf, copy, n) == 0, "a borrowed buffer was modified");
    et_model_free(m);
    loaded l = load_spec(&s);
    float *y = run(l.m, ET_KERNELS_AUTO, ids, NULL, lengths, 1, 0, &r2, &c2);
    CHECK(memcmp(l.buf, copy, n) != 0, "pack_in_place did not repack");
    CHECK(x && y && max_abs_diff(x, y, (size_t)r1 * c1) < 1e-5, "packed vs row-major: %g", max_abs_diff(x, y, (size_t)r1 * c1));
    free(x), free(y), free(copy), free(buf);
    unload(&l);
}

/* Quantized copies of a model: int8 runs agree across kernel sets (integer parts bit for bit), stay close
 * to the f32 model, and the files round-trip through the loader. */
static void test_quantized(void) {
    tl_model_spec s = tl_small_spec();
    s.n_embd = 32, s.n_head = 4, s.n_ff = 64, s.n_ctx = 32;
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 5;
    uint8_t *f32;
    const size_t n = tl_build_model(&s, &f32, NULL);
    void *q8 = NULL, *q80 = NULL, *again = NULL;
    size_t q8_n = 0, q80_n = 0, again_n = 0;
    et_error err;
    CHECK(et_quantize(f32, n, ET_QUANT_I8, &q8, &q8_n, &err) == ET_OK, "quantize i8: %s", err.message);
    CHECK(et_quantize(f32, n, ET_QUANT_Q8_0, &q80, &q80_n, &err) == ET_OK, "quantize q8_0: %s", err.message);
    CHECK(q8_n < n / 2, "int8 file %zu bytes from %zu", q8_n, n);
    CHECK(et_quantize(q8, q8_n, ET_QUANT_I8, &again, &again_n, &err) == ET_ERR_UNSUPPORTED && !again, "twice");
    CHECK(et_quantize(f32, n, 7, &again, &again_n, &err) == ET_ERR_INVALID_ARGUMENT, "unknown type");
    CHECK(et_quantize(f32, 100, ET_QUANT_I8, &again, &again_n, &err) == ET_ERR_TRUNCATED, "bad input");

    et_model *mf = NULL, *mq = NULL, *mq0 = NULL;
    et_model_params mp = et_model_default_params();
    mp.copy_buffer = 1;
    CHECK(et_model_load_from_buffer(f32, n, &mp, &mf, &err) == ET_OK, "f32: %s", err.message);
    CHECK(et_model_load_from_buffer(q8, q8_n, &mp, &mq, &err) == ET_OK, "i8: %s", err.message);
    CHECK(et_model_load_from_buffer(q80, q80_n, &mp, &mq0, &err) == ET_OK, "q8_0: %s", err.message);
    et_model_info iq, iq0;
    et_model_get_info(mq, &iq);
    et_model_get_info(mq0, &iq0);
    CHECK(iq.int8_matrices == 2 * 6 + 1 && iq0.int8_matrices == 0, "int8 matrices: %d, %d", iq.int8_matrices, iq0.int8_matrices);
    et_tensor_info ti;
    CHECK(et_model_tensor_info(mq, 0, &ti) == ET_OK && ti.type == 24 && !strcmp(ti.name, "token_embd.weight"), "I8 embeddings");
    CHECK(et_model_tensor_info(mq, 1, &ti) == ET_OK && ti.type == 0 && !strcmp(ti.name, "edgetag.row_scale.token_embd.weight"),
          "scales follow, in edgetag's namespace: %s", ti.name);

    int32_t ids[40], lengths[2] = {23, 17};
    tl_rng r = {77};
    for (int i = 0; i < 40; i++) ids[i] = i == 0 || i == 23 ? 1 : tl_int(&r, 5, s.n_vocab - 1);
    int32_t rows, cols;
    float *ref = run(mf, ET_KERNELS_REFERENCE, ids, NULL, lengths, 2, 0, &rows, &cols);
    float *q0 = run(mq0, ET_KERNELS_AUTO, ids, NULL, lengths, 2, 0, &rows, &cols);
    const int choices[5] = {ET_KERNELS_REFERENCE, ET_KERNELS_BASELINE, ET_KERNELS_RELAXED_DOT16, ET_KERNELS_RELAXED_DOT32,
                            ET_KERNELS_REFERENCE_U7};
    float *out[5];
    for (int c = 0; c < 5; c++) out[c] = run(mq, choices[c], ids, NULL, lengths, 2, 0, &rows, &cols);
    const size_t nv = (size_t)rows * cols;
    CHECK(memcmp(out[2], out[3], nv * sizeof(float)) == 0, "relaxed dot16 and dot32 differ");
    CHECK(max_abs_diff(out[0], out[1], nv) < 1e-4, "baseline vs its reference: %g", max_abs_diff(out[0], out[1], nv));
    CHECK(max_abs_diff(out[2], out[4], nv) < 1e-4, "relaxed vs its reference: %g", max_abs_diff(out[2], out[4], nv));
    /* Against f32: argmax per token, and the size of the error (8-bit and 7-bit activations). */
    for (int c = 0; c < 5; c += 2) {
        const int agree = argmax_agreement(ref, out[c], rows, cols);
        CHECK(agree >= rows - 1, "kernels %d: argmax agrees on %d of %d tokens", choices[c], agree, rows);
        CHECK(max_abs_diff(ref, out[c], nv) < 0.15, "kernels %d: int8 vs f32 %g", choices[c], max_abs_diff(ref, out[c], nv));
    }
    CHECK(max_abs_diff(ref, q0, nv) < 0.05, "q8_0 (as f32) vs f32: %g", max_abs_diff(ref, q0, nv));
    /* The same file borrowed without pack_in_place: row-major int8 kernels, the same integers, the same
     * floats — bit for bit what the packed weights give, in every kernel set. */
    et_model *mrow = NULL;
    CHECK(et_model_load_from_buffer(q8, q8_n, NULL, &mrow, &err) == ET_OK, "i8 borrowed: %s", err.message);
    for (int c = 0; c < 5; c++) {
        float *o = run(mrow, choices[c], ids, NULL, lengths, 2, 0, &rows, &cols);
        CHECK(o && memcmp(o, out[c], nv * sizeof(float)) == 0, "kernels %d: packed and row-major int8 weights differ",
              choices[c]);
        free(o);
    }
    et_model_free(mrow);
    printf("int8 vs f32 on the small model: max |Δ| %.4f (8-bit activations), %.4f (7-bit); q8_0 %.4f\n",
           max_abs_diff(ref, out[0], nv), max_abs_diff(ref, out[4], nv), max_abs_diff(ref, q0, nv));
    for (int c = 0; c < 5; c++) free(out[c]);
    free(ref), free(q0), free(q8), free(q80), free(f32);
    et_model_free(mf), et_model_free(mq), et_model_free(mq0);
    CHECK(et_kernels_probe(ET_KERNELS_RELAXED_DOT16, 1) == ET_OK && et_kernels_probe(ET_KERNELS_BASELINE, 0) == ET_OK &&
              et_kernels_probe(99, 1) == ET_ERR_INVALID_ARGUMENT, "probe");
}

int main(void) {
    test_api_basics();
    test_reference_vs_simd_and_batching();
    test_weight_types();
    test_inputs_and_state();
    test_embeddings();
    test_no_allocation_in_runs();
    test_out_of_memory();
    test_shared_model();
    test_pack_in_place();
    test_quantized();
    return tl_finish("test_engine");
}
