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

/* ---- C = A · B + bias with B row-major [k][n]: a 4 × 8 tile, A broadcast, B in two vectors ------------ */

void et_f32_gemm_nn__scalar(int m, int n, int k, const float *a, int lda, const float *b, int ldb, const float *bias,
                            float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) acc += a[(size_t)i * lda + p] * b[(size_t)p * ldb + j];
            c[(size_t)i * ldc + j] = bias ? acc + bias[j] : acc;
        }
    }
}

/* Rows i0 … i0+R-1 (R ≤ 4) by the 8 columns at j: 2R accumulators, 2 B vectors, one broadcast A. */
#define NN_TILE(R)                                                                                           \
    do {                                                                                                     \
        v128_t acc[4][2];                                                                                    \
        for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);                          \
        const float *bp = b + j;                                                                             \
        for (int p = 0; p < k; p++, bp += ldb) {                                                             \
            const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);                               \
            for (int r = 0; r < R; r++) {                                                                    \
                const v128_t va = wasm_v128_load32_splat(a + (size_t)(i + r) * lda + p);                     \
                acc[r][0] = et_f32x4_madd(va, b0, acc[r][0]);                                                \
                acc[r][1] = et_f32x4_madd(va, b1, acc[r][1]);                                                \
            }                                                                                                \
        }                                                                                                    \
        const v128_t bias0 = bias ? wasm_v128_load(bias + j) : wasm_f32x4_splat(0.0f);                       \
        const v128_t bias1 = bias ? wasm_v128_load(bias + j + 4) : wasm_f32x4_splat(0.0f);                   \
        for (int r = 0; r < R; r++) {                                                                        \
            wasm_v128_store(c + (size_t)(i + r) * ldc + j, wasm_f32x4_add(acc[r][0], bias0));                \
            wasm_v128_store(c + (size_t)(i + r) * ldc + j + 4, wasm_f32x4_add(acc[r][1], bias1));            \
        }                                                                                                    \
    } while (0)

void et_f32_gemm_nn_4x8__wasmsimd(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc) {
    const int n8 = n & ~7;
    for (int j = 0; j < n8; j += 8) {
        int i = 0;
        for (; i + 4 <= m; i += 4) NN_TILE(4);
        switch (m - i) {
        case 3: NN_TILE(3); break;
        case 2: NN_TILE(2); break;
        case 1: NN_TILE(1); break;
        default: break;
        }
    }
    /* The last n % 8 columns, one at a time with the reference's order of operations. */
    for (int j = n8; j < n; j++) {
        const float bj = bias ? bias[j] : 0.0f;
        for (int i = 0; i < m; i++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) acc += a[(size_t)i * lda + p] * b[(size_t)p * ldb + j];
            c[(size_t)i * ldc + j] = acc + bj;
        }
    }
}

/* ---- C = A · Wᵀ + bias with W packed in panels of 8 rows: [n/8][k][8] ---------------------------------
 * The Linear layers' f32 weights are repacked this way once, at load: each step of k reads 8 contiguous
 * weights, broadcasts one activation per row, and feeds 8 accumulators of a 4 × 8 tile. */

void et_f32_pack_panels(int n, int k, const float *w, int ldw, float *panels) {
    for (int j = 0; j < n; j++)
        for (int p = 0; p < k; p++) panels[(size_t)(j / 8) * 8 * (size_t)k + (size_t)p * 8 + (size_t)(j % 8)] = w[(size_t)j * ldw + p];
}

void et_f32_gemm_packed__scalar(int m, int n, int k, const float *a, int lda, const float *panels, const float *bias,
                                float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const float *pj = panels + (size_t)(j / 8) * 8 * (size_t)k + (size_t)(j % 8);
            float acc = 0.0f;
            for (int p = 0; p < k; p++) acc += a[(size_t)i * lda + p] * pj[(size_t)p * 8];
            c[(size_t)i * ldc + j] = bias ? acc + bias[j] : acc;
        }
}

