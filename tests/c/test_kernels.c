/*
 * test_kernels.c — every SIMD kernel against its scalar reference, over edge-size sweeps.
 *
 * Two kinds of input:
 *  - small integers, for which every product and partial sum is exact in f32, so the SIMD result must
 *    equal the reference bit for bit whatever the summation order: this catches any indexing, stride,
 *    tail or tile-edge mistake, however small the affected term;
 *  - random reals, checked with named tolerances that follow from the math (see each constant).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "testlib.h"

/* f32 GEMM on reals: both sides sum k products in different orders; each is within
 * k·eps·Σ|a·b| of the truth in the worst case, typically √k·eps·Σ|a·b|. We allow 4√k·eps·Σ|a·b|. */
#define GEMM_REL_TOL(k) (4.0 * sqrt((double)(k)) * FLT_EPSILON)
/* LayerNorm: the error is dominated by the f32 sum for the mean (it grows with √n and with the
 * mean against the spread), so both implementations are compared with a double-precision one and
 * the SIMD kernel may be at most 2× as far from it as the reference (or 1e-6). */
#define LAYERNORM_VS_REF 2.0
#define LAYERNORM_FLOOR 1e-6
/* Softmax probabilities: vector exp rel. error 3e-7 plus the sum's rounding. */
#define SOFTMAX_ABS_TOL 1e-6
/* Vector exp: relative error bound stated in kernels.h. */
#define EXP_REL_TOL 3e-7
/* Vector erf: absolute error bound stated in kernels.h. */
#define ERF_ABS_TOL 4e-7
/* GELU = 0.5·x·(1 + erf): erf's error scaled by 0.5|x|, plus rounding of the products. */
#define GELU_TOL(x) (0.5 * ERF_ABS_TOL * fabs(x) + 2.0 * FLT_EPSILON * fabs(x) + 1e-9)

static const int sizes_k[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 383, 1023};
static const int sizes_mn[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33};
#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

static void fill(tl_rng *r, float *v, size_t n, int integers) {
    for (size_t i = 0; i < n; i++) v[i] = integers ? (float)tl_int(r, -3, 3) : tl_uniform(r, -1.0f, 1.0f);
}

static void test_gemm(void) {
    tl_rng r = {7};
    int cases = 0;
    for (int integers = 1; integers >= 0; integers--) {
        for (int ik = 0; ik < COUNT(sizes_k); ik++) {
            for (int im = 0; im < COUNT(sizes_mn); im++) {
                for (int in = 0; in < COUNT(sizes_mn); in++) {
                    const int k = sizes_k[ik], m = sizes_mn[im], n = sizes_mn[in];
                    /* Strides past the row: exercise lda/ldb/ldc != k / n, and sentinels between rows. */
                    const int lda = k + (m & 1) * 3, ldb = k + (n & 1) * 5, ldc = n + 2;
                    float *a = malloc(sizeof(float) * (size_t)m * lda), *b = malloc(sizeof(float) * (size_t)n * ldb);
                    float *bias = malloc(sizeof(float) * (size_t)n);
                    float *c_ref = malloc(sizeof(float) * (size_t)m * ldc), *c_simd = malloc(sizeof(float) * (size_t)m * ldc);
                    fill(&r, a, (size_t)m * lda, integers);
                    fill(&r, b, (size_t)n * ldb, integers);
                    fill(&r, bias, (size_t)n, integers);
                    const int with_bias = (m + n + k) & 1;
                    /* The same B as [k][n] for the "nn" kernel (stride ldbt > n). */
                    const int ldbt = n + 3;
                    float *bt = malloc(sizeof(float) * (size_t)k * ldbt);
                    for (int p = 0; p < k; p++)
                        for (int j = 0; j < ldbt; j++) bt[p * ldbt + j] = j < n ? b[j * ldb + p] : 999.0f;
                    /* …and packed in panels when n allows. */
                    float *panels = malloc(sizeof(float) * (size_t)n * k + 4);
                    if (n % 8 == 0) et_f32_pack_panels(n, k, b, ldb, panels);
                    for (int nn = 0; nn < (n % 8 == 0 ? 3 : 2); nn++) {
                    for (int i = 0; i < m * ldc; i++) c_ref[i] = c_simd[i] = 1234.5f; /* sentinels */
                    if (nn == 2) {
                        et_f32_gemm_packed__scalar(m, n, k, a, lda, panels, with_bias ? bias : NULL, c_ref, ldc);
                        et_f32_gemm_packed_4x8__wasmsimd(m, n, k, a, lda, panels, with_bias ? bias : NULL, c_simd, ldc);
                    } else if (nn) {
                        et_f32_gemm_nn__scalar(m, n, k, a, lda, bt, ldbt, with_bias ? bias : NULL, c_ref, ldc);
                        et_f32_gemm_nn_4x8__wasmsimd(m, n, k, a, lda, bt, ldbt, with_bias ? bias : NULL, c_simd, ldc);
                    } else {
                        et_f32_gemm_nt__scalar(m, n, k, a, lda, b, ldb, with_bias ? bias : NULL, c_ref, ldc);
                        et_f32_gemm_nt_2x4__wasmsimd(m, n, k, a, lda, b, ldb, with_bias ? bias : NULL, c_simd, ldc);
                    }
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < ldc; j++) {
                            const float x = c_ref[i * ldc + j], y = c_simd[i * ldc + j];
                            if (j >= n) {
                                CHECK(y == 1234.5f, "gemm wrote past column %d (m=%d n=%d k=%d)", n, m, n, k);
                                continue;
                            }
                            if (integers) {
                                CHECK(x == y, "gemm %s m=%d n=%d k=%d [%d][%d]: ref %g simd %g", nn == 2 ? "packed" : nn ? "nn" : "nt", m, n, k, i, j, x, y);
                            } else {
                                double mag = with_bias ? fabs(bias[j]) : 0.0;
                                for (int p = 0; p < k; p++) mag += fabs((double)a[i * lda + p] * b[j * ldb + p]);
                                CHECK(fabs((double)x - y) <= GEMM_REL_TOL(k) * mag + 1e-30,
                                      "gemm %s m=%d n=%d k=%d [%d][%d]: ref %.9g simd %.9g", nn == 2 ? "packed" : nn ? "nn" : "nt", m, n, k, i, j, x, y);
                            }
                        }
                    }
                    cases++;
                    }
                    free(a), free(b), free(bt), free(panels), free(bias), free(c_ref), free(c_simd);
                }
            }
        }
    }
    printf("gemm: %d shape cases\n", cases);
}

