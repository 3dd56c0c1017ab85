/*
 * kernels.h — the numeric kernels: one signature per operation, a scalar reference (`__scalar`) beside
 * every SIMD128 variant (`__wasmsimd`), and one dispatch table.
 *
 * Kernels know nothing of models, files or text: they take sizes, pointers and strides. Names encode
 * type, operation, tile and ISA: et_f32_gemm_nt_2x4__wasmsimd is an f32 GEMM with B transposed,
 * a 2-row × 4-column register tile, for WebAssembly SIMD128.
 *
 * Tolerances: the SIMD variants sum in a different order than the references and use polynomial
 * exp/erf, so tests compare them with named tolerances (tests/test_kernels.c), never bit for bit.
 */
#ifndef ET_KERNELS_H
#define ET_KERNELS_H

#include <stddef.h>

/* C[i][j] = sum_k A[i][k] * B[j][k] (+ bias[j] when bias is not NULL), for i < m, j < n.
 * A is m rows of k (row stride lda), B is n rows of k (row stride ldb), C is m rows of n (ldc).
 * "nt": B is stored like PyTorch's Linear.weight, [out][in], so C = A · Bᵀ + bias. */
typedef void (*et_f32_gemm_nt_fn)(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc);

/* y[r] = LayerNorm(x[r] + res[r]) * gamma + beta over rows of n contiguous values, for r < rows.
 * res may be NULL (no residual). y may alias x (in place) but not res. Variance is the biased one,
 * as torch.nn.LayerNorm computes it. */
typedef void (*et_f32_layernorm_fn)(int rows, int n, const float *x, const float *res, const float *gamma,
                                    const float *beta, float eps, float *y);

/* y[i] = x[i] * Φ(x[i]) = 0.5 x (1 + erf(x / √2)), the exact GELU of BERT. y may alias x. */
typedef void (*et_f32_gelu_fn)(size_t n, const float *x, float *y);

/* In place, for each of `rows` rows of n values (row stride ld):
 * x[j] = exp(scale·x[j] − max) / Σ exp(scale·x[·] − max). scale > 0. */
typedef void (*et_f32_softmax_fn)(int rows, int n, float *x, int ld, float scale);

typedef struct et_kernels {
    const char *name;
    et_f32_gemm_nt_fn f32_gemm_nt;
    et_f32_layernorm_fn f32_layernorm;
    et_f32_gelu_fn f32_gelu;
    et_f32_softmax_fn f32_softmax;
} et_kernels;

/* The scalar references and the fastest set built in. Both tables are constant. */
const et_kernels *et_kernels_reference(void);
const et_kernels *et_kernels_best(void);

void et_f32_gemm_nt__scalar(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                            const float *bias, float *c, int ldc);
void et_f32_gemm_nt_2x4__wasmsimd(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc);

void et_f32_layernorm__scalar(int rows, int n, const float *x, const float *res, const float *gamma,
                              const float *beta, float eps, float *y);
void et_f32_layernorm__wasmsimd(int rows, int n, const float *x, const float *res, const float *gamma,
                                const float *beta, float eps, float *y);

void et_f32_gelu__scalar(size_t n, const float *x, float *y);
void et_f32_gelu__wasmsimd(size_t n, const float *x, float *y);

void et_f32_softmax__scalar(int rows, int n, float *x, int ld, float scale);
void et_f32_softmax__wasmsimd(int rows, int n, float *x, int ld, float scale);

/* The vector math the SIMD kernels use, exposed for their own tests.
 * exp: relative error < 3e-7 on [-87, 88] (inputs are clamped there).
 * erf: absolute error < 6e-7 everywhere (Abramowitz & Stegun 7.1.26 with the vector exp). */
void et_f32_vexp__wasmsimd(size_t n, const float *x, float *y);
void et_f32_verf__wasmsimd(size_t n, const float *x, float *y);

#endif /* ET_KERNELS_H */