#define PANEL_TILE(R)                                                                                        \
    do {                                                                                                     \
        v128_t acc[4][2];                                                                                    \
        for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);                          \
        const float *ar = a + (size_t)i * lda;                                                               \
        for (int p = 0; p < k; p++) {                                                                        \
            const v128_t b0 = wasm_v128_load(pj + 8 * (size_t)p), b1 = wasm_v128_load(pj + 8 * (size_t)p + 4); \
            for (int r = 0; r < R; r++) {                                                                    \
                const v128_t va = wasm_v128_load32_splat(ar + (size_t)r * lda + p);                          \
                acc[r][0] = et_f32x4_madd(va, b0, acc[r][0]);                                                \
                acc[r][1] = et_f32x4_madd(va, b1, acc[r][1]);                                                \
            }                                                                                                \
        }                                                                                                    \
        for (int r = 0; r < R; r++) {                                                                        \
            float *cr = c + (size_t)(i + r) * ldc + j;                                                       \
            wasm_v128_store(cr, wasm_f32x4_add(acc[r][0], bias0));                                           \
            wasm_v128_store(cr + 4, wasm_f32x4_add(acc[r][1], bias1));                                       \
        }                                                                                                    \
    } while (0)

void et_f32_gemm_packed_4x8__wasmsimd(int m, int n, int k, const float *a, int lda, const float *panels,
                                      const float *bias, float *c, int ldc) {
    for (int j = 0; j < n; j += 8) {
        const float *pj = panels + (size_t)j * (size_t)k;
        const v128_t bias0 = bias ? wasm_v128_load(bias + j) : wasm_f32x4_splat(0.0f);
        const v128_t bias1 = bias ? wasm_v128_load(bias + j + 4) : wasm_f32x4_splat(0.0f);
        int i = 0;
        for (; i + 4 <= m; i += 4) PANEL_TILE(4);
        switch (m - i) {
        case 3: PANEL_TILE(3); break;
        case 2: PANEL_TILE(2); break;
        case 1: PANEL_TILE(1); break;
        default: break;
        }
    }
}

/* ---- small data movements of attention ------------------------------------------------------------ */

/* dst[j][i] = src[i][j] for rows × cols (attention's Kᵀ of one head: L rows of d). */
void et_f32_transpose__scalar(int rows, int cols, const float *src, int lds, float *dst, int ldd) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) dst[(size_t)j * ldd + i] = src[(size_t)i * lds + j];
}

void et_f32_transpose__wasmsimd(int rows, int cols, const float *src, int lds, float *dst, int ldd) {
    const int r4 = rows & ~3, c4 = cols & ~3;
    for (int i = 0; i < r4; i += 4) {
        const float *s = src + (size_t)i * lds;
        for (int j = 0; j < c4; j += 4) { /* a 4 × 4 block through shuffles */
            const v128_t a = wasm_v128_load(s + j), b = wasm_v128_load(s + lds + j);
            const v128_t c = wasm_v128_load(s + 2 * (size_t)lds + j), d = wasm_v128_load(s + 3 * (size_t)lds + j);
            const v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
            const v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
            float *t = dst + (size_t)j * ldd + i;
            wasm_v128_store(t, wasm_i32x4_shuffle(ab_lo, cd_lo, 0, 1, 4, 5));
            wasm_v128_store(t + ldd, wasm_i32x4_shuffle(ab_lo, cd_lo, 2, 3, 6, 7));
            wasm_v128_store(t + 2 * (size_t)ldd, wasm_i32x4_shuffle(ab_hi, cd_hi, 0, 1, 4, 5));
            wasm_v128_store(t + 3 * (size_t)ldd, wasm_i32x4_shuffle(ab_hi, cd_hi, 2, 3, 6, 7));
        }
        for (int j = c4; j < cols; j++)
            for (int r = 0; r < 4; r++) dst[(size_t)j * ldd + i + r] = s[(size_t)r * lds + j];
    }
    for (int i = r4; i < rows; i++)
        for (int j = 0; j < cols; j++) dst[(size_t)j * ldd + i] = src[(size_t)i * lds + j];
}

/* x[i][j] *= s[i] for rows × cols (attention's 1/Σ of each row, after P·V). */
void et_f32_scale_rows__scalar(int rows, int cols, float *x, int ldx, const float *s) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) x[(size_t)i * ldx + j] *= s[i];
}

void et_f32_scale_rows__wasmsimd(int rows, int cols, float *x, int ldx, const float *s) {
    const int c4 = cols & ~3;
    for (int i = 0; i < rows; i++) {
        float *xr = x + (size_t)i * ldx;
        const v128_t v = wasm_f32x4_splat(s[i]);
        int j = 0;
        for (; j < c4; j += 4) wasm_v128_store(xr + j, wasm_f32x4_mul(wasm_v128_load(xr + j), v));
        for (; j < cols; j++) xr[j] *= s[i];
    }
}
