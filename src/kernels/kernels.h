/*
 * kernels.h — the numeric kernels: one signature per operation, a scalar reference (`__scalar`) beside
 * every SIMD128 variant (`__wasmsimd`), and one dispatch table.
 *
 * Kernels know nothing of models, files or text: they take sizes, pointers and strides. Names encode
 * type, operation, tile and ISA: et_f32_gemm_nt_2x4__wasmsimd is an f32 GEMM with B transposed,
 * a 2-row × 4-column register tile, for WebAssembly SIMD128.
 *
 * Tolerances: the SIMD variants sum in a different order than the references and use polynomial
 * exp/erf, so tests compare them with named tolerances (tests/c/test_kernels.c), never bit for bit.
 */
#ifndef ET_KERNELS_H
#define ET_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* C[i][j] = sum_k A[i][k] * B[j][k] (+ bias[j] when bias is not NULL), for i < m, j < n.
 * A is m rows of k (row stride lda), B is n rows of k (row stride ldb), C is m rows of n (ldc).
 * "nt": B is stored like PyTorch's Linear.weight, [out][in], so C = A · Bᵀ + bias. */
typedef void (*et_f32_gemm_nt_fn)(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc);

/* C = A · B (+ bias) with B row-major [k][n] (stride ldb): attention's P·V, and Linear layers whose
 * weights were transposed. Same tolerances as the "nt" form. */
typedef void (*et_f32_gemm_nn_fn)(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc);
/* C = A · Wᵀ + bias (bias may be NULL) with W [n][k] packed by et_f32_pack_panels into panels [n/8][k][8];
 * n must be a multiple of 8 (for the packing too: panels hold exactly n·k values). The form of the Linear
 * layers' f32 weights after loading. */
typedef void (*et_f32_gemm_packed_fn)(int m, int n, int k, const float *a, int lda, const float *panels,
                                      const float *bias, float *c, int ldc);
void et_f32_pack_panels(int n, int k, const float *w, int ldw, float *panels);

/* dst[j][i] = src[i][j], rows × cols; and x[i][·] *= s[i]: attention's data movements. */
typedef void (*et_f32_transpose_fn)(int rows, int cols, const float *src, int lds, float *dst, int ldd);
typedef void (*et_f32_scale_rows_fn)(int rows, int cols, float *x, int ldx, const float *s);

/* y[r] = LayerNorm(x[r] + res[r]) * gamma + beta over rows of n contiguous values, for r < rows.
 * res may be NULL (no residual). y may alias x (in place) but not res. Variance is the biased one,
 * as torch.nn.LayerNorm computes it. */
typedef void (*et_f32_layernorm_fn)(int rows, int n, const float *x, const float *res, const float *gamma,
                                    const float *beta, float eps, float *y);

/* y[i] = x[i] * Φ(x[i]) = 0.5 x (1 + erf(x / √2)), the exact GELU of BERT. y may alias x. */
typedef void (*et_f32_gelu_fn)(size_t n, const float *x, float *y);

/* In place, for each of `rows` rows of n values (row stride ld), with max = scale·max_j x[j]:
 * x[j] = exp(scale·x[j] − max) / Σ exp(scale·x[·] − max), scale > 0 — or, when inv_sum is not NULL, the
 * numerators exp(scale·x[j] − max) only, with inv_sum[r] = 1 / Σ (attention normalizes P·V's smaller
 * output instead). */
typedef void (*et_f32_softmax_fn)(int rows, int n, float *x, int ld, float scale, float *inv_sum);

/* Quantizes m rows of k floats (stride ldx) into levels q (stride ldq elements) with each row's scale
 * sa[i] and zero point za[i]: x ≈ sa·(q − za), 0 exactly representable. The level type is the GEMM's:
 * int16 0..255 ("i16") or uint8 0..127 ("u7"). */
typedef void (*et_q8_quantize_fn)(int m, int k, const float *x, int ldx, void *q, int ldq, float *sa, int32_t *za);

/* C[i][j] = sa[i]·sw[j]·(Σ_k A[i][k]·W[j][k] − za[i]·wsum[j]) + bias[j]: A quantized rows (stride lda
 * elements), W int8 rows [n][k] (stride ldw), sw per-row scales, wsum[j] = Σ_k W[j][k]. */
