/*
 * gemm_f32.c — C = A · Bᵀ + bias in f32, the shape of every Linear layer and of QKᵀ in attention.
 *
 * Both operands are read along k with unit stride (A row-major [m][k], B row-major [n][k] as PyTorch
 * stores Linear.weight), so weights are used in place, straight from the model file.
 */
#include "kernels.h"
#include "simd.h"

void et_f32_gemm_nt__scalar(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                            const float *bias, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) acc += a[(size_t)i * lda + p] * b[(size_t)j * ldb + p];
            c[(size_t)i * ldc + j] = bias ? acc + bias[j] : acc;
        }
    }
}

/* One row of A against four rows of B: the edge tile for an odd last row. */
static inline v128_t dot_1x4(int k, const float *a, const float *b0, const float *b1, const float *b2,
                             const float *b3) {
    v128_t c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        v128_t va = wasm_v128_load(a + p);
        c0 = et_f32x4_madd(va, wasm_v128_load(b0 + p), c0);
        c1 = et_f32x4_madd(va, wasm_v128_load(b1 + p), c1);
        c2 = et_f32x4_madd(va, wasm_v128_load(b2 + p), c2);
        c3 = et_f32x4_madd(va, wasm_v128_load(b3 + p), c3);
    }
    v128_t s = et_f32x4_hsum4(c0, c1, c2, c3);
    if (p < k) {
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (; p < k; p++) {
            t0 += a[p] * b0[p];
            t1 += a[p] * b1[p];
            t2 += a[p] * b2[p];
            t3 += a[p] * b3[p];
        }
        s = wasm_f32x4_add(s, wasm_f32x4_make(t0, t1, t2, t3));
    }
    return s;
}

/* One row of A against one row of B: the edge for the last n % 4 columns. */
static inline float dot_1x1(int k, const float *a, const float *b) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    int p = 0;
    for (; p + 4 <= k; p += 4) acc = et_f32x4_madd(wasm_v128_load(a + p), wasm_v128_load(b + p), acc);
    float s = et_f32x4_hsum(acc);
    for (; p < k; p++) s += a[p] * b[p];
    return s;
}

void et_f32_gemm_nt_2x4__wasmsimd(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc) {
    const int n4 = n & ~3;
    for (int j = 0; j < n4; j += 4) {
        const float *b0 = b + (size_t)j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        const v128_t vbias = bias ? wasm_v128_load(bias + j) : wasm_f32x4_splat(0.0f);
        int i = 0;
        /* The 2×4 tile: 8 accumulators + 2 A + 4 B vectors stay in registers (V8 has ~15). */
        for (; i + 2 <= m; i += 2) {
            const float *a0 = a + (size_t)i * lda, *a1 = a0 + lda;
            v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c02 = c00, c03 = c00;
            v128_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            int p = 0;
            for (; p + 4 <= k; p += 4) {
                const v128_t va0 = wasm_v128_load(a0 + p), va1 = wasm_v128_load(a1 + p);
                const v128_t vb0 = wasm_v128_load(b0 + p), vb1 = wasm_v128_load(b1 + p);
                const v128_t vb2 = wasm_v128_load(b2 + p), vb3 = wasm_v128_load(b3 + p);
                c00 = et_f32x4_madd(va0, vb0, c00);
                c01 = et_f32x4_madd(va0, vb1, c01);
                c02 = et_f32x4_madd(va0, vb2, c02);
                c03 = et_f32x4_madd(va0, vb3, c03);
                c10 = et_f32x4_madd(va1, vb0, c10);
                c11 = et_f32x4_madd(va1, vb1, c11);
                c12 = et_f32x4_madd(va1, vb2, c12);
                c13 = et_f32x4_madd(va1, vb3, c13);
            }
            v128_t s0 = et_f32x4_hsum4(c00, c01, c02, c03);
            v128_t s1 = et_f32x4_hsum4(c10, c11, c12, c13);
            if (p < k) {
                float t[2][4] = {{0}};
                for (; p < k; p++) {
                    t[0][0] += a0[p] * b0[p], t[0][1] += a0[p] * b1[p];
                    t[0][2] += a0[p] * b2[p], t[0][3] += a0[p] * b3[p];
                    t[1][0] += a1[p] * b0[p], t[1][1] += a1[p] * b1[p];
                    t[1][2] += a1[p] * b2[p], t[1][3] += a1[p] * b3[p];
                }
                s0 = wasm_f32x4_add(s0, wasm_v128_load(t[0]));
                s1 = wasm_f32x4_add(s1, wasm_v128_load(t[1]));
            }
            wasm_v128_store(c + (size_t)i * ldc + j, wasm_f32x4_add(s0, vbias));
            wasm_v128_store(c + (size_t)(i + 1) * ldc + j, wasm_f32x4_add(s1, vbias));
        }
        if (i < m) {
            v128_t s = dot_1x4(k, a + (size_t)i * lda, b0, b1, b2, b3);
            wasm_v128_store(c + (size_t)i * ldc + j, wasm_f32x4_add(s, vbias));
        }
    }
    for (int j = n4; j < n; j++) {
        const float *bj = b + (size_t)j * ldb;
        const float bj_bias = bias ? bias[j] : 0.0f;
        for (int i = 0; i < m; i++) c[(size_t)i * ldc + j] = dot_1x1(k, a + (size_t)i * lda, bj) + bj_bias;
    }
}
