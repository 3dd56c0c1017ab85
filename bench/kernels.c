/*
 * kernels.c — a micro-benchmark harness for the GEMM kernels (not part of the library): built into
 * build/bench-kernels-{simd,relaxed}.wasm by `make bench`, driven by bench/kernels.mjs, which times each
 * kernel on the shapes of a MiniLM layer and reports GOP/s.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* One GEMM shape's operands: random f32 activations and weights, their int8 forms, packed copies. */
typedef struct bench {
    int m, n, k;
    float *x, *w, *panels, *bias, *c, *sw, *sa;
    int8_t *wq, *qpanels;
    uint8_t *q4panels; /* the weights as Q4_0 blocks (k % 32 == 0), packed */
    float *zs;
    void *levels;
    int32_t *wsum, *za;
} bench;

EXPORT(bk_free) void bk_free(bench *b);
EXPORT(bk_setup) bench *bk_setup(int m, int n, int k);
EXPORT(bk_run) int bk_run(bench *b, int kind, int iters);

void bk_free(bench *b) {
    if (!b) return;
    free(b->x), free(b->w), free(b->panels), free(b->bias), free(b->c), free(b->sw), free(b->sa), free(b->wq);
    free(b->qpanels), free(b->levels), free(b->wsum), free(b->za), free(b->q4panels), free(b->zs), free(b);
}

bench *bk_setup(int m, int n, int k) {
    bench *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->m = m, b->n = n, b->k = k;
    b->x = malloc(sizeof(float) * (size_t)m * k), b->w = malloc(sizeof(float) * (size_t)n * k);
    b->panels = malloc(sizeof(float) * (size_t)n * k);
    b->bias = malloc(sizeof(float) * (size_t)n), b->c = malloc(sizeof(float) * (size_t)m * n);
    b->sw = malloc(sizeof(float) * (size_t)n), b->sa = malloc(sizeof(float) * (size_t)m);
    b->wq = malloc((size_t)n * k), b->qpanels = malloc((size_t)n * k), b->levels = malloc((size_t)m * k * 2);
    b->wsum = malloc(sizeof(int32_t) * (size_t)n), b->za = malloc(sizeof(int32_t) * (size_t)m);
    b->q4panels = malloc((size_t)n * (k / 32) * 18 + 1), b->zs = malloc(sizeof(float) * (size_t)n);
    if (!b->x || !b->w || !b->panels || !b->bias || !b->c || !b->sw || !b->sa || !b->wq || !b->qpanels || !b->levels ||
        !b->wsum || !b->za || !b->q4panels || !b->zs) {
        bk_free(b);
        return NULL;
    }
    uint32_t r = 1;
    for (int i = 0; i < m * k; i++) b->x[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; i < n * k; i++) {
        r = r * 1664525u + 1013904223u;
        b->w[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
        b->wq[i] = (int8_t)((int)(r >> 24) % 127);
    }
    for (int j = 0; j < n; j++) b->bias[j] = 0.1f, b->sw[j] = 0.01f, b->wsum[j] = 0;
    if (n % 8 == 0) et_f32_pack_panels(n, k, b->w, k, b->panels);
    if (k % 32 == 0) { /* Q4_0 blocks of random nibbles, scale 0.01 (f16 0x211f), packed as the loader packs them */
        uint8_t *rows = malloc((size_t)n * (k / 32) * 18);
        if (!rows) {
            bk_free(b);
            return NULL;
        }
        for (size_t blk = 0; blk < (size_t)n * (k / 32); blk++) {
            rows[18 * blk] = 0x1f, rows[18 * blk + 1] = 0x21;
            for (int e = 0; e < 16; e++) rows[18 * blk + 2 + e] = (uint8_t)((r = r * 1664525u + 1013904223u) >> 24);
        }
        et_q4_zero_sums(n, k, rows, b->zs);
        et_q4_pack_panels(n, k, rows, b->q4panels);
        free(rows);
    }
    et_i8_pack_panels(n, k, b->wq, b->qpanels);
    /* Activation levels as the quantizers make them (the u7 form fits in the i16 buffer). */
    et_q8_quantize_i16__scalar(m, k, b->x, k, b->levels, k, b->sa, b->za);
    return b;
}

/* kind: 0 f32 row-major, 7 f32 packed, 1/2/3 int8 row-major i16/dot16/dot32, 8/9/10 int8 packed
 * i16/dot16/dot32, 11/12/13 4-bit (Q4_0) packed i16/dot16/dot32. Returns 0 for a kernel this build lacks. */
int bk_run(bench *b, int kind, int iters) {
    const et_kernels *base = et_kernels_baseline(), *d16 = et_kernels_relaxed_dot16(), *d32 = et_kernels_relaxed_dot32();
    if (((kind == 2 || kind == 9 || kind == 12) && !d16) || ((kind == 3 || kind == 10 || kind == 13) && !d32) ||
        (kind == 7 && b->n % 8) || (kind >= 11 && b->k % 32))
        return 0;
    const int m = b->m, n = b->n, k = b->k;
    for (int it = 0; it < iters; it++) {
        switch (kind) {
        case 0: base->f32_gemm_nt(m, n, k, b->x, k, b->w, k, b->bias, b->c, n); break;
        case 7: base->f32_gemm_packed(m, n, k, b->x, k, b->panels, b->bias, b->c, n); break;
        case 1: base->q8_gemm_nt(m, n, k, b->levels, k, b->sa, b->za, b->wq, k, b->sw, b->wsum, b->bias, b->c, n); break;
        case 2: d16->q8_gemm_nt(m, n, k, b->levels, k, b->sa, b->za, b->wq, k, b->sw, b->wsum, b->bias, b->c, n); break;
        case 3: d32->q8_gemm_nt(m, n, k, b->levels, k, b->sa, b->za, b->wq, k, b->sw, b->wsum, b->bias, b->c, n); break;
        case 8: base->q8_gemm_packed(m, n, k, b->levels, k, b->sa, b->za, b->qpanels, b->sw, b->wsum, b->bias, b->c, n); break;
        case 9: d16->q8_gemm_packed(m, n, k, b->levels, k, b->sa, b->za, b->qpanels, b->sw, b->wsum, b->bias, b->c, n); break;
        case 10: d32->q8_gemm_packed(m, n, k, b->levels, k, b->sa, b->za, b->qpanels, b->sw, b->wsum, b->bias, b->c, n); break;
        case 11: base->q4_gemm_packed(m, n, k, b->levels, k, b->sa, b->za, b->q4panels, b->zs, b->bias, b->c, n); break;
        case 12: d16->q4_gemm_packed(m, n, k, b->levels, k, b->sa, b->za, b->q4panels, b->zs, b->bias, b->c, n); break;
        case 13: d32->q4_gemm_packed(m, n, k, b->levels, k, b->sa, b->za, b->q4panels, b->zs, b->bias, b->c, n); break;
        default: return 0;
        }
    }
    return 1;
}