static void test_layernorm(void) {
    static const int ns[] = {1, 2, 3, 4, 7, 15, 16, 17, 64, 168, 384, 1023};
    tl_rng r = {11};
    for (int in = 0; in < COUNT(ns); in++) {
        const int n = ns[in], rows = 3;
        float *x = malloc(sizeof(float) * (size_t)rows * n), *res = malloc(sizeof(float) * (size_t)rows * n);
        float *g = malloc(sizeof(float) * (size_t)n), *bt = malloc(sizeof(float) * (size_t)n);
        float *y_ref = malloc(sizeof(float) * (size_t)rows * n), *y_simd = malloc(sizeof(float) * (size_t)rows * n);
        for (int i = 0; i < rows * n; i++) x[i] = tl_uniform(&r, -4, 4) + 10.0f * (i / n), res[i] = tl_uniform(&r, -1, 1);
        for (int i = 0; i < n; i++) g[i] = tl_uniform(&r, 0.5f, 1.5f), bt[i] = tl_uniform(&r, -0.5f, 0.5f);
        for (int with_res = 0; with_res < 2; with_res++) {
            et_f32_layernorm__scalar(rows, n, x, with_res ? res : NULL, g, bt, 1e-5f, y_ref);
            et_f32_layernorm__wasmsimd(rows, n, x, with_res ? res : NULL, g, bt, 1e-5f, y_simd);
            double err_ref = 0, err_simd = 0;
            for (int rr = 0; rr < rows; rr++) {
                double mean = 0, var = 0;
                for (int j = 0; j < n; j++) mean += (double)x[rr * n + j] + (with_res ? res[rr * n + j] : 0.0f);
                mean /= n;
                for (int j = 0; j < n; j++) var += pow((double)x[rr * n + j] + (with_res ? res[rr * n + j] : 0.0f) - mean, 2);
                const double rstd = 1.0 / sqrt(var / n + 1e-5);
                for (int j = 0; j < n; j++) {
                    const double v = (double)x[rr * n + j] + (with_res ? res[rr * n + j] : 0.0f);
                    const double exact = (v - mean) * rstd * g[j] + bt[j];
                    err_ref = fmax(err_ref, fabs(y_ref[rr * n + j] - exact));
                    err_simd = fmax(err_simd, fabs(y_simd[rr * n + j] - exact));
                }
            }
            CHECK(err_simd <= fmax(LAYERNORM_VS_REF * err_ref, LAYERNORM_FLOOR),
                  "layernorm n=%d res=%d: SIMD error %g, reference error %g", n, with_res, err_simd, err_ref);
            /* In place (y aliases x) must give the same as out of place. */
            float *xc = malloc(sizeof(float) * (size_t)rows * n);
            memcpy(xc, x, sizeof(float) * (size_t)rows * n);
            et_f32_layernorm__wasmsimd(rows, n, xc, with_res ? res : NULL, g, bt, 1e-5f, xc);
            CHECK(memcmp(xc, y_simd, sizeof(float) * (size_t)rows * n) == 0, "layernorm n=%d in place differs", n);
            free(xc);
        }
        /* The math itself: a row's output, undone by γ and β, has mean 0 and variance ~1. */
        if (n >= 16) {
            double mean = 0, var = 0;
            for (int j = 0; j < n; j++) mean += (y_ref[j] - bt[j]) / g[j];
            mean /= n;
            for (int j = 0; j < n; j++) var += pow((y_ref[j] - bt[j]) / g[j] - mean, 2);
            var /= n;
            CHECK(fabs(mean) < 1e-5 && fabs(var - 1) < 1e-3, "layernorm n=%d: mean %g var %g", n, mean, var);
        }
        free(x), free(res), free(g), free(bt), free(y_ref), free(y_simd);
    }
}