typedef void (*et_q8_gemm_nt_fn)(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                 const int8_t *w, int ldw, const float *sw, const int32_t *wsum, const float *bias,
                                 float *c, int ldc);

/* The same product with W packed by et_i8_pack_panels (rows in blocks of 4; in a block, each 16 bytes hold 4
 * values of k of each of the 4 rows, the k % 4 last ones after them; the last n % 4 rows row-major after the
 * blocks, stride k): the layout of the Linear layers' int8 weights after loading. */
typedef void (*et_q8_gemm_packed_fn)(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                     const int8_t *panels, const float *sw, const int32_t *wsum, const float *bias,
                                     float *c, int ldc);
/* Packs W [n][k] (contiguous rows) into `panels` (n·k bytes, not overlapping W). Each block of 4 rows maps
 * onto the same bytes, so a caller may pack in place one block at a time through a 4·k-byte scratch. */
void et_i8_pack_panels(int n, int k, const int8_t *w, int8_t *panels);

/* sums[r] = Σ_c w[r][c] for rows × cols int8 (contiguous rows): the int8 GEMMs' zero-point term wsum,
 * computed once per matrix when a model loads. Exact integers: every variant gives the same sums. */
typedef void (*et_i8_row_sums_fn)(int rows, int cols, const int8_t *w, int32_t *sums);

/* Symmetric int8 rows: q[i][p] = round(x[i][p] / scale[i]) with scale[i] = max |x[i][·]| / 127 (1 for an all-zero
 * row; NaN, with zeros, for a row holding an infinity or NaN), sums[i] = Σ_p q[i][p]: the "weights" of
 * attention's int8 Q·Kᵀ (a text's keys, one head), quantized per call. Exact integers: every variant gives
 * the same bytes. */
typedef void (*et_i8_quantize_rows_fn)(int rows, int cols, const float *x, int ldx, int8_t *q, int ldq, float *scale,
                                       int32_t *sums);

/* 4-bit weights (gemm_q4.c): C[i][j] = (Σ_b d[j][b]·Σ_{k∈b} A[i][k]·(q[j][k] − 8) − za[i]·zs[j])·sa[i] + bias[j]
 * with W in llama.cpp's Q4_0 blocks (32 weights of a row: f16 scale d, 16 bytes of nibbles q), packed by
 * et_q4_pack_panels; A quantized rows as for the int8 GEMMs (same level type per set); zs from
 * et_q4_zero_sums. k must be a multiple of 32. */
typedef void (*et_q4_gemm_packed_fn)(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                     const uint8_t *panels, const float *zs, const float *bias, float *c, int ldc);
/* Packs n Q4_0 rows of k weights (n·k/32 blocks of 18 bytes) into `panels` (the same size, not overlapping):
 * 4-row panels of 72 bytes per block, the last n % 4 rows as they are. Each 4 rows map onto the same bytes,
 * so a caller may pack in place 4 rows at a time through a scratch of 4·k/32·18 bytes. */
void et_q4_pack_panels(int n, int k, const uint8_t *w, uint8_t *panels);
/* zs[r] = Σ_b d[r][b]·Σ_{k∈b}(q[r][k] − 8) for rows of Q4_0 blocks (before packing); 0 when a scale is
 * infinite or NaN (a corrupt file), 1 otherwise. */
int et_q4_zero_sums(int rows, int cols, const uint8_t *w, float *zs);
/* One Q4_0 row of `cols` weights as floats (d·(q − 8)): a word-embedding row. */
void et_q4_dequantize_row(int cols, const uint8_t *row, float *out);

typedef struct et_kernels {
    const char *name;
    et_f32_gemm_nt_fn f32_gemm_nt;
    et_f32_gemm_nn_fn f32_gemm_nn;
    et_f32_gemm_packed_fn f32_gemm_packed;
    et_f32_transpose_fn f32_transpose;
    et_f32_scale_rows_fn f32_scale_rows;
    et_f32_layernorm_fn f32_layernorm;
    et_f32_gelu_fn f32_gelu;
    et_f32_softmax_fn f32_softmax;
    et_q8_quantize_fn q8_quantize;
    et_q8_gemm_nt_fn q8_gemm_nt;
    et_q8_gemm_packed_fn q8_gemm_packed;
    et_i8_row_sums_fn i8_row_sums;
    /* Quantized models' Q·Kᵀ in int8 when not NULL (the 7-bit sets: measured faster than f32 there; the
     * baseline's i16 GEMMs at attention's small k are not, so its sets leave it NULL and stay in f32). */
    et_i8_quantize_rows_fn i8_quantize_rows;
    et_q4_gemm_packed_fn q4_gemm_packed; /* on the same quantized activations as q8_* */
    int q8_level_bytes; /* 2 (i16 levels) or 1 (u7 levels) */
} et_kernels;

