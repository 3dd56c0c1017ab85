/*
 * kernels.c — a micro-benchmark harness for the GEMM kernels (not part of the library): built into
 * build/bench-kernels{,-relaxed}.wasm by `make bench`, driven by bench/kernels.mjs, which times each
 * kernel on the shapes of a MiniLM layer and reports GOP/s.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/simd.h"

#define EXPORT(name) __attribute__((export_name(#name)))

typedef struct bench {
    int m, n, k;
    float *x, *w, *bias, *c, *sw, *sa;
    int8_t *wq;
    void *levels;
    int32_t *wsum, *za;
} bench;

static bench b; /* the harness's one state; the library itself has none */
static float *panels;

/* Experimental: C = A · W^T with W packed in panels [n/8][k][8], a 4×8 broadcast tile. */
static void gemm_panel_4x8(int m, int n, int k, const float *a, int lda, const float *pw, const float *bias, float *c, int ldc) {
    for (int j = 0; j < n; j += 8) {
        const float *pj = pw + (size_t)j * k;
        for (int i = 0; i + 4 <= m; i += 4) {
            v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            const float *a0 = a + (size_t)i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            for (int p = 0; p < k; p++) {
                const v128_t b0 = wasm_v128_load(pj + 8 * p), b1 = wasm_v128_load(pj + 8 * p + 4);
                v128_t va = wasm_v128_load32_splat(a0 + p);
                c00 = et_f32x4_madd(va, b0, c00), c01 = et_f32x4_madd(va, b1, c01);
                va = wasm_v128_load32_splat(a1 + p);
                c10 = et_f32x4_madd(va, b0, c10), c11 = et_f32x4_madd(va, b1, c11);
                va = wasm_v128_load32_splat(a2 + p);
                c20 = et_f32x4_madd(va, b0, c20), c21 = et_f32x4_madd(va, b1, c21);
                va = wasm_v128_load32_splat(a3 + p);
                c30 = et_f32x4_madd(va, b0, c30), c31 = et_f32x4_madd(va, b1, c31);
            }
            const v128_t b0 = wasm_v128_load(bias + j), b1 = wasm_v128_load(bias + j + 4);
            wasm_v128_store(c + (size_t)i * ldc + j, wasm_f32x4_add(c00, b0)); wasm_v128_store(c + (size_t)i * ldc + j + 4, wasm_f32x4_add(c01, b1));
            wasm_v128_store(c + (size_t)(i + 1) * ldc + j, wasm_f32x4_add(c10, b0)); wasm_v128_store(c + (size_t)(i + 1) * ldc + j + 4, wasm_f32x4_add(c11, b1));
            wasm_v128_store(c + (size_t)(i + 2) * ldc + j, wasm_f32x4_add(c20, b0)); wasm_v128_store(c + (size_t)(i + 2) * ldc + j + 4, wasm_f32x4_add(c21, b1));
            wasm_v128_store(c + (size_t)(i + 3) * ldc + j, wasm_f32x4_add(c30, b0)); wasm_v128_store(c + (size_t)(i + 3) * ldc + j + 4, wasm_f32x4_add(c31, b1));
        }
    }
}

EXPORT(bk_setup) int bk_setup(int m, int n, int k) {
    free(b.x), free(b.w), free(b.bias), free(b.c), free(b.sw), free(b.sa), free(b.wq), free(b.levels), free(b.wsum), free(b.za);
    b.m = m, b.n = n, b.k = k;
    b.x = malloc(sizeof(float) * (size_t)m * k), b.w = malloc(sizeof(float) * (size_t)n * k);
    b.bias = malloc(sizeof(float) * (size_t)n), b.c = malloc(sizeof(float) * (size_t)m * n);
    b.sw = malloc(sizeof(float) * (size_t)n), b.sa = malloc(sizeof(float) * (size_t)m);
    b.wq = malloc((size_t)n * k), b.levels = malloc((size_t)m * k * 2);
    b.wsum = malloc(sizeof(int32_t) * (size_t)n), b.za = malloc(sizeof(int32_t) * (size_t)m);
    if (!b.x || !b.w || !b.bias || !b.c || !b.sw || !b.sa || !b.wq || !b.levels || !b.wsum || !b.za) return 0;
    uint32_t r = 1;
    for (int i = 0; i < m * k; i++) b.x[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; i < n * k; i++) {
        r = r * 1664525u + 1013904223u;
        b.w[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
        b.wq[i] = (int8_t)((int)(r >> 24) % 127);
    }
    for (int j = 0; j < n; j++) b.bias[j] = 0.1f, b.sw[j] = 0.01f, b.wsum[j] = 0;
    free(panels);
    panels = malloc(sizeof(float) * (size_t)n * k);
    for (int j = 0; j < n; j++)
        for (int p = 0; p < k; p++) panels[(size_t)(j / 8) * 8 * k + (size_t)p * 8 + j % 8] = b.w[(size_t)j * k + p];
    return 1;
}

/* kind: 0 f32 GEMM nt, 1 int8 i16 (baseline), 2 int8 dot16, 3 int8 dot32, 4 quantize i16, 5 quantize u7,
 * 6 f32 GEMM nn (4×8 broadcast; B = w read as [k][n]). */
EXPORT(bk_run) int bk_run(int kind, int iters) {
    const et_kernels *base = et_kernels_baseline(), *d16 = et_kernels_relaxed_dot16(), *d32 = et_kernels_relaxed_dot32();
    if ((kind == 2 && !d16) || (kind == 3 && !d32)) return 0;
    for (int it = 0; it < iters; it++) {
        switch (kind) {
        case 0: base->f32_gemm_nt(b.m, b.n, b.k, b.x, b.k, b.w, b.k, b.bias, b.c, b.n); break;
        case 1: base->q8_gemm_nt(b.m, b.n, b.k, b.levels, b.k, b.sa, b.za, b.wq, b.k, b.sw, b.wsum, b.bias, b.c, b.n); break;
        case 2: d16->q8_gemm_nt(b.m, b.n, b.k, b.levels, b.k, b.sa, b.za, b.wq, b.k, b.sw, b.wsum, b.bias, b.c, b.n); break;
        case 3: d32->q8_gemm_nt(b.m, b.n, b.k, b.levels, b.k, b.sa, b.za, b.wq, b.k, b.sw, b.wsum, b.bias, b.c, b.n); break;
        case 4: base->q8_quantize(b.m, b.k, b.x, b.k, b.levels, b.k, b.sa, b.za); break;
        case 5: if (d16) d16->q8_quantize(b.m, b.k, b.x, b.k, b.levels, b.k, b.sa, b.za); break;
        case 6: et_f32_gemm_nn_4x8__wasmsimd(b.m, b.n, b.k, b.x, b.k, b.w, b.n, b.bias, b.c, b.n); break;
        case 7: gemm_panel_4x8(b.m, b.n, b.k, b.x, b.k, panels, b.bias, b.c, b.n); break;
        default: return 0;
        }
    }
    return 1;
}