static void test_exp_erf_gelu(void) {
    enum { N = 20011 }; /* odd, so the vector tail is exercised */
    float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N), *y_ref = malloc(sizeof(float) * N);
    double worst;

    for (int i = 0; i < N; i++) x[i] = -87.0f + 175.0f * (float)i / (N - 1);
    et_f32_vexp__wasmsimd(N, x, y);
    worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(y[i] / exp((double)x[i]) - 1.0));
    CHECK(worst <= EXP_REL_TOL, "exp: max relative error %g", worst);
    printf("exp: max relative error %.3g on [-87, 88]\n", worst);

    for (int i = 0; i < N; i++) x[i] = -8.0f + 16.0f * (float)i / (N - 1);
    et_f32_verf__wasmsimd(N, x, y);
    worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(y[i] - erf((double)x[i])));
    CHECK(worst <= ERF_ABS_TOL, "erf: max absolute error %g", worst);
    printf("erf: max absolute error %.3g on [-8, 8]\n", worst);
    /* Symmetry and saturation. */
    float probe[4] = {0.0f, 30.0f, -30.0f, 1e-20f}, out[4];
    et_f32_verf__wasmsimd(4, probe, out);
    CHECK(fabsf(out[0]) < 1e-8f && fabsf(out[1] - 1.0f) <= 1e-7f && out[2] == -out[1] && fabsf(out[3]) < 1e-8f,
          "erf specials: %g %g %g %g", out[0], out[1], out[2], out[3]);

    tl_rng r = {3};
    for (int i = 0; i < N; i++) x[i] = i < N / 2 ? -12.0f + 24.0f * (float)i / (N / 2) : tl_uniform(&r, -6, 6);
    for (int tail = 0; tail < 4; tail++) {
        const size_t n = (size_t)N - (size_t)tail;
        et_f32_gelu__scalar(n, x, y_ref);
        et_f32_gelu__wasmsimd(n, x, y);
        int bad = 0;
        for (size_t i = 0; i < n; i++) bad += !(fabs((double)y[i] - y_ref[i]) <= GELU_TOL(x[i]));
        CHECK(bad == 0, "gelu n=%zu: %d values beyond tolerance", n, bad);
    }
    et_f32_gelu__wasmsimd(N, x, x); /* in place */
    CHECK(memcmp(x, y, sizeof(float) * N) == 0, "gelu in place differs");
    free(x), free(y), free(y_ref);
}

static void test_softmax(void) {
    static const int ns[] = {1, 2, 3, 4, 5, 15, 16, 17, 128, 1023};
    tl_rng r = {5};
    for (int in = 0; in < COUNT(ns); in++) {
        const int n = ns[in], rows = 4, ld = n + 3;
        float *a = malloc(sizeof(float) * (size_t)rows * ld), *b = malloc(sizeof(float) * (size_t)rows * ld);
        for (int i = 0; i < rows * ld; i++) a[i] = tl_uniform(&r, -30, 30);
        memcpy(b, a, sizeof(float) * (size_t)rows * ld);
        const float scale = 0.125f + (float)in;
        float *c = malloc(sizeof(float) * (size_t)rows * ld), inv[4];
        memcpy(c, a, sizeof(float) * (size_t)rows * ld);
        et_f32_softmax__scalar(rows, n, a, ld, scale, NULL);
        et_f32_softmax__wasmsimd(rows, n, b, ld, scale, NULL);
        /* The unnormalized mode: numerators and 1/sum, which times each other give the same. */
        et_f32_softmax__wasmsimd(rows, n, c, ld, scale, inv);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
                CHECK(fabsf(c[i * ld + j] * inv[i] - b[i * ld + j]) <= 1e-7f, "softmax n=%d: unnormalized mode differs", n);
        free(c);
        for (int i = 0; i < rows; i++) {
            double worst = 0, sum = 0;
            for (int j = 0; j < n; j++) worst = fmax(worst, fabs((double)a[i * ld + j] - b[i * ld + j])), sum += b[i * ld + j];
            CHECK(worst <= SOFTMAX_ABS_TOL, "softmax n=%d row %d: max diff %g", n, i, worst);
            CHECK(fabs(sum - 1.0) <= 1e-5, "softmax n=%d row %d sums to %.9g", n, i, sum);
            for (int j = n; j < ld; j++) CHECK(a[i * ld + j] == b[i * ld + j], "softmax n=%d wrote past the row", n);
        }
        free(a), free(b);
    }
}

/* int8: quantizers and GEMMs equal their scalar references bit for bit (integer sums are exact and the
 * epilogues do the same float operations); the quantized product stays close to the f32 one. */
typedef struct q8_variant {
    const char *name;
    et_q8_quantize_fn quantize_ref, quantize;
    et_q8_gemm_nt_fn gemm_ref, gemm;
    int level_bytes, qmax;
    et_q8_gemm_packed_fn packed_ref, packed[2];
    int probe; /* -1, or the dot32 flag of et_q8_gemm_packed_4x8_u7__wasmrelaxed_probe for this kernel */
} q8_variant;