/* The kernel sets, constant tables:
 *   reference          scalar references (with the int8 levels of the baseline: i16)
 *   baseline           SIMD128 (i32x4.dot_i16x8_s for int8)
 *   relaxed_dot16      relaxed SIMD: madd for f32, i16x8 dot + pairwise add for int8
 *   relaxed_dot32      relaxed SIMD: madd for f32, i32x4 dot-add for int8
 *   reference_u7       scalar references of the relaxed sets' int8 arithmetic (7-bit levels)
 * The relaxed sets exist in the relaxed wasm build and natively (emulated); NULL elsewhere. */
const et_kernels *et_kernels_reference(void);
const et_kernels *et_kernels_reference_u7(void);
const et_kernels *et_kernels_baseline(void);
const et_kernels *et_kernels_relaxed_dot16(void);
const et_kernels *et_kernels_relaxed_dot32(void);
/* The default of this build: relaxed_dot16 in the relaxed wasm build, baseline otherwise. */
const et_kernels *et_kernels_best(void);
/* The table of a public et_kernels_choice (include/edgetag.h: 0 auto, 1 reference, 2 baseline, 3 relaxed_dot16,
 * 4 relaxed_dot32, 5 reference_u7); NULL for other values and for sets this build lacks. In probe.c, with
 * et_kernels_probe (declared in include/edgetag.h), the GEMMs a host times to choose between two sets. */
const et_kernels *et_kernels_for_choice(int32_t choice);

void et_f32_gemm_nt__scalar(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                            const float *bias, float *c, int ldc);
void et_f32_gemm_nt_2x4__wasmsimd(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc);

void et_f32_gemm_nn__scalar(int m, int n, int k, const float *a, int lda, const float *b, int ldb, const float *bias,
                            float *c, int ldc);
void et_f32_gemm_nn_4x8__wasmsimd(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                  const float *bias, float *c, int ldc);

void et_f32_gemm_packed__scalar(int m, int n, int k, const float *a, int lda, const float *panels, const float *bias,
                                float *c, int ldc);
void et_f32_gemm_packed_4x8__wasmsimd(int m, int n, int k, const float *a, int lda, const float *panels,
                                      const float *bias, float *c, int ldc);

void et_f32_transpose__scalar(int rows, int cols, const float *src, int lds, float *dst, int ldd);
void et_f32_transpose__wasmsimd(int rows, int cols, const float *src, int lds, float *dst, int ldd);
void et_f32_scale_rows__scalar(int rows, int cols, float *x, int ldx, const float *s);
void et_f32_scale_rows__wasmsimd(int rows, int cols, float *x, int ldx, const float *s);

void et_f32_layernorm__scalar(int rows, int n, const float *x, const float *res, const float *gamma,
                              const float *beta, float eps, float *y);
void et_f32_layernorm__wasmsimd(int rows, int n, const float *x, const float *res, const float *gamma,
                                const float *beta, float eps, float *y);

void et_f32_gelu__scalar(size_t n, const float *x, float *y);
void et_f32_gelu__wasmsimd(size_t n, const float *x, float *y);

void et_f32_softmax__scalar(int rows, int n, float *x, int ld, float scale, float *inv_sum);
void et_f32_softmax__wasmsimd(int rows, int n, float *x, int ld, float scale, float *inv_sum);

void et_q8_quantize_i16__scalar(int m, int k, const float *x, int ldx, void *q, int ldq, float *sa, int32_t *za);
void et_q8_quantize_i16__wasmsimd(int m, int k, const float *x, int ldx, void *q, int ldq, float *sa, int32_t *za);
void et_q8_quantize_u7__scalar(int m, int k, const float *x, int ldx, void *q, int ldq, float *sa, int32_t *za);
void et_q8_quantize_u7__wasmsimd(int m, int k, const float *x, int ldx, void *q, int ldq, float *sa, int32_t *za);
void et_q8_gemm_nt_i16__scalar(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                               const int8_t *w, int ldw, const float *sw, const int32_t *wsum, const float *bias,
                               float *c, int ldc);
