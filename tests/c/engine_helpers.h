/*
 * engine_helpers.h — what the engine tests share: load a built model, run a batch and copy its outputs,
 * compare, make ragged batches. Header-only (static inline), for test_engine.c and test_quant4.c.
 */
#ifndef ET_TEST_ENGINE_HELPERS_H
#define ET_TEST_ENGINE_HELPERS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* Scalar reference vs SIMD forward pass: different summation orders and polynomial exp/erf,
 * compounded over layers: 1e-4 absolute on O(1) outputs, the parity bound we hold against PyTorch. */
#define FORWARD_ABS_TOL 1e-4

typedef struct loaded {
    uint8_t *buf;
    et_model *m;
} loaded;

/* Loads with the buffer given to the model (pack_in_place), as the JS loader and the file loader do:
 * every f32 Linear weight runs on the packed kernel whatever its file type. */
static inline loaded load_spec(const tl_model_spec *s) {
    loaded l = {0};
    const size_t n = tl_build_model(s, &l.buf, NULL);
    et_error err;
    et_model_params mp = et_model_default_params();
    mp.pack_in_place = 1;
    const et_status st = et_model_load_from_buffer(l.buf, n, &mp, &l.m, &err);
    CHECK(st == ET_OK, "load: %s", err.message);
    return l;
}

static inline void unload(loaded *l) {
    et_model_free(l->m);
    free(l->buf);
}

/* Runs a batch and copies the logits (or hidden states if `hidden`) into a malloc'd array. */
static inline float *run(et_model *m, int kernels, const int32_t *ids, const int32_t *types, const int32_t *lengths, int n_texts,
                         int hidden, int32_t *rows, int32_t *cols) {
    et_context_params cp = et_context_default_params();
    cp.kernels = kernels;
    cp.max_tokens = 256, cp.max_texts = 8;
    et_context *ctx = NULL;
    CHECK(et_context_create(m, &cp, &ctx) == ET_OK, "context");
    const et_status s = et_context_run(ctx, ids, types, lengths, n_texts);
    CHECK(s == ET_OK, "run: %s", et_context_last_error(ctx));
    const float *out = NULL;
    const et_status g = hidden ? et_context_hidden(ctx, &out, rows, cols) : et_context_logits(ctx, &out, rows, cols);
    CHECK(g == ET_OK, "result: %s", et_context_last_error(ctx));
    float *copy = NULL;
    if (g == ET_OK) {
        copy = malloc(sizeof(float) * (size_t)*rows * *cols);
        memcpy(copy, out, sizeof(float) * (size_t)*rows * *cols);
    }
    et_context_free(ctx);
    return copy;
}

static inline double max_abs_diff(const float *a, const float *b, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) w = fmax(w, fabs((double)a[i] - b[i]));
    return w;
}

/* How many of `rows` rows of `cols` scores have their largest value in the same column in a and b. */
static inline int argmax_agreement(const float *a, const float *b, int rows, int cols) {
    int agree = 0;
    for (int t = 0; t < rows; t++) {
        int i = 0, j = 0;
        for (int c = 1; c < cols; c++) {
            i = a[(size_t)t * cols + c] > a[(size_t)t * cols + i] ? c : i;
            j = b[(size_t)t * cols + c] > b[(size_t)t * cols + j] ? c : j;
        }
        agree += i == j;
    }
    return agree;
}

/* A batch of texts with ids in [5, V) after a [CLS]-like 1, lengths as given. */
static inline int32_t make_batch(tl_rng *r, int n_vocab, int n_types, const int32_t *lengths, int n, int32_t *ids, int32_t *types) {
    int32_t t = 0;
    for (int b = 0; b < n; b++)
        for (int i = 0; i < lengths[b]; i++, t++) {
            ids[t] = i == 0 ? 1 : tl_int(r, 5, n_vocab - 1);
            types[t] = i < lengths[b] / 2 ? 0 : tl_int(r, 0, n_types - 1);
        }
    return t;
}

#endif /* ET_TEST_ENGINE_HELPERS_H */