static void test_q8(void) {
    const q8_variant variants[] = {
        {"i16 baseline", et_q8_quantize_i16__scalar, et_q8_quantize_i16__wasmsimd, et_q8_gemm_nt_i16__scalar,
         et_q8_gemm_nt_2x4_i16__wasmsimd, 2, 255, et_q8_gemm_packed_i16__scalar,
         {et_q8_gemm_packed_4x4_i16__wasmsimd, NULL}, -1},
        {"u7 dot16", et_q8_quantize_u7__scalar, et_q8_quantize_u7__wasmsimd, et_q8_gemm_nt_u7__scalar,
         et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot16, 1, 127, et_q8_gemm_packed_u7__scalar,
         {et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot16, NULL}, 0},
        {"u7 dot32", et_q8_quantize_u7__scalar, et_q8_quantize_u7__wasmsimd, et_q8_gemm_nt_u7__scalar,
         et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot32, 1, 127, et_q8_gemm_packed_u7__scalar,
         {et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot32, NULL}, 1},
    };
    tl_rng r = {13};
    int cases = 0;
    double worst_rel = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const q8_variant *q = &variants[v];
        for (int ik = 0; ik < COUNT(sizes_k); ik++) {
            for (int im = 0; im < COUNT(sizes_mn); im += 2) {
                for (int in = 0; in < COUNT(sizes_mn); in++) {
                    const int k = sizes_k[ik], m = sizes_mn[im], n = sizes_mn[in];
                    const int ldx = k + 1, lda = k + 3, ldw = k + (n & 1) * 5, ldc = n + 2;
                    float *x = malloc(sizeof(float) * (size_t)m * ldx), *sw = malloc(sizeof(float) * (size_t)n);
                    float *bias = malloc(sizeof(float) * (size_t)n), *sa1 = malloc(sizeof(float) * (size_t)m);
                    float *sa2 = malloc(sizeof(float) * (size_t)m), *c1 = malloc(sizeof(float) * (size_t)m * ldc);
                    float *c2 = malloc(sizeof(float) * (size_t)m * ldc), *cf = malloc(sizeof(float) * (size_t)m * n);
                    int32_t *za1 = malloc(sizeof(int32_t) * (size_t)m), *za2 = malloc(sizeof(int32_t) * (size_t)m);
                    int32_t *wsum = malloc(sizeof(int32_t) * (size_t)n);
                    int8_t *w = malloc((size_t)n * ldw);
                    uint8_t *a1 = calloc((size_t)m * lda, (size_t)q->level_bytes), *a2 = calloc((size_t)m * lda, (size_t)q->level_bytes);
                    /* Activations with an offset and a spread like a transformer's; a row of zeros. */
                    for (int i = 0; i < m * ldx; i++) x[i] = tl_uniform(&r, -2.0f, 3.0f) * (1 + (i % 7 == 0) * 4);
                    if (m > 2) for (int p = 0; p < k; p++) x[2 * ldx + p] = 0.0f;
                    for (int j = 0; j < n; j++) {
                        sw[j] = tl_uniform(&r, 0.001f, 0.02f), bias[j] = tl_uniform(&r, -1, 1), wsum[j] = 0;
                        for (int p = 0; p < ldw; p++) w[(size_t)j * ldw + p] = (int8_t)tl_int(&r, -127, 127);
                        for (int p = 0; p < k; p++) wsum[j] += w[(size_t)j * ldw + p];
                    }
                    q->quantize_ref(m, k, x, ldx, a1, lda, sa1, za1);
                    q->quantize(m, k, x, ldx, a2, lda, sa2, za2);
                    CHECK(memcmp(sa1, sa2, sizeof(float) * (size_t)m) == 0 && memcmp(za1, za2, sizeof(int32_t) * (size_t)m) == 0 &&
                              memcmp(a1, a2, (size_t)m * lda * q->level_bytes) == 0,
                          "%s quantize m=%d k=%d differs from its reference", q->name, m, k);
                    for (int i = 0; i < m * ldc; i++) c1[i] = c2[i] = 777.0f;
                    q->gemm_ref(m, n, k, a1, lda, sa1, za1, w, ldw, sw, wsum, bias, c1, ldc);
                    q->gemm(m, n, k, a1, lda, sa1, za1, w, ldw, sw, wsum, bias, c2, ldc);
                    CHECK(memcmp(c1, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s gemm m=%d n=%d k=%d differs from its reference",
                          q->name, m, n, k);
                    /* Packed weights (contiguous rows, then 4-row panels): the packed reference reads the
                     * layout and equals the row-major one; each packed SIMD kernel equals the reference. */
                    int8_t *wc = malloc((size_t)n * k), *pw = malloc((size_t)n * k);
                    for (int j = 0; j < n; j++) memcpy(wc + (size_t)j * k, w + (size_t)j * ldw, (size_t)k);
                    et_i8_pack_panels(n, k, wc, pw);
                    for (int j = 0; j + 4 <= n; j += 4) { /* in place, block by block, as the loader does */
                        int8_t blk[4 * 1023];
                        et_i8_pack_panels(4, k, wc + (size_t)j * k, blk);
                        memcpy(wc + (size_t)j * k, blk, (size_t)4 * k);
                    }
                    CHECK(memcmp(wc, pw, (size_t)n * k) == 0, "packing block by block differs, n=%d k=%d", n, k);
                    for (int i = 0; i < m * ldc; i++) c2[i] = 777.0f;
                    q->packed_ref(m, n, k, a1, lda, sa1, za1, pw, sw, wsum, bias, c2, ldc);
                    CHECK(memcmp(c1, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s packed reference m=%d n=%d k=%d",
                          q->name, m, n, k);
                    for (int v2 = 0; v2 < 2 && q->packed[v2]; v2++) {
                        for (int i = 0; i < m * ldc; i++) c2[i] = 777.0f;
                        q->packed[v2](m, n, k, a1, lda, sa1, za1, pw, sw, wsum, bias, c2, ldc);
                        CHECK(memcmp(c1, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s packed kernel %d m=%d n=%d k=%d",
                              q->name, v2, m, n, k);
                    }
                    if (q->probe >= 0) { /* the probe's copy of the kernel computes the same */
                        for (int i = 0; i < m * ldc; i++) c2[i] = 777.0f;
                        et_q8_gemm_packed_4x8_u7__wasmrelaxed_probe(q->probe, m, n, k, a1, lda, sa1, za1, pw, sw, wsum, bias,
                                                                    c2, ldc);
                        CHECK(memcmp(c1, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s probe kernel m=%d n=%d k=%d",
                              q->name, m, n, k);
                    }
                    free(wc), free(pw);
                    /* Against the f32 product of the dequantized weights and the original activations:
                     * each activation is off by at most half a level, sa/2, so the output by at most
                     * (sa/2)·Σ|w·sw| (plus float rounding). */
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double f = bias[j], wabs = 0;
                            for (int p = 0; p < k; p++) {
                                const double wv = (double)w[(size_t)j * ldw + p] * sw[j];
                                f += x[(size_t)i * ldx + p] * wv, wabs += fabs(wv);
                            }
                            const double bound = 0.5 * sa1[i] * wabs * 1.001 + 1e-5 * (fabs(f) + 1);
                            worst_rel = fmax(worst_rel, fabs(c1[(size_t)i * ldc + j] - f) / bound);
                        }
                    cases++;
                    free(x), free(sw), free(bias), free(sa1), free(sa2), free(c1), free(c2), free(cf), free(za1), free(za2);
                    free(wsum), free(w), free(a1), free(a2);
                }
            }
        }
    }
    CHECK(worst_rel <= 1.0, "int8 GEMM error %g times its bound", worst_rel);
    /* Row sums, including the extremes (−127 × many) and odd widths. */
    static const int widths[] = {1, 15, 16, 17, 33, 384, 1023};
    for (int iw = 0; iw < COUNT(widths); iw++) {
        const int cols = widths[iw], rows = 5;
        int8_t *w = malloc((size_t)rows * cols);
        int32_t s1[5], s2[5];
        for (int i = 0; i < rows * cols; i++) w[i] = (int8_t)(i < cols ? -127 : i < 2 * cols ? 127 : tl_int(&r, -127, 127));
        et_i8_row_sums__scalar(rows, cols, w, s1);
        et_i8_row_sums__wasmsimd(rows, cols, w, s2);
        CHECK(memcmp(s1, s2, sizeof s1) == 0 && s1[0] == -127 * cols && s1[1] == 127 * cols, "row sums cols=%d", cols);
        /* Every kernel set's entry (the loader calls it through a table) gives the reference's sums. */
        const et_kernels *sets[5] = {et_kernels_reference(), et_kernels_reference_u7(), et_kernels_baseline(),
                                     et_kernels_relaxed_dot16(), et_kernels_relaxed_dot32()};
        for (int k = 0; k < 5; k++) {
            if (!sets[k]) continue;
            int32_t s3[5] = {0};
            sets[k]->i8_row_sums(rows, cols, w, s3);
            CHECK(memcmp(s1, s3, sizeof s1) == 0, "row sums cols=%d through %s", cols, sets[k]->name);
        }
        free(w);
    }
    /* Symmetric int8 rows (attention's keys and values): vector = reference byte for byte, every value within
     * half a level of x / scale, the sums those of the bytes; all-zero rows give zeros and scale 1, rows with an
     * infinity or a NaN zeros and a NaN scale. Row stride wider than the row; odd widths. */
    static const int qwidths[] = {1, 3, 4, 15, 16, 17, 32, 33, 128, 383};
    for (int iw = 0; iw < COUNT(qwidths); iw++) {
        const int cols = qwidths[iw], rows = 6, ldx = cols + 3, ldq = cols + 5;
        float *x = malloc(sizeof(float) * (size_t)rows * ldx), sc1[6], sc2[6];
        int8_t *q1 = malloc((size_t)rows * ldq), *q2 = malloc((size_t)rows * ldq);
        int32_t su1[6], su2[6];
        for (int i = 0; i < rows * ldx; i++) x[i] = tl_uniform(&r, -3.0f, 3.0f) * (1 + (i % 5 == 0) * 7);
        for (int p = 0; p < cols; p++) x[1 * ldx + p] = 0.0f;                  /* all zero */
        x[2 * ldx + cols / 2] = NAN;                                          /* a NaN */
        x[3 * ldx + cols - 1] = -INFINITY;                                    /* an infinity */
        if (cols > 1) x[4 * ldx + 0] = 1e-30f, x[4 * ldx + 1] = -5.0f;        /* tiny and large together */
        memset(q1, 99, (size_t)rows * ldq), memset(q2, 99, (size_t)rows * ldq);
        et_i8_quantize_rows__scalar(rows, cols, x, ldx, q1, ldq, sc1, su1);
        et_i8_quantize_rows__wasmsimd(rows, cols, x, ldx, q2, ldq, sc2, su2);
        int same = memcmp(su1, su2, sizeof su1) == 0;
        for (int i = 0; i < rows; i++) {
            same &= memcmp(q1 + (size_t)i * ldq, q2 + (size_t)i * ldq, (size_t)cols) == 0;
            same &= (sc1[i] == sc2[i]) || (sc1[i] != sc1[i] && sc2[i] != sc2[i]);
            int32_t sum = 0;
            for (int p = 0; p < cols; p++) {
                const int8_t v = q1[(size_t)i * ldq + p];
                sum += v;
                CHECK(v != -128, "symmetric rows: level -128");
                if (i != 2 && i != 3)
                    CHECK(fabsf(x[(size_t)i * ldx + p] / sc1[i] - v) <= 0.5f + 1e-4f, "symmetric rows cols=%d [%d][%d]: %g / %g vs %d",
                          cols, i, p, x[(size_t)i * ldx + p], sc1[i], v);
            }
            CHECK(sum == su1[i], "symmetric rows cols=%d row %d: sum %d, bytes %d", cols, i, su1[i], sum);
        }
        CHECK(same, "symmetric rows cols=%d: the vector kernel differs from its reference", cols);
        CHECK(sc1[1] == 1.0f && su1[1] == 0 && sc1[2] != sc1[2] && su1[2] == 0 && sc1[3] != sc1[3] && su1[3] == 0,
              "symmetric rows cols=%d: zero / NaN / infinite rows", cols);
        free(x), free(q1), free(q2);
    }
    printf("q8: %d cases bit-exact; worst error vs f32 %.3f of the half-level bound\n", cases, worst_rel);
}

/* ---- 4-bit weights ------------------------------------------------------------------------------------ */

/* A half with the given bits' value, through the engine-independent definition (for the f32 check). */
static double half_value(uint16_t h) {
    const int e = (h >> 10) & 31, f = h & 1023;
    const double v = e ? ldexp(1.0 + f / 1024.0, e - 15) : ldexp(f / 1024.0, -14);
    return (h & 0x8000) ? -v : v;
}

typedef struct q4_variant {
    const char *name;
    et_q8_quantize_fn quantize;
    int level_bytes;
    et_q4_gemm_packed_fn ref, kernels[2];
} q4_variant;

static void test_q4(void) {
    const q4_variant variants[] = {
        {"q4 i16 baseline", et_q8_quantize_i16__scalar, 2, et_q4_gemm_packed_i16__scalar,
         {et_q4_gemm_packed_2x4_i16__wasmsimd, NULL}},
        {"q4 u7 relaxed", et_q8_quantize_u7__scalar, 1, et_q4_gemm_packed_u7__scalar,
         {et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot16, et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot32}},
    };
    static const int ks[] = {32, 64, 96, 384, 1024};
    tl_rng r = {17};
    int cases = 0;
    double worst_rel = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const q4_variant *q = &variants[v];
        for (int ik = 0; ik < COUNT(ks); ik++)
            for (int im = 0; im < COUNT(sizes_mn); im++)
                for (int in = 0; in < COUNT(sizes_mn); in += (ik > 2 ? 3 : 1)) {
                    const int k = ks[ik], m = sizes_mn[im], n = sizes_mn[in], nb = k / 32;
                    const int ldx = k + 1, lda = k + 3, ldc = n + 2;
                    const size_t wbytes = (size_t)n * nb * 18;
                    float *x = malloc(sizeof(float) * (size_t)m * ldx), *sa = malloc(sizeof(float) * (size_t)m);
                    float *zs = malloc(sizeof(float) * (size_t)n), *bias = malloc(sizeof(float) * (size_t)n);
                    float *c1 = malloc(sizeof(float) * (size_t)m * ldc), *c2 = malloc(sizeof(float) * (size_t)m * ldc);
                    int32_t *za = malloc(sizeof(int32_t) * (size_t)m);
                    uint8_t *w = malloc(wbytes), *pw = malloc(wbytes), *wc = malloc(wbytes);
                    uint8_t *a = calloc((size_t)m * lda, (size_t)q->level_bytes);
                    for (int i = 0; i < m * ldx; i++) x[i] = tl_uniform(&r, -2.0f, 3.0f) * (1 + (i % 7 == 0) * 4);
                    if (m > 2) for (int p = 0; p < k; p++) x[2 * ldx + p] = 0.0f;
                    /* Blocks: random nibbles with the extremes 0 and 15 in row 0; scales of both signs,
                     * zero and subnormal halves among them. */
                    for (size_t b = 0; b < (size_t)n * nb; b++) {
                        uint8_t *blk = w + 18 * b;
                        const int kind = tl_int(&r, 0, 9);
                        const uint16_t h = kind == 0 ? 0 : kind == 1 ? (uint16_t)tl_int(&r, 1, 1023) | (tl_int(&r, 0, 1) << 15)
                                                         : (uint16_t)(tl_int(&r, 0x1400, 0x2400) | (tl_int(&r, 0, 1) << 15));
                        blk[0] = (uint8_t)h, blk[1] = (uint8_t)(h >> 8);
                        for (int e = 0; e < 16; e++) blk[2 + e] = b < (size_t)nb ? (e & 1 ? 0xF0 : 0x0F) : (uint8_t)tl_int(&r, 0, 255);
                    }
                    for (int j = 0; j < n; j++) bias[j] = tl_uniform(&r, -1, 1);
                    CHECK(et_q4_zero_sums(n, k, w, zs), "zero sums of finite scales");
                    /* Packing whole, and in place 4 rows at a time as the loader does. */
                    et_q4_pack_panels(n, k, w, pw);
                    memcpy(wc, w, wbytes);
                    for (int j = 0; j + 4 <= n; j += 4) {
                        uint8_t blk[4 * 32 * 18];
                        et_q4_pack_panels(4, k, wc + (size_t)j * nb * 18, blk);
                        memcpy(wc + (size_t)j * nb * 18, blk, (size_t)4 * nb * 18);
                    }
                    CHECK(memcmp(wc, pw, wbytes) == 0, "q4 packing 4 rows at a time differs, n=%d k=%d", n, k);
                    q->quantize(m, k, x, ldx, a, lda, sa, za);
                    /* The reference on the packed layout equals the formula computed here from the rows. */
                    for (int i = 0; i < m * ldc; i++) c1[i] = c2[i] = 777.0f;
                    q->ref(m, n, k, a, lda, sa, za, pw, zs, bias, c1, ldc);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            float acc = 0.0f;
                            for (int b = 0; b < nb; b++) {
                                const uint8_t *blk = w + ((size_t)j * nb + b) * 18;
                                int32_t s = 0;
                                for (int e = 0; e < 32; e++) {
                                    const int lvl = (e < 16 ? blk[2 + e] & 15 : blk[2 + e - 16] >> 4) - 8;
                                    const int av = q->level_bytes == 2 ? ((int16_t *)(void *)a)[(size_t)i * lda + 32 * b + e]
                                                                       : a[(size_t)i * lda + 32 * b + e];
                                    s += av * lvl;
                                }
                                const float t = (float)s * (float)half_value((uint16_t)(blk[0] | blk[1] << 8));
                                acc += t;
                            }
                            const float zt = (float)za[i] * zs[j], y = (acc - zt) * sa[i];
                            c2[(size_t)i * ldc + j] = y + bias[j];
                        }
                    CHECK(memcmp(c1, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s reference m=%d n=%d k=%d vs the rows",
                          q->name, m, n, k);
                    for (int kv = 0; kv < 2 && q->kernels[kv]; kv++) {
                        for (int i = 0; i < m * ldc; i++) c2[i] = 777.0f;
                        q->kernels[kv](m, n, k, a, lda, sa, za, pw, zs, bias, c2, ldc);
                        CHECK(memcmp(c1, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s kernel %d m=%d n=%d k=%d differs from its reference",
                              q->name, kv, m, n, k);
                        float *c3 = malloc(sizeof(float) * (size_t)m * ldc); /* bias NULL */
                        for (int i = 0; i < m * ldc; i++) c2[i] = c3[i] = 777.0f;
                        q->kernels[kv](m, n, k, a, lda, sa, za, pw, zs, NULL, c2, ldc);
                        q->ref(m, n, k, a, lda, sa, za, pw, zs, NULL, c3, ldc);
                        CHECK(memcmp(c3, c2, sizeof(float) * (size_t)m * ldc) == 0, "%s kernel %d without bias m=%d n=%d k=%d",
                              q->name, kv, m, n, k);
                        free(c3);
                    }
                    /* Against f32 with the dequantized weights: off by at most half a level per activation. */
                    float *row = malloc(sizeof(float) * (size_t)k);
                    for (int j = 0; j < n; j++) {
                        et_q4_dequantize_row(k, w + (size_t)j * nb * 18, row);
                        for (int i = 0; i < m; i++) {
                            double f = bias[j], wabs = 0;
                            for (int p = 0; p < k; p++) f += x[(size_t)i * ldx + p] * (double)row[p], wabs += fabs(row[p]);
                            const double bound = 0.5 * sa[i] * wabs * 1.001 + 1e-5 * (fabs(f) + 1);
                            worst_rel = fmax(worst_rel, fabs(c1[(size_t)i * ldc + j] - f) / bound);
                        }
                    }
                    cases++;
                    free(row), free(x), free(sa), free(zs), free(bias), free(c1), free(c2), free(za), free(w), free(pw), free(wc), free(a);
                }
    }
    CHECK(worst_rel <= 1.0, "q4 GEMM error %g times its bound", worst_rel);
    /* Dequantized rows: llama.cpp's definition d·(q − 8), low nibbles first. */
    uint8_t blk[18] = {0x00, 0x3c}; /* d = 1.0 */
    for (int e = 0; e < 16; e++) blk[2 + e] = (uint8_t)(e | (15 - e) << 4);
    float out[32];
    et_q4_dequantize_row(32, blk, out);
    CHECK(out[0] == -8.0f && out[15] == 7.0f && out[16] == 7.0f && out[31] == -8.0f, "dequantized Q4_0 row");
    /* A non-finite scale is refused. */
    float zs1;
    blk[0] = 0x00, blk[1] = 0x7c; /* +inf */
    CHECK(!et_q4_zero_sums(1, 32, blk, &zs1), "an infinite scale is refused");
    /* Every kernel set has a q4 kernel; the default ones are the SIMD kernels. */
    const et_kernels *sets[5] = {et_kernels_reference(), et_kernels_reference_u7(), et_kernels_baseline(),
                                 et_kernels_relaxed_dot16(), et_kernels_relaxed_dot32()};
    for (int i = 0; i < 5; i++) CHECK(!sets[i] || sets[i]->q4_gemm_packed, "kernel set %d has no q4 GEMM", i);
    CHECK(et_kernels_baseline()->q4_gemm_packed == et_q4_gemm_packed_2x4_i16__wasmsimd, "baseline q4 kernel");
    printf("q4: %d cases bit-exact; worst error vs f32 %.3f of the half-level bound\n", cases, worst_rel);
}

static void test_movements(void) {
    static const int sizes[] = {1, 3, 4, 5, 8, 17, 32, 33};
    tl_rng r = {21};
    for (int ir = 0; ir < COUNT(sizes); ir++)
        for (int ic = 0; ic < COUNT(sizes); ic++) {
            const int rows = sizes[ir], cols = sizes[ic], lds = cols + 2, ldd = rows + 3;
            const size_t big = (size_t)(cols * ldd > rows * lds ? cols * ldd : rows * lds);
            float *src = malloc(sizeof(float) * (size_t)rows * lds), *d1 = malloc(sizeof(float) * big);
            float *d2 = malloc(sizeof(float) * big), *s = malloc(sizeof(float) * (size_t)rows);
            fill(&r, src, (size_t)rows * lds, 0);
            fill(&r, s, (size_t)rows, 0);
            for (int i = 0; i < cols * ldd; i++) d1[i] = d2[i] = -5.0f;
            et_f32_transpose__scalar(rows, cols, src, lds, d1, ldd);
            et_f32_transpose__wasmsimd(rows, cols, src, lds, d2, ldd);
            CHECK(memcmp(d1, d2, sizeof(float) * (size_t)cols * ldd) == 0 && d1[0] == src[0] &&
                      d1[(size_t)(cols - 1) * ldd + rows - 1] == src[(size_t)(rows - 1) * lds + cols - 1],
                  "transpose %d × %d", rows, cols);
            memcpy(d1, src, sizeof(float) * (size_t)rows * lds);
            memcpy(d2, src, sizeof(float) * (size_t)rows * lds);
            et_f32_scale_rows__scalar(rows, cols, d1, lds, s);
            et_f32_scale_rows__wasmsimd(rows, cols, d2, lds, s);
            CHECK(memcmp(d1, d2, sizeof(float) * (size_t)rows * lds) == 0, "scale rows %d × %d", rows, cols);
            free(src), free(d1), free(d2), free(s);
        }
}

static void test_tables(void) {
    const et_kernels *t[2] = {et_kernels_reference(), et_kernels_best()};
    for (int i = 0; i < 2; i++)
        CHECK(t[i]->name && t[i]->f32_gemm_nt && t[i]->f32_layernorm && t[i]->f32_gelu && t[i]->f32_softmax,
              "kernel table %d incomplete", i);
    CHECK(t[0]->f32_gemm_nt == et_f32_gemm_nt__scalar && t[1]->f32_gemm_nt == et_f32_gemm_nt_2x4__wasmsimd,
          "tables point at the wrong kernels");
    CHECK(t[0]->i8_row_sums == et_i8_row_sums__scalar && t[1]->i8_row_sums == et_i8_row_sums__wasmsimd,
          "row sums: the reference table has the scalar twin, the best table the SIMD one");
}

int main(void) {
    test_tables();
    test_gemm();
    test_layernorm();
    test_exp_erf_gelu();
    test_softmax();
    test_q8();
    test_q4();
    test_movements();
    return tl_finish("test_kernels");
}