void et_q8_gemm_nt_u7__scalar(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                              const int8_t *w, int ldw, const float *sw, const int32_t *wsum, const float *bias,
                              float *c, int ldc);
void et_q8_gemm_nt_2x4_i16__wasmsimd(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                     const int8_t *w, int ldw, const float *sw, const int32_t *wsum, const float *bias,
                                     float *c, int ldc);
void et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot16(int m, int n, int k, const void *a, int lda, const float *sa,
                                             const int32_t *za, const int8_t *w, int ldw, const float *sw,
                                             const int32_t *wsum, const float *bias, float *c, int ldc);
void et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot32(int m, int n, int k, const void *a, int lda, const float *sa,
                                             const int32_t *za, const int8_t *w, int ldw, const float *sw,
                                             const int32_t *wsum, const float *bias, float *c, int ldc);

void et_q8_gemm_packed_i16__scalar(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                   const int8_t *panels, const float *sw, const int32_t *wsum, const float *bias,
                                   float *c, int ldc);
void et_q8_gemm_packed_u7__scalar(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                  const int8_t *panels, const float *sw, const int32_t *wsum, const float *bias,
                                  float *c, int ldc);
void et_q8_gemm_packed_4x4_i16__wasmsimd(int m, int n, int k, const void *a, int lda, const float *sa,
                                         const int32_t *za, const int8_t *panels, const float *sw,
                                         const int32_t *wsum, const float *bias, float *c, int ldc);
void et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot16(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const int8_t *panels, const float *sw,
                                                 const int32_t *wsum, const float *bias, float *c, int ldc);
void et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot32(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const int8_t *panels, const float *sw,
                                                 const int32_t *wsum, const float *bias, float *c, int ldc);

/* dot32 ? et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot32(…) : …_dot16(…), both in one function: et_kernels_probe
 * times the two relaxed sets through it, so that both run in the same tier of a lazily compiling engine. */
void et_q8_gemm_packed_4x8_u7__wasmrelaxed_probe(int dot32, int m, int n, int k, const void *a, int lda,
                                                 const float *sa, const int32_t *za, const int8_t *panels,
                                                 const float *sw, const int32_t *wsum, const float *bias, float *c,
                                                 int ldc);

void et_i8_row_sums__scalar(int rows, int cols, const int8_t *w, int32_t *sums);
void et_i8_quantize_rows__scalar(int rows, int cols, const float *x, int ldx, int8_t *q, int ldq, float *scale,
                                 int32_t *sums);
void et_i8_quantize_rows__wasmsimd(int rows, int cols, const float *x, int ldx, int8_t *q, int ldq, float *scale,
                                   int32_t *sums);
void et_i8_row_sums__wasmsimd(int rows, int cols, const int8_t *w, int32_t *sums);

void et_q4_gemm_packed_i16__scalar(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                   const uint8_t *panels, const float *zs, const float *bias, float *c, int ldc);
void et_q4_gemm_packed_u7__scalar(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                  const uint8_t *panels, const float *zs, const float *bias, float *c, int ldc);
void et_q4_gemm_packed_2x4_i16__wasmsimd(int m, int n, int k, const void *a, int lda, const float *sa,
                                         const int32_t *za, const uint8_t *panels, const float *zs, const float *bias,
                                         float *c, int ldc);
void et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot16(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const uint8_t *panels, const float *zs,
                                                 const float *bias, float *c, int ldc);
void et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot32(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const uint8_t *panels, const float *zs,
                                                 const float *bias, float *c, int ldc);

/* The vector math the SIMD kernels use, exposed for their own tests.
 * exp: relative error < 3e-7 on [-87, 88] (inputs are clamped there).
 * erf: absolute error < 4e-7 everywhere (a rational approximation fitted by tools/codegen/fit_erf.py). */
void et_f32_vexp__wasmsimd(size_t n, const float *x, float *y);
void et_f32_verf__wasmsimd(size_t n, const float *x, float *y);

#endif /* ET_KERNELS_H */
